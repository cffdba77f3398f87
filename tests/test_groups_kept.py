"""What grouping keeps between sets (each paper's weighted topics and lone phrase) and the
one-pass sum of shared topics give exactly what computing everything afresh gives."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pytest

import generator.groups as groups_module
from generator.groups import _shared_dense, _topic_members, group_papers
from generator.model import Group, Paper
from generator.similar import find_similar
from generator.topics import TopicConfig, assign_topics, paper_phrase
from tests.conftest import bare_paper
from tests.test_topics_planted import _corpus


def _shared_by_blocks(
    members: Mapping[str, list[int]], weight: Mapping[str, float], n: int
) -> np.ndarray:
    """The plain computation: each topic's weight added to its block of rows in turn."""
    shared = np.zeros((n, n))
    for tid, rows in members.items():
        if len(rows) > 1:
            idx = np.array(rows)
            shared[idx[:, None], idx] += weight[tid]
    return shared


def _members_afresh(
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    weight: Mapping[str, float],
) -> tuple[dict[str, list[int]], list[float]]:
    members: dict[str, list[int]] = defaultdict(list)
    mass = [0.0] * len(papers)
    for i, p in enumerate(papers):
        for tid in paper_topics.get(p.id, ()):
            if tid in weight:
                members[tid].append(i)
                mass[i] += weight[tid]
    return members, mass


def test_shared_topics_in_one_pass_are_the_block_sums() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        n = rng.randint(1, 70)
        weight = {
            f"t{k}": rng.choice([rng.random() * 6, 0.1, 0.7, 1 / 3, 0.0])
            for k in range(rng.randint(0, 40))
        }
        members: dict[str, list[int]] = {}
        for tid in weight:
            rows = sorted(rng.sample(range(n), rng.randint(1, n)))
            if rng.random() < 0.2:  # a topic listed twice on a paper
                at = rng.randrange(len(rows))
                rows.insert(at, rows[at])
            members[tid] = rows
        expected = _shared_by_blocks(members, weight, n)
        assert _shared_dense(members, weight, n).tobytes() == expected.tobytes()


def _papers(n: int) -> list[Paper]:
    base = bare_paper()
    return [replace(base, id=f"p{i}") for i in range(n)]


def test_kept_topic_rows_follow_their_inputs() -> None:
    papers = _papers(6)
    weight = {"a": 0.1, "b": 0.7, "c": 1 / 3}
    topics_of = {"p0": ("a", "b"), "p1": ("b", "x"), "p2": ("c", "a", "c"), "p4": ("x",)}
    first = _topic_members(papers, topics_of, weight)
    assert first == _members_afresh(papers, topics_of, weight)
    assert _topic_members(papers[::-1], topics_of, weight) == _members_afresh(
        papers[::-1], topics_of, weight
    )
    # The same papers with other topic ids, then other weights: nothing stale is used.
    changed = {**topics_of, "p0": ("c",), "p5": ("a", "c")}
    assert _topic_members(papers, changed, weight) == _members_afresh(papers, changed, weight)
    other = {"a": 2.0, "c": 0.25}
    assert _topic_members(papers, changed, other) == _members_afresh(papers, changed, other)
    assert _topic_members(papers, topics_of, weight) == first


def test_kept_work_groups_as_afresh_with_planted_collisions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers, _, _ = _corpus()
    result = assign_topics(papers, TopicConfig())
    similar = find_similar(papers, result.paper_topics)
    rng = random.Random(8)
    names = ["Li Wei", "Maria Rossi"]
    sets = [(name, [p for p in papers if name in p.authors]) for name in names]
    sets += [("Li Wei", rng.sample(papers, rng.randint(3, 120))) for _ in range(30)]

    def run() -> list[tuple[tuple[Group, ...], bool]]:
        out = []
        for name, s in sets:
            for use_similar in (True, False):
                out.append(
                    group_papers(
                        s,
                        result.paper_topics,
                        result.topics,
                        ignore_names=(name,),
                        similar=similar if use_similar else None,
                    )
                )
        return out

    kept = run()
    again = run()  # every paper's topics and phrase now kept from the first run
    # The planted collision splits by area; the one researcher with two subjects does not.
    assert kept[0][1] and len(kept[0][0]) >= 2
    assert not kept[2][1] and len(kept[2][0]) == 1
    assert sum(mixed for _, mixed in kept) >= 5

    monkeypatch.setattr(groups_module, "_topic_members", _members_afresh)
    monkeypatch.setattr(groups_module, "_shared_dense", _shared_by_blocks)
    monkeypatch.setattr(groups_module, "_phrase_of", paper_phrase)
    assert kept == again == run()
