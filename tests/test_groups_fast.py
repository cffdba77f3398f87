"""The fast paths of research-area grouping give exactly what the plain computation gives.

Small sets are clustered in plain Python (``_similarity_lists`` + ``_average_clusters``),
large sets add shared topics pair by pair from a sparse product; both must give the same
floats and the same clusters as the dense arrays and scipy's average linkage.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

import generator.groups as groups_module
from generator.catalog import _with_listings
from generator.groups import (
    _average_clusters,
    _average_linkage,
    _similarity,
    _similarity_lists,
    group_papers,
)
from generator.model import Group, Paper, Topic
from generator.similar import find_similar
from generator.topics import TopicConfig, assign_topics
from tests.conftest import bare_paper
from tests.test_topics_planted import _corpus


def _fcluster(sim: np.ndarray, threshold: float) -> list[list[int]]:
    """Flat clusters of scipy's average linkage cut at distance 1 - threshold."""
    dist = 1.0 - np.clip(sim, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    labels = fcluster(
        linkage(squareform(dist, checks=False), method="average"),
        t=1.0 - threshold,
        criterion="distance",
    )
    clusters: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels.tolist()):
        clusters[label].append(i)
    return sorted(clusters.values(), key=lambda c: c[0])


def _random_sim(rng: random.Random, n: int) -> np.ndarray:
    """Symmetric similarities, often on a coarse grid (many exact ties), some out of [0, 1]."""
    grid = rng.choice([None, 2, 4, 8, 20])
    density = rng.random()
    sim = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < density:
                v = rng.random() * 1.2 - 0.1 if grid is None else rng.randint(0, grid) / grid
                sim[i, j] = sim[j, i] = v
    np.fill_diagonal(sim, 1.0)
    return sim


def test_python_average_linkage_matches_scipy_with_ties() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        n = rng.randint(1, 28)
        sim = _random_sim(rng, n)
        threshold = rng.choice([0.1, 0.3, 0.5])
        expected = _fcluster(sim, threshold) if n > 1 else [[0]]
        assert _average_clusters(sim.tolist(), threshold) == expected
        assert _average_linkage(sim, threshold) == expected


def _set_with_topics(
    n: int, seed: int
) -> tuple[
    list[Paper], dict[str, tuple[str, ...]], list[Topic], dict[str, tuple[tuple[str, float], ...]]
]:
    """n papers with random topics (some topics unknown to the topic list, one listed
    twice on a paper) and random similar-paper links, some to papers outside the set."""
    rng = random.Random(seed)
    base = bare_paper()
    papers = [replace(base, id=f"p{i:04d}") for i in range(n)]
    topic_ids = [f"t{k}" for k in range(max(5, n // 4))]
    members: dict[str, list[str]] = defaultdict(list)
    paper_topics: dict[str, tuple[str, ...]] = {}
    for p in papers:
        chosen = rng.sample(topic_ids, rng.randint(0, 4))
        if chosen and rng.random() < 0.05:
            chosen.append(chosen[0])
        if rng.random() < 0.1:
            chosen.append("unknown")
        paper_topics[p.id] = tuple(chosen)
        for t in dict.fromkeys(chosen):
            members[t].append(p.id)
    outside = [f"q{i}" for i in range(n)]
    topics = [
        Topic(t, f"name {t}", "phrase", "d", (*members[t], *outside[: rng.randint(0, n)]))
        for t in topic_ids
    ]
    ids = [p.id for p in papers] + outside
    similar = {
        p.id: tuple(
            (rng.choice(ids), round(rng.random(), rng.choice([1, 8])) + 0.01)
            for _ in range(rng.randint(0, 5))
        )
        for p in papers
    }
    return papers, paper_topics, topics, similar


@pytest.mark.parametrize("n", [2, 3, 7, 24, 40])
def test_similarity_lists_are_the_same_floats(n: int) -> None:
    for seed in range(20):
        papers, paper_topics, topics, similar = _set_with_topics(n, seed)
        dense = _similarity(papers, paper_topics, topics, similar)
        lists = _similarity_lists(papers, paper_topics, topics, similar)
        assert np.array_equal(np.array(lists), dense)


def test_sparse_shared_topics_are_the_same_floats(monkeypatch: pytest.MonkeyPatch) -> None:
    for n, seed in [(5, 1), (60, 2), (301, 3)]:
        papers, paper_topics, topics, similar = _set_with_topics(n, seed)
        monkeypatch.setattr(groups_module, "MAX_DENSE_TOPICS", 10_000)
        dense = _similarity(papers, paper_topics, topics, similar)
        monkeypatch.setattr(groups_module, "MAX_DENSE_TOPICS", 0)
        sparse = _similarity(papers, paper_topics, topics, similar)
        assert np.array_equal(dense, sparse)


def test_fast_paths_group_as_the_array_path(monkeypatch: pytest.MonkeyPatch) -> None:
    papers, _, _ = _corpus()
    result = assign_topics(papers, TopicConfig())
    similar = find_similar(papers, result.paper_topics)
    rng = random.Random(3)
    sets = [rng.sample(papers, rng.randint(3, 30)) for _ in range(40)]
    sets += [[p for p in papers if "Li Wei" in p.authors]]

    def run(use_similar: bool) -> list[tuple[tuple[Group, ...], bool]]:
        return [
            group_papers(
                s,
                result.paper_topics,
                result.topics,
                ignore_names=("Li Wei",),
                similar=similar if use_similar else None,
            )
            for s in sets
        ]

    fast = run(True), run(False)
    assert any(mixed for _, mixed in fast[0])
    monkeypatch.setattr(groups_module, "MAX_SMALL", 0)
    monkeypatch.setattr(groups_module, "MAX_DENSE_TOPICS", 0)
    assert (run(True), run(False)) == fast
    monkeypatch.setattr(groups_module, "MAX_DENSE_TOPICS", 10_000)
    assert (run(True), run(False)) == fast


def test_listings_swapped_without_replace() -> None:
    papers, _, _ = _corpus()
    for p in papers[:20]:
        assert _with_listings(p, ("x", "y")) == replace(p, listings=("x", "y"))
