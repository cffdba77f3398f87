"""Page keys for ``render_to(..., memo=...)``: a page is reused only when its key is unchanged.

A page's key is a hash of exactly the data the page shows, taken from the Catalog before any
view is built (so it costs microseconds, not a render): the paper, author, topic or listing
record, the display names of whatever it links to, and a fingerprint of every paper it lists.
Each paper has three fingerprints, made once per build, one per way a page can show it:

- ``paper``: all of its fields plus its authors' and topics' display names (its own page,
  its papers.json row and BibTeX entry);
- ``card``: what its card in a list shows (title, authors as named, date, year, category);
  list pages, neighbour and similar-paper links show nothing else of it;
- ``feed``: what its feed entry shows (the card's fields, its arXiv id, topics, abstract).

So an edit to an abstract changes the key of its own page and of the feeds that show it,
not of the hundred list pages whose cards do not show it. Every key also carries the
build's salt: the generator's version and source, the templates' and static files' bytes,
the libraries that shape markup, and the site settings the renderer reads. Keys are stable
across processes (hashlib over ``marshal`` version 0 of plain values: values only, no
object identity), so a memo may be saved between builds.

Most keys of a rebuild are those of the last build. ``PageKeys.record`` keeps, with the
memo, a hash of everything the keys read apart from the papers' fingerprints (``basis``),
every paper's ``paper`` fingerprint and the similar papers its page shows; when the basis is
the same, ``PageKeys.since`` says which papers' fingerprints or similar-paper lists changed,
and the key of a page that shows none of them is taken from the memo instead of being made
(``PageKeys.unchanged``): the same bytes, without the hashing of every page's lists.
"""

from __future__ import annotations

import hashlib
import marshal
import operator
from collections.abc import Callable, Sequence
from dataclasses import fields
from importlib import metadata
from itertools import islice
from pathlib import Path
from typing import Any

from generator import __version__
from generator.feeds import FEED_SIZE, newest_papers
from generator.model import Author, Listing, Paper, Topic
from generator.views import HOME_NEWEST, SiteIndex

ROOT = Path(__file__).resolve().parent.parent
# The modules whose code decides what a page looks like.
SOURCES = (
    "render.py",
    "views.py",
    "meta.py",
    "feeds.py",
    "bibexport.py",
    "latex.py",
    "headline.py",
    "markdown.py",
    "urls.py",
    "categories.py",
    "model.py",
    "pagememo.py",
)
LIBRARIES = ("jinja2", "markupsafe", "latex2mathml", "pylatexenc", "markdown-it-py", "bibtexparser")
# Every field a page can show ("origins", where a record was read, is shown nowhere).
_PAPER_FIELDS = operator.attrgetter(*(f.name for f in fields(Paper) if f.name != "origins"))
# The fields a card shows, or decides what it shows (``SiteIndex.card``; year pages head
# their sections by date and precision too).
_CARD_FIELDS = operator.attrgetter(
    "id",
    "title",
    "title_source",
    "authors",
    "authors_truncated",
    "date",
    "date_precision",
    "year",
    "category",
)
# ... and what a feed entry shows besides (``FeedWriter.entry``).
_FEED_FIELDS = operator.attrgetter("arxiv_id", "abstract")
# The fields of a paper a key reads other than through the paper's fingerprints (paper
# pages' listings, year pages, feeds' and the home page's date order); ``basis`` covers
# them for every paper (tests/test_pagememo_since.py edits every other field of a paper
# and checks that the keys ``since`` keeps are the ones made again).
_STRUCTURE_FIELDS = operator.attrgetter("id", "listings", "year", "date", "date_precision")
# Every field of the catalog's authors, topics and listings (groups as plain tuples).
_AUTHOR_FIELDS = operator.attrgetter(*(f.name for f in fields(Author) if f.name != "groups"))
_TOPIC_FIELDS = operator.attrgetter(*(f.name for f in fields(Topic)))
_LISTING_FIELDS = operator.attrgetter(*(f.name for f in fields(Listing) if f.name != "groups"))
SIMILAR_SHOWN = 5  # a paper page shows this many similar papers (``SiteIndex.paper_view``)
RECORD_FORMAT = "page-keys-1"
# The job kinds whose keys ``unchanged`` may take from the last build (the others, a few
# whole-site pages, are always made again).
_KEPT_KINDS = frozenset({"paper", "author", "topic", "listing", "year", "feed"})
_FEED_KINDS = ("authors:", "topics:", "listings:")  # the feeds ``_stale`` knows


