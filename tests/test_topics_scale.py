"""Speed-ups must not change results: cached terms, forked ranking and the linkage cut give
what the plain computation gives."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

import generator.topics as topics_module
from generator.groups import _cut
from generator.model import Paper
from generator.phrases import (
    TermCache,
    chunk_phrase_keys,
    chunks,
    phrase_keys,
    similarity_terms,
    surface_phrases,
    surfaces_of,
    target_surfaces,
)
from generator.similar import find_similar
from generator.topics import TopicConfig, assign_topics, paper_text
from tests.test_topics_planted import _corpus

TEXTS = [
    "Sparse Mixture-of-Experts (MoE) models scale pre-trained language models; MoE layers "
    "route tokens. ERNIE-Tiny and ERNIE-Doc distil $x^2$ knowledge via https://x.org/a.",
    "Radial velocity (RV) surveys of the Milky Way: radial velocities from LAMOST spectra.",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_one_tokenisation_gives_the_same_terms(text: str) -> None:
    for most in (2, 3, 4):
        assert Counter(chunk_phrase_keys(list(chunks(text)), most)) == Counter(
            phrase_keys(text, most)
        )
    phrases = list(surface_phrases(text))
    for target in {mk for mk, _ in phrases}:
        assert sorted(surfaces_of(text, target)) == sorted(s for mk, s in phrases if mk == target)
    keys = sorted({mk for mk, _ in phrases})
    for targets in (set(keys), set(keys[::3]), {"moe", "expert"}, set()):
        prefixes = {t[:m] for t in targets for m in range(1, len(t) + 1)}
        assert list(target_surfaces(text, targets, prefixes)) == [
            (mk, s) for mk, s in phrases if mk in targets
        ]
    cache = TermCache()
    ids, counts = cache.terms(TEXTS[0], text)
    expected: Counter[str] = Counter()
    for weight, part in ((2, TEXTS[0]), (1, text)):
        for term in similarity_terms(part):
            expected[term] += weight
    names = {i: t for t, i in cache.vocab.items()}
    assert [(names[i], n) for i, n in zip(ids, counts, strict=True)] == list(expected.items())


def test_linkage_cut_matches_fcluster() -> None:
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(2, 30))
        sim = rng.choice([0.0, 0.05, 0.1, 0.3, 0.9], (n, n)) if trial % 2 else rng.random((n, n))
        dist = 1.0 - (sim + sim.T) / 2
        np.fill_diagonal(dist, 0.0)
        tree = linkage(squareform(dist, checks=False), method="average")
        labels = fcluster(tree, t=0.9, criterion="distance")
        clusters: dict[int, list[int]] = defaultdict(list)
        for i, label in enumerate(labels.tolist()):
            clusters[label].append(i)
        assert _cut(tree, n, 0.9) == sorted(clusters.values(), key=lambda c: c[0])


def test_forked_ranking_gives_the_same_lists() -> None:
    papers, _, _ = _corpus()
    result = assign_topics(papers, TopicConfig())
    plain = find_similar(papers, result.paper_topics)
    assert find_similar(papers, result.paper_topics, block=37) == plain
    assert find_similar(papers, result.paper_topics, workers=2, block=37) == plain
    assert any(plain.values())


def test_lone_phrase_noted_while_counting_matches_a_recount() -> None:
    papers, _, _ = _corpus()
    papers = papers[:60] + [
        replace(papers[0], id="extra", title="Sparse Mixture-of-Experts (MoE) models", abstract=t)
        for t in TEXTS
    ]
    assign_topics(papers, TopicConfig())
    texts = [paper_text(p) for p in papers]
    noted = {t: topics_module._LONE[t] for t in texts}
    assert any(v is not None for v in noted.values())
    topics_module._text_phrase.cache_clear()
    via_counts = [topics_module._text_phrase(*t) for t in texts]
    for t in texts:
        del topics_module._LONE[t]
    topics_module._text_phrase.cache_clear()
    assert [topics_module._text_phrase(*t) for t in texts] == via_counts


def test_forked_counting_gives_the_same_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    papers, _, _ = _corpus()
    plain = assign_topics(papers, TopicConfig())
    monkeypatch.setattr(topics_module, "COUNT_BLOCK", 45)
    assert assign_topics(papers, TopicConfig(), workers=2) == plain


def test_one_career_shortcut_gives_what_clustering_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.groups as groups_module
    from generator.groups import group_papers

    papers, area_of, _ = _corpus()
    result = assign_topics(papers, TopicConfig())
    linked = [
        replace(p, authors=(*p.authors, "Paul Klein", "Zoe Adams"))
        for p in papers
        if area_of[p.id] in (1, 4) and int(p.id[-3:]) < 8
    ]
    sets = [
        [p for p in papers if "Maria Rossi" in p.authors],
        linked,
        [p for p in papers if area_of[p.id] in (3, 6)][::4],
    ]
    fast = [group_papers(s, result.paper_topics, result.topics) for s in sets]
    assert groups_module._one_career([{a for a in p.authors} for p in linked], set())
    monkeypatch.setattr(groups_module, "_one_career", lambda keys, ignored: False)
    assert [group_papers(s, result.paper_topics, result.topics) for s in sets] == fast
    assert not fast[1][1] and fast[2][1]


def test_catalog_memo_gives_what_a_fresh_build_gives() -> None:
    from generator.catalog import build_catalog
    from generator.config import SiteConfig
    from generator.model import SeedFile

    papers, area_of, _ = _corpus()
    # two listings: areas 0-3 (text grouping) and everything (similar-list grouping)
    papers = [
        replace(p, listings=("mixed", "all") if area_of[p.id] < 4 else ("all",)) for p in papers
    ]
    seeds = [SeedFile("mixed.txt", None, ()), SeedFile("all.txt", None, ())]

    def build(ps: list[Paper], memo: dict[str, object] | None) -> object:
        result = assign_topics(ps, TopicConfig())
        similar = find_similar(ps, result.paper_topics)
        return build_catalog(ps, seeds, result, similar, SiteConfig(), memo=memo)

    memo: dict[str, object] = {}
    first = build(papers, memo)
    assert memo and first == build(papers, None)
    assert all(isinstance(v, tuple) for v in memo.values())
    kept = dict(memo)
    assert build(papers, memo) == first and memo == kept  # nothing changed: all reused
    # One abstract changes (a "Li Wei" paper): its sets are regrouped, the rest reused.
    k = next(i for i, p in enumerate(papers) if "Li Wei" in p.authors)
    changed = list(papers)
    changed[k] = replace(papers[k], abstract=papers[k].abstract + " Quantum dot lasers again.")
    warm = build(changed, memo)
    assert warm == build(changed, None)
    assert len(memo) > len(kept)
