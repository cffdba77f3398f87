"""The one-record rebuild's cheaper paths give what the plain ones gave: feeds pick their
newest papers by one ranking of the whole site, and grouping keys are the same whatever
sets a keyer has seen before."""

from __future__ import annotations

import random

import pytest

from generator.feeds import FEED_SIZE, newest_papers
from generator.groups import GroupKeys
from generator.model import OutputFile, Paper, Topic
from generator.views import SiteIndex
from generator.write import WriteError, check_paths
from tests.render_catalog import make_catalog, paper


def _plain_newest(papers: dict[str, Paper], ids: list[str]) -> list[Paper]:
    found = [papers[p] for p in ids if p in papers]
    return sorted(found, key=lambda p: (p.date or "", p.id), reverse=True)[:FEED_SIZE]


def test_newest_papers_by_rank_are_the_plain_newest() -> None:
    rng = random.Random(3)
    dates = [None, "2020", "2020-05", "2020-05-01", "2021-01-02", "2019-12"]
    papers = {
        f"p{i:03d}": paper(f"p{i:03d}", f"T {i}", rng.choice(dates), ("A",)) for i in range(300)
    }
    index = SiteIndex(make_catalog(), "t", None)
    index.papers = papers  # the ranking follows the index's papers
    rank = index.date_rank()
    assert sorted(rank.values()) == list(range(len(papers)))
    for size in (0, 3, 20, 21, 150, 300):
        ids = rng.sample(sorted(papers), size) + ["missing"]
        want = _plain_newest(papers, ids)
        assert newest_papers(papers, ids, rank) == want
        assert newest_papers(papers, ids) == want
    # a ranking of other papers is not used
    assert newest_papers(papers, sorted(papers)[:30], {"p000": 0}) == _plain_newest(
        papers, sorted(papers)[:30]
    )


def test_group_keys_do_not_depend_on_what_the_keyer_saw_before() -> None:
    papers = [
        paper(f"p{i}", f"Title {i}", "2024-01-01", (f"A {i % 4}",), abstract=f"Text {i}.")
        for i in range(12)
    ]
    paper_topics = {f"p{i}": (f"t{i % 3}",) for i in range(12)}
    topics = [
        Topic(f"t{j}", f"Topic {j}", "phrase", "", tuple(f"p{i}" for i in range(j, 12, 3)))
        for j in range(3)
    ]
    similar = {f"p{i}": ((f"p{(i + 4) % 12}", 0.5), (f"p{(i + 5) % 12}", 0.2)) for i in range(12)}
    sets = [[0, 4, 8], [1, 2, 3, 5], list(range(12)), [11, 7, 3], [6]]
    for use_similar in (True, False):
        alone = [
            GroupKeys(paper_topics, topics, similar).key(
                [papers[i] for i in s], ignore_names=("A 1",), use_similar=use_similar
            )
            for s in sets
        ]
        shared = GroupKeys(paper_topics, topics, similar)
        together = [
            shared.key([papers[i] for i in s], ignore_names=("A 1",), use_similar=use_similar)
            for s in sets
        ]
        assert together == alone
        assert len(set(alone)) == len(sets)
    # links inside a set count; the same set without its inner link is another key
    cut = {**similar, "p0": (("p1", 0.5), ("p5", 0.2))}
    inner = GroupKeys(paper_topics, topics, similar).key([papers[i] for i in (0, 4, 8)])
    assert inner == GroupKeys(paper_topics, topics, similar).key([papers[i] for i in (0, 4, 8)])
    keyed = GroupKeys(paper_topics, topics, cut).key(
        [papers[i] for i in (0, 4, 8)], use_similar=True
    )
    assert keyed != GroupKeys(paper_topics, topics, similar).key(
        [papers[i] for i in (0, 4, 8)], use_similar=True
    )


def test_check_paths_checks_new_files_against_the_kept_ones() -> None:
    new = [OutputFile("papers/a.html", b""), OutputFile("index.html", b"")]
    check_paths(new, ["feeds/x.xml"], kept={"papers/b.html": b"", "authors/c.html": b""})
    with pytest.raises(WriteError, match="same path"):
        check_paths(new, kept={"papers/a.html": b""})
    with pytest.raises(WriteError, match="same path"):
        check_paths([], ["index.html"], kept=["index.html"])
    with pytest.raises(WriteError, match="both a file and a folder"):
        check_paths(new, kept=["papers/a.html/x.html"])
    with pytest.raises(WriteError, match="both a file and a folder"):
        check_paths([OutputFile("papers", b"")], kept=["papers/b.html"])
    with pytest.raises(WriteError, match="outside"):
        check_paths([OutputFile("../x.html", b"")], kept=["papers/b.html"])
