"""Read BibTeX files into ``BibEntry`` values, LaTeX decoded for display.

Parsing is bibtexparser v2 (it splits blocks, resolves ``@string`` macros, reports blocks it
could not read and duplicate keys, and gives each block's start line); names are split by its
BibTeX name grammar ("von Last, Jr, First"); LaTeX is decoded by pylatexenc with math kept as
written, so the renderer can still turn ``$...$`` into MathML.

Nothing here raises on bad input: an unreadable block, a duplicate key, an unknown entry type
or bytes that are not UTF-8 become diagnostics with file and line, and every other entry is
still read.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pylatexenc.latex2text import LatexNodes2Text

from generator.categories import full_category
from generator.diagnostics import Diagnostic, error, warning
from generator.model import BibEntry
from generator.textio import sniff_encoding

if TYPE_CHECKING:  # bibtexparser itself is imported where a BibTeX file is parsed
    from bibtexparser.model import Entry, ParsingFailedBlock

# bibtexparser logs every failed block; we report them as diagnostics instead.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

# BibTeX, biblatex and the types common exporters (Zotero, Google Scholar, dblp, arXiv) write.
KNOWN_ENTRY_TYPES = frozenset(
    {
        "article", "book", "booklet", "conference", "inbook", "incollection", "inproceedings",
        "manual", "mastersthesis", "misc", "phdthesis", "proceedings", "techreport", "unpublished",
        "online", "electronic", "www", "report", "thesis", "software", "dataset", "patent",
        "collection", "mvbook", "mvcollection", "mvproceedings", "bookinbook", "suppbook",
        "suppcollection", "suppperiodical", "periodical", "reference", "mvreference",
        "inreference", "set", "xdata", "artwork", "audio", "image", "movie", "music",
        "performance", "video", "standard", "letter", "commentary", "jurisdiction", "legislation",
        "legal", "review",
    }
)  # fmt: skip

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]{2})?/\d{7}"
_ID = rf"(?:{_NEW_ID}|{_OLD_ID})"
_EPRINT_RE = re.compile(rf"^\s*(?:arxiv:\s*)?({_ID})(v\d+)?\s*$", re.IGNORECASE)
_ARXIV_URL_RE = re.compile(rf"arxiv\.org/(?:abs|pdf|html)/({_ID})(?:v\d+)?", re.IGNORECASE)
_ARXIV_NOTE_RE = re.compile(rf"\barxiv\s*:\s*({_ID})(?:v\d+)?(?!\d)", re.IGNORECASE)
_ARXIV_DOI_RE = re.compile(rf"^10\.48550/arxiv\.({_ID})(?:v\d+)?$", re.IGNORECASE)
_CORR_VOLUME_RE = re.compile(rf"^abs/({_ID})(?:v\d+)?$", re.IGNORECASE)
_DOI_PREFIX_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_YEAR_RE = re.compile(r"\b(1[6-9]\d\d|20\d\d|2100)\b")
_MATH_RE = re.compile(r"(\$\$.+?\$\$|\$.+?\$|\\\(.+?\\\)|\\\[.+?\\\])", re.DOTALL)
_UNESCAPED_PERCENT_RE = re.compile(r"(?<!\\)%")
_SPACE_RE = re.compile(r"\s+")
_NEEDS_LATEX_RE = re.compile(r"[\\{}~$`]|--|''|!`|\?`")

# Notes that say something about the record rather than naming where it was published.
_NOT_A_VENUE_RE = re.compile(
    r"not found|unverified|unconfirmed|uncertain|metadata|preprint|submitted|under review|"
    r"in preparation|withdrawn|arxiv|accessed|retrieved|see also|version",
    re.IGNORECASE,
)
_AS_TITLE_RE = re.compile(r"\s*\(as\s+['\"‘“].*?['\"’”]\)", re.IGNORECASE)

_LATEX = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False)


# pylatexenc's \href handler indexes past its arguments (IndexError): its link text is what a
# reader sees, so \href{url}{text} becomes text before decoding.
_HREF_RE = re.compile(r"\\href\s*\{[^{}]*\}\s*(?:\{((?:[^{}]|\{[^{}]*\})*)\})?")
_COMMAND_RE = re.compile(r"\\([A-Za-z]+\*?|.)")


@functools.lru_cache(maxsize=65536)
def _latex_to_text(text: str) -> str:
    text = _HREF_RE.sub(lambda m: m.group(1) or "", text)
    text = _UNESCAPED_PERCENT_RE.sub(r"\\%", text)
    try:
        return str(_LATEX.latex_to_text(text))
    except (IndexError, KeyError, ValueError, TypeError, AttributeError):
        # malformed LaTeX pylatexenc cannot walk: drop commands and braces, keep the words
        words = _COMMAND_RE.sub(lambda m: m.group(1) if not m.group(1).isalpha() else "", text)
        return words.replace("{", "").replace("}", "")


def decode_latex(text: str) -> str:
    """Text-mode LaTeX to display text (accents, escapes, braces); ``$...$`` math kept as is.

    A bare ``%`` is text in BibTeX, not a LaTeX comment, so it is kept.
    """
    # plain text: nothing for LaTeX to change
    decoded = text if _NEEDS_LATEX_RE.search(text) is None else _latex_to_text(text)
    decoded = decoded.replace("\u00a0", " ")
    return unicodedata.normalize("NFC", _SPACE_RE.sub(" ", decoded).strip())


def decode_title(text: str) -> str:
    """A title for display: text-mode LaTeX decoded, math segments kept exactly as written."""
    maths: list[str] = []

    def hold(m: re.Match[str]) -> str:
        maths.append(m.group(0))
        return f"\ue000{len(maths) - 1}\ue001"

    decoded = decode_latex(_MATH_RE.sub(hold, text))
    return re.sub("\ue000(\\d+)\ue001", lambda m: maths[int(m.group(1))], decoded)


def base_arxiv_id(text: str) -> str | None:
    """The arXiv id (version stripped) an ``eprint`` value states: "arXiv:2106.02241v2" ->
    "2106.02241"; None when it is not an arXiv id."""
    m = _EPRINT_RE.match(text)
    return m.group(1) if m else None


def arxiv_id_in_text(text: str) -> str | None:
    """An arXiv id named in free text: an arXiv URL or ``arXiv:ID``."""
    m = _ARXIV_URL_RE.search(text) or _ARXIV_NOTE_RE.search(text)
    return m.group(1) if m else None


def clean_doi(text: str) -> str | None:
    doi = _DOI_PREFIX_RE.sub("", text.strip()).strip()
    return doi if doi.startswith("10.") and "/" in doi else None


def parse_names(value: str) -> tuple[tuple[str, ...], bool, list[str]]:
    """A BibTeX ``author`` value -> ("First von Last Jr" names, truncated, problems)."""
    from bibtexparser.middlewares.names import (
        InvalidNameError,
        parse_single_name_into_parts,
        split_multiple_persons_names,
    )

    names: list[str] = []
    problems: list[str] = []
    truncated = False
    for raw in split_multiple_persons_names(value):
        if raw.strip().lower() == "others":
            truncated = True
            continue
        try:
            parts = parse_single_name_into_parts(raw, strict=True)
            words = [*parts.first, *parts.von, *parts.last, *parts.jr]
        except InvalidNameError as exc:
            problems.append(f"author name {raw.strip()!r} is not a BibTeX name ({exc})")
            words = [raw]
        name = decode_latex(" ".join(words))
        if name:
            names.append(name)
    return tuple(names), truncated, problems


def _year_month(fields: dict[str, str]) -> tuple[int | None, int | None, list[str]]:
    """(year, month, problems) from year/month or a biblatex ``date``."""
    year: int | None = None
    month: int | None = None
    problems: list[str] = []
    if "year" in fields:
        m = _YEAR_RE.search(fields["year"])
        if m:
            year = int(m.group(1))
        else:
            problems.append(f"year {fields['year']!r} is not a year; ignored")
    date = fields.get("date", "")
    dm = re.match(r"^\s*(\d{4})(?:-(\d{1,2}))?", date)
    if year is None and dm:
        year = int(dm.group(1))
        month = int(dm.group(2)) if dm.group(2) else None
    if "month" in fields:
        raw = fields["month"].strip().rstrip(".").lower()
        if raw.isdigit() and 1 <= int(raw) <= 12:
            month = int(raw)
        elif raw in _MONTHS:
            month = _MONTHS[raw]
        else:
            problems.append(f"month {fields['month']!r} is not a month; ignored")
    if month is not None and not 1 <= month <= 12:
        month = None
    return year, month, problems


def _venue(fields: dict[str, str]) -> str | None:
    for key in ("journal", "journaltitle", "booktitle"):
        value = decode_latex(fields.get(key, ""))
        if value and not _NOT_A_VENUE_RE.search(value) and value.lower() != "corr":
            return value
    note = decode_latex(fields.get("note", ""))
    for part in note.split(";"):
        part = _AS_TITLE_RE.sub("", part).strip()
        if part and _YEAR_RE.search(part) and not _NOT_A_VENUE_RE.search(part):
            return part
    return None


def _arxiv_id(fields: dict[str, str]) -> str | None:
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").lower()
    if "eprint" in fields and prefix == "arxiv":
        found = base_arxiv_id(fields["eprint"])
        if found:
            return found
    if (doi := fields.get("doi")) and (m := _ARXIV_DOI_RE.match(doi.strip())):
        return m.group(1)
    if fields.get("journal", "").strip().lower() == "corr" and (
        m := _CORR_VOLUME_RE.match(fields.get("volume", "").strip())
    ):
        return m.group(1)
    for key in ("url", "note", "journal", "howpublished", "eprint"):
        if key in fields and (found := arxiv_id_in_text(fields[key])):
            return found
    return None


def _field_values(entry: Entry, strings: dict[str, str]) -> dict[str, str]:
    """Every field as text, names lower-cased, ``#`` concatenations joined."""
    from bibtexparser.middlewares.enclosing import REMOVED_ENCLOSING_KEY

    enclosing = entry.parser_metadata.get(REMOVED_ENCLOSING_KEY, {}) or {}
    fields: dict[str, str] = {}
    for f in entry.fields:
        value = f.value if isinstance(f.value, str) else str(f.value)
        if enclosing.get(f.key) == "no-enclosing" and "#" in value:
            value = _concatenate(value, strings)
        fields.setdefault(f.key.lower(), value)
    return fields


