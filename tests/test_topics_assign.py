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
        by_score=[1, 2, 3],
        ranked=[3, 2, 1],
        bounds=[0, 3],
        parts={
            1: frozenset({"language"}),
            2: frozenset({"language", "model"}),
            3: frozenset({"x"}),
        },
        room=[5],
    )
    assert topics_module._pick(job, {1, 2, 3}, 0) == [3, 1]
    assert topics_module._pick(job, {2, 3}, 0) == [3, 2]
    room_one = topics_module._Picking(job.by_score, job.ranked, job.bounds, job.parts, [1])
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


def test_pick_reads_each_papers_own_candidates() -> None:
    job = topics_module._Picking(
        by_score=[1, 2, 2, 1, 3],
        ranked=[2, 1, 3, 1, 2],
        bounds=[0, 2, 2, 5],  # the second paper has no candidates
        parts={1: frozenset({"a"}), 2: frozenset({"b"}), 3: frozenset({"a", "c"})},
        room=[5, 5, 5],
    )
    assert topics_module._pick(job, {1, 2, 3}, 0) == [2, 1]
    assert topics_module._pick(job, {1, 2, 3}, 1) == []
    assert topics_module._pick(job, {1, 2, 3}, 2) == [1, 2]  # 3 shares "a" with better 1
    assert topics_module._pick(job, {2, 3}, 2) == [3, 2]


@pytest.mark.parametrize("seed", range(20))
def test_order_in_rows_is_the_lexsort(seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    rows = np.sort(rng.integers(0, 50, n)).astype(np.int64)
    first = rng.integers(0, int(rng.integers(1, 6)), n).astype(np.int64)  # many ties
    span = int(rng.integers(1, 8))
    then = rng.integers(0, span, n).astype(np.int64)
    want = np.lexsort((then, first, rows))
    assert np.array_equal(topics_module._order_in_rows(rows, first, then, span), want)
    # keys too large for one int64: the lexsort itself
    huge = first * 2**58
    assert np.array_equal(
        topics_module._order_in_rows(rows, huge, then, span), np.lexsort((then, huge, rows))
    )


def _sample_rows_by_loop(chosen: list[list[int]], wanted: set[int]) -> list[int]:
    """The display names' sample as the loop over papers took it."""
    from collections import Counter

    seen: Counter[int] = Counter()
    rows = []
    for row, cols in enumerate(chosen):
        if not any(c in wanted and seen[c] < 3 for c in cols):
            continue
        for c in cols:
            seen[c] += 1
        rows.append(row)
    return rows


@pytest.mark.parametrize("seed", range(30))
def test_sample_rows_are_the_loops(seed: int) -> None:
    import random

    rng = random.Random(seed)
    topics = list(range(rng.randint(1, 12)))
    chosen = [rng.sample(topics, rng.randint(0, min(5, len(topics)))) for _ in range(80)]
    for wanted in (set(topics), set(topics[::2]), set()):
        assert topics_module._sample_rows(chosen, wanted) == _sample_rows_by_loop(chosen, wanted)
    assert topics_module._sample_rows([], {1}) == []
