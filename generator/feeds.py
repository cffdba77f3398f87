"""Atom feeds (RFC 4287) per author, topic and listing: newest papers first.

Deterministic: no build time anywhere; ``updated`` comes from the papers' own dates.
Without a base URL, links are relative to the feed file (RFC 3986 resolution) and ids
are ``urn:`` names.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from generator import urls
from generator.model import Paper
from generator.views import SiteIndex, clean

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50

ET.register_namespace("", ATOM)


def _timestamp(date: str | None) -> str:
    """'2021-06' -> '2021-06-01T00:00:00Z'; no date -> the epoch (Atom requires one)."""
    if not date:
        return "1970-01-01T00:00:00Z"
    parts = (date.split("-") + ["01", "01"])[:3]
    y, m, d = parts
    if not (y.isdigit() and m.isdigit() and d.isdigit()):
        return "1970-01-01T00:00:00Z"
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}T00:00:00Z"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def atom_feed(
    index: SiteIndex, kind: str, item_id: str, title: str, page_path: str, paper_ids: Sequence[str]
) -> bytes:
    """The Atom feed of one author, topic or listing (``kind`` is the feed folder name)."""
    path = urls.feed_path(kind, item_id)
    base = index.base_url
    papers: list[Paper] = [index.papers[p] for p in paper_ids if p in index.papers]
    papers.sort(key=lambda p: (p.date or "", p.id), reverse=True)
    papers = papers[:FEED_SIZE]

    def href(target: str) -> str:
        return urls.absolute_url(base, target) if base else urls.relative_url(path, target)

    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "title", f"{clean(title)} · {index.site_title}")
    _sub(feed, "id", href(path) if base else f"urn:papersite:feed:{kind}:{item_id}")
    _sub(feed, "updated", max((_timestamp(p.date) for p in papers), default=_timestamp(None)))
    _sub(feed, "link", rel="self", href=href(path))
    _sub(feed, "link", rel="alternate", type="text/html", href=href(page_path))
    author = _sub(feed, "author")
    _sub(author, "name", index.site_title)
    for paper in papers:
        card = index.card(paper.id)
        entry = _sub(feed, "entry")
        _sub(entry, "title", card.title_text)
        if paper.arxiv_id:
            entry_id = f"https://arxiv.org/abs/{clean(paper.arxiv_id)}"
        else:
            entry_id = f"urn:papersite:paper:{paper.id}"
        _sub(entry, "id", entry_id)
        _sub(entry, "updated", _timestamp(paper.date))
        if paper.date:
            _sub(entry, "published", _timestamp(paper.date))
        _sub(entry, "link", rel="alternate", type="text/html", href=href(card.path))
        for ref in index.author_refs(paper)[:20]:
            _sub(_sub(entry, "author"), "name", ref.name or "Unknown")
        if not paper.authors:
            _sub(_sub(entry, "author"), "name", "Unknown")
        for topic in index.topic_links(index.catalog.paper_topics.get(paper.id, ())):
            _sub(entry, "category", term=topic.text)
        _sub(entry, "summary", index.summary(paper.id) or card.title_text)
    ET.indent(feed, space="  ")
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
