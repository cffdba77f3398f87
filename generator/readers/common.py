"""Pieces every seed layout shares: decoding, arXiv ids, DOIs and references, dates.

Character classes come from ``str.isalpha``/``str.isupper``/``str.istitle`` over the Basic
Multilingual Plane (see charclasses.py), so "É", "Ł" and "Ö" count as capitals exactly like "E"
does.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date
from functools import lru_cache
from typing import Any, Final

from generator.diagnostics import Diagnostic, error
from generator.model import Layout, Record
from generator.readers.charclasses import classes
from generator.textio import sniff_encoding

_CLASSES = classes()
UPPER: Final = _CLASSES.upper  # capitals
# letters that are not capitals: lower case, and caseless scripts (CJK, Arabic, ...)
LOWER: Final = _CLASSES.lower
# what str.isupper or str.istitle accepts: the capitals and a few symbols (Ⅻ, Ⓐ)
CAPITAL: Final = _CLASSES.capital
# ``[LOWER]`` as a negated class: a word character (\w: str.isalnum, "_") that is not "_", a
# number, a capital or astral. It matches exactly the same characters, but ``re`` compiles
# ``[LOWER]`` by setting a bit for each of its ~45,000 characters (CJK, Hangul) in a Python
# loop, ~10 ms a use, where this lists ~2,000 and costs a tenth of that.
LOWER_CLASS: Final = f"[^\\W_{_CLASSES.number}{UPPER}\U00010000-\U0010ffff]"

# --- records ------------------------------------------------------------------------------

# Record's fields in order, as ``new_record`` takes them
RECORD_FIELDS = (
    "file", "line", "index", "layout", "arxiv_id", "date", "date_text", "date_inferred",
    "title", "authors", "authors_truncated", "affiliation", "category", "score", "has_code",
    "comments", "journal_ref", "doi", "dois", "abstract",
)  # fmt: skip
if tuple(f.name for f in fields(Record)) != RECORD_FIELDS:
    raise RuntimeError(
        "generator.model.Record changed: update RECORD_FIELDS and new_record's callers"
    )
# A plain class with Record's slots, in the same order: an instance of it takes ordinary
# attribute assignments and then becomes a Record by ``__class__`` assignment (allowed between
# classes of the same layout). The frozen dataclass's ``__init__`` sets each field through
# ``object.__setattr__`` instead, which costs several times as much (a few µs a record).
_OPEN_RECORD: Final[Any] = type("_OpenRecord", (), {"__slots__": RECORD_FIELDS})
if Record.__slots__ != RECORD_FIELDS:
    raise RuntimeError("generator.model.Record's slots changed: update RECORD_FIELDS")


def new_record(
    file: str, line: int, index: int, layout: Layout,
    arxiv_id: str | None, date: str | None, date_text: str | None, date_inferred: bool,
    title: str | None, authors: tuple[str, ...], authors_truncated: bool,
    affiliation: str | None, category: str | None, score: float | None, has_code: bool,
    comments: str | None, journal_ref: str | None, doi: str | None, dois: tuple[str, ...],
    abstract: str | None,
) -> Record:  # fmt: skip
    """``Record(...)``, every field given in order (see ``_OPEN_RECORD``)."""
    record = _OPEN_RECORD()
    record.file = file
    record.line = line
    record.index = index
    record.layout = layout
    record.arxiv_id = arxiv_id
    record.date = date
    record.date_text = date_text
    record.date_inferred = date_inferred
    record.title = title
    record.authors = authors
    record.authors_truncated = authors_truncated
    record.affiliation = affiliation
    record.category = category
    record.score = score
    record.has_code = has_code
    record.comments = comments
    record.journal_ref = journal_ref
    record.doi = doi
    record.dois = dois
    record.abstract = abstract
    record.__class__ = Record
    made: Record = record
    return made


# --- arXiv identifiers --------------------------------------------------------------------

NEW_ID = r"\d{4}\.\d{4,5}"
OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID = rf"(?:{NEW_ID}|{OLD_ID})(?:v\d+)?"
ARXIV_ID_RE: Final = re.compile(rf"(?P<base>{NEW_ID}|{OLD_ID})(?P<version>v\d+)?")
ARXIV_ID_FULL_RE: Final = re.compile(rf"(?:{NEW_ID}|{OLD_ID})(?:v\d+)?")


def split_arxiv_id(arxiv_id: str) -> tuple[str, str | None]:
    """Base id and version: "2106.02241v2" -> ("2106.02241", "v2"); no version -> None."""
    m = ARXIV_ID_RE.fullmatch(arxiv_id.strip())
    if m is None:
        raise ValueError(f"not an arXiv id: {arxiv_id!r}")
    return m.group("base"), m.group("version")


def new_id_digits(yymm: str) -> int:
    """How many digits follow the dot in a new-style id: 4 before 2015 (YYMM < 1501), else 5."""
    return 4 if yymm < "1501" else 5


# --- references: "doi: DOI [DOI ...] journal reference" -------------------------------------

DOI_RE: Final = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX_RE: Final = re.compile(r"doi:\s*", re.IGNORECASE)
_DOI_SEP_RE: Final = re.compile(r"[\s,;]+")


def parse_reference(ref: str) -> tuple[tuple[str, ...], str | None]:
    """Split a reference into its DOIs and the journal reference that follows them.

    "doi: 10.1051/0004-6361/202140810 Astronomy & Astrophysics, 2022" ->
    (("10.1051/0004-6361/202140810",), "Astronomy & Astrophysics, 2022").
    Several DOIs may follow one "doi:", separated by spaces, commas or semicolons.
    """
    ref = ref.strip()
    m = _DOI_PREFIX_RE.match(ref)
    if m is None:
        return (), ref or None
    pos = m.end()
    dois: list[str] = []
    while True:
        d = DOI_RE.match(ref, pos)
        if d is None:
            break
        doi = d.group().rstrip(",;")
        dois.append(doi)
        pos = d.start() + len(doi)
        sep = _DOI_SEP_RE.match(ref, pos)
        if sep is None:
            pos = len(ref)
            break
        if DOI_RE.match(ref, sep.end()) is None:
            break
        pos = sep.end()
    rest = ref[pos:].strip().lstrip(",;").strip()
    if not dois:
        return (), ref or None
    return tuple(dois), rest or None


# --- dates ---------------------------------------------------------------------------------

MONTHS = {
    "Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
    "Jul": 7, "Aug": 8, "Sep": 9, "Sept": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}  # fmt: skip

ISO_DATE_RE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@lru_cache(maxsize=1 << 14)
def iso_date(text: str) -> str | None:
    """The ISO date of "2021-06-04" if it is a real calendar date, else None."""
    m = ISO_DATE_RE.fullmatch(text)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


@lru_cache(maxsize=1 << 14)
def month_day_date(month: int, day: int, year: int | None, today: date) -> tuple[str | None, bool]:
    """ISO date of a listing date and whether its year was inferred.

    A listing omits the year for dates of the current year, so a missing year is the most
    recent year in which that month and day falls on or before ``today`` (Feb 29 goes back
    to the latest leap year). Returns (None, False) for an impossible date.
    """
    if year is not None:
        try:
            return date(year, month, day).isoformat(), False
        except ValueError:
            return None, False
    for y in range(today.year, today.year - 8, -1):
        try:
            d = date(y, month, day)
        except ValueError:
            continue
        if d <= today:
            return d.isoformat(), True
    return None, False


# --- decoding ------------------------------------------------------------------------------


def decode_seed(name: str, data: bytes) -> tuple[str, tuple[Diagnostic, ...]]:
    """UTF-8 text with a byte-order mark dropped and CRLF/CR turned into LF.

    Undecodable bytes become U+FFFD and an error names each line that held them. A file with
    a UTF-32 or UTF-16 byte-order mark is read in that encoding with a note; NUL bytes without
    one (UTF-16 or UTF-32 text without a mark) are an error saying so.
    """
    wide, data, diags = sniff_encoding(name, data)
    if wide is not None:
        return wide.replace("\r\n", "\n").replace("\r", "\n"), tuple(diags)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        parts: list[str] = []
        norm = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        for number, raw in enumerate(norm.split(b"\n"), start=1):
            try:
                parts.append(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.end]
                diags.append(
                    error(
                        name,
                        number,
                        f"expected UTF-8 text, found undecodable byte(s) {bad!r} at column "
                        f"{exc.start + 1}; they are shown as U+FFFD",
                    )
                )
                parts.append(raw.decode("utf-8", errors="replace"))
        text = "\n".join(parts)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, tuple(diags)


_MARKS: Final = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # UTF-8, UTF-16/32 byte-order marks


def decode_lines(data: bytes) -> list[str] | None:
    """The lines ``read_seed_text`` reads from ``decode_seed(data)``'s text (split at LF and
    stripped), for text that is not all ASCII and needs none of ``decode_seed``'s care (no
    byte-order mark, CR, NUL or undecodable byte); None otherwise.

    Each line is decoded on its own: a line of ASCII decodes at copying speed, where decoding
    the whole text would widen it (and the splitting after it) for the sake of a few names.
    """
    if data.isascii() or b"\r" in data or b"\x00" in data or data.startswith(_MARKS):
        return None
    try:
        return list(map(str.strip, map(bytes.decode, data.split(b"\n"))))
    except UnicodeDecodeError:
        return None


def clip(text: str, width: int = 60) -> str:
    """A short quotation of seed text for a diagnostic."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
