"""The prefix shards' postings are formatted by numpy (``offline_index.int_lists_json``), not by
the JSON encoder: the text is exactly what ``json.dumps`` (compact) gives for the same lists."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_search_index import _docs

from generator.offline_index import _index_docs, int_lists_json


def _lists(values: list[int], lengths: list[int]) -> list[list[int]]:
    out, start = [], 0
    for n in lengths:
        out.append(values[start : start + n])
        start += n
    return out


@pytest.mark.parametrize(
    ("values", "lengths"),
    [
        ([0], [1]),
        ([7, 0, 10, 9], [4]),
        ([9, 10, 99, 100, 999, 1000], [1, 2, 3]),
        ([0, 0, 0], [1, 1, 1]),
        ([10**18 - 1, 10**18, 2**63 - 1], [2, 1]),
    ],
)
def test_edges_of_digit_counts(values: list[int], lengths: list[int]) -> None:
    text = int_lists_json(np.array(values, dtype=np.int64), np.array(lengths, dtype=np.int64))
    assert text == json.dumps(_lists(values, lengths), separators=(",", ":"))


def test_random_lists_equal_the_encoder() -> None:
    rng = np.random.default_rng(8)
    for _ in range(200):
        lengths = rng.integers(1, 9, size=int(rng.integers(1, 50)))
        top = 10 ** int(rng.integers(1, 19))
        values = rng.integers(0, top, size=int(lengths.sum()), dtype=np.int64)
        expected = json.dumps(_lists(values.tolist(), lengths.tolist()), separators=(",", ":"))
        assert int_lists_json(values, lengths) == expected


def test_no_lists_and_negative_values() -> None:
    assert int_lists_json(np.zeros(0, np.int64), np.zeros(0, np.int64)) == "[]"
    with pytest.raises(ValueError, match="non-negative"):
        int_lists_json(np.array([1, -1], np.int64), np.array([2], np.int64))


def test_postings_of_real_documents_equal_their_lists() -> None:
    postings, stem_of = _index_docs(_docs())
    stems = sorted(set(stem_of.values()))
    assert len(stems) > 5
    for chosen in (stems, stems[::-1], stems[:1], stems[1::2]):
        expected = json.dumps([postings.encoded(s) for s in chosen], separators=(",", ":"))
        assert postings.encoded_json(chosen) == expected
    assert postings.encoded_json([]) == "[]"
