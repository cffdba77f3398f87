"""Records + BibTeX entries -> Papers.

1. Records that share an arXiv id (version ignored) are one paper; a later duplicate only adds
   its listing and fills fields the first left empty (the reader already reported it).
2. Each BibTeX entry is matched to a paper by arXiv id, else DOI, else normalised title. An
   entry that could match two papers is reported, never guessed; an entry that matches nothing
   is a paper of its own when it has a title, otherwise it is reported.
3. Each paper is merged field by field: the seed wins for what it states; BibTeX fills the rest,
   replaces a truncated author list whose first author agrees, and replaces a derived headline.
   Disagreements on title, first author and DOI are warnings naming both places and values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from generator.bibtex import decode_title
from generator.categories import full_category
from generator.diagnostics import Diagnostic, warning
from generator.model import BibEntry, DatePrecision, Origin, Paper, Record, TitleSource
from generator.urls import paper_id_from_arxiv, slugify

_VERSION_RE = re.compile(r"v\d+$")
_NEW_ID_RE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_ID_RE = re.compile(r"^[a-z-]+(?:\.[A-Za-z]{2})?/(\d{2})(\d{2})\d{3}$")
_CODE_URL_RE = re.compile(
    r"(?<![\w:/.@-])https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|huggingface\.co)/"
    r"[^\s<>\"'{}\\|^`]+",
    re.IGNORECASE,
)
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "huggingface.co")
_NON_WORD_RE = re.compile(r"[^0-9a-z]+")

# The fields whose source Paper.field_sources records, in this order.
_SOURCED_FIELDS = (
    "arxiv_id", "title", "authors", "date", "category", "abstract", "comments", "journal_ref",
    "venue", "doi", "url", "code_url", "has_code", "affiliation", "score",
)  # fmt: skip


def base_arxiv(arxiv_id: str) -> str:
    """Strip the version: "2106.02241v2" -> "2106.02241"."""
    return _VERSION_RE.sub("", arxiv_id.strip())


def fold_text(text: str) -> str:
    """Case, accents and punctuation folded: the form titles and names are compared in."""
    if text.isascii():
        return _NON_WORD_RE.sub(" ", text.lower()).strip()
    ascii_text = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in ascii_text if not unicodedata.combining(c)).lower()
    return _NON_WORD_RE.sub(" ", ascii_text).strip()


@lru_cache(maxsize=1 << 16)
def title_key(title: str) -> str:
    """A title folded for matching: LaTeX braces and accents decoded, then ``fold_text``."""
    return fold_text(decode_title(title))


def same_person(a: str, b: str) -> bool:
    """Whether two spellings name the same person: same surname, compatible given names
    (an initial matches a full name; "Jian-Ping" == "Jianping" == "J.-P.")."""
    ta, tb = fold_text(a).split(), fold_text(b).split()
    if not ta or not tb:
        return False
    if sorted(ta) == sorted(tb):
        return True
    if ta[-1] != tb[-1]:
        return False
    ga, gb = ta[:-1], tb[:-1]
    if not ga or not gb or "".join(ga) == "".join(gb):
        return True
    x, y = ga[0], gb[0]
    return x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))


def code_url_in(*texts: str | None) -> str | None:
    """The first code-repository URL (GitHub, GitLab, Bitbucket, Hugging Face) in the texts."""
    for text in texts:
        if not text:
            continue
        lowered = text.lower()
        if not any(host in lowered for host in _CODE_HOSTS):
            continue
        for m in _CODE_URL_RE.finditer(text):
            url = m.group(0).rstrip(".,;:!?'\"")
            while url.endswith((")", "]")) and url.count(url[-1]) > url.count(
                "(" if url[-1] == ")" else "["
            ):
                url = url[:-1].rstrip(".,;:!?")
            if re.match(r"^https?://[^/]+/[^/]", url):
                return url
    return None


@lru_cache(maxsize=1024)
def _stem(file: str) -> str:
    """The listing id of a seed file: its name without the extension."""
    return Path(file).stem


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", " ".join(name.split()))


def _loc(file: str, line: int) -> str:
    return f"{file}:{line}"


def _date_from_arxiv_id(base: str) -> str | None:
    """The year and month a new-style (YYMM.NNNNN) or old-style (archive/YYMMNNN) id encodes."""
    m = _NEW_ID_RE.match(base)
    if m:
        year = 2000 + int(m.group(1))
    else:
        m = _OLD_ID_RE.match(base)
        if not m:
            return None
        yy = int(m.group(1))
        year = 1900 + yy if yy >= 91 else 2000 + yy
    month = int(m.group(2))
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


@dataclass
class _Group:
    records: list[Record]
    arxiv: str | None  # base id
    entry: BibEntry | None = None
    matched_by: str = ""
    diags: list[Diagnostic] = field(default_factory=list)


def _first(records: Sequence[Record], attr: str) -> object:
    for r in records:
        value = getattr(r, attr)
        if value not in (None, "", ()):
            return value
    return None


def _group_records(records: Sequence[Record]) -> list[_Group]:
    groups: list[_Group] = []
    by_id: dict[str, _Group] = {}
    for r in records:
        base = base_arxiv(r.arxiv_id) if r.arxiv_id else None
        if base and base in by_id:
            by_id[base].records.append(r)
            continue
        g = _Group([r], base)
        groups.append(g)
        if base:
            by_id[base] = g
    return groups


class _Index:
    """Groups by arXiv id, DOI and title key, for matching entries."""

    def __init__(self, title_key: Callable[[str], str] = title_key) -> None:
        self.title_key = title_key
        self.by_id: dict[str, _Group] = {}
        self.by_doi: dict[str, list[_Group]] = {}
        self.by_title: dict[str, list[_Group]] = {}

    def add(self, g: _Group) -> None:
        if g.arxiv:
            self.by_id.setdefault(g.arxiv, g)
        dois = {d.lower() for r in g.records for d in (*r.dois, r.doi or "") if d}
        titles = {self.title_key(r.title) for r in g.records if r.title}
        if g.entry is not None:
            if g.entry.doi:
                dois.add(g.entry.doi.lower())
            if g.entry.title:
                titles.add(self.title_key(g.entry.title))
        for d in dois:
            self.by_doi.setdefault(d, []).append(g)
        for t in titles - {""}:
            self.by_title.setdefault(t, []).append(g)


def _describe(g: _Group) -> str:
    if g.records:
        r = g.records[0]
        label = f"arXiv:{g.arxiv}" if g.arxiv else repr(r.title or "untitled")
        return f"{label} ({_loc(r.file, r.line)})"
    assert g.entry is not None
    return f"BibTeX {g.entry.key} ({_loc(g.entry.file, g.entry.line)})"


def _match_entries(
    groups: list[_Group],
    entries: Sequence[BibEntry],
    diags: list[Diagnostic],
    title_key: Callable[[str], str] = title_key,
) -> None:
    index = _Index(title_key)
    for g in groups:
        index.add(g)
    for e in entries:

        def compatible(g: _Group, e: BibEntry = e) -> bool:
            return g.arxiv is None or e.arxiv_id is None or g.arxiv == e.arxiv_id

        candidates: list[_Group] = []
        how = ""
        if e.arxiv_id and e.arxiv_id in index.by_id:
            candidates, how = [index.by_id[e.arxiv_id]], "arXiv id"
        if not candidates and e.doi:
            candidates = [g for g in index.by_doi.get(e.doi.lower(), []) if compatible(g)]
            how = "DOI"
        key = title_key(e.title) if e.title else ""
        if not candidates and key:
            candidates = [g for g in index.by_title.get(key, []) if compatible(g)]
            how = "title"
        candidates = list({id(g): g for g in candidates}.values())
        if len(candidates) > 1:
            places = ", ".join(_describe(g) for g in candidates)
            diags.append(
                warning(
                    e.file,
                    e.line,
                    f"BibTeX entry {e.key} matches {len(candidates)} papers by {how}: {places}; "
                    "not merged into any (give the entry an eprint or doi to choose)",
                )
            )
            continue
        if candidates:
            g = candidates[0]
            if g.entry is not None:
                diags.append(
                    warning(
                        e.file,
                        e.line,
                        f"BibTeX entry {e.key} matches {_describe(g)} by {how}, which entry "
                        f"{g.entry.key} ({_loc(g.entry.file, g.entry.line)}) already matched; "
                        "ignored",
                    )
                )
                continue
            g.entry, g.matched_by = e, how
            index.add(g)
            continue
        if not e.title:
            diags.append(
                warning(
                    e.file,
                    e.line,
                    f"BibTeX entry {e.key} has no title and matches no paper in the seeds "
                    "(by arXiv id, DOI or title); ignored",
                )
            )
            continue
        for other in index.by_title.get(key, []):
            diags.append(
                warning(
                    e.file,
                    e.line,
                    f"BibTeX entry {e.key} (arXiv:{e.arxiv_id}) has the title of {_describe(other)}"
                    " but a different arXiv id; kept as a separate paper",
                )
            )
        g = _Group([], e.arxiv_id, e, "")
        groups.append(g)
        index.add(g)


def _merge(g: _Group) -> tuple[Paper, list[Diagnostic]]:
    """One paper from a group of records and its BibTeX entry (``id`` filled in later for
    a paper without an arXiv id)."""
    recs, e = g.records, g.entry
    diags: list[Diagnostic] = []
    sources: dict[str, str] = {}
    primary = recs[0] if recs else None

    def conflict(what: str, seed_value: str, bib_value: str) -> None:
        assert primary is not None and e is not None
        diags.append(
            warning(
                primary.file,
                primary.line,
                f"{what} differs between the seed and BibTeX entry {e.key}: "
                f"{seed_value!r} ({_loc(primary.file, primary.line)}) vs {bib_value!r} "
                f"({_loc(e.file, e.line)}); the seed's is used",
            )
        )

    # arXiv id
    arxiv_id: str | None = None
    first_id = _first(recs, "arxiv_id")
    if isinstance(first_id, str):
        arxiv_id, sources["arxiv_id"] = first_id, "seed"
    elif e is not None and e.arxiv_id:
        arxiv_id, sources["arxiv_id"] = e.arxiv_id, "bibtex"
    base = base_arxiv(arxiv_id) if arxiv_id else None

    abstract = str(_first(recs, "abstract") or "")
    if abstract:
        sources["abstract"] = "seed"
    comments = _first(recs, "comments")
    journal_ref = _first(recs, "journal_ref")
    affiliation = _first(recs, "affiliation")
    score = next((r.score for r in recs if r.score is not None), None)

    # title
    seed_title = _first(recs, "title")
    title_source: TitleSource
    if isinstance(seed_title, str):
        title, title_source = " ".join(seed_title.split()), "seed"
        if e is not None and e.title and title_key(e.title) != title_key(title):
            conflict("title", title, e.title)
    elif e is not None and e.title:
        title, title_source = e.title, "bibtex"
    else:
        from generator.headline import derive_headline  # LaTeX support: imported when needed

        headline = derive_headline(abstract) if abstract else ""
        title = headline or (f"arXiv:{base}" if base else "Untitled paper")
        title_source = "derived"
    sources["title"] = title_source

    # authors
    seed_authors: tuple[str, ...] = ()
    seed_truncated = False
    for r in recs:
        if r.authors:
            seed_authors, seed_truncated = tuple(_nfc(a) for a in r.authors), r.authors_truncated
            break
    authors, truncated = seed_authors, seed_truncated
    if seed_authors:
        sources["authors"] = "seed"
    if e is not None and e.authors:
        bib_authors = tuple(_nfc(a) for a in e.authors)
        if not seed_authors:
            authors, truncated, sources["authors"] = bib_authors, e.authors_truncated, "bibtex"
        elif not same_person(seed_authors[0], bib_authors[0]):
            conflict("first author", seed_authors[0], bib_authors[0])
        elif seed_truncated and (not e.authors_truncated or len(bib_authors) > len(seed_authors)):
            authors, truncated, sources["authors"] = bib_authors, e.authors_truncated, "bibtex"
    elif e is not None and e.authors_truncated and not authors:
        truncated = True

    # date
    date: str | None = None
    precision: DatePrecision | None = None
    seed_date = _first(recs, "date")
    id_date = _date_from_arxiv_id(base) if base else None
    if isinstance(seed_date, str):
        date, precision, sources["date"] = seed_date, "day", "seed"
    elif id_date:
        date, precision, sources["date"] = id_date, "month", "arxiv-id"
    elif e is not None and e.year is not None:
        if e.month is not None:
            date, precision = f"{e.year:04d}-{e.month:02d}", "month"
        else:
            date, precision = f"{e.year:04d}", "year"
        sources["date"] = "bibtex"
    year = int(date[:4]) if date else None

    # category
    category: str | None = None
    seed_category = _first(recs, "category")
    if isinstance(seed_category, str):
        category = full_category(seed_category)
        if category is None and primary is not None:
            diags.append(
                warning(
                    primary.file,
                    primary.line,
                    f"category {seed_category!r} is not an arXiv category (expected e.g. "
                    "'CL' or 'cs.CL'); ignored",
                )
            )
        else:
            sources["category"] = "seed"
    if category is None and e is not None and e.primary_class:
        category, sources["category"] = e.primary_class, "bibtex"

    # DOI
    doi: str | None = None
    seed_dois = [d for r in recs for d in (r.doi, *r.dois) if d]
    if seed_dois:
        doi, sources["doi"] = seed_dois[0], "seed"
        if e is not None and e.doi and e.doi.lower() not in {d.lower() for d in seed_dois}:
            conflict("DOI", seed_dois[0], e.doi)
    elif e is not None and e.doi:
        doi, sources["doi"] = e.doi, "bibtex"

    venue = e.venue if e is not None else None
    url = e.url if e is not None else None
    code_url = code_url_in(abstract, comments if isinstance(comments, str) else None)
    has_code = any(r.has_code for r in recs) or code_url is not None
    for name, value in (
        ("comments", comments), ("journal_ref", journal_ref), ("affiliation", affiliation),
        ("score", score), ("code_url", code_url),
    ):  # fmt: skip
        if value is not None:
            sources[name] = "seed"
    if venue:
        sources["venue"] = "bibtex"
    if url:
        sources["url"] = "bibtex"
    if has_code:
        sources["has_code"] = "seed"

    origins = tuple(Origin("seed", r.file, r.line, r.index) for r in recs)
    if e is not None:
        origins += (Origin("bibtex", e.file, e.line),)
    paper = Paper(
        id=paper_id_from_arxiv(base) if base else "",  # others' ids are chosen together
        arxiv_id=arxiv_id,
        title=title,
        title_source=title_source,
        authors=authors,
        authors_truncated=truncated,
        date=date,
        date_precision=precision,
        year=year,
        category=category,
        abstract=abstract,
        comments=comments if isinstance(comments, str) else None,
        journal_ref=journal_ref if isinstance(journal_ref, str) else None,
        venue=venue,
        doi=doi,
        url=url,
        code_url=code_url,
        has_code=has_code,
        affiliation=affiliation if isinstance(affiliation, str) else None,
        score=score,
        listings=tuple(dict.fromkeys(_stem(r.file) for r in recs)),
        origins=origins,
        field_sources=tuple((f, sources[f]) for f in _SOURCED_FIELDS if f in sources),
    )
    return paper, diags


def _loose_id(title: str) -> str:
    """The id of a paper without an arXiv id, before collisions: "x-" + its title's slug."""
    return "x-" + slugify(title)[:60].rstrip("-")


