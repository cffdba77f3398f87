"""The session-13 catalog fast paths give exactly what the plain computation gives: a lone
paper's spellings read from per-piece tokens, scipy's chain loaded without its package,
the condensed distances taken by a mask, topic counts made in C, and the structure made in
two parts (the second while the sets are grouped)."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster import hierarchy

import generator.catalog as catalog_module
import generator.groups as groups_module
from generator import phrases
from generator.catalog import build_catalog
from generator.config import SiteConfig
from generator.groups import _average_linkage, _label, _topic_counts
from generator.model import Paper, Topic
from generator.papers import build_papers
from generator.phrases import surface_phrases, surfaces_of, text_spellings
from generator.readers import read_seed_paths, reference_date
from generator.similar import find_similar
from generator.topics import assign_topics, category_name
from tests.conftest import ROOT, TODAY, bare_paper
from tests.test_groups_fast import _fcluster, _random_sim
from tests.test_topics_fastpaths import ODD, TEXTS

# letters, digits, apostrophes, hyphens, punctuation, math and LaTeX marks, and every kind
# of whitespace the tokenizer and str.split() must agree on
ALPHABET = "aAbBeEiInNsSxX019'\u2019-\u2010\u2011.,;:()%$\\{}~/ \t\n\u00a0\u2028\x1c\x85\u3000éßΩ"


def _whole_text(text: str) -> tuple[list[str], list[tuple[int, str, str, str]]]:
    """What surfaces_of read before: the whole text's tokens, then each one's spelling."""
    toks = phrases._TOKEN.findall(text)
    return toks, [phrases._spelling(t) for t in toks]


def _surfaces_plain(text: str, target: str) -> list[str]:
    """``surfaces_of`` as it was: the whole text tokenized at once."""
    toks, info = _whole_text(phrases.clean_text(text))
    out: list[str] = []
    n = len(toks)
    for i, (kind, first, _, named) in enumerate(info):
        if kind != 1 or not target.startswith(first):
            continue
        if named and first == target:
            out.append(named)
        joined = ""
        for j in range(i, min(n, i + phrases.MAX_WORDS)):
            kind_j, _, merged_j, _ = info[j]
            if kind_j == 0:
                break
            joined += merged_j
            if not target.startswith(joined):
                break
            if kind_j != 2 and joined == target:
                out.append(" ".join(toks[i : j + 1]))
    return out


def test_text_spellings_are_the_whole_texts_tokens_on_fixed_texts() -> None:
    for text in [*TEXTS, *ODD, "a\u3000b", "x's y\u2019s-z  ", "\t\n"]:
        cleaned = phrases.clean_text(text)
        assert text_spellings(cleaned) == _whole_text(cleaned), text
        assert text_spellings(text) == _whole_text(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_text_spellings_are_the_whole_texts_tokens(text: str) -> None:
    assert text_spellings(text) == _whole_text(text)
    assert text_spellings(text) == _whole_text(text)  # again, from the kept pieces


def test_surfaces_of_reads_as_the_whole_text_did() -> None:
    rng = random.Random(13)
    for text in TEXTS:
        keys = sorted({mk for mk, _ in surface_phrases(text)})
        for target in [*rng.sample(keys, min(8, len(keys))), "ernie", "gpt", "x", ""]:
            assert surfaces_of(text, target) == _surfaces_plain(text, target), (text, target)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80), st.data())
def test_surfaces_of_reads_as_the_whole_text_did_on_random_text(text: str, data: Any) -> None:
    keys = sorted({mk for mk, _ in surface_phrases(text)}) or ["ab"]
    target = data.draw(st.sampled_from(keys))
    assert surfaces_of(text, target) == _surfaces_plain(text, target)


# -- scipy's chain, loaded on its own -----------------------------------------------------


def test_check_tree_is_scipys_average_tree_and_no_other_methods() -> None:
    dist = np.array(groups_module.CHECK_DIST)
    assert hierarchy.linkage(dist, method="average").tolist() == groups_module.CHECK_TREE
    assert hierarchy._LINKAGE_METHODS["average"] == groups_module.AVERAGE_CODE
    for method in hierarchy._LINKAGE_METHODS:
        if method != "average":
            assert hierarchy.linkage(dist, method=method).tolist() != groups_module.CHECK_TREE
    chain = hierarchy._hierarchy.nn_chain
    assert groups_module._chain_ok(chain, groups_module.AVERAGE_CODE)
    for method, code in hierarchy._LINKAGE_METHODS.items():
        if method not in ("average", "single", "centroid", "median"):  # chain's methods
            assert not groups_module._chain_ok(chain, code)


def test_chain_is_loaded_without_scipy_cluster_and_shared_with_it() -> None:
    code = (
        "import sys\n"
        "import generator.groups as g\n"
        "g.prime_linkage()\n"
        "print(g.linkage_loaded(), g._AVERAGE, 'scipy.cluster' in sys.modules,"
        " 'scipy.spatial' in sys.modules)\n"
        "from scipy.cluster import hierarchy\n"
        "print(hierarchy._hierarchy.nn_chain is g._CHAIN)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "True 2 False False"
    assert out[1] == "True"


def test_chain_found_through_the_package_when_the_check_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    groups_module._linkage_chain.cache_clear()
    try:
        monkeypatch.setattr(groups_module, "_chain_ok", lambda chain, code: False)
        assert groups_module._linkage_chain() == groups_module._scipy_linkage()[1:]
        groups_module._linkage_chain.cache_clear()
        monkeypatch.setattr(groups_module, "_load_chain", lambda: None)
        assert groups_module._linkage_chain() == groups_module._scipy_linkage()[1:]
        groups_module._linkage_chain.cache_clear()
        # and a chain of None: linkage itself
        monkeypatch.setattr(groups_module, "_scipy_linkage", lambda: (hierarchy.linkage, None, 2))
        rng = random.Random(2)
        for n in (2, 5, 17):
            dist = np.array([rng.randint(0, 4) / 4 for _ in range(n * (n - 1) // 2)])
            expected = hierarchy.linkage(dist.copy(), method="average")
            assert np.array_equal(groups_module._nn_chain(dist, n), expected)
    finally:
        groups_module._linkage_chain.cache_clear()


def test_average_linkage_with_scipys_chain_matches_fcluster() -> None:
    groups_module.prime_linkage()
    assert groups_module.linkage_loaded()
    rng = random.Random(17)
    for _ in range(1500):
        n = rng.randint(1, 40)
        sim = _random_sim(rng, n)
        threshold = rng.choice([0.1, 0.3, 0.5])
        expected = _fcluster(sim, threshold) if n > 1 else [[0]]
        assert _average_linkage(sim.copy(), threshold) == expected


# -- topic counts ---------------------------------------------------------------------------


def _random_topics(seed: int) -> tuple[list[Paper], dict[str, tuple[str, ...]], list[Topic]]:
    rng = random.Random(seed)
    base = bare_paper()
    papers = [
        replace(base, id=f"p{i}", category=rng.choice(["cs.CL", "cs.LG", "math.AG", ""]))
        for i in range(rng.randint(1, 30))
    ]
    ids = [f"t{k}" for k in range(8)]
    paper_topics = {
        p.id: tuple(rng.choice(ids) for _ in range(rng.randint(0, 4)))
        for p in papers
        if rng.random() < 0.9
    }
    topics = [
        Topic(
            t,
            rng.choice([f"name {t}", f"a longer name {t}", "shared"]),
            rng.choice(["phrase", "category"]),
            "",
            tuple(p for p, ts in paper_topics.items() if t in ts),
        )
        for t in ids[:6]  # t6 and t7: unknown to the topic list
    ]
    return papers, paper_topics, topics


def _label_plain(
    rows: list[int],
    papers: list[Paper],
    paper_topics: dict[str, tuple[str, ...]],
    by_id: dict[str, Topic],
    used: set[str],
    everywhere: Counter[str] | None = None,
) -> str:
    """``_label`` as it was (its counts made by generator expressions)."""
    import math

    inside = Counter(t for i in rows for t in paper_topics.get(papers[i].id, ()))
    if everywhere is None:
        everywhere = (
            inside
            if len(rows) == len(papers)
            else Counter(t for p in papers for t in paper_topics.get(p.id, ()))
        )
    need = max(1 if len(rows) == 1 else 2, math.ceil(len(rows) / 2))
    best: list[tuple[float, int, int, str]] = []
    for tid, k in inside.items():
        topic = by_id.get(tid)
        if topic is None or topic.name in used or k < need:
            continue
        score = (k / len(rows)) * (k / everywhere[tid])
        if topic.kind == "category":
            score *= 0.8
        best.append((-score, -len(topic.name.split()), -len(topic.paper_ids), topic.name))
    if best:
        return sorted(best)[0][3]
    cats = Counter(category_name(papers[i].category) or "" for i in rows)
    for name, k in sorted(cats.items(), key=lambda kv: (-kv[1], kv[0])):
        if name and k >= need and name not in used:
            return name
    return groups_module._other(used)


def test_topic_counts_and_labels_are_the_plain_ones() -> None:
    for seed in range(400):
        papers, paper_topics, topics = _random_topics(seed)
        plain = Counter(t for p in papers for t in paper_topics.get(p.id, ()))
        counts = _topic_counts(papers, paper_topics)
        assert list(counts.items()) == list(plain.items())  # the same order too
        by_id = {t.id: t for t in topics}
        rng = random.Random(seed)
        for _ in range(5):
            rows = sorted(rng.sample(range(len(papers)), rng.randint(1, len(papers))))
            used = set(rng.sample(["shared", "name t1", "Other papers", "x"], rng.randint(0, 2)))
            given_counts = counts if rng.random() < 0.5 else None
            assert _label(rows, papers, paper_topics, by_id, set(used), given_counts) == (
                _label_plain(rows, papers, paper_topics, by_id, set(used), given_counts)
            )


# -- the structure in two parts -------------------------------------------------------------


def test_group_sets_runs_meanwhile_once(monkeypatch: pytest.MonkeyPatch) -> None:
    papers, paper_topics, topics = _random_topics(3)
    by_id = {p.id: p for p in papers}
    for count, jobs in ((1, 1), (catalog_module.MIN_PARALLEL_ITEMS, 2)):  # 2: forked
        tasks = [(tuple(by_id), f"Name {i}", False) for i in range(count)]
        ran: list[int] = []
        out = catalog_module._group_sets(
            tasks, by_id, paper_topics, topics, {}, jobs, {}, meanwhile=partial(ran.append, 1)
        )
        assert ran == [1] and len(out) == count


@pytest.fixture(scope="module")
def repo_inputs() -> tuple[Any, ...]:
    files, _ = read_seed_paths([ROOT / "seeds"], today=reference_date(TODAY))
    papers, _ = build_papers([r for f in files for r in f.records], [])
    config = SiteConfig()
    topics = assign_topics(papers, config.topics)
    similar = find_similar(papers, topics.paper_topics)
    return tuple(papers), tuple(files), topics, similar, config


def test_structure_in_two_parts_is_the_structure_made_at_once(
    repo_inputs: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first part, then the rest while the sets are grouped: the structure kept in the
    memo is ``_make_structure``'s, and so is the one a later build takes from the memo."""
    papers, files, topics, similar, config = repo_inputs
    whole = catalog_module._make_structure(papers, files, topics, config)
    finished: list[int] = []
    real = catalog_module._finish_structure

    def finish(*args: Any) -> Any:
        finished.append(len(finished))
        return real(*args)

    monkeypatch.setattr(catalog_module, "_finish_structure", finish)
    memo: dict[str, Any] = {}
    made = build_catalog(papers, files, topics, similar, config, jobs=2, memo=memo)
    assert finished == [0]  # made once, as the grouping's ``meanwhile``
    key = catalog_module._structure_key(papers, files, topics, config)
    assert key is not None and memo[key] == catalog_module._STRUCTURE_FIELDS(whole)
    again = build_catalog(papers, files, topics, similar, config, jobs=2, memo=memo)
    assert finished == [0]  # the kept one
    assert again == made == build_catalog(papers, files, topics, similar, config)