def _concatenate(value: str, strings: dict[str, str]) -> str:
    parts: list[str] = []
    depth, start, quoted = 0, 0, False
    for i, ch in enumerate(value + "#"):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append(value[start:i].strip())
            start = i + 1
    out: list[str] = []
    for part in parts:
        if len(part) >= 2 and part[0] + part[-1] in ("{}", '""'):
            out.append(part[1:-1])
        else:
            out.append(strings.get(part.lower(), part))
    return "".join(out)


def _decode(data: bytes, name: str) -> tuple[str, list[Diagnostic]]:
    """UTF-8 (a BOM allowed); a line that is not UTF-8 is an error and is read as Latin-1.

    As for seed files (``readers.common.decode_seed``): UTF-32 or UTF-16 with a byte-order
    mark is read in that encoding with a note; NUL bytes without a mark are an error naming
    the likely encoding.
    """
    wide, data, diags = sniff_encoding(name, data)
    if wide is not None:
        return wide, diags
    try:
        return data.decode("utf-8"), diags
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad = raw[exc.start : exc.start + 1].hex().upper()
            diags.append(
                error(
                    name,
                    number,
                    f"expected UTF-8 text, found byte 0x{bad} at column {exc.start + 1}; "
                    "line read as Latin-1",
                )
            )
            lines.append(raw.decode("latin-1"))
    return "\n".join(lines), diags


