"""The session-3 fast paths give exactly what the plain computation gives: phrase keys cut
from cached per-piece codes, spellings read token by token, one pass for similarity terms
and a lone paper's phrase, top-k per row by threshold, scores rounded in numpy."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import generator.topics as topics_module
from generator.phrases import (
    acronym_definitions,
    chunk_phrase_keys,
    chunk_surfaces,
    chunks,
    phrase_keys,
    similarity_counts,
    surface_phrases,
    surfaces_of,
    target_surfaces,
)
from generator.readers import read_seed_paths
from generator.similar import _round4, _top_per_row

ROOT = Path(__file__).resolve().parent.parent

ODD = [
    "ERNIE-Tiny and BERT-base of's of of the ERNIE-Gram",
    "Mixture\u2010of\u2010Experts (MoE) X-ray of Mixture-of-Experts layers",
    "GPT-4 GPT-4o-mini LLaMA-2-Chat ERNIE\u2011Tiny of",
    "a\u00a0b c\u2028d e\x1cf g\x85h; x of y, of x, x of",
    "see https://x.org/a and www.b.com $x$ \\(y\\) \\[z\\] $$w$$ \\emph{a} \\cite{b} {c}~d",
    "one",
    "of",
    "",
    "A B C D E F G H I J",
]


def _seed_texts() -> list[str]:
    files, _ = read_seed_paths([ROOT / "seeds"], today=date(2026, 11, 22))
    return [x for f in files for r in f.records for x in (r.title or "", r.abstract or "")] + ODD


TEXTS = _seed_texts()


def test_phrase_keys_equal_the_chunk_by_chunk_keys() -> None:
    for text in TEXTS:
        parsed = list(chunks(text))
        for most in (1, 2, 3, 4):
            assert phrase_keys(text, most) == chunk_phrase_keys(parsed, most), (text, most)


def test_spellings_token_by_token_equal_the_chunk_walk() -> None:
    rng = random.Random(3)
    for text in TEXTS:
        parsed = list(chunks(text))
        phrases = list(surface_phrases(text))
        keys = sorted({mk for mk, _ in phrases})
        for target in [*rng.sample(keys, min(6, len(keys))), "ernie", "mixtureofexpert", "gpt"]:
            assert surfaces_of(text, target) == chunk_surfaces(parsed, target)
        targets = set(rng.sample(keys, min(10, len(keys)))) | {"ernie", "bert"}
        prefixes = {t[:m] for t in targets for m in range(1, len(t) + 1)}
        assert list(target_surfaces(text, targets, prefixes)) == [
            (mk, s) for mk, s in phrases if mk in targets
        ]


def test_terms_and_lone_in_one_pass() -> None:
    for title, abstract in zip(TEXTS[::2], TEXTS[1::2], strict=False):
        in_title = Counter(phrase_keys(title))
        in_abstract = Counter(phrase_keys(abstract))
        sim, lone = topics_module._terms_and_lone(in_title, in_abstract)
        expected = similarity_counts(title or "x", in_title, in_abstract)
        assert list(sim.items()) == list(expected.items())
        assert lone == topics_module._lone_of(in_title, in_abstract)


def test_acronym_whose_first_part_is_a_stop_word() -> None:
    # "a" is skipped when reading initials, so "PK" starts at the second part.
    assert list(acronym_definitions("We use a-priori knowledge (PK) here.")) == [
        ("pk", "a priori knowledge")
    ]
    assert list(acronym_definitions("Sparse Mixture-of-Experts (MoE) layers")) == [
        ("moe", "mixture of expert")
    ]


def _top_by_lexsort(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    counts = np.diff(m.indptr)
    if counts.size == 0 or counts.max(initial=0) <= k:
        return m
    rows = np.repeat(np.arange(m.shape[0]), counts)
    order = np.lexsort((-m.data, rows))
    rank = np.arange(len(order)) - m.indptr[rows[order]]
    keep = np.sort(order[rank < k])
    return sp.csr_matrix((m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape)


@pytest.mark.parametrize("seed", range(40))
def test_top_per_row_equals_a_full_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, v = int(rng.integers(1, 40)), int(rng.integers(1, 60))
    m = sp.random(n, v, density=float(rng.uniform(0.05, 0.9)), random_state=seed, format="csr")
    if seed % 2:
        m.data = np.round(m.data * 4) / 4 + 0.25  # many equal values
    if seed % 3 == 0:  # unsorted column indices, as a product leaves them
        m = sp.csr_matrix(m @ sp.random(v, v, density=0.3, random_state=seed, format="csr"))
    k = int(rng.integers(1, 10))
    got, want = _top_per_row(m, k), _top_by_lexsort(sp.csr_matrix(m), k)
    assert got.shape == want.shape
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


def test_round4_equals_round() -> None:
    rng = np.random.default_rng(0)
    halves = (np.arange(0, 20001) + 0.5) / 1e4  # every half-way point, as floats
    values = np.concatenate(
        [rng.random(20000), halves, np.nextafter(halves, 0), np.nextafter(halves, 1), [1.0, 0.0]]
    )
    got = _round4(values)
    assert [float(x) for x in got] == [round(float(x), 4) for x in values]


MARKED = [
    "fooBar_x BERT BERTs caf\u00e9_Ics \u00c9 BigGAN and LLMs",
    "x\u00a0GPT-4 robotics\u00c9 robotics_ robotics\u2028photonics",
    "\u00c9coNet eBay ab1C 3D 3Dconv x3D iPhone_ Ab\u2010Cd aB",
    "\x1cRoBERTa\x1fAbCd\x85XyZ \x0bAbC\x0cdeF\rGhI\tJkL",
    "\ud800BERT eBay\udfff robotics\U0001f600iPhone",
    "ics Ics icsics xxxxics physics, (Photonics) optics",
    "MoE\nLLMs\nphotonics.",
    "",
]


def test_block_marks_equal_each_texts_marks() -> None:
    # Capitalised and "-ics" words found block by block, from the stretches that can hold
    # them, are what matching each text gives; blocks of any size and mix of texts.
    texts = list(zip(TEXTS[::2], TEXTS[1::2], strict=False))
    texts += [(a, b) for a in MARKED for b in MARKED]
    rng = random.Random(5)
    for size in (1, 3, 50, len(texts)):
        order = rng.sample(texts, len(texts))
        for lo in range(0, len(order), size):
            part = order[lo : lo + size]
            expected = [topics_module._text_marks(*t)[1:] for t in part]
            assert [tuple(m) for m in topics_module._block_marks(part)] == expected, part
    found = topics_module._block_marks([("", MARKED[0]), ("", MARKED[5])])
    assert found == [(["bert", "biggan", "llm"], []), ([], ["photonic", "physic", "xxxxic"])]
    assert topics_module._block_marks([]) == []


# Pieces that make capitalised and "-ics" words, and the characters around them that could
# decide a match: word characters (ASCII, accented, digits, "_"), every kind of space,
# punctuation and a lone surrogate.
_PIECES = st.sampled_from(
    ["ics", "Ics", "BERT", "eBay", "x3D", "Ab", "aB", "\u00c9", "\u00e9", "_", "1", "q",
     "physics", " ", "\n", "\t", "\x0b", "\x1c", "\x85", "\u00a0", "\u2028", "-", "(", ".",
     "\ud800"]
)  # fmt: skip
_TEXT = st.lists(_PIECES, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=6))
def test_block_marks_equal_text_marks_on_any_text(texts: list[tuple[str, str]]) -> None:
    expected = [topics_module._text_marks(*t)[1:] for t in texts]
    assert [tuple(m) for m in topics_module._block_marks(texts)] == expected
