"""View data: what templates see. Built once from the Catalog, read-only while pages render.

Templates never see a Paper, Author or Topic: only the small frozen view records here, plain
strings (autoescaped by Jinja) and Markup produced by ``generator.latex`` from seed text.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup

from generator import urls
from generator.bibexport import citation_key, entry_body, paper_bibtex
from generator.categories import CATEGORY_NAMES
from generator.latex import abstract_html, inline_html, plain_text
from generator.model import Author, Catalog, Listing, Paper, Topic

PAGE_SIZE = 200  # papers per page on author, topic, listing and year pages
CARD_AUTHORS = 4  # author names shown in a paper list before "et al."
HOME_NEWEST = 10
HOME_TOPICS = 24
AUTHOR_INDEX_SPLIT = 3000  # above this many authors the A-Z index gets a page per letter
SAME_NAME_NOTE = "These papers may come from different researchers who share this name."

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    path: str  # site path, made relative by the template's rel()


@dataclass(frozen=True, slots=True)
class Counted:
    link: Link
    count: int


@dataclass(frozen=True, slots=True)
class Card:
    """A paper as it appears in a list."""

    id: str
    path: str
    title_html: Markup
    title_text: str
    derived: bool
    authors_text: str
    date_display: str
    date_iso: str | None
    year: int | None
    category: str | None


@dataclass(frozen=True, slots=True)
class Section:
    heading: str | None
    anchor: str | None
    cards: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class Pager:
    page: int
    pages: tuple[str, ...]  # site path of every page, in order

    @property
    def prev(self) -> str | None:
        return self.pages[self.page - 2] if self.page > 1 else None

    @property
    def next(self) -> str | None:
        return self.pages[self.page] if self.page < len(self.pages) else None


@dataclass(frozen=True, slots=True)
class AuthorRef:
    name: str
    path: str | None


@dataclass(frozen=True, slots=True)
class ListingNav:
    link: Link
    position: int  # 1-based
    total: int
    prev: Card | None
    next: Card | None


@dataclass(frozen=True, slots=True)
class GroupView:
    label: str
    cards: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class PaperView:
    card: Card
    arxiv_id: str | None
    authors: tuple[AuthorRef, ...]
    truncated: bool
    abstract_html: Markup
    abstract_text: str
    comments_html: Markup | None
    journal_ref_html: Markup | None
    venue: str | None
    affiliation: str | None
    doi: str | None
    doi_url: str | None
    abs_url: str | None
    pdf_url: str | None
    code_url: str | None
    has_code: bool
    category_name: str | None
    bibtex: str
    topics: tuple[Link, ...]
    listings: tuple[ListingNav, ...]
    similar: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of an author, topic, listing or year page."""

    path: str
    sections: tuple[Section, ...]
    pager: Pager
    total: int


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_ISO_DATE = re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")


@functools.lru_cache(maxsize=1 << 16)
def clean(text: str) -> str:
    """Collapse whitespace and drop characters HTML and XML forbid (memoised: the same
    names and titles are cleaned for every page that lists them). ``str.split`` splits on
    the same whitespace as ``\\s``. Printable text has no character to drop (each is a
    control or a non-character: never ``isprintable``) and no whitespace but the space, so
    without a doubled, leading or trailing space it is clean already: most text (titles,
    abstracts, summaries) needs neither the expression nor a split into words."""
    if text.isprintable():
        if "  " not in text and text[:1] != " " and text[-1:] != " ":
            return text
    else:
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def drop_forbidden(text: str) -> str:
    """``text`` without the characters HTML and XML forbid (``_CONTROL``), its lines kept.
    None of them is printable, so text whose lines are all printable (nearly all) is
    returned as it is, found so by ``str.isprintable`` (a fast scan; the regular
    expression takes several microseconds a kilobyte to find nothing)."""
    if text.replace("\n", " ").isprintable():
        return text
    return _CONTROL.sub("", text)


