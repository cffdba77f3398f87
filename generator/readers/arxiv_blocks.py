"""arXiv blocks: paragraphs separated by blank lines.

    <abstract paragraph>

    [<comments paragraph>]

    arXiv:ID[ - [doi: DOI ...] journal reference]
    Created: YYYY-MM-DD

The ``arXiv:`` and ``Created:`` lines are the record's anchors: they end a record wherever they
appear, so a lost blank line or a lost line does not swallow the records after it.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import repeat
from typing import Final

from generator.diagnostics import Diagnostic, error, warning
from generator.model import Layout, Record
from generator.readers.common import ARXIV_ID, clip, iso_date, new_record, parse_reference

LAYOUT: Layout = "arxiv-blocks"
ARXIV_LINE_RE: Final = re.compile(rf"arXiv:(?P<id>{ARXIV_ID})(?:\s+-(?:\s+(?P<ref>.*))?)?")
CREATED_RE: Final = re.compile(r"Created:\s*(?P<date>.*)")
# of three or more paragraphs before an id, the last is the comments if it is this short and
# at most half as long as the one before it (an abstract); earlier ones are lost records
_SHORT_COMMENTS: Final = 300

Paragraph = tuple[int, list[str]]  # (first line number, lines)


def detect(lines: list[str], floor: int | None = None) -> int:
    """How many lines only this layout writes: ``Created:`` lines (all counted, whatever
    ``floor``)."""
    return sum(map(str.startswith, lines, repeat("Created:")))


def created_date(line: str) -> str:
    """The date of a line that starts with "Created:": ``CREATED_RE``'s date, all after
    "Created:" and the white space after it (its ".*" takes all but a line feed, which only
    an unsplit line holds: with one, the rest stripped)."""
    date_text = line[8:].lstrip()
    return date_text if "\n" not in date_text else line[8:].strip()


def read(name: str, lines: list[str], today: date) -> tuple[list[Record], list[Diagnostic]]:
    records: list[Record] = []
    diags: list[Diagnostic] = []
    pending: list[Paragraph] = []
    current: list[str] = []
    current_start = 0

    def close() -> None:
        nonlocal current
        if current:
            pending.append((current_start, current))
            current = []

    def drop_pending(reason: str) -> None:
        for start, para in pending:
            diags.append(error(name, start, f'record not read ("{clip(para[0])}"): {reason}'))
        pending.clear()

    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        number = i + 1
        i += 1
        if not line:
            close()
            continue
        if line.startswith("arXiv:") and (m := ARXIV_LINE_RE.fullmatch(line)):
            close()
            created: str | None = None
            created_line = number
            if i < n and lines[i].startswith("Created:"):
                created = created_date(lines[i])
                created_line = i + 1
                i += 1
            else:
                found = (
                    f"'{clip(lines[i], 40)}'"
                    if i < n and lines[i]
                    else ("end of file" if i >= n else "a blank line")
                )
                diags.append(
                    warning(
                        name,
                        number + 1 if i < n else number,
                        f"expected 'Created: YYYY-MM-DD' after 'arXiv:{m.group('id')}', "
                        f"found {found}; the record has no date",
                    )
                )
            _finish(
                name,
                records,
                diags,
                pending,
                m.group("id"),
                m.group("ref"),
                created,
                created_line,
                number,
            )
            pending.clear()
            continue
        if line.startswith("Created:"):
            close()
            if pending:
                drop_pending(
                    f"expected an 'arXiv:ID' line before '{clip(line, 40)}' at line {number}, "
                    "found none"
                )
            else:
                diags.append(
                    error(
                        name,
                        number,
                        f"expected an abstract and an 'arXiv:ID' line before "
                        f"'{clip(line, 40)}', found none",
                    )
                )
            continue
        if not current:
            current_start = number
        current.append(line)
    close()
    if pending:
        drop_pending(
            "expected an 'arXiv:ID' line and a 'Created:' line after it, found end of file"
        )
    return records, diags


def _finish(
    name: str,
    records: list[Record],
    diags: list[Diagnostic],
    pending: list[Paragraph],
    arxiv_id: str,
    ref: str | None,
    created: str | None,
    created_line: int,
    id_line: int,
) -> None:
    if not pending:
        diags.append(
            error(
                name,
                id_line,
                f"record arXiv:{arxiv_id} not read: expected an abstract "
                f"paragraph before 'arXiv:{arxiv_id}', found none",
            )
        )
        return
    take = 1
    if len(pending) >= 2:
        last = "\n".join(pending[-1][1])
        before = "\n".join(pending[-2][1])
        comment_like = len(last) <= _SHORT_COMMENTS and len(before) >= 2 * len(last)
        take = 2 if len(pending) == 2 or comment_like else 1
    for start, para in pending[:-take]:
        diags.append(
            error(
                name,
                start,
                f"record not read (\"{clip(para[0])}\"): expected an 'arXiv:ID' "
                f"line after this paragraph, found another paragraph at line "
                f"{pending[len(pending) - take][0]}",
            )
        )
    own = pending[-take:]
    abstract = "\n".join(own[0][1])
    comments = "\n".join(own[1][1]) if take == 2 else None
    date_iso: str | None = None
    if created is not None:
        date_iso = iso_date(created)
        if date_iso is None:
            diags.append(
                warning(
                    name,
                    created_line,
                    f"expected a date YYYY-MM-DD after 'Created:', "
                    f"found '{clip(created, 40)}'; the record has no date",
                )
            )
    dois: tuple[str, ...] = ()
    journal_ref: str | None = None
    if ref:
        dois, journal_ref = parse_reference(ref)
    records.append(
        new_record(
            name, own[0][0], len(records), LAYOUT,  # file, line, index, layout
            arxiv_id, date_iso, created or None, False,  # arxiv_id, date, date_text, inferred
            None, (), False, None, None, None, False,  # title ... has_code: not stated
            comments, journal_ref, dois[0] if dois else None, dois,  # comments ... dois
            abstract,
        )
    )  # fmt: skip