def _assign_ids(papers: list[Paper], loose_id: Callable[[str], str] = _loose_id) -> list[Paper]:
    """arXiv papers: the base id ("/" -> "-"); others "x-" + title slug, -2, -3 on collision.
    Returned in the order given."""
    out: list[Paper | None] = [None] * len(papers)
    loose: list[tuple[str, int, Paper]] = []
    for i, p in enumerate(papers):
        if p.arxiv_id:  # its id follows from the arXiv id alone (set by _merge)
            out[i] = p if p.id else _with_id(p, paper_id_from_arxiv(base_arxiv(p.arxiv_id)))
        else:
            loose.append((loose_id(p.title), i, p))
    taken = {p.id for p in out if p is not None}
    loose.sort(key=lambda item: (item[0], item[2].title, item[2].date or "", _origin_key(item[2])))
    for base, i, p in loose:
        pid, n = base, 1
        while pid in taken:
            n += 1
            pid = f"{base}-{n}"
        taken.add(pid)
        out[i] = _with_id(p, pid)
    return [p for p in out if p is not None]


def _origin_key(p: Paper) -> tuple[str, int]:
    return (p.origins[0].file, p.origins[0].line) if p.origins else ("", 0)


def _with_id(p: Paper, pid: str) -> Paper:
    """``p`` with the id ``pid``: ``replace(p, id=pid)`` made from its row of fields (half
    the cost; the first field is the id)."""
    return p if p.id == pid else Paper(pid, *_paper_row(p)[1:])


