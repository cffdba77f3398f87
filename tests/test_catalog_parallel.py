"""The catalog's forked map: results in order whatever the schedule, items never pickled."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from generator.catalog import _chunks, _grouping_cost, _map

needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork start method"
)


def test_chunks_cover_every_position_once() -> None:
    costs = [float((i * 7919) % 97) + (500.0 if i % 50 == 0 else 0.0) for i in range(300)]
    for given in (None, costs):
        pieces = _chunks(given, len(costs), 2)
        flat = sorted(i for piece in pieces for i in piece)
        assert flat == list(range(len(costs)))
    by_cost = _chunks(costs, len(costs), 2)
    # Costliest first: the first piece holds the costliest item, the last the cheapest.
    assert max(costs) == costs[by_cost[0][0]]
    assert min(costs) == costs[by_cost[-1][-1]]
    assert _chunks(None, 0, 2) == []
    assert len(_chunks([0.0] * 300, 300, 2)) == 16  # no costs known: equal pieces


def test_grouping_cost_grows_with_size() -> None:
    sizes = [3, 14, 50, 300, 1000, 2500]
    costs = [_grouping_cost(n, True) for n in sizes]
    assert costs == sorted(costs)
    assert _grouping_cost(50, False) > _grouping_cost(50, True)


@needs_fork
def test_map_in_workers_keeps_order_and_never_pickles_items() -> None:
    # A lock cannot be pickled: the workers must read the items from inherited memory.
    items = [(i, threading.Lock()) for i in range(250)]
    costs = [float(i % 13) for i in range(250)]

    def work(item: tuple[int, threading.Lock]) -> tuple[int, int]:
        return item[0], item[0] * item[0]

    expected = [work(x) for x in items]
    assert _map(work, items, 2) == expected
    assert _map(work, items, 2, costs) == expected
    assert _map(work, items, 1, costs) == expected


@needs_fork
def test_memo_keys_made_in_workers_are_the_parents(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold build with an empty memo makes the set keys in the workers: the memo and the
    catalog are what one process makes, and a rebuild from that memo reuses every entry."""
    from dataclasses import replace

    import generator.catalog as catalog_module
    from generator.catalog import build_catalog
    from generator.config import SiteConfig
    from generator.model import SeedFile
    from generator.similar import find_similar
    from generator.topics import TopicConfig, assign_topics
    from tests.test_topics_planted import _corpus

    monkeypatch.setattr(catalog_module, "MIN_PARALLEL_ITEMS", 2)
    papers, area_of, _ = _corpus()
    papers = [
        replace(p, listings=("mixed", "all") if area_of[p.id] < 4 else ("all",)) for p in papers
    ]
    seeds = [SeedFile("mixed.txt", None, ()), SeedFile("all.txt", None, ())]
    result = assign_topics(papers, TopicConfig())
    similar = find_similar(papers, result.paper_topics)

    def build(memo: dict[str, object] | None, jobs: int) -> object:
        return build_catalog(papers, seeds, result, similar, SiteConfig(), jobs=jobs, memo=memo)

    serial: dict[str, object] = {}
    forked: dict[str, object] = {}
    expected = build(serial, 1)
    assert build(forked, 2) == expected == build(None, 2)
    assert forked == serial and len(forked) > 2
    kept = dict(forked)
    assert build(forked, 2) == expected and forked == kept


def test_direct_chain_is_scipys_average_linkage() -> None:
    """The grouping calls scipy's nearest-neighbour chain without ``linkage``'s wrapper:
    the same tree, ties included (and the wrapper only if scipy's layout changes)."""
    import random

    import numpy as np
    from scipy.cluster.hierarchy import linkage

    import generator.groups as groups_module

    assert groups_module._CHAIN is not None  # this scipy: the direct call is what runs
    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(2, 40)
        grid = rng.choice([2, 5, 1000])
        dist = np.array([rng.randint(0, grid) / grid for _ in range(n * (n - 1) // 2)])
        expected = linkage(dist.copy(), method="average")
        assert np.array_equal(groups_module._nn_chain(dist, n), expected)
