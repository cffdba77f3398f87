"""The catalog's cheaper paths give what the plain ones gave: co-author lists counted as
arrays, grouping memo keys that see exactly what grouping reads, and paper memo keys that
keep an edited file's unchanged records."""

from __future__ import annotations

import random
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

from generator.catalog import _coauthor_lists, _name_ranks
from generator.groups import GroupKeys
from generator.model import Paper, Topic
from tests.conftest import ROOT
from tests.hardening_support import build_in_process
from tests.render_catalog import paper


def _plain_coauthors(
    papers: list[Paper],
    paper_people: dict[str, tuple[str, ...]],
    names: dict[str, str],
    person_ids: dict[str, str],
) -> dict[str, tuple[tuple[str, int], ...]]:
    """The lists as counted before: a Counter per person, sorted by name, then by count."""
    co: dict[str, Counter[str]] = {}
    for p in papers:
        keys = paper_people[p.id]
        if len(keys) > 1:
            for k in keys:
                co.setdefault(k, Counter()).update(keys)
    out = {}
    for k, counts in co.items():
        del counts[k]
        order = sorted(sorted(counts, key=names.__getitem__), key=counts.__getitem__, reverse=True)
        out[k] = tuple((person_ids[o], counts[o]) for o in order)
    return out


def test_coauthor_lists_equal_the_plain_count() -> None:
    rng = random.Random(7)
    # a skewed pool; several people share a display name (ties broken by first meeting)
    keys = [f"k{i:03d}" for i in range(60)]
    names = {k: f"Name {int(k[1:]) % 23:02d}" for k in keys}
    person_ids = {k: f"id-{k}" for k in keys}
    papers: list[Paper] = []
    paper_people: dict[str, tuple[str, ...]] = {}
    for n in range(400):
        size = rng.choice([1, 1, 2, 3, 3, 4, 6, 9])
        people = tuple(
            dict.fromkeys(keys[min(int(rng.paretovariate(0.8)), 59)] for _ in range(size))
        )
        pid = f"p{n:04d}"
        papers.append(paper(pid, f"Title {n}", "2024-01-01", ()))
        paper_people[pid] = people
    expected = _plain_coauthors(papers, paper_people, names, person_ids)
    got = _coauthor_lists(papers, paper_people, _name_ranks(names), person_ids)
    assert got == expected
    assert any(len(v) > 5 and len({c for _, c in v}) > 2 for v in got.values())  # real sorting
    assert _coauthor_lists(papers[:1], {papers[0].id: ("a",)}, {"a": 0}, {"a": "a"}) == {}


Similar = dict[str, tuple[tuple[str, float], ...]]


def _site() -> tuple[list[Paper], dict[str, tuple[str, ...]], list[Topic], Similar]:
    papers = [
        paper(f"p{i}", f"Title {i}", "2024-01-01", (f"A {i}", "B Common"), abstract=f"Text {i}.")
        for i in range(6)
    ]
    paper_topics: dict[str, tuple[str, ...]] = {f"p{i}": (f"t{i % 3}",) for i in range(6)}
    topics = [
        Topic(
            id=f"t{j}",
            name=f"Topic {j}",
            kind="phrase",
            definition="",
            paper_ids=tuple(p for p, ts in paper_topics.items() if f"t{j}" in ts),
        )
        for j in range(3)
    ]
    similar: Similar = {
        f"p{i}": ((f"p{(i + 1) % 6}", 0.5), (f"p{(i + 3) % 6}", 0.25)) for i in range(6)
    }
    return papers, paper_topics, topics, similar


def _key(papers, paper_topics, topics, similar, members=(0, 1, 2), **kw) -> str:  # type: ignore[no-untyped-def]
    keys = GroupKeys(paper_topics, topics, similar)
    options = {"ignore_names": ("B Common",), "use_similar": True, **kw}
    return keys.key([papers[i] for i in members], **options)


def test_group_keys_see_what_grouping_reads_and_nothing_else() -> None:
    papers, paper_topics, topics, similar = _site()
    base = _key(papers, paper_topics, topics, similar)
    assert _key(papers, paper_topics, topics, similar) == base  # a new keyer, the same key
    assert _key(papers, paper_topics, topics, similar, members=(1, 0, 2)) != base  # order
    assert _key(papers, paper_topics, topics, similar, ignore_names=()) != base
    assert _key(papers, paper_topics, topics, similar, use_similar=False) != base

    # a member's text or topics; a topic a member has: changed
    edited = list(papers)
    edited[1] = paper("p1", "Title 1", "2024-01-01", ("A 1", "B Common"), abstract="Other.")
    assert _key(edited, paper_topics, topics, similar) != base
    assert _key(papers, {**paper_topics, "p2": ("t0",)}, topics, similar) != base
    renamed = [
        topics[0],
        replace(topics[1], name="Renamed"),
        topics[2],
    ]
    assert _key(papers, paper_topics, renamed, similar) != base

    # a link between members: changed; a link to a paper outside the set: not
    inside = {**similar, "p0": (("p1", 0.6), ("p3", 0.25))}
    assert _key(papers, paper_topics, topics, inside) != base
    outside = {**similar, "p0": (("p1", 0.5), ("p3", 0.3))}
    assert _key(papers, paper_topics, topics, outside) == base
    assert _key(papers, paper_topics, topics, outside, use_similar=False) == _key(
        papers, paper_topics, topics, similar, use_similar=False
    )
    # a paper outside the set edited: not
    other = list(papers)
    other[4] = paper("p4", "Title 4", "2024-01-01", ("A 4",), abstract="Changed.")
    assert _key(other, paper_topics, topics, similar) == base


def test_an_edited_file_keeps_its_other_records_merged(tmp_path: Path) -> None:
    """After one record of a seed file changes, only that record's paper is merged again:
    the others keep their paper memo keys (hashes of their own fields, not of the file)."""
    from generator.cache import CACHE_DIR, BuildCache

    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    path = sorted(seeds.glob("003_*.txt"))[0]
    out = tmp_path / "site"

    def paper_keys() -> set[object]:
        cache = BuildCache(out, root=ROOT / CACHE_DIR)
        state = cache.load_state()
        assert state is not None
        return set(cache.load_memo("papers", state["fingerprint"].code))

    assert build_in_process(seeds, out).code == 0
    before = paper_keys()
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2] + " We also report an ablation."
    path.write_text("\n".join(lines), encoding="utf-8")
    assert build_in_process(seeds, out).code == 0
    after = paper_keys()
    assert len(after) == len(before) and len(before) > 20
    assert len(after - before) == 1  # the edited record's paper only
