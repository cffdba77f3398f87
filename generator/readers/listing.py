"""Listing: three lines per record.

    [score]CATEGORY Mon D[, YYYY][Code]          86.1LGJun 3   CLOct 4, 2023Code
    TitleFirst Author, Second Author[ et al.][ · affiliation]
    abstract

A date without a year ("Jun 3") is a date of the current year: it gets the most recent year in
which that month and day fall on or before the reference date (``--today``,
``SOURCE_DATE_EPOCH`` or today), so with today 2026-11-22 "Jun 3" is 2026-06-03 and "Dec 7" is
2025-12-07; the record says ``date_inferred``. A score such as ``86.1`` is read as a float.

The header line is the anchor: a record starts at every header, so a lost or doubled line
costs at most the record it belongs to.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final, final

from generator.diagnostics import Diagnostic, error, warning
from generator.model import Layout, Record
from generator.readers.common import MONTHS, clip, month_day_date, new_record
from generator.readers.names import split_title_line

LAYOUT: Layout = "listing"
HEADER_RE: Final = re.compile(
    r"(?P<score>\d{1,3}(?:\.\d+)?)?"
    r"(?P<category>[A-Za-z][A-Za-z.-]*?)"
    r"(?P<date>(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec) (?P<day>\d{1,2})"
    r"(?:, (?P<year>\d{4}))?)"
    r"(?P<code>Code)?"
)


@final
class Header:
    """A header line's fields, read once per distinct line (listings repeat their headers)."""

    __slots__ = ("line", "score", "category", "date_text", "month", "day", "year", "code")

    def __init__(self, line: str, m: re.Match[str]) -> None:
        score, category, date_text, month, day, year, code = m.groups()
        self.line: str = line
        self.score: float | None = float(score) if score else None
        self.category: str = category
        self.date_text: str = date_text
        self.month: int = MONTHS[month]
        self.day: int = int(day)
        self.year: int | None = int(year) if year else None
        self.code: bool = code is not None


_HEADERS: Final[dict[str, Header]] = {}
_HEADERS_LIMIT: Final = 1 << 14


def read_header(line: str) -> Header | None:
    """``line``'s fields if it is a header (``HEADER_RE.fullmatch``), else None."""
    header = _HEADERS.get(line)
    if header is None:
        m = HEADER_RE.fullmatch(line)
        if m is None:
            return None
        if len(_HEADERS) >= _HEADERS_LIMIT:
            _HEADERS.clear()
        header = _HEADERS[line] = Header(line, m)
    return header


def detect(lines: list[str], floor: int | None = None) -> int:
    """Header lines ("CLOct 4, 2023Code"); a header is never long. With ``floor``, the count
    stops as soon as it exceeds ``floor`` (all that choosing a layout needs to know)."""
    count = 0
    for line in lines:
        # a header is short, starts with a letter or digit, ends in a digit or "Code" and
        # holds no colon (unlike the lines that start "arXiv:" and "Created:")
        if (
            0 < len(line) < 48
            and line[0].isalnum()
            and (line[-1].isdigit() or line.endswith("Code"))
            and ":" not in line
            and HEADER_RE.fullmatch(line) is not None
        ):
            count += 1
            if floor is not None and count > floor:
                break
    return count


def read(name: str, lines: list[str], today: date) -> tuple[list[Record], list[Diagnostic]]:
    records: list[Record] = []
    diags: list[Diagnostic] = []
    dates: dict[str, tuple[str | None, bool]] = {}  # date as written -> (ISO date, inferred)
    header: Header | None = None
    start = 0
    body: list[tuple[int, str]] = []
    number = 0
    for line in lines:
        number += 1
        if not line:
            continue
        # a header starts with a letter or digit and ends in a digit or "Code": a quick test
        # that spares titles and abstracts the header pattern
        header_like = line[0].isalnum() and (line[-1].isdigit() or line.endswith("Code"))
        m = read_header(line) if header_like else None
        if m is not None:
            if header is not None:
                record = _record(name, header, start, body, len(records), today, diags, dates)
                if record is not None:
                    records.append(record)
            header, start, body = m, number, []
        elif header is None:
            diags.append(
                error(
                    name,
                    number,
                    f"expected a record header like 'CLOct 4, 2023', "
                    f"found '{clip(line, 40)}'; this line is not part of any record",
                )
            )
        else:
            body.append((number, line))
    if header is not None:
        record = _record(name, header, start, body, len(records), today, diags, dates)
        if record is not None:
            records.append(record)
    return records, diags


def _record(
    name: str,
    m: Header,
    start: int,
    body: list[tuple[int, str]],
    index: int,
    today: date,
    diags: list[Diagnostic],
    dates: dict[str, tuple[str | None, bool]],
) -> Record | None:
    head = m.line
    if len(body) < 2:
        found = "end of file" if not body else f"'{clip(body[0][1], 40)}' and then no abstract"
        diags.append(
            error(
                name,
                start,
                f"record not read ('{head}'): expected a title-and-authors "
                f"line and an abstract line after it, found {found}",
            )
        )
        return None
    (title_no, title_line), (_, abstract) = body[0], body[1]
    for extra_no, extra in body[2:]:
        diags.append(
            error(
                name,
                extra_no,
                f"expected a record header like 'CLOct 4, 2023' after the "
                f"abstract, found '{clip(extra, 40)}'; this line is not part of any record",
            )
        )
    split = split_title_line(title_line)
    if split is None:
        diags.append(
            error(
                name,
                title_no,
                f"record not read ('{head}'): expected a title followed by "
                f"authors ('...ModelsJing Xiong, Ye Yuan et al.'), found "
                f"'{clip(title_line, 50)}' with no author list at its end",
            )
        )
        return None
    title, authors, truncated, affiliation = split
    date_text = m.date_text
    seen = dates.get(date_text)
    if seen is None:
        seen = dates[date_text] = month_day_date(m.month, m.day, m.year, today)
    iso, inferred = seen
    if iso is None:
        diags.append(
            warning(
                name,
                start,
                f"expected a calendar date, found '{date_text}'; the record has no date",
            )
        )
    return new_record(
        name, start, index, LAYOUT,  # file, line, index, layout
        None, iso, date_text, inferred,  # arxiv_id, date, date_text, date_inferred
        title, authors, truncated, affiliation,  # title, authors, authors_truncated, affiliation
        m.category, m.score, m.code,  # category, score, has_code
        None, None, None, (), abstract,  # comments, journal_ref, doi, dois, abstract
    )  # fmt: skip
