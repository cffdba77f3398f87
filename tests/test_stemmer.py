"""The file:// index stems with PyStemmer (Snowball in C) when it is installed, as
snowballstemmer arranges; its stems must equal the pure-Python Snowball English stemmer's, which
the index was built and checked with (search.js stems queries with the same algorithm)."""

from __future__ import annotations

from pathlib import Path

from snowballstemmer.english_stemmer import EnglishStemmer  # type: ignore[import-untyped]

from generator import offline_index
from generator.offline_index import stem_word, words

ROOT = Path(__file__).resolve().parent.parent


# forms that exercise the algorithm's special cases
SPECIAL = (
    "generously generous news skies dying lying tying gently ugly early only singly sky idly "
    "atlas cosmos bias andes howe inning innings outing outings canning cannings herring "
    "herrings earring earrings proceed proceeded exceed succeeding communism communities "
    "arsenal universal hyphenation consignment relational conditional rational valenci "
    "hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization "
    "predication operator feudalism decisiveness hopefulness callousness formaliti "
    "sensitiviti sensibiliti y yy yes youth ied ies eed "
)


def _vocabulary() -> list[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        found.update(words(path.read_text(encoding="utf-8", errors="replace")))
    found.update(SPECIAL.split())
    return sorted(found)


def test_the_installed_stemmer_is_snowballs_english_in_c() -> None:
    # PyStemmer is a dependency (pyproject.toml); without it every stem costs ~13x more
    assert type(offline_index._STEMMER).__module__ == "Stemmer"


def test_stems_equal_the_pure_python_snowball_stemmer() -> None:
    vocabulary = _vocabulary()
    assert len(vocabulary) > 2000
    pure = EnglishStemmer()
    differ = [(w, stem_word(w), pure.stemWord(w)) for w in vocabulary]
    differ = [d for d in differ if d[1] != d[2]]
    assert differ == []