# A memo entry: the paper's fields in declaration order, its origins' and its diagnostics'
# likewise (rebuilding frozen dataclasses from tuples is several times faster than unpickling
# them).
_PAPER_FIELDS = tuple(f.name for f in fields(Paper))
_ORIGINS = _PAPER_FIELDS.index("origins")
_paper_row = attrgetter(*_PAPER_FIELDS)
_origin_row = attrgetter(*(f.name for f in fields(Origin)))
_diag_row = attrgetter(*(f.name for f in fields(Diagnostic)))


def _to_memo(paper: Paper, diags: tuple[Diagnostic, ...]) -> tuple[Any, ...]:
    row = list(_paper_row(paper))
    row[_ORIGINS] = tuple(_origin_row(o) for o in paper.origins)
    return (tuple(row), tuple(_diag_row(d) for d in diags))


def _from_memo(entry: tuple[Any, ...]) -> tuple[Paper, tuple[Diagnostic, ...]]:
    row = list(entry[0])
    row[_ORIGINS] = tuple(Origin(*o) for o in row[_ORIGINS])
    return Paper(*row), tuple(Diagnostic(*d) for d in entry[1])


InputKey = Callable[[Sequence[Record], "BibEntry | None"], Hashable]


def _kept(
    memo: MutableMapping[Any, Any] | None, kind: str, fn: Callable[[str], str]
) -> Callable[[str], str]:
    """``fn``, each title's result kept in ``memo`` as (kind, title) between builds: every
    build folds every record's and entry's title to match entries (decoding their LaTeX is
    the costly part of a rebuild's merge) and slugs every title without an arXiv id."""
    if memo is None:
        return fn

    def kept(title: str) -> str:
        name = (kind, title)
        found = memo.get(name)
        if found is None:
            found = memo[name] = fn(title)
        return str(found)

    return kept


