"""The file:// index splits ASCII text by translating separators to spaces: the same words as
the regular expression search.js mirrors (letters and digits, ``_`` a separator)."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from generator.offline_index import _WORD, words


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_words_are_the_regular_expressions_words(text: str) -> None:
    assert words(text) == _WORD.findall(text.lower())


@given(st.text(alphabet=string.ascii_letters + "éüßΣ _-'.,0123456789"))
def test_mixed_text_folds_accents(text: str) -> None:
    assert all(w == w.lower() and w.isalnum() for w in words(text))


def test_examples() -> None:
    assert words("Si3N4 low-rank_adapters, GPT-4's (BERT)\tx") == [
        "si3n4", "low", "rank", "adapters", "gpt", "4", "s", "bert", "x",
    ]  # fmt: skip
    assert words("Müller–Schmidt") == ["muller", "schmidt"]
