"""Diagnostics: every problem found in the input, with file and line.

Stages never print or raise on bad input; they return diagnostics, and the CLI prints them
sorted and decides the exit code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    file: str
    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        # Line 0 means the whole file or folder (e.g. an empty seed folder).
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        return f"{where}: {self.severity}: {self.message}"


def error(file: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(file, line, "error", message)


def warning(file: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(file, line, "warning", message)


def note(file: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(file, line, "note", message)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """File, then line, then severity: the order a reader fixes them in."""
    return tuple(sorted(set(diags), key=lambda d: (d.file, d.line, d.severity, d.message)))


def count(diags: Iterable[Diagnostic], severity: Severity) -> int:
    return sum(1 for d in diags if d.severity == severity)
