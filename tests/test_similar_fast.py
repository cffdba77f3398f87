"""The one-pass candidate product of similar papers (``sparse_dot_topn``, top 4 k + 2 per
row) keeps exactly the candidates scipy's full product keeps, ties at a row's cut included,
and gives the same sums bit for bit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from generator.model import Paper
from generator.similar import (
    POSTINGS_PER_TERM,
    _first_use_numbers,
    _pruned_index,
    _Ranking,
    _strongest,
    _strongest_exact,
)


def _job(x: sp.csr_matrix, k: int = 5, min_score: float = 0.07) -> _Ranking:
    n = x.shape[0]
    return _Ranking(
        x=x,
        index=_pruned_index(x, POSTINGS_PER_TERM),
        ids=[f"p{i}" for i in range(n)],
        people=sp.csr_matrix((n, 1)),
        topic_sets=[frozenset()] * n,
        id_rank=np.arange(n),
        k=k,
        min_score=min_score,
    )


def _vectors(seed: int, n: int, terms: int, copies: int) -> sp.csr_matrix:
    """Unit rows over a small vocabulary, values from a few levels (so many sums tie), with
    some rows repeated (duplicate papers: exact ties of every candidate)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        cols = rng.choice(terms, size=rng.integers(1, 9), replace=False)
        vals = rng.choice([1.0, 2.0, 3.0], size=len(cols))
        row = np.zeros(terms)
        row[cols] = vals
        rows.append(row / np.linalg.norm(row))
    for _ in range(copies):
        rows.insert(int(rng.integers(0, len(rows))), rows[int(rng.integers(0, len(rows)))])
    return sp.csr_matrix(np.array(rows))


def _as_rows(found: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[tuple[int, int, float]]:
    rows, cols, vals = found
    return sorted(zip(rows.tolist(), cols.tolist(), vals.tolist(), strict=True))


@pytest.mark.parametrize("seed", range(6))
def test_one_pass_keeps_what_the_full_product_keeps(seed: int) -> None:
    x = _vectors(seed, n=300, terms=40, copies=60)
    job = _job(x, k=seed % 3 + 2, min_score=0.07 + 0.1 * (seed % 2))
    tied = 0
    for lo in range(0, x.shape[0], 64):
        hi = min(x.shape[0], lo + 64)
        fast, exact = _as_rows(_strongest(job, lo, hi)), _as_rows(_strongest_exact(job, lo, hi))
        assert fast == exact, (seed, lo)
        # rows whose cut falls inside a run of equal candidates (the fallback's case)
        scores = sp.csr_matrix(x[lo:hi] @ job.index)
        for r in range(hi - lo):
            s, e = scores.indptr[r], scores.indptr[r + 1]
            vals = np.sort(scores.data[s:e][scores.indices[s:e] != lo + r])[::-1]
            vals = vals[vals >= job.min_score * 0.5]
            cut = 4 * job.k
            tied += len(vals) > cut and vals[cut - 1] == vals[cut]
    assert tied > 0  # the corpus does exercise ties at the cut


def test_few_candidates_and_empty_rows() -> None:
    x = sp.csr_matrix(
        np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 0, 0], [0, 1.0, 0], [0, 0.6, 0.8], [0, 0, 0]])
    )
    job = _job(x)
    assert _as_rows(_strongest(job, 0, 6)) == _as_rows(_strongest_exact(job, 0, 6))
    assert {(r, c) for r, c, _ in _as_rows(_strongest(job, 0, 6))} == {
        (0, 1),
        (1, 0),
        (3, 4),
        (4, 3),
    }


@pytest.mark.parametrize("n, top", [(0, 1), (1, 3), (50, 4), (5_000, 700), (5_000, 5_000)])
def test_first_use_numbers_equal_unique(n: int, top: int) -> None:
    rng = np.random.default_rng(n + top)
    ids = rng.integers(0, top, n).astype(np.int32)
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), dtype=np.int32)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq), dtype=np.int32)
    numbers, distinct = _first_use_numbers(ids)
    assert distinct == len(uniq)
    assert numbers.tolist() == rank[inverse.ravel()].tolist()


def test_people_made_in_a_forked_helper_give_the_same_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import generator.similar as similar_module
    from generator.similar import find_similar
    from generator.topics import TopicConfig, assign_topics
    from tests.test_topics_planted import _corpus

    papers, _, _ = _corpus()
    topics = assign_topics(papers, TopicConfig()).paper_topics
    plain = find_similar(papers, topics)
    monkeypatch.setattr(similar_module, "PARALLEL_PEOPLE", 2)
    parent = os.getpid()
    made_in: list[bool] = []
    people_of = similar_module._people_of

    def spy(papers: Sequence[Paper]) -> Any:
        made_in.append(os.getpid() == parent)  # noted in this process only
        return people_of(papers)

    monkeypatch.setattr(similar_module, "_people_of", spy)
    assert find_similar(papers, topics, workers=2, block=64) == plain
    assert made_in == []  # made by the forked helper, not here
    monkeypatch.setattr(similar_module, "PARALLEL_PEOPLE", len(papers) + 1)
    assert find_similar(papers, topics, workers=2, block=64) == plain
    assert made_in == [True]  # below the limit: made here