# -- co-authors joining areas; similar links set at once -----------------------------------


def _careers_plain(
    areas: list[list[int]], paper_keys: list[frozenset[str]], ignored: set[str]
) -> list[list[int]]:
    """How group_papers joined areas before: co-authors in sorted order, each paper's
    joined to the first paper of theirs."""
    parent = list(range(len(areas)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    area_of = {i: a for a, members in enumerate(areas) for i in members}
    seen_author: dict[str, int] = {}
    for i, keys in enumerate(paper_keys):
        for key in sorted(keys - ignored):
            if key in seen_author:
                ra, rb = find(area_of[i]), find(area_of[seen_author[key]])
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            else:
                seen_author[key] = i
    careers: dict[int, list[int]] = defaultdict(list)
    for a, members in enumerate(areas):
        careers[find(a)].extend(members)
    return [sorted(m) for m in careers.values()]


def test_careers_are_the_plain_ones() -> None:
    rng = random.Random(21)
    names = [f"n{k}" for k in range(12)]
    for _ in range(3000):
        n = rng.randint(1, 25)
        order = list(range(n))
        rng.shuffle(order)
        cuts = sorted(rng.sample(range(1, n), rng.randint(0, n - 1))) if n > 1 else []
        areas = [sorted(order[a:b]) for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
        areas.sort(key=lambda c: c[0])
        keys = [frozenset(rng.sample(names, rng.randint(0, 4))) for _ in range(n)]
        ignored = set(rng.sample(names, rng.randint(0, 2)))
        assert groups_module._careers(areas, keys, ignored) == _careers_plain(areas, keys, ignored)


def _links_plain(
    sim: np.ndarray,
    papers: list[Paper],
    pos: dict[str, int],
    similar: dict[str, tuple[tuple[str, float], ...]],
) -> None:
    for p in papers:
        for other, score in similar.get(p.id, ()):
            j = pos.get(other)
            if j is not None:
                i = pos[p.id]
                sim[i, j] = sim[j, i] = max(sim[i, j], score)


def test_similar_links_are_set_as_link_by_link() -> None:
    rng = random.Random(8)
    base = bare_paper()
    for case in range(600):
        n = rng.randint(1, 30)
        papers = [replace(base, id=f"p{rng.randint(0, n + 3)}") for _ in range(n)]  # repeats
        pos = {p.id: i for i, p in enumerate(papers)}
        ids = [p.id for p in papers] + ["out1", "out2"]
        odd = [0.0, -0.0, -0.5, float("nan")] if case % 3 == 0 else []
        similar = {
            p.id: tuple(
                (rng.choice(ids), rng.choice([rng.random(), round(rng.random(), 1), *odd]))
                for _ in range(rng.randint(0, 6))
            )
            for p in papers
        }
        fast, plain = np.zeros((n, n)), np.zeros((n, n))
        groups_module._similar_links(fast, papers, pos, similar)
        _links_plain(plain, papers, pos, similar)
        assert fast.tobytes() == plain.tobytes(), case  # the same bits (NaN, -0.0 too)