def parse_bib_text(name: str, text: str) -> tuple[tuple[BibEntry, ...], tuple[Diagnostic, ...]]:
    """Parse BibTeX ``text`` read from file ``name``."""
    from bibtexparser.entrypoint import parse_string
    from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    library = parse_string(text)
    strings = {s.key.lower(): s.value for s in library.strings}
    diags: list[Diagnostic] = []
    first_line: dict[str, int] = {}
    for block in library.blocks:
        if isinstance(block, Entry):
            first_line.setdefault(block.key, (block.start_line or 0) + 1)

    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            diags.append(
                error(
                    name,
                    line,
                    f"duplicate BibTeX key {block.key!r} (first used at {name}:"
                    f"{first_line.get(block.key, '?')}); this entry is ignored",
                )
            )
        elif isinstance(block, ParsingFailedBlock):
            diags.append(error(name, line, _failure_message(block)))

    entries: list[BibEntry] = []
    for entry in library.entries:
        entry_diags: list[Diagnostic] = []
        bib = _bib_entry(name, entry, strings, entry_diags)
        entries.append(bib)
        diags.extend(entry_diags)
    return tuple(entries), tuple(diags)


def _failure_message(block: ParsingFailedBlock) -> str:
    raw = block.raw or ""
    head = re.match(r"\s*@\s*(\w+)\s*[{(]\s*([^,\s]*)", raw)
    what = f"@{head.group(1)}{{{head.group(2)}" if head else "block"
    reason = getattr(block.error, "abort_reason", None) or str(block.error) or "syntax error"
    reason = reason.strip().rstrip(".")
    return f"could not read BibTeX {what}: {reason}; entry skipped"


