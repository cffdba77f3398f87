"""Page keys for ``render_to(..., memo=...)``: a page is reused only when its key is unchanged.

A page's key is a hash of exactly the data the page shows, taken from the Catalog before any
view is built (so it costs microseconds, not a render): the paper, author, topic or listing
record, the display names of whatever it links to, and a fingerprint of every paper it lists.
A paper's fingerprint covers all of its fields plus its authors' and topics' display names,
so any page that shows a paper (card, feed entry, neighbour link) changes key when any of
those change. Every key also carries the build's salt: the generator's version and source,
the templates' and static files' bytes, the libraries that shape markup, and the site
settings the renderer reads. Keys are stable across processes (hashlib over pickled tuples
of plain values), so a memo may be saved between builds.
"""

from __future__ import annotations

import hashlib
import operator
import pickle
from collections.abc import Sequence
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Any

from generator import __version__
from generator.model import Paper
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


def _dump(value: Any) -> bytes:
    """Plain values (str, int, float, bool, None, tuples of them) as bytes: ``repr`` of such
    values is unambiguous, so equal bytes mean equal values and a key can never match a page
    that shows something else."""
    return repr(value).encode("utf-8", "surrogatepass")


def _digest(*parts: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


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
        self._paper: dict[str, bytes] = {}

    def paper(self, paper_id: str) -> bytes:
        """Everything any page may show about one paper ('' when it is not in the site)."""
        found = self._paper.get(paper_id)
        if found is not None:
            return found
        ix = self.ix
        p = ix.papers.get(paper_id)
        if p is None:
            made = b""
        else:
            c = ix.catalog
            authors = c.paper_authors.get(paper_id, ())
            topics = c.paper_topics.get(paper_id, ())
            names = ix.author_display
            tnames = ix.topic_names
            made = hashlib.blake2b(
                pickle.dumps(
                    (
                        _PAPER_FIELDS(p),
                        authors,
                        tuple([names.get(a) for a in authors]),
                        topics,
                        tuple([tnames.get(t) for t in topics]),
                    ),
                    protocol=5,
                ),
                digest_size=16,
            ).digest()
        self._paper[paper_id] = made
        return made

    def papers(self, paper_ids: Sequence[str]) -> bytes:
        """The fingerprints of a list of papers, in order."""
        known = self._paper
        fp = self.paper
        return b"".join([known.get(pid) or fp(pid) for pid in paper_ids])

    def all_papers(self, kind: str) -> bytes:
        """The key of a file made from every paper in order (papers.json, papers.bib)."""
        h = hashlib.blake2b(self.salt, digest_size=20)
        h.update(kind.encode() + b"\x00")
        h.update(self.papers([p.id for p in self.ix.catalog.papers]))
        return h.digest()

    def _names(self, author_ids: Sequence[str]) -> bytes:
        return _dump(tuple(self.ix.author_display.get(a) for a in author_ids))

    def _topic_names(self, topic_ids: Sequence[str]) -> bytes:
        return _dump(tuple(self.ix.topic_names.get(t) for t in topic_ids))

    def key(self, kind: str, key: str) -> bytes:
        """The key of one job: ``(kind, key)`` as ``Renderer.run`` takes it."""
        parts = self._parts(kind, key)
        h = hashlib.blake2b(self.salt, digest_size=20)
        h.update(_dump((kind, key, tuple(len(p) for p in parts))))
        for part in parts:
            h.update(part)
        return h.digest()

    def _parts(self, kind: str, key: str) -> list[bytes]:
        ix = self.ix
        c = ix.catalog
        if kind == "paper":
            p = ix.papers[key]
            navs: list[tuple[str, object]] = []
            for lid in p.listings:
                listing = ix.listings.get(lid)
                pos = ix.positions.get(lid, {}).get(p.id)
                if listing is None or pos is None:
                    navs.append((lid, None))
                    continue
                ids = listing.paper_ids
                prev = ids[pos - 1] if pos > 0 else None
                nxt = ids[pos + 1] if pos + 1 < len(ids) else None
                navs.append((lid, (listing.name, pos, len(ids), prev, nxt)))
                for near in (prev, nxt):
                    if near is not None:
                        navs.append((near, self.paper(near)))
            similar = tuple(pid for pid, _ in c.similar.get(p.id, ())[:5])
            return [self.paper(p.id), _dump(tuple(navs)), _dump(similar), self.papers(similar)]
        if kind == "author":
            a = ix.authors[key]
            groups = tuple((g.label, g.paper_ids) for g in a.groups)
            shown = [o for o, _ in a.coauthors[: self.max_coauthors]]
            return [
                _dump((a.id, a.name, a.paper_ids, a.coauthors, a.topics, a.years, groups)),
                self._names(shown),
                self._topic_names(a.topics),
                self.papers(a.paper_ids),
                self.papers([i for g in a.groups for i in g.paper_ids]),
            ]
        if kind == "topic":
            t = ix.topics[key]
            top = tuple(a for a, _ in t.top_authors)
            return [
                _dump((t.id, t.name, t.kind, t.definition, t.paper_ids, t.top_authors, t.related)),
                self._names(top),
                self._topic_names(t.related),
                self.papers(t.paper_ids),
            ]
        if kind == "listing":
            li = ix.listings[key]
            groups = tuple((g.label, g.paper_ids) for g in li.groups)
            return [
                _dump((li.id, li.file, li.name, li.paper_ids, li.topics, groups, li.mixed)),
                self._topic_names(li.topics),
                self.papers(li.paper_ids),
                self.papers([i for g in li.groups for i in g.paper_ids]),
            ]
        if kind == "year":
            ids = ix.years().get(int(key), ())
            return [_dump(ids), self.papers(ids)]
        if kind == "feed":
            feed_kind, _, item = key.partition(":")
            if feed_kind == "authors":
                name, ids = ix.authors[item].name, ix.authors[item].paper_ids
            elif feed_kind == "topics":
                name, ids = ix.topics[item].name, ix.topics[item].paper_ids
            else:
                name, ids = ix.listings[item].name, ix.listings[item].paper_ids
            return [_dump((name, ids)), self.papers(ids)]
        return self._single(kind)

    def _single(self, kind: str) -> list[bytes]:
        ix = self.ix
        c = ix.catalog
        topics = tuple((t.id, t.name, t.kind, len(t.paper_ids)) for t in c.topics)
        years = tuple((y, len(ids)) for y, ids in ix.years().items())
        if kind == "home":
            newest = tuple(p.id for p in c.papers[:HOME_NEWEST])
            listings = tuple((li.id, li.name, len(li.paper_ids)) for li in c.listings)
            counts = (len(c.papers), len(c.authors), len(c.topics), len(c.listings))
            return [_dump((newest, listings, counts, topics, years)), self.papers(newest)]
        if kind == "years":
            undated = sum(1 for p in c.papers if p.year is None)
            return [_dump((years, undated))]
        if kind == "authors-index":
            return [_dump(tuple((a.id, a.name, len(a.paper_ids)) for a in c.authors))]
        if kind == "topics-index":
            return [_dump(topics)]
        if kind == "listings-index":
            rows = tuple(
                (li.id, li.name, li.file, len(li.paper_ids), li.topics[:5]) for li in c.listings
            )
            names = self._topic_names(tuple(t for li in c.listings for t in li.topics[:5]))
            return [_dump(rows), names]
        if kind == "listings.json":
            groups = tuple(
                (li.id, li.file, li.name, li.mixed, li.paper_ids, tuple(g.label for g in li.groups))
                + tuple(g.paper_ids for g in li.groups)
                for li in c.listings
            )
            return [_dump(groups)]
        if kind in ("404", "search"):
            return []
        raise ValueError(f"no page key for job kind {kind!r}")
