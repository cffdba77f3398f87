"""People: one spelling per person name, and a key that merges spellings of the same name.

``normalise_name`` gives the display form (Unicode NFC, single spaces, initials written
consistently: ``C. -Q. Yang`` and ``C.-Q.  Yang`` both become ``C.-Q. Yang``). ``name_key``
folds case, accents and punctuation so that ``Blésin, T.``-style variants of one spelling
match (``Terence Blésin`` == ``Terence Blesin`` == ``TERENCE BLESIN``). Initials are never
expanded: ``C. Yang`` and ``Chao Yang`` stay different people unless the config says otherwise.

``split_author_groups`` decides whether one name's papers look like several researchers:
separate research areas (``generator.groups``) with no co-author in common.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from generator.model import Group, Paper, Topic

_SPACE = re.compile(r"\s+")
# "C. -Q." / "C.- Q." / "C . Q ." -> tight forms
_SPACE_AROUND_HYPHEN = re.compile(r"(?<=\.)\s*-\s*|(?<=\w)\s+-\s*(?=\w\.)|(?<=\w)-\s+(?=\w)")
_SPACE_BEFORE_DOT = re.compile(r"(?<=\w)\s+\.")
_INITIALS_RUN = re.compile(r"\b([A-Z])\.(?=[A-Z]\b)")  # "C.Q. Yang" -> "C. Q. Yang"
_KEY_DROP = re.compile(r"[^\w]+")
_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "Th",
        "ð": "d",
        "Ð": "D",
        "œ": "oe",
        "Œ": "OE",
        "ı": "i",
    }
)


@lru_cache(maxsize=1 << 18)
def normalise_name(name: str) -> str:
    """Display form of an author name: NFC, trimmed, one space between words, initials tight.

    >>> normalise_name("C. -Q.  Yang")
    'C.-Q. Yang'
    """
    text = unicodedata.normalize("NFC", name)
    text = text.replace("\u00a0", " ").replace("\u2010", "-").replace("\u2011", "-")
    text = _SPACE.sub(" ", text).strip().strip(",;").strip()
    text = _SPACE_BEFORE_DOT.sub(".", text)
    text = _SPACE_AROUND_HYPHEN.sub("-", text)
    text = _INITIALS_RUN.sub(r"\1. ", text)
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=1 << 18)
def name_key(name: str) -> str:
    """Matching key: case, accents, punctuation and spacing folded ("c q yang")."""
    text = normalise_name(name).translate(_TRANSLITERATE)
    if not text.isascii():  # (ASCII has no decompositions and no combining marks)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _KEY_DROP.sub(" ", text.casefold()).replace("_", " ").strip()


def canonical_names(
    names: Iterable[str], aliases: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map every spelling to the display name of its person.

    Spellings with the same ``name_key`` are one person; ``aliases`` (spelling -> canonical
    spelling, from the config) joins different keys. The display name is the spelling used
    most often, ties broken towards the one with accents kept, then the longer, then sorted.
    """
    alias_key = {
        name_key(a): name_key(c) for a, c in (aliases or {}).items() if name_key(a) and name_key(c)
    }
    alias_display = {name_key(c): normalise_name(c) for c in (aliases or {}).values()}

    def person(key: str) -> str:
        seen = {key}
        while key in alias_key and alias_key[key] not in seen:
            key = alias_key[key]
            seen.add(key)
        return key

    raw = list(names)
    counts: dict[str, Counter[str]] = {}
    for spelling in raw:
        display = normalise_name(spelling)
        if not display:
            continue
        counts.setdefault(person(name_key(display)), Counter())[display] += 1

    def rank(item: tuple[str, int]) -> tuple[int, int, int, str]:
        text, n = item
        accented = sum(1 for ch in unicodedata.normalize("NFD", text) if unicodedata.combining(ch))
        return (-n, -accented, -len(text), text)

    chosen = {}
    for key, c in counts.items():
        chosen[key] = alias_display.get(key) or sorted(c.items(), key=rank)[0][0]
    return {s: chosen[person(name_key(normalise_name(s)))] for s in raw if normalise_name(s)}


def split_author_groups(
    name: str,
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    topics: Sequence[Topic],
) -> tuple[tuple[Group, ...], bool]:
    """Research-area groups of one name's papers, and whether they look like several people.

    The name itself is ignored as a co-author link (every paper has it); other shared
    co-authors join areas, so one researcher working on two subjects stays one career.
    """
    from generator.groups import group_papers

    return group_papers(papers, paper_topics, topics, ignore_names=(name,))
