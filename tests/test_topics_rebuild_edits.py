"""A rebuild of topics and similar papers from the last build's memo, after one record's
title, abstract or authors changed, or a record was added or removed, gives what a cold run
gives; and the memo keeps what the rebuild can reuse (the people matrix while no author
changed)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

import generator.similar as similar_module
import generator.topics as topics_module
from generator.model import Paper
from tests.test_topics_memo import _run
from tests.test_topics_planted import _corpus

BLOCK = 45


def _title(papers: list[Paper]) -> list[Paper]:
    out = list(papers)
    out[11] = replace(out[11], title=out[11].title + " with sparse mixture-of-experts")
    return out


def _abstract(papers: list[Paper]) -> list[Paper]:
    out = list(papers)
    out[120] = replace(out[120], abstract=out[120].abstract + " We also report an ablation.")
    return out


def _authors(papers: list[Paper]) -> list[Paper]:
    """The authors of a paper of the same area: their pair gains the shared authors' bonus."""
    out = list(papers)
    out[5] = replace(out[5], authors=out[6].authors)
    return out


def _added(papers: list[Paper]) -> list[Paper]:
    new = replace(papers[30], id="9999.00001", title="Sparse mixture-of-experts routing")
    return [*papers[:60], new, *papers[60:]]


def _removed(papers: list[Paper]) -> list[Paper]:
    return papers[:3] + papers[4:]


EDITS: dict[str, Callable[[list[Paper]], list[Paper]]] = {
    "title": _title,
    "abstract": _abstract,
    "authors": _authors,
    "added": _added,
    "removed": _removed,
}


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("workers", [1, 2])
def test_rebuild_after_an_edit_equals_a_cold_run(
    monkeypatch: pytest.MonkeyPatch, edit: str, workers: int
) -> None:
    papers, _, _ = _corpus()
    monkeypatch.setattr(topics_module, "COUNT_BLOCK", BLOCK)
    memo: dict[str, Any] = {}
    first = _run(papers, memo, workers)
    memo = pickle.loads(pickle.dumps(memo))  # kept between builds through pickle
    changed = EDITS[edit](papers)
    again = _run(changed, memo, workers)
    cold = _run(changed, None, workers)
    assert again == cold
    assert again != first  # the edit reached the result


def test_the_people_matrix_is_reused_until_an_author_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers, _, _ = _corpus()
    made = [0]
    real = similar_module._people_of

    def counting(papers: Any) -> Any:
        made[0] += 1
        return real(papers)

    monkeypatch.setattr(similar_module, "_people_of", counting)
    memo: dict[str, Any] = {}
    _run(papers, memo)
    assert made == [1]
    _run(_abstract(papers), memo)  # same authors: the matrix from the memo
    assert made == [1]
    with_author = _authors(papers)
    again = _run(with_author, memo)
    assert made == [2]  # an author changed: made again
    assert again == _run(with_author, None)
    assert made == [3]
    assert len([k for k in memo if ":people:" in k]) == 2  # (a build keeps only what it used)
