"""Topics chosen in forked workers (``_assign`` with ``workers`` > 1) are the topics chosen
in one process, through the re-choosing of papers whose topics were dropped."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import pytest

import generator.topics as topics_module
from generator.topics import TopicConfig, assign_topics
from tests.test_topics_planted import _corpus


def test_forked_picks_give_the_same_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    papers, _, _ = _corpus()
    plain = assign_topics(papers, TopicConfig())
    pools: list[int] = []

    class Recording:
        """``multiprocessing`` as topics.py uses it, noting each pool of workers."""

        get_all_start_methods = staticmethod(mp.get_all_start_methods)

        @staticmethod
        def get_context(method: str) -> Any:
            context = mp.get_context(method)

            class Context:
                @staticmethod
                def Pool(processes: int) -> Any:  # noqa: N802 (multiprocessing's name)
                    pools.append(processes)
                    return context.Pool(processes)

            return Context

    # every choosing round of more than a few papers goes to the workers
    monkeypatch.setattr(topics_module, "PARALLEL_PICKS", 3)
    monkeypatch.setattr(topics_module, "mp", Recording)
    assert assign_topics(papers, TopicConfig(), workers=2) == plain
    assert pools == [2]  # one pool of two workers chose the topics
    assert topics_module._PICKING == []  # the shared job is released


def test_pick_keeps_the_better_of_two_topics_sharing_a_word() -> None:
    job = topics_module._Picking(
        by_score=[[1, 2, 3]],
        ranked=[[3, 2, 1]],
        parts={
            1: frozenset({"language"}),
            2: frozenset({"language", "model"}),
            3: frozenset({"x"}),
        },
        room=[5],
    )
    assert topics_module._pick(job, {1, 2, 3}, 0) == [3, 1]
    assert topics_module._pick(job, {2, 3}, 0) == [3, 2]
    room_one = topics_module._Picking(job.by_score, job.ranked, job.parts, [1])
    assert topics_module._pick(room_one, {1, 2, 3}, 0) == [3]


def test_together_counts_what_the_pair_loop_counts() -> None:
    import random
    from collections import Counter, defaultdict

    rng = random.Random(5)
    names = [f"t{i}" for i in range(30)]
    per_paper = [rng.choices(names, k=rng.randint(0, 7)) for _ in range(400)]  # repeats too
    loop: dict[str, Counter[str]] = defaultdict(Counter)
    for row in per_paper:
        for a in row:
            for b in row:
                if a != b:
                    loop[a][b] += 1
    assert topics_module._together(per_paper) == {a: dict(c) for a, c in loop.items() if c}
    assert topics_module._together([[], ["x"], ["x", "y"]]) == {"x": {"y": 1}, "y": {"x": 1}}
    assert topics_module._together([]) == {}