def _bib_entry(
    name: str, entry: Entry, strings: dict[str, str], diags: list[Diagnostic]
) -> BibEntry:
    line = (entry.start_line or 0) + 1
    entry_type = entry.entry_type.lower()
    if entry_type not in KNOWN_ENTRY_TYPES:
        diags.append(
            warning(
                name,
                line,
                f"unknown BibTeX entry type @{entry.entry_type} for {entry.key!r}; read as @misc",
            )
        )
    fields = _field_values(entry, strings)
    title = decode_title(fields["title"]) if "title" in fields else ""
    authors: tuple[str, ...] = ()
    truncated = False
    if "author" in fields:
        authors, truncated, problems = parse_names(fields["author"])
        diags.extend(warning(name, line, f"{entry.key}: {p}") for p in problems)
    year, month, problems = _year_month(fields)
    diags.extend(warning(name, line, f"{entry.key}: {p}") for p in problems)
    arxiv_id = _arxiv_id(fields)
    if (
        "eprint" in fields
        and arxiv_id is None
        and (
            (fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").lower() == "arxiv"
        )
    ):
        diags.append(
            warning(name, line, f"{entry.key}: eprint {fields['eprint']!r} is not an arXiv id")
        )
    primary = fields.get("primaryclass", "").strip()
    url = fields.get("url", "").strip()
    note = decode_latex(fields.get("note", ""))
    return BibEntry(
        file=name,
        line=line,
        key=entry.key,
        entry_type=entry_type,
        title=title or None,
        authors=authors,
        authors_truncated=truncated,
        year=year,
        month=month,
        arxiv_id=arxiv_id,
        primary_class=(full_category(primary) or primary) if primary else None,
        venue=_venue(fields),
        doi=clean_doi(fields["doi"]) if "doi" in fields else None,
        url=url if re.match(r"^https?://\S+$", url, re.IGNORECASE) else None,
        note=note or None,
        raw_fields=tuple(fields.items()),
    )


def read_bib_bytes(name: str, data: bytes) -> tuple[tuple[BibEntry, ...], tuple[Diagnostic, ...]]:
    text, decode_diags = _decode(data, name)
    entries, diags = parse_bib_text(name, text)
    return entries, (*decode_diags, *diags)


def read_bib_paths(
    paths: Sequence[Path],
) -> tuple[tuple[BibEntry, ...], tuple[Diagnostic, ...]]:
    """Read every ``.bib`` file named, a folder standing for its ``*.bib`` files (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.bib") if p.is_file()))
        else:
            files.append(path)
    entries: list[BibEntry] = []
    diags: list[Diagnostic] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            diags.append(error(str(path), 0, f"cannot read BibTeX file: {exc.strerror or exc}"))
            continue
        file_entries, file_diags = read_bib_bytes(str(path), data)
        entries.extend(file_entries)
        diags.extend(file_diags)
    return tuple(entries), tuple(diags)
