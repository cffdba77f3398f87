"""Atom feeds (RFC 4287) per author, topic and listing: newest papers first.

Deterministic: no build time anywhere; ``updated`` comes from the papers' own dates.
Without a base URL, links are relative to the feed file (RFC 3986 resolution) and ids
are ``urn:`` names. Every feed lives two folders deep (``feeds/<kind>/<id>.xml``), so a
paper's ``<entry>`` is the same in every feed and is built once per build.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Mapping, Sequence

from generator import urls
from generator.latex import escape_text
from generator.model import Paper
from generator.views import SiteIndex, clean, shorten

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 20
ENTRY_AUTHORS = 20
_EPOCH = "1970-01-01T00:00:00Z"


@functools.lru_cache(maxsize=1 << 16)
def _timestamp(date: str | None) -> str:
    """'2021-06' -> '2021-06-01T00:00:00Z'; no date -> the epoch (Atom requires one).
    Memoised: papers share dates, and each feed reads its papers' dates again. The result
    holds digits, '-', ':', 'T' and 'Z' only, so it needs no escaping."""
    if not date:
        return _EPOCH
    y, m, d = (date.split("-") + ["01", "01"])[:3]
    if not (y.isdigit() and m.isdigit() and d.isdigit()):
        return _EPOCH
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}T00:00:00Z"


def _el(tag: str, text: str) -> str:
    return f"<{tag}>{escape_text(text)}</{tag}>"


def newest_papers(
    papers: Mapping[str, Paper],
    paper_ids: Sequence[str],
    rank: Mapping[str, int] | None = None,
) -> list[Paper]:
    """The papers a feed shows: of ``paper_ids`` in the site, the ``FEED_SIZE`` newest
    (by date, then id; undated last). ``rank``: each paper's place in that order among all
    of ``papers`` (``SiteIndex.date_rank``), which picks the same papers faster."""
    if rank is not None and len(rank) == len(papers):
        found_ids = [p for p in paper_ids if p in rank]
        # (date, id) pairs are distinct, so their ranks order the papers the same way
        return [papers[p] for p in heapq.nlargest(FEED_SIZE, found_ids, key=rank.__getitem__)]
    found = [papers[p] for p in paper_ids if p in papers]
    # the same as sorted(found, key=..., reverse=True)[:FEED_SIZE], without sorting them all
    return heapq.nlargest(FEED_SIZE, found, key=_newness)


def _newness(paper: Paper) -> tuple[str, str]:
    return (paper.date or "", paper.id)


class FeedWriter:
    """Builds feeds from the SiteIndex, caching each paper's entry (as UTF-8: a feed is its
    head's bytes and its entries' joined, each entry encoded once, not once per feed)."""

    def __init__(self, index: SiteIndex) -> None:
        self.index = index
        self._entries: dict[str, bytes] = {}

    def href(self, from_path: str, target: str) -> str:
        """``target`` as seen from ``from_path``, a feed file two folders deep."""
        base = self.index.base_url
        if base:
            return urls.absolute_url(base, target)
        if from_path.count("/") == 2 and target and not target.endswith("/"):
            folder = from_path.rpartition("/")[0]
            t_folder, _, name = target.rpartition("/")
            if t_folder == folder:
                return name
            if not target.startswith("feeds/"):
                return "../../" + target
        return urls.relative_url(from_path, target)

    def entry_bytes(self, paper: Paper) -> bytes:
        """The paper's ``entry`` in UTF-8, made once."""
        found = self._entries.get(paper.id)
        if found is None:
            found = self._entries[paper.id] = self.entry(paper).encode("utf-8")
        return found

    def entry(self, paper: Paper) -> str:
        """The paper's ``<entry>`` element, the same in every feed (made anew: feeds take
        ``entry_bytes``)."""
        ix = self.index
        card = ix.card(paper.id)
        href = self.href(urls.feed_path("authors", "x"), card.path)  # same depth for every kind
        entry_id = (
            f"https://arxiv.org/abs/{clean(paper.arxiv_id)}"
            if paper.arxiv_id
            else f"urn:papersite:paper:{paper.id}"
        )
        stamp = _timestamp(paper.date)  # nothing to escape in it
        parts = [
            f"  <entry>\n    <title>{escape_text(card.title_text)}</title>\n"
            f"    <id>{escape_text(entry_id)}</id>\n    <updated>{stamp}</updated>\n"
        ]
        if paper.date:
            parts.append(f"    <published>{stamp}</published>\n")
        parts.append(f'    <link rel="alternate" type="text/html" href="{escape_text(href)}"/>\n')
        names = [ref.name for ref in ix.author_refs(paper)[:ENTRY_AUTHORS] if ref.name]
        for name in names or ["Unknown"]:
            parts.append(f"    <author><name>{escape_text(name)}</name></author>\n")
        for topic in ix.topic_links(ix.catalog.paper_topics.get(paper.id, ())):
            parts.append(f'    <category term="{escape_text(topic.text)}"/>\n')
        summary = ix.summary(paper.id)
        summary = shorten(summary, 400) if summary else card.title_text
        parts.append(f"    <summary>{escape_text(summary)}</summary>\n  </entry>\n")
        return "".join(parts)

    def adopt(self, paper_id: str, entry: bytes) -> None:
        """Take a paper's ``entry_bytes`` made by another process from the same index (equal
        to what this one would make)."""
        self._entries[paper_id] = entry

    def feed(
        self, kind: str, item_id: str, title: str, page_path: str, paper_ids: Sequence[str]
    ) -> bytes:
        """The Atom feed of one author, topic or listing (``kind`` is the feed folder name)."""
        ix = self.index
        path = urls.feed_path(kind, item_id)
        papers = newest_papers(ix.papers, paper_ids, ix.date_rank())
        feed_id = self.href(path, path) if ix.base_url else f"urn:papersite:feed:{kind}:{item_id}"
        updated = max((_timestamp(p.date) for p in papers), default=_EPOCH)
        page_href = self.href(path, page_path)
        head = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<feed xmlns="{ATOM}">',
            "  " + _el("title", f"{clean(title)} · {ix.site_title}"),
            "  " + _el("id", feed_id),
            "  " + _el("updated", updated),
            f'  <link rel="self" href="{escape_text(self.href(path, path))}"/>',
            f'  <link rel="alternate" type="text/html" href="{escape_text(page_href)}"/>',
            f"  <author>{_el('name', ix.site_title)}</author>",
        ]
        entry = self.entry_bytes
        body = b"".join([entry(p) for p in papers])
        return ("\n".join(head) + "\n").encode("utf-8") + body + b"</feed>\n"