def _kept_kind(job: tuple[str, str]) -> bool:
    kind, key = job
    return kind in _KEPT_KINDS and (kind != "feed" or key.startswith(_FEED_KINDS))


def _dump(value: Any) -> bytes:
    """Plain values (str, int, float, bool, None, tuples of them) as bytes: ``repr`` of such
    values is unambiguous, so equal bytes mean equal values and a key can never match a page
    that shows something else."""
    return repr(value).encode("utf-8", "surrogatepass")


def _marshal(value: Any) -> bytes:
    """Plain values as bytes, many times faster than ``_dump``. Version 0 of ``marshal``
    writes values only (no references between objects, no mark for interned strings), each
    with its type, so equal bytes mean equal values and equal values give equal bytes in
    any process. Anything ``marshal`` cannot write goes through ``_dump``."""
    try:
        return marshal.dumps(value, 0)
    except ValueError:
        return b"\x00" + _dump(value)


def _digest(*parts: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


def _groups(groups: Sequence[Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple([(g.label, g.paper_ids) for g in groups])


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def build_salt(
    title: str,
    description: str,
    base_url: str | None,
    extra: Sequence[str],
    folders: Sequence[Path] = (),
) -> bytes:
    """What every page depends on: code, templates, static files, libraries, site settings.
    ``folders``: the template and static folders the renderer reads (default: the project's)."""
    parts = [__version__.encode(), _dump((title, description, base_url, tuple(extra)))]
    parts += [_library_version(name).encode() for name in LIBRARIES]
    for name in SOURCES:
        path = ROOT / "generator" / name
        parts.append(name.encode())
        parts.append(path.read_bytes() if path.is_file() else b"-")
    for folder in folders or (ROOT / "templates", ROOT / "static"):
        parts.append(str(folder).encode())
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if path.is_file():
                parts.append(path.relative_to(folder).as_posix().encode())
                parts.append(path.read_bytes())
    return _digest(*parts)


class PageKeys:
    """Keys of the render jobs of one build (see ``Renderer.jobs``)."""

    def __init__(self, index: SiteIndex, salt: bytes, max_coauthors: int) -> None:
        self.ix = index
        self.salt = salt
        self.max_coauthors = max_coauthors
        self._salted = hashlib.blake2b(salt, digest_size=20)  # copied for each key
        self._paper: dict[str, bytes] = {}
        self._card: dict[str, bytes] = {}
        self._feed: dict[str, bytes] = {}
        self._prepared = False
        self._papers_done = False  # ``_prepare_papers`` ran
        self._basis: bytes | None = None
        self._state: tuple[list[str], bytes, bytes, list[tuple[str, ...]], bytes] | None = None

    def prepare(self) -> None:
        """Every paper's three fingerprints, made in one pass (pages ask for them by the
        thousand; ``paper``, ``card`` and ``feed`` give the same). Once per build."""
        self._fingerprint_all(cards=True)

    def _prepare_papers(self) -> None:
        """Every paper's ``paper`` fingerprint (all ``since`` needs; ``card`` and ``feed``
        are then made when asked for, for the few pages whose keys are made)."""
        self._fingerprint_all(cards=False)

    def _fingerprint_all(self, cards: bool) -> None:
        """Every paper's ``paper`` fingerprint, and with ``cards`` its ``card`` and ``feed``
        ones too, in one pass (once each way per build)."""
        if self._prepared or (self._papers_done and not cards):
            return
        if cards:
            self._prepared = True
        else:
            self._papers_done = True
        ix = self.ix
        authors = ix.catalog.paper_authors
        topics = ix.catalog.paper_topics
        names = ix.author_display
        tnames = ix.topic_names
        dumps = marshal.dumps
        blake = hashlib.blake2b
        none: tuple[str, ...] = ()
        full, card, feed = self._paper, self._card, self._feed
        for p in ix.catalog.papers:
            pid = p.id
            a = authors.get(pid, none)
            people = (a, tuple(map(names.get, a)))
            t = topics.get(pid, none)
            tags = (t, tuple(map(tnames.get, t)))
            try:
                f = dumps((_PAPER_FIELDS(p), people, tags), 0)
                c = dumps((_CARD_FIELDS(p), people), 0) if cards else b""
            except ValueError:
                self.paper(pid)
                if cards:
                    self.card(pid), self.feed(pid)
                continue
            full[pid] = blake(f, digest_size=16).digest()
            if cards:
                cfp = card[pid] = blake(c, digest_size=16).digest()
                feed[pid] = blake(dumps((cfp, _FEED_FIELDS(p), tags), 0), digest_size=16).digest()

    def _people(self, paper_id: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
        """The paper's author ids and how each is named (None: no page)."""
        authors = self.ix.catalog.paper_authors.get(paper_id, ())
        names = self.ix.author_display
        return authors, tuple([names.get(a) for a in authors])

    def _topics(self, paper_id: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
        topics = self.ix.catalog.paper_topics.get(paper_id, ())
        names = self.ix.topic_names
        return topics, tuple([names.get(t) for t in topics])

    def _hash(self, value: Any) -> bytes:
        return hashlib.blake2b(_marshal(value), digest_size=16).digest()

    def paper(self, paper_id: str) -> bytes:
        """Everything any page may show about one paper ('' when it is not in the site)."""
        found = self._paper.get(paper_id)
        if found is not None:
            return found
        p = self.ix.papers.get(paper_id)
        made = (
            b""
            if p is None
            else self._hash((_PAPER_FIELDS(p), self._people(p.id), self._topics(p.id)))
        )
        self._paper[paper_id] = made
        return made

    def card(self, paper_id: str) -> bytes:
        """What the paper's card shows ('' when it is not in the site)."""
        found = self._card.get(paper_id)
        if found is not None:
            return found
        p = self.ix.papers.get(paper_id)
        made = b"" if p is None else self._hash((_CARD_FIELDS(p), self._people(p.id)))
        self._card[paper_id] = made
        return made

    def feed(self, paper_id: str) -> bytes:
        """What the paper's feed entry shows ('' when it is not in the site)."""
        found = self._feed.get(paper_id)
        if found is not None:
            return found
        p = self.ix.papers.get(paper_id)
        made = (
            b"" if p is None else self._hash((self.card(p.id), _FEED_FIELDS(p), self._topics(p.id)))
        )
        self._feed[paper_id] = made
        return made

    def papers(self, paper_ids: Sequence[str]) -> bytes:
        """The full fingerprints of a list of papers, in order."""
        try:
            return b"".join(map(self._paper.__getitem__, paper_ids))
        except KeyError:
            return b"".join([self.paper(pid) for pid in paper_ids])

    def cards(self, paper_ids: Sequence[str]) -> bytes:
        """The card fingerprints of a list of papers, in order."""
        try:
            return b"".join(map(self._card.__getitem__, paper_ids))
        except KeyError:
            return b"".join([self.card(pid) for pid in paper_ids])

    def feeds(self, paper_ids: Sequence[str]) -> bytes:
        """The feed-entry fingerprints of a list of papers, in order."""
        try:
            return b"".join(map(self._feed.__getitem__, paper_ids))
        except KeyError:
            return b"".join([self.feed(pid) for pid in paper_ids])

    def all_papers(self, kind: str) -> bytes:
        """The key of a file made from every paper in order (papers.json, papers.bib)."""
        h = hashlib.blake2b(self.salt, digest_size=20)
        h.update(kind.encode() + b"\x00")
        h.update(self.papers([p.id for p in self.ix.catalog.papers]))
        return h.digest()

    def _coauthors(self, pairs: Sequence[tuple[str, int]]) -> tuple[Any, ...]:
        """The co-authors an author page shows (``SiteIndex.coauthors``: those with a page,
        at most ``max_coauthors``), with counts, as named. Nearly always every co-author
        has a page, and then these are the first pairs (made without a loop in Python)."""
        head = pairs[: self.max_coauthors]
        if not head:
            return ()
        names = tuple(map(self.ix.author_display.get, next(zip(*head, strict=True))))
        if None not in names:
            return (head, names)
        known = self.ix.author_display
        return tuple(islice(((o, n, known[o]) for o, n in pairs if o in known), self.max_coauthors))

    def _names(self, author_ids: Sequence[str]) -> tuple[str | None, ...]:
        return tuple(map(self.ix.author_display.get, author_ids))

    def _topic_names(self, topic_ids: Sequence[str]) -> tuple[str | None, ...]:
        return tuple(map(self.ix.topic_names.get, topic_ids))

    def _similar(self, paper_id: str) -> tuple[str, ...]:
        """The ids of the similar papers the paper's page shows."""
        return tuple([pid for pid, _ in self.ix.catalog.similar.get(paper_id, ())[:SIMILAR_SHOWN]])

    # -- the keys of the last build --------------------------------------------------------

    def basis(self) -> bytes:
        """A hash of everything the keys of ``_KEPT_KINDS`` read other than the papers'
        fingerprints and the similar papers a paper page shows: the salt, every paper's
        ``_STRUCTURE_FIELDS`` in catalog order, every field of every author, topic and
        listing, and the names pages give authors and topics."""
        if self._basis is None:
            ix = self.ix
            c = ix.catalog
            parts = (
                RECORD_FORMAT,
                (self.max_coauthors, FEED_SIZE, HOME_NEWEST, SIMILAR_SHOWN),
                list(map(_STRUCTURE_FIELDS, c.papers)),
                [(_AUTHOR_FIELDS(a), _groups(a.groups)) for a in c.authors],
                list(map(_TOPIC_FIELDS, c.topics)),
                [(_LISTING_FIELDS(li), _groups(li.groups)) for li in c.listings],
                list(ix.author_display.items()),
                list(ix.topic_names.items()),
            )
            self._basis = _digest(self.salt, _marshal(parts))
        return self._basis

    def _now(self) -> tuple[list[str], bytes, bytes, list[tuple[str, ...]], bytes]:
        """This build's paper ids, fingerprints and similar papers shown, with their bytes
        as ``record`` keeps them (made once)."""
        if self._state is None:
            self._prepare_papers()
            ids = [p.id for p in self.ix.catalog.papers]
            similar = [self._similar(pid) for pid in ids]
            self._state = (ids, _marshal(ids), self.papers(ids), similar, _marshal(similar))
        return self._state

    def record(self) -> tuple[str, bytes, bytes, bytes, bytes]:
        """What ``since`` compares a later build with (kept in the memo beside the keys)."""
        _, ids, fps, _, similar = self._now()
        return (RECORD_FORMAT, self.basis(), ids, fps, similar)

    def since(self, record: Any) -> tuple[set[str], set[str]] | None:
        """Against the ``record`` of the build that made the memo's keys: the papers whose
        ``paper`` fingerprint changed (it covers their ``card`` and ``feed`` ones) and those
        whose pages show other similar papers; None when anything else a key reads may
        have changed (then every key is made again)."""
        if not (isinstance(record, tuple) and len(record) == 5 and record[0] == RECORD_FORMAT):
            return None
        _, basis, old_ids, old_fps, old_similar = record
        ids, ids_bytes, fps, similar, similar_bytes = self._now()
        if basis != self.basis() or ids_bytes != old_ids or len(fps) != len(old_fps):
            return None
        changed: set[str] = set()
        if fps != old_fps:
            view, old = memoryview(fps), memoryview(old_fps)
            at = 0
            for pid in ids:
                if view[at : at + 16] != old[at : at + 16]:
                    changed.add(pid)
                at += 16
        moved: set[str] = set()
        if similar_bytes != old_similar:
            try:
                before = marshal.loads(old_similar)
            except (EOFError, ValueError, TypeError):
                return None
            if not isinstance(before, list) or len(before) != len(ids):
                return None
            moved = {pid for pid, a, b in zip(ids, similar, before, strict=True) if a != b}
        return changed, moved

    def unchanged(self, record: Any) -> Callable[[tuple[str, str]], bool] | None:
        """Given the ``record`` of the build that made the memo's keys: a test of whether a
        job's key is certainly the one that build made for it (the job is of
        ``_KEPT_KINDS``, the basis is the same, and the page shows, through fingerprints,
        none of the papers ``since`` found changed, nor is it the page of a paper whose
        similar papers changed); None when every key must be made again."""
        found = self.since(record)
        if found is None:
            return None
        stale = self._stale(*found)
        return lambda job: job not in stale and _kept_kind(job)

    def _stale(self, changed: set[str], moved: set[str]) -> set[tuple[str, str]]:
        """The jobs of ``_KEPT_KINDS`` whose keys may show one of the ``changed`` papers'
        fingerprints, or that are the page of a paper in ``moved`` (a superset is fine:
        their keys are made again)."""
        stale: set[tuple[str, str]] = {("paper", pid) for pid in changed | moved}
        if not changed:
            return stale
        ix = self.ix
        c = ix.catalog
        hit = changed.isdisjoint
        # paper pages: each shows its neighbours' cards in its listings, and the similar
        # papers' cards
        for listing in c.listings:
            order = listing.paper_ids
            for i in [i for i, pid in enumerate(order) if pid in changed]:
                if i > 0:
                    stale.add(("paper", order[i - 1]))
                if i + 1 < len(order):
                    stale.add(("paper", order[i + 1]))
        every, _, _, similar, _ = self._now()
        stale.update(
            [("paper", pid) for pid, near in zip(every, similar, strict=True) if not hit(near)]
        )
        # list pages and feeds: the papers they list (a feed shows some of them)
        for a in c.authors:
            if not hit(a.paper_ids) or not all(map(hit, [g.paper_ids for g in a.groups])):
                stale.add(("author", a.id))
                stale.add(("feed", f"authors:{a.id}"))
        for t in c.topics:
            if not hit(t.paper_ids):
                stale.add(("topic", t.id))
                stale.add(("feed", f"topics:{t.id}"))
        for li in c.listings:
            if not hit(li.paper_ids) or not all(map(hit, [g.paper_ids for g in li.groups])):
                stale.add(("listing", li.id))
                stale.add(("feed", f"listings:{li.id}"))
        stale.update([("year", str(y)) for y, ids in ix.years().items() if not hit(ids)])
        return stale

    def key(self, kind: str, key: str) -> bytes:
        """The key of one job: ``(kind, key)`` as ``Renderer.run`` takes it."""
        h = self._salted.copy()
        h.update(_marshal((kind, key, self._parts(kind, key))))
        return h.digest()

    def _parts(self, kind: str, key: str) -> tuple[Any, ...]:
        ix = self.ix
        if kind == "paper":
            p = ix.papers[key]
            navs: list[Any] = []
            for lid in p.listings:
                listing = ix.listings.get(lid)
                pos = ix.positions.get(lid, {}).get(p.id)
                if listing is None or pos is None:
                    navs.append((lid, None))
                    continue
                ids = listing.paper_ids
                prev = ids[pos - 1] if pos > 0 else None
                nxt = ids[pos + 1] if pos + 1 < len(ids) else None
                navs.append((lid, listing.name, pos, len(ids), prev, nxt))
                for near in (prev, nxt):
                    if near is not None:
                        navs.append(self.card(near))
            similar = self._similar(p.id)
            return (self.paper(p.id), tuple(navs), similar, self.cards(similar))
        if kind == "author":
            a = ix.authors[key]
            groups = tuple([(g.label, g.paper_ids) for g in a.groups])
            return (
                (a.id, a.name, a.paper_ids, len(a.coauthors), a.topics, a.years, groups),
                self._coauthors(a.coauthors),
                self._topic_names(a.topics),
                self.cards(a.paper_ids),
                self.cards([i for g in a.groups for i in g.paper_ids]) if groups else b"",
            )
        if kind == "topic":
            t = ix.topics[key]
            top = tuple([a for a, _ in t.top_authors])
            return (
                (t.id, t.name, t.kind, t.definition, t.paper_ids, t.top_authors, t.related),
                self._names(top),
                self._topic_names(t.related),
                self.cards(t.paper_ids),
            )
        if kind == "listing":
            li = ix.listings[key]
            groups = tuple([(g.label, g.paper_ids) for g in li.groups])
            return (
                (li.id, li.file, li.name, li.paper_ids, li.topics, groups, li.mixed),
                self._topic_names(li.topics),
                self.cards(li.paper_ids),
                self.cards([i for g in li.groups for i in g.paper_ids]) if groups else b"",
            )
        if kind == "year":
            ids = ix.years().get(int(key), ())
            return (ids, self.cards(ids))
        if kind == "feed":
            feed_kind, _, item = key.partition(":")
            if feed_kind == "authors":
                name, ids = ix.authors[item].name, ix.authors[item].paper_ids
            elif feed_kind == "topics":
                name, ids = ix.topics[item].name, ix.topics[item].paper_ids
            else:
                name, ids = ix.listings[item].name, ix.listings[item].paper_ids
            if len(ids) > FEED_SIZE:  # else it shows them all, ordered by their dates
                ids = tuple([p.id for p in newest_papers(ix.papers, ids, ix.date_rank())])
            return (name, ids, self.feeds(ids))
        return self._single(kind)

    def _single(self, kind: str) -> tuple[Any, ...]:
        ix = self.ix
        c = ix.catalog
        topics = tuple([(t.id, t.name, t.kind, len(t.paper_ids)) for t in c.topics])
        years = tuple([(y, len(ids)) for y, ids in ix.years().items()])
        if kind == "home":
            newest = tuple([p.id for p in c.papers[:HOME_NEWEST]])
            listings = tuple([(li.id, li.name, len(li.paper_ids)) for li in c.listings])
            counts = (len(c.papers), len(c.authors), len(c.topics), len(c.listings))
            return (newest, listings, counts, topics, years, self.cards(newest))
        if kind == "years":
            undated = sum(1 for p in c.papers if p.year is None)
            return (years, undated)
        if kind == "authors-index":
            return tuple([(a.id, a.name, len(a.paper_ids)) for a in c.authors])
        if kind == "topics-index":
            return topics
        if kind == "listings-index":
            rows = tuple(
                [(li.id, li.name, li.file, len(li.paper_ids), li.topics[:5]) for li in c.listings]
            )
            names = self._topic_names(tuple([t for li in c.listings for t in li.topics[:5]]))
            return (rows, names)
        if kind == "listings.json":
            return tuple(
                [
                    (li.id, li.file, li.name, li.mixed, li.paper_ids)
                    + (tuple([g.label for g in li.groups]),)
                    + tuple([g.paper_ids for g in li.groups])
                    for li in c.listings
                ]
            )
        if kind in ("404", "search"):
            return ()
        raise ValueError(f"no page key for job kind {kind!r}")