def shorten(text: str, limit: int = 160) -> str:
    """Cut at a word boundary, with an ellipsis when cut."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def http_url(url: str | None) -> str | None:
    """A URL from the input, only when it is plain http(s) with no spaces or quotes."""
    if not url:
        return None
    url = url.strip()
    if not re.match(r"(?i)https?://[^\s\"'<>\\`]+\Z", url):
        return None
    return url


def format_date(date: str | None, precision: str | None) -> str:
    """'2021-06-04' at day precision -> '4 June 2021'; month -> 'June 2021'; year -> '2021'."""
    if not date:
        return "Date unknown"
    parts = date.split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 and precision in ("day", "month") else None
        day = int(parts[2]) if len(parts) > 2 and precision == "day" else None
    except ValueError:
        return clean(date)
    if month is None or not 1 <= month <= 12:
        return str(year)
    if day is None:
        return f"{MONTHS[month - 1]} {year}"
    return f"{day} {MONTHS[month - 1]} {year}"


def authors_text(names: Sequence[str], truncated: bool, limit: int = CARD_AUTHORS) -> str:
    shown = [clean(n) for n in names[:limit]]
    if not shown:
        return "Authors unknown"
    more = truncated or len(names) > limit
    return ", ".join(shown) + (" et al." if more else "")


def category_name(code: str | None) -> str | None:
    if not code:
        return None
    name = CATEGORY_NAMES.get(code)
    return f"{name} ({code})" if name else code


@functools.lru_cache(maxsize=1 << 12)
def heading_anchor(heading: str) -> str:
    """A section heading's ``id`` (memoised: the same years and months head the sections of
    thousands of list pages)."""
    return urls.slugify(heading)


def paginate(path: str, items: Sequence[tuple[str | None, Card]]) -> tuple[ListPage, ...]:
    """Split (section heading, card) pairs into pages of PAGE_SIZE, regrouping each page."""
    chunks = [items[i : i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
    paths = tuple(urls.page_path(path, n + 1) for n in range(len(chunks)))
    pages = []
    for n, chunk in enumerate(chunks):
        sections: list[Section] = []
        for heading, run in itertools.groupby(chunk, key=operator.itemgetter(0)):
            anchor = heading_anchor(heading) if heading else None
            sections.append(Section(heading, anchor, tuple([card for _, card in run])))
        pages.append(ListPage(paths[n], tuple(sections), Pager(n + 1, paths), len(items)))
    return tuple(pages)


class SiteIndex:
    """Look-ups built once per build; every page view is computed from these in O(its size)."""

    def __init__(self, catalog: Catalog, site_title: str, base_url: str | None) -> None:
        self.catalog = catalog
        self.site_title = clean(site_title) or "Papers"
        self.base_url = base_url
        self.papers: dict[str, Paper] = {p.id: p for p in catalog.papers}
        self.authors: dict[str, Author] = {a.id: a for a in catalog.authors}
        self.topics: dict[str, Topic] = {t.id: t for t in catalog.topics}
        self.listings: dict[str, Listing] = {li.id: li for li in catalog.listings}
        self.topic_names = {t.id: clean(t.name) for t in catalog.topics}
        self.author_display = {a.id: clean(a.name) for a in catalog.authors}
        self.positions: dict[str, dict[str, int]] = {
            li.id: {pid: i for i, pid in enumerate(li.paper_ids)} for li in catalog.listings
        }
        self._cards: dict[str, Card] = {}
        self._summaries: dict[str, str] = {}
        self._plain: dict[str, str] = {}
        self._bib_bodies: dict[str, str] = {}
        self._bib_keys: dict[str, str] = {}
        self._years: dict[int, tuple[str, ...]] | None = None
        self._date_rank: dict[str, int] | None = None
        self._author_links: dict[str, Link] = {}
        self._topic_links: dict[str, Link] = {}
        self._author_refs: dict[str, tuple[AuthorRef, ...]] = {}
        self._counted: dict[tuple[str, int], Counted] = {}
        self._linked_refs: dict[str, AuthorRef] = {}

    # -- small pieces -------------------------------------------------------------------
    def card(self, paper_id: str) -> Card:
        found = self._cards.get(paper_id)
        if found is not None:
            return found
        p = self.papers[paper_id]
        title_text = clean(plain_text(p.title)) or p.id
        made = Card(
            id=p.id,
            path=urls.paper_path(p.id),
            title_html=inline_html(p.title),
            title_text=title_text,
            derived=p.title_source == "derived",
            authors_text=authors_text(self.author_names(p), p.authors_truncated),
            date_display=format_date(p.date, p.date_precision),
            date_iso=p.date if p.date and _ISO_DATE.fullmatch(p.date) else None,
            year=p.year,
            category=p.category,
        )
        self._cards[paper_id] = made
        return made

    def cards(self, paper_ids: Iterable[str]) -> tuple[Card, ...]:
        return tuple(self.card(pid) for pid in paper_ids if pid in self.papers)

    def author_refs(self, paper: Paper) -> tuple[AuthorRef, ...]:
        """The paper's authors as shown, linked when they have a page (made once per paper:
        its card, its page and its papers.json row all list them)."""
        found = self._author_refs.get(paper.id)
        if found is None:
            found = self._author_refs[paper.id] = self._make_author_refs(paper)
        return found

    def _make_author_refs(self, paper: Paper) -> tuple[AuthorRef, ...]:
        ids = self.catalog.paper_authors.get(paper.id, ())
        linked = self._linked_ref
        if ids and len(ids) == len(paper.authors):
            return tuple(
                linked(a) if a in self.authors else AuthorRef(clean(name), None)
                for name, a in zip(paper.authors, ids, strict=True)
            )
        if ids:
            return tuple(linked(a) for a in ids if a in self.authors)
        return tuple(AuthorRef(clean(n), None) for n in paper.authors)

    def _linked_ref(self, author_id: str) -> AuthorRef:
        """An author with a page as a paper lists them (one record per author, shared by
        all their papers)."""
        found = self._linked_refs.get(author_id)
        if found is None:
            found = AuthorRef(self.author_display[author_id], urls.author_path(author_id))
            self._linked_refs[author_id] = found
        return found

    def author_names(self, paper: Paper) -> list[str]:
        return [ref.name for ref in self.author_refs(paper)]

    def topic_links(self, topic_ids: Iterable[str]) -> tuple[Link, ...]:
        links = self._topic_links
        out = []
        for t in topic_ids:
            found = links.get(t)
            if found is None:
                if t not in self.topics:
                    continue
                found = links[t] = Link(self.topic_names[t], urls.topic_path(t))
            out.append(found)
        return tuple(out)

    def author_link(self, author_id: str) -> Link:
        found = self._author_links.get(author_id)
        if found is None:
            found = Link(self.author_display[author_id], urls.author_path(author_id))
            self._author_links[author_id] = found
        return found

    def listing_link(self, listing: Listing) -> Link:
        return Link(clean(listing.name) or listing.id, urls.listing_path(listing.id))

    def bib_body(self, paper: Paper) -> str:
        """The paper's BibTeX fields (``entry_body``), made once for its page and papers.bib."""
        found = self._bib_bodies.get(paper.id)
        if found is None:
            found = self._bib_bodies[paper.id] = entry_body(paper)
        return found

    def citation_key(self, paper: Paper) -> str:
        """The paper's own citation key (``bibexport.citation_key``), made once for its page
        and papers.bib (which makes it unique there)."""
        found = self._bib_keys.get(paper.id)
        if found is None:
            found = self._bib_keys[paper.id] = citation_key(paper)
        return found

    def adopt_bibtex(self, paper_id: str, body: str, key: str) -> None:
        """Take a paper's ``bib_body`` and ``citation_key`` made by another process from
        the same catalog (equal to what this one would make)."""
        self._bib_bodies[paper_id] = body
        self._bib_keys[paper_id] = key

    def plain_abstract(self, paper_id: str) -> str:
        """The abstract as plain Unicode text ('' when none), computed once."""
        found = self._plain.get(paper_id)
        if found is None:
            abstract = self.papers[paper_id].abstract
            found = clean(plain_text(abstract)) if abstract else ""
            self._plain[paper_id] = found
        return found

    def adopt_plain_abstract(self, paper_id: str, text: str) -> None:
        """Take a paper's plain abstract made by another process from the same catalog
        (equal to what ``plain_abstract`` would make here)."""
        self._plain[paper_id] = text

    def summary(self, paper_id: str) -> str:
        """The abstract as plain text, cut to a feed-sized summary ('' when none)."""
        found = self._summaries.get(paper_id)
        if found is None:
            found = shorten(self.plain_abstract(paper_id), 600)
            self._summaries[paper_id] = found
        return found

    def description(self, paper: Paper) -> str:
        """Meta description: the start of the abstract, else the title."""
        summary = self.summary(paper.id)
        return shorten(summary) if summary else self.card(paper.id).title_text

    # -- paper pages --------------------------------------------------------------------
    def paper_view(self, paper: Paper) -> PaperView:
        arxiv = paper.arxiv_id
        arxiv_q = quote(arxiv, safe="/.-") if arxiv else None
        listings = []
        for lid in paper.listings:
            listing = self.listings.get(lid)
            if listing is None or paper.id not in self.positions[lid]:
                continue
            i = self.positions[lid][paper.id]
            ids = listing.paper_ids
            listings.append(
                ListingNav(
                    link=self.listing_link(listing),
                    position=i + 1,
                    total=len(ids),
                    prev=self.card(ids[i - 1]) if i > 0 and ids[i - 1] in self.papers else None,
                    next=self.card(ids[i + 1])
                    if i + 1 < len(ids) and ids[i + 1] in self.papers
                    else None,
                )
            )
        similar = self.cards(pid for pid, _ in self.catalog.similar.get(paper.id, ())[:5])
        return PaperView(
            card=self.card(paper.id),
            arxiv_id=clean(arxiv) if arxiv else None,
            authors=self.author_refs(paper),
            truncated=paper.authors_truncated,
            abstract_html=abstract_html(paper.abstract) if paper.abstract else Markup(""),
            abstract_text=self.plain_abstract(paper.id),
            comments_html=inline_html(paper.comments) if paper.comments else None,
            journal_ref_html=inline_html(paper.journal_ref) if paper.journal_ref else None,
            venue=clean(paper.venue) if paper.venue else None,
            affiliation=clean(paper.affiliation) if paper.affiliation else None,
            doi=clean(paper.doi) if paper.doi else None,
            doi_url="https://doi.org/" + quote(paper.doi.strip(), safe="/:;()._-")
            if paper.doi
            else None,
            abs_url=f"https://arxiv.org/abs/{arxiv_q}" if arxiv_q else None,
            pdf_url=f"https://arxiv.org/pdf/{arxiv_q}" if arxiv_q else None,
            code_url=http_url(paper.code_url),
            has_code=paper.has_code,
            category_name=category_name(paper.category),
            bibtex=drop_forbidden(
                paper_bibtex(paper, self.citation_key(paper), body=self.bib_body(paper))
            ),
            topics=self.topic_links(self.catalog.paper_topics.get(paper.id, ())),
            listings=tuple(listings),
            similar=similar,
        )

    # -- list pages ---------------------------------------------------------------------
    def author_pages(self, author: Author) -> tuple[ListPage, ...]:
        items = [
            (str(c.year) if c.year else "Year unknown", c) for c in self.cards(author.paper_ids)
        ]
        return paginate(urls.author_path(author.id), items)

    def author_groups(self, author: Author) -> tuple[GroupView, ...]:
        if len(author.groups) < 2:
            return ()
        return tuple(GroupView(clean(g.label), self.cards(g.paper_ids)) for g in author.groups)

    def coauthors(self, author: Author, limit: int | None = None) -> tuple[Counted, ...]:
        """The co-authors most frequent first, at most ``limit`` of them. Each (co-author,
        count) pair's ``Counted`` is made once: most recur on many author pages."""
        made = self._counted
        out: list[Counted] = []
        for pair in author.coauthors:
            if limit is not None and len(out) >= limit:
                break
            found = made.get(pair)
            if found is None:
                a, n = pair
                if a not in self.authors:
                    continue
                found = made[pair] = Counted(self.author_link(a), n)
            out.append(found)
        return tuple(out)

    def topic_pages(self, topic: Topic) -> tuple[ListPage, ...]:
        return paginate(urls.topic_path(topic.id), [(None, c) for c in self.cards(topic.paper_ids)])

    def top_authors(self, topic: Topic, limit: int = 10) -> tuple[Counted, ...]:
        pairs = list(topic.top_authors)
        if not pairs:
            counts: Counter[str] = Counter()
            for pid in topic.paper_ids:
                counts.update(set(self.catalog.paper_authors.get(pid, ())))
            pairs = sorted(
                ((a, n) for a, n in counts.items() if n > 1), key=lambda x: (-x[1], x[0])
            )
        return tuple(Counted(self.author_link(a), n) for a, n in pairs[:limit] if a in self.authors)

    def listing_pages(self, listing: Listing) -> tuple[ListPage, ...]:
        path = urls.listing_path(listing.id)
        items: list[tuple[str | None, Card]]
        if listing.mixed and len(listing.groups) > 1:
            items = [(clean(g.label), c) for g in listing.groups for c in self.cards(g.paper_ids)]
        else:
            items = [(None, c) for c in self.cards(listing.paper_ids)]
        return paginate(path, items)

    def year_pages(self, year: int, paper_ids: Sequence[str]) -> tuple[ListPage, ...]:
        items: list[tuple[str | None, Card]] = []
        for card in self.cards(paper_ids):
            p = self.papers[card.id]
            heading = (
                format_date(p.date[:7], "month")
                if p.date and p.date_precision in ("day", "month")
                else f"{year}, month unknown"
            )
            items.append((heading, card))
        return paginate(urls.year_path(year), items)

    def years(self) -> dict[int, tuple[str, ...]]:
        """Year -> its papers' ids (newest year first), computed once (treat as read-only)."""
        if self._years is None:
            by_year: dict[int, list[str]] = {}
            for p in self.catalog.papers:
                if p.year is not None:
                    by_year.setdefault(p.year, []).append(p.id)
            self._years = {y: tuple(ids) for y, ids in sorted(by_year.items(), reverse=True)}
        return self._years

    def date_rank(self) -> dict[str, int]:
        """Paper id -> its place among all papers ordered by (date, id), undated first
        (``feeds.newest_papers``), computed once."""
        if self._date_rank is None:
            order = sorted(self.papers.values(), key=lambda p: (p.date or "", p.id))
            self._date_rank = {p.id: i for i, p in enumerate(order)}
        return self._date_rank

    def author_letters(self) -> dict[str, tuple[Counted, ...]]:
        """A-Z sections of the authors index by last name ('other' last), in catalog order."""
        letters: dict[str, list[Counted]] = {}
        for a in self.catalog.authors:
            words = clean(a.name).split(" ")
            first = urls.slugify(words[-1])[:1]  # the catalog sorts authors by last name
            key = first if first.isalpha() else "other"
            letters.setdefault(key, []).append(Counted(self.author_link(a.id), len(a.paper_ids)))
        return {k: tuple(letters[k]) for k in sorted(letters, key=lambda k: (k == "other", k))}

    def topic_counts(self, kind: str | None = None) -> tuple[Counted, ...]:
        return tuple(
            Counted(Link(self.topic_names[t.id], urls.topic_path(t.id)), len(t.paper_ids))
            for t in self.catalog.topics
            if kind is None or t.kind == kind
        )

    def main_topics(self, limit: int = HOME_TOPICS) -> tuple[Counted, ...]:
        ranked = sorted(self.topic_counts(), key=lambda c: (-c.count, c.link.text.lower()))
        return tuple(ranked[:limit])


def listing_groups(listing: Listing) -> list[dict[str, object]]:
    """listings.json groups: the listing's research-area groups, or one group of all papers."""
    if listing.groups:
        return [{"label": g.label, "papers": list(g.paper_ids)} for g in listing.groups]
    return [{"label": listing.name, "papers": list(listing.paper_ids)}]


def field_sources(paper: Paper) -> Mapping[str, str]:
    return dict(sorted(paper.field_sources))
