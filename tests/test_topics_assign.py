"""How papers choose their topics (``_pick_rows``: all papers at once, their words as bits)
and the other array forms of topic loops, each checked against the loop it replaces."""

from __future__ import annotations

from typing import Any

import pytest

import generator.topics as topics_module
from generator.topics import TopicConfig, assign_topics
from tests.test_topics_planted import _corpus


def _pick_by_loop(
    by_score: list[int],
    ranked: list[int],
    parts: dict[int, frozenset[str]],
    active: set[int],
    room: int,
) -> list[int]:
    """One paper's choice as the loop over its candidates makes it (the specification)."""
    allowed: set[int] = set()
    used: set[str] = set()
    for col in by_score:
        if col in active and parts[col].isdisjoint(used):
            allowed.add(col)
            used |= parts[col]
    return [c for c in ranked if c in allowed][:room]


def _choosing(
    by_score: list[list[int]],
    ranked: list[list[int]],
    parts: dict[int, frozenset[str]],
    room: list[int],
) -> topics_module._Choosing:
    """The arrays ``_pick_rows`` reads, from each paper's candidate columns in both orders."""
    import numpy as np

    cols = sorted(parts)
    local = {c: i for i, c in enumerate(cols)}
    flat = [local[c] for row in by_score for c in row]
    sizes = [len(row) for row in by_score]
    bounds = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    place = [int(bounds[r]) + by_score[r].index(c) for r, row in enumerate(ranked) for c in row]
    rows = np.repeat(np.arange(len(by_score), dtype=np.int64), sizes)
    masks, wide = topics_module._word_bits(
        rows, np.array(flat, dtype=np.int64), [parts[c] for c in cols], len(by_score)
    )
    return topics_module._Choosing(
        cols=np.array(cols, dtype=np.int64),
        by_score=np.array(flat, dtype=np.int64),
        ranked=np.array(place, dtype=np.int64),
        bounds=bounds,
        masks=masks,
        wide=wide,
        parts=[parts[c] for c in cols],
        room=np.array(room, dtype=np.int64),
    )


def _active(job: topics_module._Choosing, cols: set[int]) -> Any:
    import numpy as np

    return np.isin(job.cols, sorted(cols))


def _picks(job: topics_module._Choosing, active: set[int], rows: list[int]) -> list[list[int]]:
    import numpy as np

    return topics_module._pick_rows(job, _active(job, active), np.array(rows, dtype=np.int64))


def test_pick_keeps_the_better_of_two_topics_sharing_a_word() -> None:
    parts = {1: frozenset({"language"}), 2: frozenset({"language", "model"}), 3: frozenset({"x"})}
    job = _choosing([[1, 2, 3]], [[3, 2, 1]], parts, [5])
    assert _picks(job, {1, 2, 3}, [0]) == [[3, 1]]
    assert _picks(job, {2, 3}, [0]) == [[3, 2]]
    room_one = _choosing([[1, 2, 3]], [[3, 2, 1]], parts, [1])
    assert _picks(room_one, {1, 2, 3}, [0]) == [[3]]


def test_pick_reads_each_papers_own_candidates() -> None:
    parts = {1: frozenset({"a"}), 2: frozenset({"b"}), 3: frozenset({"a", "c"})}
    # the second paper has no candidates
    job = _choosing([[1, 2], [], [2, 1, 3]], [[2, 1], [], [3, 1, 2]], parts, [5, 5, 5])
    assert _picks(job, {1, 2, 3}, [0, 1, 2]) == [[2, 1], [], [1, 2]]  # 3 shares "a" with 1
    assert _picks(job, {2, 3}, [2]) == [[3, 2]]
    assert _picks(job, {2, 3}, [2, 0]) == [[3, 2], [2]]


