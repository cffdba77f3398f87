"""What makes a one-record rebuild cheap gives what the plain computation gives: the numpy
nearest-neighbour chain (no scipy import) clusters as scipy's average linkage does, a memo
writes back exactly the shards that differ, matching keys of titles are kept in the papers
memo, and the collector is paused only while the build gathers its data."""

from __future__ import annotations

import gc
import random
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

import generator.catalog as catalog_module
import generator.groups as groups_module
import generator.papers as papers_module
from generator.build import collector_paused
from generator.cache import MEMO_SHARDS, Memo, shard_of
from generator.groups import _average_clusters, _average_linkage, _chain_clusters
from generator.model import Paper, Record, Topic
from generator.papers import build_papers
from tests.conftest import ROOT, bare_paper
from tests.hardening_support import build_in_process


def _scipy_clusters(sim: np.ndarray, threshold: float) -> list[list[int]]:
    """scipy's average linkage of the distances above the diagonal, cut at 1 - threshold."""
    n = sim.shape[0]
    upper = np.triu(1.0 - np.clip(sim, 0.0, 1.0), 1)
    labels = fcluster(
        linkage(squareform(upper + upper.T, checks=False), method="average"),
        t=1.0 - threshold,
        criterion="distance",
    )
    clusters: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels.tolist()):
        clusters[label].append(i)
    return sorted(clusters.values(), key=lambda c: c[0]) if n > 1 else [[0]]


def _sim(rng: random.Random, n: int) -> np.ndarray:
    """Similarities on a coarse grid (many exact ties) or not, some outside [0, 1]; the part
    below the diagonal is noise (only the part above it is read)."""
    grid = rng.choice([None, 2, 3, 8, 50])
    density = rng.random()
    sim = np.array(
        [
            [
                (rng.random() * 1.2 - 0.1 if grid is None else rng.randint(0, grid) / grid)
                if rng.random() < density
                else 0.0
                for _ in range(n)
            ]
            for _ in range(n)
        ]
    )
    np.fill_diagonal(sim, 1.0)
    return sim


def test_numpy_chain_clusters_as_scipy_does_with_ties() -> None:
    rng = random.Random(8)
    sizes = [rng.randint(2, 40) for _ in range(400)] + [120, 260]
    for n in sizes:
        sim = _sim(rng, n)
        threshold = rng.choice([0.1, 0.25, 0.5])
        expected = _scipy_clusters(sim, threshold)
        assert _chain_clusters(sim, threshold) == expected
        symmetric = np.triu(sim, 1) + np.triu(sim, 1).T + np.eye(n)
        if n <= 40:  # the plain-Python chain of small sets reads both triangles
            assert _average_clusters(symmetric.tolist(), threshold) == expected


def test_average_linkage_is_the_same_with_or_without_scipy_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(3)
    cases = [(_sim(rng, n), rng.choice([0.1, 0.3])) for n in (16, 30, 75)]
    with_scipy = [_average_linkage(sim, t) for sim, t in cases]
    chained: list[tuple[np.ndarray, float]] = []

    def chain(sim: np.ndarray, threshold: float) -> list[list[int]]:
        chained.append((sim, threshold))
        return _chain_clusters(sim, threshold)

    monkeypatch.setattr(groups_module, "linkage_loaded", lambda: False)
    monkeypatch.setattr(groups_module, "_chain_clusters", chain)
    assert [_average_linkage(sim, t) for sim, t in cases] == with_scipy
    assert len(chained) == len(cases)


def _planted_sets(n_sets: int, size: int) -> tuple[list[Paper], dict[str, tuple[str, ...]]]:
    base = bare_paper()
    papers = [
        replace(base, id=f"p{s}-{i}", authors=(f"Name {s}", f"Other {s}-{i}"))
        for s in range(n_sets)
        for i in range(size)
    ]
    return papers, {p.id: (f"t{i % 3}",) for i, p in enumerate(papers)}


def test_scipy_linkage_is_imported_only_for_much_clustering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers, paper_topics = _planted_sets(3, 20)
    topics = [
        Topic(
            f"t{k}",
            f"topic {k}",
            "phrase",
            "",
            tuple(p for p, t in paper_topics.items() if t[0] == f"t{k}"),
        )
        for k in range(3)
    ]
    by_id = {p.id: p for p in papers}
    similar = {p.id: ((papers[(i + 1) % len(papers)].id, 0.3),) for i, p in enumerate(papers)}
    tasks = [
        (tuple(p.id for p in papers[s * 20 : s * 20 + 20]), f"Name {s}", True) for s in range(3)
    ]
    primed: list[bool] = []
    monkeypatch.setattr(catalog_module, "prime_linkage", lambda: primed.append(True))
    first = catalog_module._group_sets(tasks, by_id, paper_topics, topics, similar, 1, None)
    assert primed == []  # 3 sets of 20: 1,200 < LINKAGE_IMPORT_WORK
    monkeypatch.setattr(catalog_module, "LINKAGE_IMPORT_WORK", 1000)
    again = catalog_module._group_sets(tasks, by_id, paper_topics, topics, similar, 1, None)
    assert primed == [True] and again == first
    assert catalog_module._linkage_work([3, 14, 15, 2500, 2501]) == 15 * 15 + 2500 * 2500


