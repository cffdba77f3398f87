"""Page metadata: Google Scholar (Highwire) tags, schema.org JSON-LD, OpenGraph, canonical
links, and with a base URL the sitemap and robots.txt.

Everything returned as Markup is built from escaped values here; JSON-LD is a data block
(``type="application/ld+json"``), never executed, with ``<``, ``>`` and ``&`` escaped so
no seed text can close the element.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

from markupsafe import Markup, escape

from generator import urls
from generator.views import PaperView


@lru_cache(maxsize=1 << 16)
def _meta(name: str, content: str, attr: str = "name") -> str:
    """One ``<meta>`` tag (memoised: author names and site-wide tags repeat on many pages)."""
    return f'<meta {attr}="{escape(name)}" content="{escape(content)}">'


def _meta_once(name: str, content: str, attr: str = "name") -> str:
    """``_meta`` for a value shown on one page only (a title, a description): not memoised."""
    return f'<meta {attr}="{name}" content="{escape(content)}">'


_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _json_ld_text(data: Any) -> str:
    return _json_ld_script(_JSON.encode(data))


def _json_ld_script(text: str) -> str:
    """JSON text as a ``<script>`` data block that no value in it can close."""
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/ld+json">{text}</script>'


# A string as ``_JSON`` writes it (``ensure_ascii=False``: the json module's own function).
_json_str = encode_basestring


@lru_cache(maxsize=1 << 16)
def _json_person(name: str) -> str:
    """``{"@type": "Person", "name": name}`` as ``_JSON`` writes it (memoised: an author is
    listed on every page of theirs)."""
    return '{"@type":"Person","name":' + _json_str(name) + "}"


def _scholarly_article_json(view: PaperView, description: str, url: str | None) -> str:
    """The paper's ScholarlyArticle as ``_JSON.encode`` writes it (keys sorted, compact),
    written member by member in that order: the generic encoder, which sorts every
    object's keys, cost half of a paper page's head (tests hold it to the encoder)."""
    card = view.card
    members = [
        '{"@context":"https://schema.org","@type":"ScholarlyArticle","author":[',
        ",".join([_json_person(a.name) for a in view.authors]),
        "]",
    ]
    if card.date_iso:
        members += [',"datePublished":', _json_str(card.date_iso)]
    members += [',"description":', _json_str(description)]
    members += [',"headline":', _json_str(card.title_text)]
    if view.doi_url:
        members += [',"identifier":', _json_str(view.doi_url)]
    if view.venue:
        members += [',"isPartOf":{"@type":"Periodical","name":', _json_str(view.venue), "}"]
    if view.topics:
        members += [',"keywords":[', ",".join([_json_str(t.text) for t in view.topics]), "]"]
    if view.abs_url:
        members += [',"sameAs":', _json_str(view.abs_url)]
    if url:
        members += [',"url":', _json_str(url)]
    members.append("}")
    return "".join(members)


def json_ld(data: Any) -> Markup:
    return Markup(_json_ld_text(data))


def highwire_date(date: str | None) -> str | None:
    """Google Scholar wants YYYY/MM/DD (or YYYY/MM, YYYY)."""
    return date.replace("-", "/") if date else None


def paper_head(
    view: PaperView, path: str, site_title: str, base_url: str | None, description: str
) -> Markup:
    """Highwire citation_* tags, OpenGraph and ScholarlyArticle JSON-LD for a paper page."""
    card = view.card
    tags = [_meta_once("citation_title", card.title_text)]
    tags += [_meta("citation_author", a.name) for a in view.authors]
    date = highwire_date(card.date_iso)
    if date:
        tags.append(_meta("citation_publication_date", date))
    if view.arxiv_id:
        tags.append(_meta("citation_arxiv_id", view.arxiv_id))
    if view.pdf_url:
        tags.append(_meta("citation_pdf_url", view.pdf_url))
    if view.doi:
        tags.append(_meta("citation_doi", view.doi))
    if view.venue:
        tags.append(_meta("citation_journal_title", view.venue))
    tags.append(_meta("og:type", "article", "property"))
    tags.append(_meta_once("og:title", card.title_text, "property"))
    tags.append(_meta_once("og:description", description, "property"))
    tags.append(_meta("og:site_name", site_title, "property"))
    url = urls.absolute_url(base_url, path) if base_url else None
    if url:
        tags.append(_meta("og:url", url, "property"))
    article = _scholarly_article_json(view, description, url)
    return Markup("\n".join(tags) + "\n" + _json_ld_script(article))


def page_head(title: str, description: str, site_title: str) -> Markup:
    """OpenGraph for pages other than papers."""
    return Markup(
        "\n".join(
            [
                _meta("og:type", "website", "property"),
                _meta("og:title", title, "property"),
                _meta("og:description", description, "property"),
                _meta("og:site_name", site_title, "property"),
            ]
        )
    )


def sitemap_xml(base_url: str, paths: Iterable[str]) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for path in sorted(set(paths)):
        loc = urls.absolute_url(base_url, "" if path == urls.INDEX else path)
        lines.append(f"  <url><loc>{escape(loc)}</loc></url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def robots_txt(base_url: str) -> bytes:
    return (
        f"User-agent: *\nAllow: /\nSitemap: {urls.absolute_url(base_url, 'sitemap.xml')}\n"
    ).encode()


def sitemap_paths(paths: Sequence[str]) -> list[str]:
    """HTML pages worth indexing: every page except the 404 and the search page."""
    skip = {urls.NOT_FOUND, urls.SEARCH}
    return [p for p in paths if p.endswith(".html") and p not in skip]