MIN_FORKED_MERGES = 20000  # fewer merges (~0.1 ms each) are not worth a second process


def fold_titles(
    records: Sequence[Record], memo: MutableMapping[Any, Any] | None = None
) -> dict[str, str]:
    """Each record title's matching key (``title_key``, kept in ``memo`` as
    ``build_papers`` keeps it), for ``build_papers(title_keys=)``: folded ahead, while this
    process waits for something else (the BibTeX files read by a forked process)."""
    fold = _kept(memo, "title", title_key)
    keys: dict[str, str] = {}
    for r in records:
        title = r.title
        if title and title not in keys:
            keys[title] = fold(title)
    return keys


def build_papers(
    records: Sequence[Record],
    entries: Sequence[BibEntry],
    memo: MutableMapping[Any, Any] | None = None,
    input_key: InputKey | None = None,
    *,
    jobs: int = 1,
    title_keys: Mapping[str, str] | None = None,
) -> tuple[tuple[Paper, ...], tuple[Diagnostic, ...]]:
    """Merge seed records and BibTeX entries into papers, newest first (undated last), then
    by id.

    ``memo`` (kept by the caller between builds) holds each paper with its id and diagnostics,
    keyed by its inputs: ``input_key(records, entry)``, by default the records and BibTeX entry
    themselves (a caller that knows which inputs are unchanged passes a cheaper key), and each
    title's matching key and slug (``_kept``). A paper whose inputs are unchanged is not
    merged again; the result is the same without a memo.

    With ``jobs`` > 1 and enough papers to merge, a forked process merges part of them (each
    paper's merge reads only its own records and entry); ``title_keys`` holds titles folded
    ahead (``fold_titles``). Neither changes the result."""
    diags: list[Diagnostic] = []
    groups = _group_records(records)
    fold = _kept(memo, "title", title_key)
    if title_keys:
        fold = _known_first(title_keys, fold)
    _match_entries(groups, entries, diags, fold)
    keys: list[Hashable] = [None] * len(groups)
    merged: list[tuple[Paper, tuple[Diagnostic, ...]] | None] = [None] * len(groups)
    todo: list[int] = []
    for i, g in enumerate(groups):
        if memo is None:
            todo.append(i)
            continue
        key = keys[i] = input_key(g.records, g.entry) if input_key else (tuple(g.records), g.entry)
        hit = memo.get(key)
        if hit is None:
            todo.append(i)
        else:
            merged[i] = _from_memo(hit)
    _merge_groups(groups, todo, merged, jobs)
    papers: list[Paper] = []
    for item in merged:
        assert item is not None
        papers.append(item[0])
        diags.extend(item[1])
    with_ids = _assign_ids(papers, _kept(memo, "slug", _loose_id))
    if memo is not None:
        for key, before, paper, item in zip(keys, papers, with_ids, merged, strict=True):
            if before is not paper or key not in memo:
                memo[key] = _to_memo(paper, item[1] if item else ())
    with_ids.sort(key=lambda p: p.id)
    with_ids.sort(key=lambda p: p.date or "", reverse=True)
    return tuple(with_ids), tuple(diags)