@pytest.mark.parametrize("seed", range(12))
def test_picks_of_all_papers_at_once_are_the_loops(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Papers choosing together, their words as bits, choose what each would alone: with
    few and with very many words (more than ``WORD_BITS``: chosen with sets), any active
    topics, any room, any papers asked; words numbered for all papers at once or a few
    papers at a time."""
    import random

    if seed % 2:
        monkeypatch.setattr(topics_module, "WORD_ROWS", 1 + seed)

    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(rng.choice([6, 40, 400]))]
    n_cols = rng.randint(1, 300)
    parts = {
        c * 3 + 1: frozenset(rng.sample(vocabulary, rng.randint(1, min(4, len(vocabulary)))))
        for c in range(n_cols)
    }
    cols = sorted(parts)
    by_score: list[list[int]] = []
    ranked: list[list[int]] = []
    for _ in range(rng.randint(1, 120)):
        mine = rng.sample(cols, rng.randint(0, min(len(cols), rng.choice([3, 20, 250]))))
        by_score.append(sorted(mine, key=lambda c: (c * 7919) % 1009))  # one overall order
        ranked.append(rng.sample(mine, len(mine)))
    room = [rng.randint(0, 6) for _ in by_score]
    job = _choosing(by_score, ranked, parts, room)
    for _ in range(4):
        active = {c for c in cols if rng.random() < 0.8}
        rows = sorted(rng.sample(range(len(by_score)), rng.randint(0, len(by_score))))
        want = [_pick_by_loop(by_score[r], ranked[r], parts, active, room[r]) for r in rows]
        assert _picks(job, active, rows) == want


def test_a_paper_with_more_words_than_bits_chooses_with_sets() -> None:
    n = topics_module.WORD_BITS  # candidates of two words each: too many words for the bits
    parts = {c: frozenset({f"a{c}", f"b{c // 2}"}) for c in range(n)}
    narrow = {c: frozenset({"x"}) for c in range(n, n + 3)}
    by_score = [list(range(n)), list(range(n, n + 3))]
    ranked = [list(reversed(range(n))), [n + 2, n, n + 1]]
    job = _choosing(by_score, ranked, {**parts, **narrow}, [5, 5])
    assert job.wide.tolist() == [True, False]
    everything = set(range(n + 3))
    want = [
        _pick_by_loop(by_score[r], ranked[r], {**parts, **narrow}, everything, 5) for r in (0, 1)
    ]
    assert want[0] == [n - 2, n - 4, n - 6, n - 8, n - 10]  # one of each pair sharing b...
    assert _picks(job, everything, [0, 1]) == want == [want[0], [n]]


def test_assign_gives_the_same_topics_with_workers() -> None:
    papers, _, _ = _corpus()
    assert assign_topics(papers, TopicConfig(), workers=2) == assign_topics(papers, TopicConfig())


@pytest.mark.parametrize("seed", range(10))
def test_related_topics_are_the_pair_loops(seed: int) -> None:
    """Each name's related names: the pair loop's counts, ranked by most papers in common,
    then the smaller topic, then name; six at most."""
    import random
    from collections import Counter, defaultdict

    rng = random.Random(seed)
    names = [f"t{i}" for i in range(rng.choice([3, 30, 90]))]
    per_paper = [rng.sample(names, rng.randint(0, min(5, len(names)))) for _ in range(400)]
    loop: dict[str, Counter[str]] = defaultdict(Counter)
    topic_rows: dict[str, list[int]] = defaultdict(list)
    for r, row in enumerate(per_paper):
        for a in row:
            topic_rows[a].append(r)
            for b in row:
                if a != b:
                    loop[a][b] += 1
    want = {
        a: [
            b for b, _ in sorted(c.items(), key=lambda kv: (-kv[1], len(topic_rows[kv[0]]), kv[0]))
        ][:6]
        for a, c in loop.items()
        if c
    }
    assert topics_module._related(per_paper, topic_rows) == want
    assert topics_module._related([[], ["x"], ["x", "y"]], {"x": [1, 2], "y": [2]}) == {
        "x": ["y"],
        "y": ["x"],
    }
    assert topics_module._related([], {}) == {}


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