def _used_shards(memo: Memo, stored: dict[int, dict[Any, Any]]) -> tuple[dict[int, Any], set[int]]:
    """Each shard's entries this build used, and the shards whose used entries differ from
    the stored ones (which must be written back)."""
    data, used = memo._data, memo._used
    now: dict[int, dict[Any, Any]] = defaultdict(dict)
    for k in used:
        if k in data:
            now[shard_of(k)][k] = data[k]
    differ = set()
    for i in range(MEMO_SHARDS):
        before, after = stored.get(i, {}), now.get(i, {})
        if before.keys() != after.keys() or any(before[k] is not after[k] for k in after):
            differ.add(i)
    return now, differ


def test_memo_writes_back_exactly_the_shards_that_differ() -> None:
    rng = random.Random(4)
    for _ in range(60):
        stored: dict[int, dict[Any, Any]] = defaultdict(dict)
        for k in range(rng.randint(0, 300)):
            key = (f"k{k}", k) if k % 2 else f"k{k}"
            stored[shard_of(key)][key] = [k]
        data = {k: v for shard in stored.values() for k, v in shard.items()}
        home = {k: i for i, shard in stored.items() for k in shard}
        memo = Memo(dict(data), dict(home))
        keys = list(data) + [f"new{j}" for j in range(40)]
        for _ in range(rng.randint(0, 400)):
            key = rng.choice(keys) if keys else "new0"
            op = rng.random()
            if op < 0.5:
                _ = key in memo and memo[key]
            elif op < 0.8:
                memo[key] = memo[key] if key in memo and rng.random() < 0.5 else [key]
            elif key in memo:
                del memo[key]
        got = memo.shards()
        now, differ = _used_shards(memo, stored)
        assert differ <= got.keys()  # every shard that differs is written back
        for i, entries in got.items():  # with exactly the entries used, where they belong
            assert entries == now.get(i, {})
            assert all(entries[k] is now[i][k] for k in entries)
        assert Memo(dict(data)).shards().keys() == {shard_of(k) for k in data}  # none used


def _records() -> list[Record]:
    return [
        Record(
            file="seeds/a.txt",
            line=3 * i + 1,
            index=i,
            layout="listing",
            title=f"On {{\\'e}}tudes number {i}: a $\\mathcal{{O}}(n)$ bound",
            authors=(f"Ann Author{i}",),
            abstract="We study things. They are studied.",
        )
        for i in range(5)
    ]


def test_title_keys_and_slugs_are_kept_in_the_papers_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _records()
    plain = build_papers(records, ())
    memo = Memo()
    assert build_papers(records, (), memo) == plain
    kept = {k: v for k, v in memo.items() if isinstance(k, tuple) and k[0] == "title"}
    assert kept == {("title", r.title): papers_module.title_key(r.title) for r in records}
    folded: list[str] = []

    def counting(title: str) -> str:
        folded.append(title)
        return papers_module.fold_text(title)  # not what title_key gives: must not be used

    slugged: list[str] = []

    def slug(text: str) -> str:
        slugged.append(text)
        return "not-what-slugify-gives"

    monkeypatch.setattr(papers_module, "title_key", counting)
    monkeypatch.setattr(papers_module, "slugify", slug)
    stored = dict(memo.items())
    again = Memo(dict(stored))
    assert build_papers(records, (), again) == plain
    assert folded == [] and slugged == []  # every title's key and slug came from the memo
    assert build_papers(
        [*records[1:], replace(records[0], title="A new title")], (), Memo(dict(stored))
    )
    assert folded == ["A new title"] and slugged == ["A new title"]


def test_collector_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    try:
        with collector_paused():
            assert not gc.isenabled()
            made = [[i] for i in range(100)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)
        gc.disable()
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_build_leaves_the_collector_running(tmp_path: Path) -> None:
    out = tmp_path / "site"
    for _ in range(2):  # a build, then one that finds nothing changed
        result = build_in_process(ROOT / "seeds", out)
        assert result.code == 0, result.output
        assert gc.isenabled()
    gc.unfreeze()