def _known_first(known: Mapping[str, str], fold: Callable[[str], str]) -> Callable[[str], str]:
    def folded(title: str) -> str:
        found = known.get(title)
        return found if found is not None else fold(title)

    return folded


def _merge_groups(
    groups: Sequence[_Group],
    todo: Sequence[int],
    merged: list[tuple[Paper, tuple[Diagnostic, ...]] | None],
    jobs: int,
) -> None:
    """``merged[i]`` = group i's paper and diagnostics for each i in ``todo``; the second
    half or so in a forked process when there are many (its papers come back as rows)."""
    from generator.forked import fork_call

    fork = jobs > 1 and len(todo) >= MIN_FORKED_MERGES
    # 11 of every 20 to the child, spread over the whole list (the costly merges, those that
    # derive a headline, come in runs); this process also rebuilds the child's papers
    theirs = [i for k, i in enumerate(todo) if k % 20 >= 9] if fork else []
    with fork_call(_merged_rows, groups, theirs, fork=fork) as child:
        for k, i in enumerate(todo):
            if fork and k % 20 >= 9:
                continue
            paper, found = _merge(groups[i])
            merged[i] = paper, tuple(found)
        if theirs:
            for i, (row, diags) in zip(theirs, child.result(), strict=True):
                records = groups[i].records
                for at, name in _SHARED:
                    if isinstance(row[at], tuple):
                        row[at] = getattr(records[row[at][0]], name)
                merged[i] = _from_memo((row, diags))


# The paper fields a merge takes as they are from one of its records (the same string): a
# forked merge sends back which record's, not the text (the abstracts are most of a paper),
# and the papers share the strings with the records as a serial merge's do.
_SHARED = tuple(
    (_PAPER_FIELDS.index(name), name)
    for name in ("arxiv_id", "date", "abstract", "comments", "journal_ref", "affiliation")
)


def _merged_rows(groups: Sequence[_Group], todo: Sequence[int]) -> list[tuple[Any, ...]]:
    """The papers of ``groups[i]`` for each i in ``todo`` as memo rows (``_to_memo``), each
    ``_SHARED`` field that is a record's string as (that record's position,)."""
    rows = []
    for i in todo:
        records = groups[i].records
        paper, found = _merge(groups[i])
        row, diags = _to_memo(paper, tuple(found))
        fields = list(row)
        for at, name in _SHARED:
            value = fields[at]
            if value is not None:
                fields[at] = next(
                    ((k,) for k, r in enumerate(records) if getattr(r, name) is value), value
                )
        rows.append((fields, diags))
    return rows
