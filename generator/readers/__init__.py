"""Seed readers: one module per layout, chosen from the text by a table of detectors.

Each layout module offers ``detect(lines, floor=None) -> int`` (how many lines only that layout
writes; given a ``floor``, it may stop counting once the count exceeds it) and
``read(name, lines, today) -> (records, diagnostics)``. Adding a layout adds a module and a row
to ``READERS``. Lines reach the readers decoded (UTF-8, byte-order mark dropped), with CRLF and
CR turned into LF, and stripped of leading and trailing white space.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, error, warning
from generator.model import Layout, Record, SeedFile
from generator.native import use_compiled

# the layout modules compiled for exactly these sources, if built (see generator/native.py)
use_compiled(__name__, __path__)

__all__ = [
    "READERS",
    "detect_layout",
    "find_duplicates",
    "read_seed_bytes",
    "read_seed_paths",
    "read_seed_text",
    "reference_date",
    "split_arxiv_id",
]

Detector = Callable[[list[str], int | None], int]
Reader = Callable[[str, list[str], date], tuple[list[Record], list[Diagnostic]]]


@functools.cache
def readers() -> tuple[tuple[Layout, Detector, Reader], ...]:
    """(layout, detector, reader): the first layout with the highest detector count wins.

    Imported on first use: the layout modules build their character classes at import, which
    a build that finds nothing changed never needs."""
    from generator.readers import arxiv_blocks, arxiv_run_on, listing

    return (
        ("arxiv-blocks", arxiv_blocks.detect, arxiv_blocks.read),
        ("arxiv-run-on", arxiv_run_on.detect, arxiv_run_on.read),
        ("listing", listing.detect, listing.read),
    )


def __getattr__(name: str) -> Any:
    if name == "READERS":
        return readers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def split_arxiv_id(arxiv_id: str) -> tuple[str, str | None]:
    """Base id and version: "2106.02241v2" -> ("2106.02241", "v2"); no version -> None."""
    from generator.readers.common import split_arxiv_id as split

    return split(arxiv_id)


def reference_date(text: str | None) -> date:
    """The date listing dates without a year are read against.

    ``text`` (YYYY-MM-DD) if given, else ``SOURCE_DATE_EPOCH`` (seconds, UTC) if set, else today.
    """
    if text:
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(f"expected a date YYYY-MM-DD, found {text!r}") from None
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=UTC).date()
        except (ValueError, OverflowError, OSError):
            raise ValueError(
                f"expected SOURCE_DATE_EPOCH to be whole seconds since 1970, found {epoch!r}"
            ) from None
    return date.today()


def detect_layout(lines: list[str]) -> Layout | None:
    """The layout whose detector counts the most record lines (None if none)."""
    best: Layout | None = None
    best_score = 0
    for layout, detector, _ in readers():
        score = detector(lines, best_score)  # only whether it beats the best so far matters
        if score > best_score:
            best, best_score = layout, score
    return best


def read_seed_text(name: str, text: str, today: date) -> tuple[SeedFile, tuple[Diagnostic, ...]]:
    """Read one seed listing already decoded to text."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _read_lines(name, list(map(str.strip, text.split("\n"))), today)


def _read_lines(
    name: str, lines: list[str], today: date
) -> tuple[SeedFile, tuple[Diagnostic, ...]]:
    """Read one seed listing's lines (split at LF and stripped)."""
    layout = detect_layout(lines)
    if layout is None:
        if not any(lines):
            return SeedFile(name, None, ()), (warning(name, 1, "the file holds no records"),)
        tried = ", ".join(
            f"{row[0]} ({hint})"
            for row, hint in zip(
                readers(),
                (
                    "'arXiv:ID' then 'Created: YYYY-MM-DD'",
                    "'arXiv:ID' lines running into the next abstract",
                    "headers like 'CLOct 4, 2023'",
                ),
                strict=True,
            )
        )
        first = next(k for k, line in enumerate(lines, start=1) if line)
        return SeedFile(name, None, ()), (
            error(
                name,
                first,
                f"expected one of the seed layouts {tried}; found none of "
                "their record lines, so no record was read",
            ),
        )
    reader = next(row[2] for row in readers() if row[0] == layout)
    records, diags = reader(name, lines, today)
    return SeedFile(name, layout, tuple(records)), tuple(diags)


def read_seed_bytes(name: str, data: bytes, today: date) -> tuple[SeedFile, tuple[Diagnostic, ...]]:
    """Read one seed listing from its bytes (UTF-8; undecodable bytes are errors)."""
    from generator.readers.common import decode_lines, decode_seed

    lines = decode_lines(data)
    if lines is not None:
        return _read_lines(name, lines, today)
    text, decode_diags = decode_seed(name, data)
    seed, diags = read_seed_text(name, text, today)
    return seed, decode_diags + diags


def read_seed_paths(
    paths: Sequence[Path], today: date
) -> tuple[tuple[SeedFile, ...], tuple[Diagnostic, ...]]:
    """Read seed files; a folder stands for its ``*.txt`` files sorted by name."""
    files: list[SeedFile] = []
    diags: list[Diagnostic] = []
    for path in paths:
        targets = sorted(path.glob("*.txt")) if path.is_dir() else [path]
        for target in targets:
            name = str(target)
            try:
                data = target.read_bytes()
            except OSError as exc:
                diags.append(error(name, 0, f"cannot read the file: {exc.strerror or exc}"))
                continue
            seed, file_diags = read_seed_bytes(name, data, today)
            files.append(seed)
            diags.extend(file_diags)
    return tuple(files), tuple(diags)


_COMPARED = (
    "arxiv_id", "date", "title", "authors", "authors_truncated", "affiliation", "category",
    "score", "has_code", "comments", "journal_ref", "doi", "abstract",
)  # fmt: skip


def find_duplicates(records: Sequence[Record]) -> tuple[Diagnostic, ...]:
    """A warning for every record whose arXiv id (version ignored) was read before.

    The warning sits at the later record, names both locations and the fields that differ
    (fields only one of the two states are not counted as differing).
    """
    first: dict[str, Record] = {}
    diags: list[Diagnostic] = []
    for rec in records:
        if rec.arxiv_id is None:
            continue
        base = split_arxiv_id(rec.arxiv_id)[0]
        seen = first.get(base)
        if seen is None:
            first[base] = rec
            continue
        differ = []
        for field in _COMPARED:
            a, b = getattr(seen, field), getattr(rec, field)
            if a not in (None, ()) and b not in (None, ()) and a != b:
                differ.append(field)
        what = f"fields that differ: {', '.join(differ)}" if differ else "no field differs"
        diags.append(
            warning(
                rec.file,
                rec.line,
                f"arXiv {base} read twice: first at "
                f"{seen.file}:{seen.line}, again at {rec.file}:{rec.line}; the two are one "
                f"paper ({what})",
            )
        )
    return tuple(diags)
