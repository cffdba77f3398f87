"""The data that flows between pipeline stages: frozen, declared, tuples not lists.

read seeds -> Record (+ Diagnostic)          generator.readers
read .bib  -> BibEntry (+ Diagnostic)        generator.bibtex
records + entries -> Paper                   generator.papers
papers -> Catalog (authors, topics, similar, listings, URLs)   generator.catalog
catalog -> OutputFile (in memory)            generator.render
output files -> site/ (atomic)               generator.write
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Layout = Literal["arxiv-blocks", "arxiv-run-on", "listing"]
LAYOUTS: tuple[Layout, ...] = ("arxiv-blocks", "arxiv-run-on", "listing")


@dataclass(frozen=True, slots=True)
class Record:
    """One record exactly as a seed file states it. A field the seed does not state is None
    (False for the booleans); nothing is guessed except a listing date's missing year, which
    is then flagged by ``date_inferred``."""

    file: str  # path as given to the reader (relative to the seeds folder where possible)
    line: int  # 1-based line where the record starts
    index: int  # 0-based position in its file
    layout: Layout
    arxiv_id: str | None = None  # without "arXiv:", version suffix kept
    date: str | None = None  # ISO YYYY-MM-DD
    date_text: str | None = None  # as written
    date_inferred: bool = False  # True when the year was not written and was inferred
    title: str | None = None
    authors: tuple[str, ...] = ()
    authors_truncated: bool = False
    affiliation: str | None = None
    category: str | None = None  # as written, e.g. "CL"
    score: float | None = None
    has_code: bool = False
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None  # first DOI of the reference
    dois: tuple[str, ...] = ()  # every DOI of the reference, in order
    abstract: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "index": self.index,
            "layout": self.layout,
            "arxiv_id": self.arxiv_id,
            "date": self.date,
            "date_text": self.date_text,
            "date_inferred": self.date_inferred,
            "title": self.title,
            "authors": list(self.authors),
            "authors_truncated": self.authors_truncated,
            "affiliation": self.affiliation,
            "category": self.category,
            "score": self.score,
            "has_code": self.has_code,
            "comments": self.comments,
            "journal_ref": self.journal_ref,
            "doi": self.doi,
            "dois": list(self.dois),
            "abstract": self.abstract,
        }


@dataclass(frozen=True, slots=True)
class SeedFile:
    """A seed listing as read: its records and the layout detected from its text."""

    path: str
    layout: Layout | None  # None when no layout matched (an error says so)
    records: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class BibEntry:
    """One BibTeX entry, LaTeX decoded for display; authors as "First Last"."""

    file: str
    line: int
    key: str
    entry_type: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    authors_truncated: bool = False  # the author list ends in "and others"
    year: int | None = None
    month: int | None = None
    arxiv_id: str | None = None  # from eprint, an arXiv URL, or an "arXiv:" note
    primary_class: str | None = None  # e.g. "cs.CL"
    venue: str | None = None  # journal, booktitle, or a venue named in note
    doi: str | None = None
    url: str | None = None
    note: str | None = None
    raw_fields: tuple[tuple[str, str], ...] = ()  # every field as read (lower-cased names)


DatePrecision = Literal["day", "month", "year"]
TitleSource = Literal["seed", "bibtex", "derived"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a paper's data was read: a seed record or a BibTeX entry."""

    kind: Literal["seed", "bibtex"]
    file: str
    line: int
    index: int = 0  # record position in its seed file (0 for BibTeX)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper after records and BibTeX entries are merged. ``id`` is stable and URL-safe."""

    id: str  # arXiv id without version, "/" replaced by "-"; else a slug of the title
    arxiv_id: str | None
    title: str
    title_source: TitleSource
    authors: tuple[str, ...]
    authors_truncated: bool
    date: str | None  # ISO, at the precision known (YYYY, YYYY-MM or YYYY-MM-DD)
    date_precision: DatePrecision | None
    year: int | None
    category: str | None  # full arXiv category, e.g. "cs.CL"
    abstract: str
    comments: str | None = None
    journal_ref: str | None = None
    venue: str | None = None
    doi: str | None = None
    url: str | None = None
    code_url: str | None = None
    has_code: bool = False
    affiliation: str | None = None
    score: float | None = None
    listings: tuple[str, ...] = ()  # listing ids (seed file stems) it appears in
    origins: tuple[Origin, ...] = ()
    field_sources: tuple[tuple[str, str], ...] = ()  # (field, "seed"|"bibtex"|"derived"|"arxiv-id")


@dataclass(frozen=True, slots=True)
class Group:
    """A research area within a listing or an author's papers."""

    label: str
    paper_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    id: str  # slug
    name: str
    kind: Literal["category", "phrase"]
    definition: str  # one sentence saying what defines it
    paper_ids: tuple[str, ...]  # newest first
    top_authors: tuple[tuple[str, int], ...] = ()  # (author id, count)
    related: tuple[str, ...] = ()  # topic ids


@dataclass(frozen=True, slots=True)
class Author:
    id: str  # slug of the normalised name
    name: str
    paper_ids: tuple[str, ...]  # newest first
    coauthors: tuple[tuple[str, int], ...] = ()  # (author id, papers together), most first
    topics: tuple[str, ...] = ()  # topic ids, most frequent first
    years: tuple[int, ...] = ()
    groups: tuple[Group, ...] = ()  # more than one when the name seems to be several people


@dataclass(frozen=True, slots=True)
class Listing:
    id: str  # seed file stem
    file: str
    name: str
    paper_ids: tuple[str, ...]  # in file order
    topics: tuple[str, ...] = ()
    groups: tuple[Group, ...] = ()
    mixed: bool = False  # True when the groups look like different people


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the renderer needs, complete and read-only before any page is rendered."""

    papers: tuple[Paper, ...]  # newest first, then by id
    authors: tuple[Author, ...]  # by sort name
    topics: tuple[Topic, ...]
    listings: tuple[Listing, ...]
    paper_topics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    similar: Mapping[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    paper_authors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # author ids


@dataclass(frozen=True, slots=True)
class OutputFile:
    path: str  # relative to the site root, "/"-separated
    data: bytes
