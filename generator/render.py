"""Render the whole site in memory: Catalog -> OutputFile (path, bytes), nothing touches disk.

Every page is a (kind, key) job; jobs render independently from the read-only SiteIndex,
so ``render_site(..., jobs=2)`` forks workers that inherit it and render chunks in parallel.
Templates see view data (generator.views) and pre-rendered Markup only.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import multiprocessing
import os
import posixpath
import re
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from types import FunctionType
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe
from markupsafe import Markup, escape

from generator import urls
from generator.bibexport import citation_keys, paper_bibtex, site_bibtex
from generator.build import BuildError
from generator.feeds import FeedWriter
from generator.meta import page_head, paper_head, robots_txt, sitemap_paths, sitemap_xml
from generator.model import Catalog, OutputFile, Paper
from generator.views import (
    AUTHOR_INDEX_SPLIT,
    HOME_NEWEST,
    SAME_NAME_NOTE,
    AuthorRef,
    Card,
    Counted,
    Link,
    ListPage,
    SiteIndex,
    clean,
    field_sources,
    listing_groups,
    shorten,
)

if TYPE_CHECKING:
    from generator.config import SiteConfig
    from generator.pagememo import PageKeys
    from generator.write import Staging, WriteStats

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"

MAX_COAUTHORS = 100  # an author page lists at most this many co-authors, most frequent first
_A_TAG = re.compile(r"</?a\b[^>]*>")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
# The same characters in UTF-8: ASCII controls (deleted by bytes.translate), C1 controls
# (\xc2\x80-\xc2\x9f) and the non-characters U+FDD0-U+FDEF, U+FFFE, U+FFFF (\xef\xb7.., \xef\xbf..)
_ASCII_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# bytes.translate table: each of those bytes to 0x00, every other byte to itself
_ASCII_CONTROLS_TO_NUL = bytes(0 if b in _ASCII_CONTROLS else b for b in range(256))
_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")


def page_bytes(html: str) -> bytes:
    """A page's UTF-8 bytes without the characters HTML forbids (``_CONTROL``). Pages almost
    never hold one, so they are looked for in the bytes first (fast byte scans), and only a
    page that has one goes through the regular expression. The non-characters (UTF-8 bytes
    EF B7 .. and EF BF ..) are only looked for when an EF byte is there at all: a one-byte
    search is a ``memchr``, a two-byte one scans some forty times slower."""
    data = html.encode("utf-8")
    if (
        b"\x00" not in data.translate(_ASCII_CONTROLS_TO_NUL)  # the table path: no deletion
        and _C1_UTF8.search(data) is None
        and (b"\xef" not in data or (b"\xef\xb7" not in data and b"\xef\xbf" not in data))
    ):
        return data
    return _CONTROL.sub("", html).encode("utf-8")


_ESCAPE_INNER: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)
_NEW_STR = str.__new__


def _fast_escape(value: Any) -> Markup:
    """``markupsafe.escape`` without its Python-level ``Markup.__new__`` for the two common
    cases (a plain string; Markup, returned as it is): the same result, a third of the cost
    on pages that print a hundred values each."""
    kind = type(value)
    if kind is str and _ESCAPE_INNER is not None:
        made: Markup = _NEW_STR(Markup, _ESCAPE_INNER(value))
        return made
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    if kind is int:  # page numbers, counts, years: digits only, nothing to escape
        digits: Markup = _NEW_STR(Markup, int.__repr__(value))
        return digits
    return escape(value)


def _markup(text: str) -> Markup:
    """``Markup(text)`` for a plain ``str`` of HTML made here, without ``Markup.__new__``'s
    Python-level checks (the same object: a str subclass holding the same text)."""
    made: Markup = _NEW_STR(Markup, text)
    return made


class _Template(jinja2.Template):
    """Compiled templates whose autoescaped output uses ``_fast_escape``."""

    @classmethod
    def _from_namespace(
        cls,
        environment: jinja2.Environment,
        namespace: MutableMapping[str, Any],
        globals: MutableMapping[str, Any],
    ) -> jinja2.Template:
        if namespace.get("escape") is escape:
            namespace["escape"] = _fast_escape
        return super()._from_namespace(environment, namespace, globals)


def unlink(html: Any) -> Markup:
    """The ``unlink`` filter: HTML without its ``<a>`` tags (a title inside a link). Most
    titles have none, and a substring search is far cheaper than the regex's scan."""
    text = str(html)
    if "<a" not in text and "</a" not in text:
        return html if type(html) is Markup else Markup(text)
    return Markup(_A_TAG.sub("", text))


class _Context(jinja2.runtime.Context):
    """Template contexts whose calls to plain functions (``rel``, ``cards``, ``links`` ...:
    several on every page) skip Jinja's look for ``pass_context`` and its kin, which a
    plain function cannot carry unless marked: the same result at a quarter of the cost."""

    @jinja2.utils.internalcode
    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if type(__obj) is not FunctionType or hasattr(__obj, "jinja_pass_arg"):
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Context.call does
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class _Environment(jinja2.Environment):
    """An environment whose templates keep their globals in one plain dict."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """The environment's globals overlaid by the template's own, copied into a dict, not
        Jinja's ``ChainMap``: every render copies a template's globals into its context, and
        a ``ChainMap`` is copied in Python, key by key (a tenth of a paper page's template
        time). The same values, as long as the environment's globals do not change after a
        template is loaded: ``environment()`` sets none, and Jinja asks for that anyway."""
        return {**self.globals, **(d or {})}


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja environment: autoescaped, strict about undefined names, loaded once."""
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),  # read when first called
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.template_class = _Template
    env.context_class = _Context
    env.filters["unlink"] = unlink
    return env


@functools.lru_cache(maxsize=64)
def root_prefix(page_dir: str) -> str:
    """The relative path from a folder of the site to the site root ('' or '../' ...)."""
    return urls.relative_url(page_dir + "/x" if page_dir else "x", "")


def make_rel(page_path: str, base_url: str | None = None) -> Callable[[str], str]:
    """The page's ``rel(path)``: a site path as a relative href from this page (equal to
    ``urls.relative_url`` for the site's pages, computed without a path walk per link);
    absolute URLs instead when ``base_url`` is given (the 404 page, served at any URL)."""
    if base_url:
        return lambda target: urls.absolute_url(base_url, target)
    page_dir = posixpath.dirname(page_path)
    prefix = root_prefix(page_dir)

    def rel(target: str) -> str:
        path, hash_, frag = target.partition("#")
        if not path:
            return target if hash_ else prefix
        folder, _, name = path.rpartition("/")  # posixpath.dirname/basename, without the calls
        if page_dir and folder == page_dir:
            return name + hash_ + frag
        return prefix + target

    return rel


class Anchors:
    """``<a href="...">text</a>`` for a link target as seen from one folder of the site,
    escaped once per build and reused on every page that shows the same link (topics,
    authors, co-authors appear on thousands of pages)."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str, str], str] = {}
        self._rows: dict[tuple[str, str, str, int], str] = {}

    def anchor(self, rel: Callable[[str], str], page_dir: str, path: str, text: str) -> str:
        key = (page_dir, path, text)
        found = self._made.get(key)
        if found is None:
            found = f'<a href="{_fast_escape(rel(path))}">{_fast_escape(text)}</a>'
            self._made[key] = found
        return found

    def counted_row(self, rel: Callable[[str], str], page_dir: str, c: Counted) -> str:
        """``<li>`` of a linked name and its count (a co-author on an author page, a top
        author on a topic page), made once per folder: most pairs recur on many pages."""
        link = c.link
        key = (page_dir, link.path, link.text, c.count)
        found = self._rows.get(key)
        if found is None:
            anchor = self.anchor(rel, page_dir, link.path, link.text)
            found = f'<li>{anchor} <span class="count">{c.count}</span></li>\n'
            self._rows[key] = found
        return found


def links_html(
    rel: Callable[[str], str], items: Sequence[Link], cls: str, anchors: Anchors, page_dir: str
) -> Markup:
    """``<ul>`` of links (topics, related topics): built here, not by a Jinja macro, because
    these lists are on every page and macro calls dominate render time."""
    a = anchors.anchor
    rows = "".join(f"<li>{a(rel, page_dir, i.path, i.text)}</li>\n" for i in items)
    return _markup(f'<ul class="{_fast_escape(cls)}">\n{rows}</ul>\n')


def counted_html(
    rel: Callable[[str], str], items: Sequence[Counted], cls: str, anchors: Anchors, page_dir: str
) -> Markup:
    """``<ul>`` of links with counts (co-authors, top authors, index pages)."""
    row = anchors.counted_row
    rows = "".join([row(rel, page_dir, c) for c in items])
    return _markup(f'<ul class="{_fast_escape(cls)}">\n{rows}</ul>\n')


def card_item_html(card: Card, href: str) -> str:
    """A paper's ``<li>`` in a list of papers (author, topic, listing, year pages, a paper's
    neighbours): made here, not by a template, because the parent process makes every
    paper's card before the workers start, and a template's render cost ten times this.
    Every value is escaped; the title is the paper's Markup without its links."""
    e = _fast_escape
    badge = ' <span class="badge">derived title</span>' if card.derived else ""
    if card.date_iso:
        when = f'<time datetime="{e(card.date_iso)}">{e(card.date_display)}</time>'
    else:
        when = e(card.date_display)
    category = f" · {e(card.category)}" if card.category else ""
    return (
        f'<li class="card"><a class="card-title" href="{e(href)}">{e(unlink(card.title_html))}'
        f'</a>{badge}<span class="card-meta">{e(card.authors_text)} · {when}{category}'
        "</span></li>\n"
    )


def year_links_html(
    root: str, years: Sequence[int], made: dict[tuple[str, tuple[int, ...]], str]
) -> Markup:
    """An author's years active, each linked to its year page, comma-separated (what a
    Jinja loop over the years would print, made once per link root and run of years:
    authors share them, and the loop cost a tenth of an author page)."""
    key = (root, tuple(years))
    found = made.get(key)
    if found is None:
        prefix = _fast_escape(root)
        found = ", ".join(
            f'<a href="{prefix}{_fast_escape(urls.year_path(y))}">{_fast_escape(y)}</a>'
            for y in years
        )
        made[key] = found
    return _markup(found)


def author_links_html(
    rel: Callable[[str], str], refs: Sequence[AuthorRef], anchors: Anchors, page_dir: str
) -> Markup:
    """A paper's authors, each linked to their page, comma-separated."""
    a = anchors.anchor
    return Markup(
        ", ".join(a(rel, page_dir, r.path, r.name) if r.path else str(escape(r.name)) for r in refs)
    )


def pager_html(rel: Callable[[str], str], lp: ListPage) -> str:
    """A list page's page navigation ('' when it has one page)."""
    pager = lp.pager
    pages = pager.pages
    if len(pages) <= 1:
        return ""
    n = len(pages)
    out = ['<nav class="pager" aria-label="Pages" data-pagefind-ignore="all">\n']
    if pager.prev:
        out.append(f'<a rel="prev" href="{_fast_escape(rel(pager.prev))}">← Previous page</a>')
    out.append(f"<span>Page {pager.page} of {n}</span>\n")
    if pager.next:
        out.append(f'<a rel="next" href="{_fast_escape(rel(pager.next))}">Next page →</a>')
    if n <= 30:
        out.append('<ol class="page-links">\n')
        for i, path in enumerate(pages, 1):
            if i == pager.page:
                out.append(f'<li><span aria-current="page">{i}</span></li>\n')
            else:
                out.append(f'<li><a href="{_fast_escape(rel(path))}">{i}</a></li>\n')
        out.append("</ol>\n")
    out.append("</nav>\n")
    return "".join(out)


def sections_html(
    rel: Callable[[str], str], cards: Callable[[Sequence[Card]], str], lp: ListPage, level: int
) -> Markup:
    """A list page's papers: each section's heading (if any) and its cards, then the pager.
    Built here, not by a Jinja macro: every author, topic, listing and year page has it,
    and a macro imported with the page's context costs a module and a context per page."""
    out = []
    for section in lp.sections:
        if section.heading:
            anchor = f' id="{_fast_escape(section.anchor)}"' if section.anchor else ""
            heading = _fast_escape(section.heading)
            out.append(f'<h{level} class="section-heading"{anchor}>{heading}</h{level}>\n')
        out.append(f'<ol class="cards">\n{cards(section.cards)}</ol>\n')
    out.append(pager_html(rel, lp))
    out.append("\n")
    return _markup("".join(out))


@dataclass(frozen=True, slots=True)
class PageInfo:
    path: str
    kind: str
    title: str
    description: str
    canonical: str | None = None
    head: Markup = Markup("")
    feed: str | None = None
    indexed: bool = False


def _list_prefix() -> str:
    """The link prefix of list pages (author, topic, listing pages share the paper pages'
    depth), where every card is shown."""
    return root_prefix(posixpath.dirname(urls.paper_path("x")))


class SiteText(dict[str, Any]):
    """The site's title and description as the templates read them (``site.title``, ...).
    The description as HTML (Markdown: ``generator.markdown``) is made when a page first
    shows it: only the home page does, and a rebuild that keeps it never loads the parser."""

    def __init__(self, title: str, description: str) -> None:
        super().__init__(title=title, description=clean(description))
        self.source = description
        # the same values as attributes too: Jinja reads ``site.title`` as an attribute
        # first, and an attribute a dict lacks costs an exception, several on every page
        self.title = title
        self.description = self["description"]

    def __missing__(self, key: str) -> Any:
        if key != "description_html":
            raise KeyError(key)
        from generator.markdown import markdown_html

        made = self[key] = markdown_html(self.source)
        return made


class Renderer:
    """Renders one page at a time from the shared SiteIndex."""

    def __init__(self, catalog: Catalog, config: SiteConfig) -> None:
        self.index = SiteIndex(catalog, config.title, config.base_url)
        self.config = config
        self.site = SiteText(self.index.site_title, config.description)
        self.env = environment()
        self._card_html: dict[tuple[str, str], Markup] = {}
        self._title_links: dict[tuple[str, str], str] = {}
        self._header_template = self.env.get_template("_header.html")
        self._headers: dict[tuple[str, str, bool], Markup] = {}
        self._year_links: dict[tuple[str, tuple[int, ...]], str] = {}
        self._folder_views: dict[tuple[str, str | None], dict[str, Any]] = {}
        self.anchors = Anchors()
        self.feed_writer = FeedWriter(self.index)

    # -- plumbing -------------------------------------------------------------------
    def list_page_info(
        self,
        lp: ListPage,
        kind: str,
        name: str,
        description: str,
        feed: str,
        indexed: bool = True,
    ) -> PageInfo:
        """A paged list (author, topic, listing): page 2 on says so in its title; only the
        first page goes into the search index."""
        title = name if lp.pager.page == 1 else f"{name} (page {lp.pager.page})"
        return PageInfo(
            lp.path,
            kind,
            title,
            description,
            feed=feed,
            head=page_head(title, description, self.index.site_title),
            indexed=indexed and lp.pager.page == 1,
        )

    def card_html(self, prefix: str, card: Card) -> Markup:
        """A paper's list item, rendered once per link depth and reused on every list."""
        key = (prefix, card.id)
        found = self._card_html.get(key)
        if found is None:
            found = _markup(card_item_html(card, prefix + card.path))
            self._card_html[key] = found
        return found

    def title_links(
        self, rel: Callable[[str], str], page_dir: str, cards: Sequence[Card]
    ) -> Markup:
        """``<li>`` links to papers by title (an author's research areas), one per card;
        each made once per folder of the site and reused on every page that shows it."""
        made = self._title_links
        rows = []
        for card in cards:
            key = (page_dir, card.id)
            row = made.get(key)
            if row is None:
                href = _fast_escape(rel(card.path))
                row = f'<li><a href="{href}">{unlink(card.title_html)}</a></li>\n'
                made[key] = row
            rows.append(row)
        return _markup("".join(rows))

    def prepare(self) -> None:
        """Fill the caches every worker would otherwise fill on its own (each needs nearly
        every paper's card for its list pages, and every abstract as plain text for page
        descriptions and feed summaries), in this process. The pages are the same either
        way; only the repeated work is gone. A parallel build makes the cards here
        (``prepare_cards``) and the plain abstracts in the workers that render the paper
        pages (``plain_abstracts``), which this process then ``adopt_plain``s."""
        self.prepare_cards()
        ids = [p.id for p in self.index.catalog.papers]
        self.adopt_plain(ids, self.plain_abstracts(ids))

    def prepare_cards(self) -> None:
        """Every paper's card, and its HTML at the list pages' depth."""
        ix = self.index
        prefix = _list_prefix()
        for p in ix.catalog.papers:
            self.card_html(prefix, ix.card(p.id))

    def plain_abstracts(self, paper_ids: Sequence[str]) -> list[str]:
        """The papers' abstracts as plain text (made once: a paper page shows its own)."""
        plain = self.index.plain_abstract
        return [plain(pid) for pid in paper_ids]

    def adopt_plain(self, paper_ids: Sequence[str], texts: Sequence[str]) -> None:
        """Take plain abstracts made by ``plain_abstracts`` in a worker."""
        adopt = self.index.adopt_plain_abstract
        for pid, text in zip(paper_ids, texts, strict=True):
            adopt(pid, text)

    def feed_entries(self, paper_ids: Sequence[str]) -> list[bytes]:
        """The papers' Atom entries (``FeedWriter.entry_bytes``)."""
        entry = self.feed_writer.entry_bytes
        papers = self.index.papers
        return [entry(papers[pid]) for pid in paper_ids]

    def adopt_entries(self, paper_ids: Sequence[str], entries: Sequence[bytes]) -> None:
        """Take feed entries made by ``feed_entries`` in a worker."""
        adopt = self.feed_writer.adopt
        for pid, entry in zip(paper_ids, entries, strict=True):
            adopt(pid, entry)

    def bibtex_parts(self, paper_ids: Sequence[str]) -> list[tuple[str, str]]:
        """The papers' BibTeX fields and own citation keys (made once: a paper page shows
        its entry, and papers.bib needs them all)."""
        ix = self.index
        papers = [ix.papers[pid] for pid in paper_ids]
        return [(ix.bib_body(p), ix.citation_key(p)) for p in papers]

    def adopt_bibtex(self, paper_ids: Sequence[str], parts: Sequence[tuple[str, str]]) -> None:
        """Take BibTeX parts made by ``bibtex_parts`` in a worker."""
        adopt = self.index.adopt_bibtex
        for pid, (body, key) in zip(paper_ids, parts, strict=True):
            adopt(pid, body, key)

    def site_header(self, rel: Callable[[str], str], prefix: str, kind: str) -> Markup:
        """The header (site name, navigation, search form), rendered once per depth and kind."""
        key = (prefix, kind, kind == "404")
        found = self._headers.get(key)
        if found is None:
            page = {"kind": kind}
            found = Markup(
                self._header_template.render(rel=rel, root=rel(""), site=self.site, page=page)
            )
            self._headers[key] = found
        return found

    def folder_view(self, page_path: str, absolute: str | None) -> dict[str, Any]:
        """What every template sees that depends on the page's folder only: ``rel``,
        ``root`` and the helpers that make links (``cards``, ``links``, ...). Made once per
        folder (and once more for absolute links: the 404 page), not per page: thousands
        of pages share a folder, and each made its own nine closures."""
        page_dir = posixpath.dirname(page_path)
        key = (page_dir, absolute)
        found = self._folder_views.get(key)
        if found is None:
            found = self._folder_views[key] = self._make_folder_view(page_path, absolute)
        return found

    def _make_folder_view(self, page_path: str, absolute: str | None) -> dict[str, Any]:
        rel = make_rel(page_path, absolute)
        page_dir = posixpath.dirname(page_path)
        prefix = root_prefix(page_dir)
        # anchors are cached per folder; absolute links (the 404 page) get their own key
        link_dir = "\x00abs" if absolute else page_dir
        anchors = self.anchors
        card_html = self.card_html
        root = rel("")
        year_links = self._year_links

        def cards(cs: Sequence[Card]) -> Markup:
            return _markup("".join([card_html(prefix, c) for c in cs]))

        return {
            "rel": rel,
            "root": root,
            "cards": cards,
            "sections": lambda lp, level=2: sections_html(rel, cards, lp, level),
            "title_links": lambda cs: self.title_links(rel, link_dir, cs),
            "year_links": lambda ys: year_links_html(root, ys, year_links),
            "site_header": lambda kind: self.site_header(rel, prefix, kind),
            "author_links": lambda refs: author_links_html(rel, refs, anchors, link_dir),
            "links": lambda items, cls="tags": links_html(rel, items, cls, anchors, link_dir),
            "counted": lambda items, cls="counted": counted_html(
                rel, items, cls, anchors, link_dir
            ),
            "same_name_note": SAME_NAME_NOTE,
        }

    def page(self, template: str, info: PageInfo, **view: Any) -> OutputFile:
        base = self.config.base_url
        absolute = base if info.kind == "404" else None
        if info.canonical is None and base and info.kind not in ("404", "search"):
            info = _with(info, canonical=urls.absolute_url(base, info.path))
        folder = self.folder_view(info.path, absolute)
        try:
            html = self.env.get_template(template).render(
                page=info,
                site=self.site,
                **folder,
                **view,
            )
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or template
            line = getattr(exc, "lineno", None)
            raise BuildError(
                f"template error in {where}{':' + str(line) if line else ''} "
                f"rendering {info.path}: {exc}"
            ) from exc
        except Exception as exc:  # an expression in a template failed: {{ 1 / 0 }}, a bad call
            frames = [
                f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".html")
            ]
            where = _short_path(frames[-1].filename) if frames else template
            line = frames[-1].lineno if frames else None
            raise BuildError(
                f"template error in {where}{':' + str(line) if line else ''} "
                f"rendering {info.path}: {type(exc).__name__}: {exc}"
            ) from exc
        return OutputFile(info.path, page_bytes(html))

    # -- pages ----------------------------------------------------------------------
    def paper(self, paper_id: str) -> OutputFile:
        ix = self.index
        paper = ix.papers[paper_id]
        view = ix.paper_view(paper)
        path = view.card.path
        description = ix.description(paper)
        head = paper_head(view, path, ix.site_title, ix.base_url, description)
        listing_names = [nav.link.text for nav in view.listings]
        info = PageInfo(path, "paper", view.card.title_text, description, head=head, indexed=True)
        sort_date = _sort_date(paper.date)
        return self.page(
            "paper.html", info, paper=view, sort_date=sort_date, listing_names=listing_names
        )

    def author(self, author_id: str) -> list[OutputFile]:
        ix = self.index
        author = ix.authors[author_id]
        name = clean(author.name)
        years = author.years or tuple(
            sorted({c.year for c in ix.cards(author.paper_ids) if c.year})
        )
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else (str(years[0]) if years else "")
        description = (
            f"{len(author.paper_ids)} papers by {name}" + (f", {span}" if span else "") + "."
        )
        feed = urls.feed_path("authors", author.id)
        out = []
        pages = ix.author_pages(author)
        for lp in pages:
            info = self.list_page_info(lp, "author", name, description, feed)
            out.append(
                self.page(
                    "author.html",
                    info,
                    name=name,
                    listpage=lp,
                    years=years,
                    span=span,
                    coauthors=ix.coauthors(author, MAX_COAUTHORS) if lp.pager.page == 1 else (),
                    more_coauthors=max(0, len(author.coauthors) - MAX_COAUTHORS),
                    topics=ix.topic_links(author.topics),
                    groups=ix.author_groups(author) if lp.pager.page == 1 else (),
                )
            )
        return out

    def topic(self, topic_id: str) -> list[OutputFile]:
        ix = self.index
        topic = ix.topics[topic_id]
        name = ix.topic_names[topic.id]
        definition = clean(topic.definition)
        description = shorten(f"{name}: {definition}" if definition else name)
        feed = urls.feed_path("topics", topic.id)
        out = []
        for lp in ix.topic_pages(topic):
            info = self.list_page_info(lp, "topic", name, description, feed)
            out.append(
                self.page(
                    "topic.html",
                    info,
                    name=name,
                    definition=definition,
                    kind=topic.kind,
                    listpage=lp,
                    top_authors=ix.top_authors(topic),
                    related=ix.topic_links(topic.related),
                )
            )
        return out

    def listing(self, listing_id: str) -> list[OutputFile]:
        ix = self.index
        listing = ix.listings[listing_id]
        name = clean(listing.name) or listing.id
        description = f"{name}: {len(listing.paper_ids)} papers."
        feed = urls.feed_path("listings", listing.id)
        mixed = listing.mixed and len(listing.groups) > 1
        out = []
        for lp in ix.listing_pages(listing):
            info = self.list_page_info(lp, "listing", name, description, feed, indexed=False)
            out.append(
                self.page(
                    "listing.html",
                    info,
                    name=name,
                    file=clean(listing.file),
                    listpage=lp,
                    topics=ix.topic_links(listing.topics),
                    mixed=mixed,
                )
            )
        return out

    def year(self, year: int) -> list[OutputFile]:
        ix = self.index
        ids = ix.years()[year]
        description = f"{len(ids)} papers from {year}."
        out = []
        for lp in ix.year_pages(year, ids):
            title = f"Papers from {year}" + (
                "" if lp.pager.page == 1 else f" (page {lp.pager.page})"
            )
            info = PageInfo(
                lp.path,
                "year",
                title,
                description,
                head=page_head(title, description, ix.site_title),
            )
            out.append(self.page("year.html", info, year=year, listpage=lp))
        return out

    def home(self) -> OutputFile:
        ix = self.index
        c = ix.catalog
        description = self.site["description"]
        info = PageInfo(
            urls.INDEX,
            "home",
            ix.site_title,
            description,
            head=page_head(ix.site_title, description, ix.site_title),
        )
        listings = [(ix.listing_link(li), len(li.paper_ids)) for li in c.listings]
        newest = ix.cards(p.id for p in c.papers[:HOME_NEWEST])
        years = [(y, len(ids)) for y, ids in ix.years().items()]
        return self.page(
            "home.html",
            info,
            listings=listings,
            newest=newest,
            topics=ix.main_topics(),
            years=years,
            counts={
                "papers": len(c.papers),
                "authors": len(c.authors),
                "topics": len(c.topics),
                "listings": len(c.listings),
            },
        )

    def years_index(self) -> OutputFile:
        ix = self.index
        years = [(y, len(ids)) for y, ids in ix.years().items()]
        undated = sum(1 for p in ix.catalog.papers if p.year is None)
        description = f"Papers by year: {len(years)} years."
        info = PageInfo(
            urls.YEARS_INDEX,
            "years",
            "Papers by year",
            description,
            head=page_head("Papers by year", description, ix.site_title),
        )
        return self.page("years.html", info, years=years, undated=undated)

    def authors_index(self) -> list[OutputFile]:
        ix = self.index
        letters = ix.author_letters()
        total = len(ix.catalog.authors)
        split = total > AUTHOR_INDEX_SPLIT
        description = f"All {total} authors, A to Z."
        letter_paths = {
            k: (urls.authors_letter_path(k) if split else urls.AUTHORS_INDEX) for k in letters
        }
        info = PageInfo(
            urls.AUTHORS_INDEX,
            "authors",
            "Authors A–Z",
            description,
            head=page_head("Authors A–Z", description, ix.site_title),
        )
        out = [
            self.page(
                "authors.html",
                info,
                letters=letters if not split else {},
                letter_paths=letter_paths,
                letter_counts={k: len(v) for k, v in letters.items()},
                total=total,
                split=split,
            )
        ]
        if split:
            for k, entries in letters.items():
                title = f"Authors: {k.upper()}"
                info = PageInfo(
                    letter_paths[k],
                    "authors",
                    title,
                    description,
                    head=page_head(title, description, ix.site_title),
                )
                out.append(
                    self.page(
                        "authors.html",
                        info,
                        letters={k: entries},
                        letter_paths=letter_paths,
                        letter_counts={k2: len(v) for k2, v in letters.items()},
                        total=total,
                        split=split,
                    )
                )
        return out

    def topics_index(self) -> OutputFile:
        ix = self.index
        description = f"All {len(ix.catalog.topics)} topics."
        info = PageInfo(
            urls.TOPICS_INDEX,
            "topics",
            "Topics",
            description,
            head=page_head("Topics", description, ix.site_title),
        )
        return self.page(
            "topics.html",
            info,
            categories=ix.topic_counts("category"),
            phrases=ix.topic_counts("phrase"),
        )

    def listings_index(self) -> OutputFile:
        ix = self.index
        description = f"All {len(ix.catalog.listings)} listings."
        rows = [
            (ix.listing_link(li), len(li.paper_ids), clean(li.file), ix.topic_links(li.topics[:5]))
            for li in ix.catalog.listings
        ]
        info = PageInfo(
            urls.LISTINGS_INDEX,
            "listings",
            "Listings",
            description,
            head=page_head("Listings", description, ix.site_title),
        )
        return self.page("listings.html", info, rows=rows)

    def not_found(self) -> OutputFile:
        info = PageInfo(
            urls.NOT_FOUND, "404", "Page not found", "The page you asked for is not here."
        )
        return self.page("404.html", info)

    def search(self) -> OutputFile:
        info = PageInfo(
            urls.SEARCH,
            "search",
            "Search",
            f"Search the papers, authors and topics of {self.index.site_title}.",
        )
        return self.page("search.html", info)

    # -- exports ------------------------------------------------------------------------
    def feeds(self, kind: str, item_id: str) -> OutputFile:
        ix = self.index
        if kind == "authors":
            a = ix.authors[item_id]
            title, page, ids = a.name, urls.author_path(item_id), a.paper_ids
        elif kind == "topics":
            t = ix.topics[item_id]
            title, page, ids = t.name, urls.topic_path(item_id), t.paper_ids
        else:
            li = ix.listings[item_id]
            title, page, ids = li.name, urls.listing_path(item_id), li.paper_ids
        path = urls.feed_path(kind, item_id)
        return OutputFile(path, self.feed_writer.feed(kind, item_id, title, page, ids))

    def paper_json_row(self, p: Paper) -> str:
        """One paper's line of papers.json."""
        ix = self.index
        row = {
            "id": p.id,
            "url": urls.paper_path(p.id),
            "arxiv_id": p.arxiv_id,
            "title": p.title,
            "title_source": p.title_source,
            "authors": ix.author_names(p),
            "authors_truncated": p.authors_truncated,
            "date": p.date,
            "date_precision": p.date_precision,
            "year": p.year,
            "category": p.category,
            "topics": [t.text for t in ix.topic_links(ix.catalog.paper_topics.get(p.id, ()))],
            "listings": list(p.listings),
            "comments": p.comments,
            "journal_ref": p.journal_ref,
            "venue": p.venue,
            "doi": p.doi,
            "code_url": p.code_url,
            "has_code": p.has_code,
            "abstract": p.abstract,
            "field_sources": field_sources(p),
        }
        return json.dumps(row, ensure_ascii=False, separators=(",", ":"))

    def papers_json(self, row: Callable[[Paper], str] | None = None) -> OutputFile:
        """``row`` gives a paper's line (a cache); by default it is made here."""
        make = row or self.paper_json_row
        return OutputFile("papers.json", _json_lines([make(p) for p in self.index.catalog.papers]))

    def papers_bib(
        self,
        body: Callable[[Paper], str] | None = None,
        base_key: Callable[[Paper], str] | None = None,
    ) -> OutputFile:
        ix = self.index
        text = site_bibtex(
            ix.catalog.papers, body=body or ix.bib_body, base_key=base_key or ix.citation_key
        )
        return OutputFile("papers.bib", text.encode("utf-8"))

    def listings_json(self) -> OutputFile:
        rows = [
            {
                "id": li.id,
                "file": li.file,
                "name": li.name,
                "mixed": li.mixed,
                "papers": list(li.paper_ids),
                "groups": listing_groups(li),
            }
            for li in self.index.catalog.listings
        ]
        return OutputFile("listings.json", _json_bytes(rows))

    # -- jobs ---------------------------------------------------------------------------
    def run(self, job: tuple[str, str]) -> list[OutputFile]:
        kind, key = job
        if kind == "paper":
            return [self.paper(key)]
        if kind == "author":
            return self.author(key)
        if kind == "topic":
            return self.topic(key)
        if kind == "listing":
            return self.listing(key)
        if kind == "year":
            return self.year(int(key))
        if kind == "feed":
            feed_kind, _, item = key.partition(":")
            return [self.feeds(feed_kind, item)]
        singles: Mapping[str, Callable[[], OutputFile | list[OutputFile]]] = {
            "home": self.home,
            "years": self.years_index,
            "authors-index": self.authors_index,
            "topics-index": self.topics_index,
            "listings-index": self.listings_index,
            "404": self.not_found,
            "search": self.search,
            "papers.json": self.papers_json,
            "listings.json": self.listings_json,
            "papers.bib": self.papers_bib,
        }
        made = singles[kind]()
        return made if isinstance(made, list) else [made]

    def jobs(self) -> list[tuple[str, str]]:
        c = self.index.catalog
        jobs: list[tuple[str, str]] = [
            (k, "")
            for k in (
                "home",
                "years",
                "authors-index",
                "topics-index",
                "listings-index",
                "404",
                "papers.json",
                "listings.json",
                "papers.bib",
            )
        ]
        if (TEMPLATES / "search.html").is_file():
            jobs.append(("search", ""))
        jobs += [("paper", p.id) for p in c.papers]
        jobs += [("author", a.id) for a in c.authors]
        jobs += [("topic", t.id) for t in c.topics]
        jobs += [("listing", li.id) for li in c.listings]
        jobs += [("year", str(y)) for y in self.index.years()]
        jobs += [("feed", f"authors:{a.id}") for a in c.authors]
        jobs += [("feed", f"topics:{t.id}") for t in c.topics]
        jobs += [("feed", f"listings:{li.id}") for li in c.listings]
        return jobs


def _with(info: PageInfo, **changes: Any) -> PageInfo:
    from dataclasses import replace

    return replace(info, **changes)


def _sort_date(date: str | None) -> str | None:
    if not date:
        return None
    parts = (date.split("-") + ["01", "01"])[:3]
    return "-".join(parts)


def _json_bytes(rows: Sequence[Any]) -> bytes:
    """A JSON array with one compact row per line: small, and still diffable."""
    return _json_lines([json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows])


def _json_lines(lines: Sequence[str]) -> bytes:
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode()


def static_files() -> list[OutputFile]:
    """Every file under static/ (style, scripts, the search engineer's assets)."""
    out = []
    for path in sorted(STATIC.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            rel = path.relative_to(STATIC).as_posix()
            out.append(OutputFile(f"static/{rel}", path.read_bytes()))
    return out


_WORKER: Renderer | None = None
_SINK: Staging | None = None  # streamed builds: where workers write each file they render
Job = tuple[str, str]
Put = tuple[str, bytes, int]  # a file written into the staging folder: path, SHA-256, bytes written


def _run_job(renderer: Renderer, job: Job) -> tuple[Job, Any]:
    """A job's files; with a sink (``_SINK``), written there at once and sent back as
    (path, SHA-256, bytes written) only, so no page's bytes go through a pipe or stay in memory."""
    made = renderer.run(job)
    if _SINK is None:
        return job, made
    return job, [_put(_SINK, f) for f in made]


def _put(sink: Staging, f: OutputFile) -> Put:
    digest, linked = sink.put(f.path, f.data)
    return f.path, digest, 0 if linked else len(f.data)


def _render_chunk(chunk: Sequence[Job]) -> list[tuple[Job, Any]]:
    assert _WORKER is not None
    return [_run_job(_WORKER, job) for job in chunk]


def _render_paper_chunk(
    chunk: Sequence[Job], entries: bool = False
) -> tuple[list[tuple[Job, Any]], list[str], list[tuple[str, str]], list[bytes]]:
    """Paper pages, and their papers' abstracts as plain text and BibTeX parts (each made
    for the pages); with ``entries``, their feed entries too (made from the pages' views,
    once: else each worker rendering feeds makes most papers' entries again)."""
    assert _WORKER is not None
    done = [_run_job(_WORKER, job) for job in chunk]
    ids = [key for _, key in chunk]
    made = _WORKER.feed_entries(ids) if entries else []
    return done, _WORKER.plain_abstracts(ids), _WORKER.bibtex_parts(ids), made


def _compile_templates(env: jinja2.Environment) -> None:
    """Compile every template once, before the workers fork (each would compile its own);
    a template with an error is left to the page that uses it, which reports it."""
    for name in env.list_templates(extensions=["html"]):
        try:
            env.get_template(name)
        except jinja2.TemplateError:
            continue


CHUNKS_PER_WORKER = 8  # small enough that the last chunk of a pool leaves no worker idle long


def _chunks(jobs: Sequence[Job], n: int) -> Iterator[Sequence[Job]]:
    size = max(1, -(-len(jobs) // n))
    for i in range(0, len(jobs), size):
        yield jobs[i : i + size]


def _in_pool(
    ctx: multiprocessing.context.BaseContext,
    jobs: int,
    run: Callable[[ProcessPoolExecutor], list[Any]],
) -> list[Any]:
    """``run(pool)`` with ``jobs`` forked workers; on any error, no worker writes after it.
    Objects that exist at the fork are left out of garbage collections meanwhile (the
    inherited catalog and caches: walking them costs every worker time and copies pages)."""
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)
        try:
            done = run(pool)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    finally:
        gc.unfreeze()
    return done


def _render_jobs(
    renderer: Renderer,
    work: Sequence[Job],
    jobs: int,
    meanwhile: Callable[[], None] | None = None,
    sink: Staging | None = None,
    later: Callable[[], None] | None = None,
) -> list[tuple[Job, Any]]:
    """Each job's files (with ``sink``: written into it, as ``Put`` rows), in job order; in
    ``jobs`` forked workers when there is enough work. ``meanwhile``, then ``later``, run in
    this process while the workers render (or after, when serial).

    A whole site renders in two rounds of workers. Every card is made here first (paper
    pages show their neighbours' cards, list pages nearly all). Then the paper pages, whose
    workers also send back their papers' abstracts as plain text (made for the pages'
    descriptions), BibTeX parts (made for the pages' entries) and, when feeds are to be
    made, feed entries (from the pages' views), while this process runs ``meanwhile``;
    then, forked again once those are adopted here, every other page (feeds summarise
    nearly every abstract) while this process runs ``later`` (papers.bib takes every
    paper's BibTeX parts). So none is made twice, nor all of them in one process before
    the workers start."""
    global _WORKER, _SINK
    _SINK = sink
    try:
        if jobs > 1 and len(work) > 200 and "fork" in multiprocessing.get_all_start_methods():
            _WORKER = renderer
            _compile_templates(renderer.env)
            ctx = multiprocessing.get_context("fork")
            per_pool = jobs * CHUNKS_PER_WORKER
            if len(work) < len(renderer.index.catalog.papers):  # a few pages, not a whole site
                return _in_pool(
                    ctx,
                    jobs,
                    lambda pool: _gather(
                        pool.map(_render_chunk, _chunks(work, per_pool)), meanwhile, later
                    ),
                )
            renderer.prepare_cards()
            first = [i for i, job in enumerate(work) if job[0] == "paper"]
            rest = [i for i, job in enumerate(work) if job[0] != "paper"]
            done: list[Any] = [None] * len(work)

            render_papers = functools.partial(
                _render_paper_chunk, entries=any(job[0] == "feed" for job in work)
            )

            def papers(pool: ProcessPoolExecutor) -> list[Any]:
                parts = pool.map(render_papers, _chunks([work[i] for i in first], per_pool))
                if meanwhile is not None:
                    meanwhile()
                made: list[Any] = []
                for rows, texts, bib, entries in parts:
                    ids = [key for (_, key), _ in rows]
                    renderer.adopt_plain(ids, texts)
                    renderer.adopt_bibtex(ids, bib)
                    if entries:  # made only when feeds are
                        renderer.adopt_entries(ids, entries)
                    made += rows
                return made

            for i, row in zip(first, _in_pool(ctx, jobs, papers), strict=True):
                done[i] = row
            others = [work[i] for i in rest]
            made = _in_pool(
                ctx,
                jobs,
                lambda pool: _gather(pool.map(_render_chunk, _chunks(others, per_pool)), later),
            )
            for i, row in zip(rest, made, strict=True):
                done[i] = row
            return done
        done = [_run_job(renderer, job) for job in work]
        for then in (meanwhile, later):
            if then is not None:
                then()
        return done
    finally:
        _WORKER = None
        _SINK = None


def _gather(
    parts: Iterator[list[tuple[Job, Any]]], *meanwhile: Callable[[], None] | None
) -> list[tuple[Job, Any]]:
    """The chunks' rows in order, after running each ``meanwhile`` given, in order, while
    the workers render."""
    for then in meanwhile:
        if then is not None:
            then()
    return [r for part in parts for r in part]


# papers.json and papers.bib are assembled from per-paper pieces kept in the memo
_WHOLE_SITE_JOBS = ("papers.json", "papers.bib")


def render_site(catalog: Catalog, config: SiteConfig, jobs: int = 1) -> tuple[OutputFile, ...]:
    """Every file of the site in memory, sorted by path. ``jobs`` > 1 renders in forked
    workers. The build uses ``render_to`` (the same files, streamed to disk, with a memo)."""
    renderer = Renderer(catalog, config)
    files: list[OutputFile] = []
    for _, made in _render_jobs(renderer, renderer.jobs(), jobs):
        files.extend(made)
    files.extend(static_files())
    files += _site_map(config, [f.path for f in files])
    files.sort(key=lambda f: f.path)
    for a, b in zip(files, files[1:], strict=False):
        if a.path == b.path:
            raise BuildError(f"two pages would be written to the same path: {a.path}")
    return tuple(files)


def _short_path(filename: str) -> str:
    """A template's path as the user knows it: relative to the working folder when inside it."""
    try:
        return Path(filename).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return filename


# -- rendered straight into the site ---------------------------------------------------------


class RenderedSite:
    """A rendered site on its way to ``out`` (``render_to``): either streamed into a staging
    folder already (``write`` checks it and swaps it in), or, when few pages changed, the
    changed files in memory plus the unchanged ones known by digest (``write`` updates the
    site in place when it may). ``abort`` drops it, leaving ``out`` as it was."""

    def __init__(
        self,
        out: Path,
        digests: dict[str, bytes],
        *,
        staging: Staging | None = None,
        written: tuple[int, int] = (0, 0),
        files: Sequence[OutputFile] = (),
        kept: Mapping[str, bytes] | None = None,
        previous: Mapping[str, bytes] | None = None,
    ) -> None:
        self.out = out
        self.digests = digests  # path -> SHA-256 of every file of the new site
        self._staging = staging
        self._written = written  # streamed: files written (not linked), bytes written
        self._files = files
        self._kept = kept or {}
        self._previous = previous

    @property
    def count(self) -> int:
        return len(self.digests)

    @property
    def pages(self) -> int:
        return sum(1 for p in self.digests if p.endswith(".html"))

    def write(self, before_swap: Callable[[Path], None] | None = None) -> WriteStats:
        from generator.write import WriteStats, write_site

        if self._staging is None:
            with _no_gc() if before_swap is None else contextlib.nullcontext():
                return write_site(
                    self._files,
                    self.out,
                    before_swap,
                    previous=self._previous,
                    kept=self._kept,
                    digests=self.digests,
                )
        try:
            self._staging.finish(self.digests, before_swap)
        except BaseException:
            self._staging.abort()
            raise
        changed, size = self._written
        n = len(self.digests)
        return WriteStats(n, size, n - changed, "swap", changed, 0, self.digests)

    def abort(self) -> None:
        if self._staging is not None:
            self._staging.abort()


def render_to(
    catalog: Catalog,
    config: SiteConfig,
    out: Path,
    jobs: int = 1,
    memo: MutableMapping[str, Any] | None = None,
    previous: Mapping[str, bytes] | None = None,
    in_place: bool = True,
) -> RenderedSite:
    """Render the site for ``out`` without holding its pages in memory: each page is written
    into a staging folder beside ``out`` as soon as a worker renders it (linked from the
    previous site when its bytes are unchanged), and only its path and digest come back.
    ``RenderedSite.write`` then swaps the folder in (``generator.write``).

    ``memo``: per-page keys and digests of earlier builds (``generator.pagememo``); a page
    whose key is unchanged and whose file the previous site still holds with those bytes is
    linked, not rendered. ``previous``: path -> SHA-256 of the site now at ``out``, when the
    caller knows it is exact. With it, ``in_place`` and only a few pages to render, those are
    rendered in memory and the site is updated in place (``write_site``). The files are the
    same as ``render_site``'s."""
    from generator.write import open_staging

    out = Path(os.path.abspath(out))
    hits: dict[Job, tuple[tuple[str, bytes], ...]] = {}
    digests: dict[Job, bytes] = {}
    with _no_gc():
        renderer = Renderer(catalog, config)
        work = renderer.jobs()
        pages = [job for job in work if job[0] not in _WHOLE_SITE_JOBS]
        keys = _page_keys(renderer, config) if memo is not None else None
        if memo and keys is not None:
            # the keys certainly the same as the last build's (see pagememo)
            unchanged = keys.unchanged(memo.get(_KEYS_RECORD))
            if unchanged is None:
                keys.prepare()
            for job in pages:
                hit = memo.get(_memo_name(job))
                if hit is not None and unchanged is not None and unchanged(job):
                    digests[job] = hit[0]
                    hits[job] = hit[1]
                    continue
                digest = digests[job] = keys.key(*job)
                if hit is not None and hit[0] == digest:
                    hits[job] = hit[1]
        few = False
        if in_place and previous is not None and out.is_dir() and memo is not None:
            # the pages whose files the site still holds with those bytes
            items = previous.items()
            hits = {
                j: e
                for j, e in hits.items()
                if (e[0] in items if len(e) == 1 else all(x in items for x in e))
            }
            few = len(pages) - len(hits) <= max(64, len(work) // 10)
    if few and previous is not None and memo is not None:
        return _in_memory(
            renderer, config, out, work, pages, jobs, memo, keys, hits, digests, previous
        )
    staging = open_staging(out, previous)
    try:
        return _stream(renderer, config, staging, work, pages, jobs, memo, keys, hits, digests)
    except BaseException:
        staging.abort()
        raise


def _in_memory(
    renderer: Renderer,
    config: SiteConfig,
    out: Path,
    work: Sequence[Job],
    pages: Sequence[Job],
    jobs: int,
    memo: MutableMapping[str, Any],
    keys: PageKeys | None,
    hits: Mapping[Job, tuple[tuple[str, bytes], ...]],
    digests: dict[Job, bytes],
    previous: Mapping[str, bytes],
) -> RenderedSite:
    """``render_to`` when few pages changed: those in memory, the rest kept by digest."""
    kept: dict[str, bytes] = {}
    for entries in hits.values():
        kept.update(entries)
    stale = [job for job in pages if job not in hits]
    files: list[OutputFile] = []
    for job, made in _render_jobs(renderer, stale, jobs):
        files.extend(made)
        key = digests.get(job) or (keys.key(*job) if keys is not None else b"")
        memo[_memo_name(job)] = (key, _file_digests(made))
    with _no_gc():
        made, reused = _whole_site_files(
            renderer,
            work,
            memo,
            keys,
            lambda p, d: previous.get(p) == d,
            lambda p, d: _read_file(out / p) if previous.get(p) == d else None,
        )
        files += made
        kept.update(reused)
        files += static_files()
        files += _site_map(config, [*kept, *(f.path for f in files)])
        _drop_unused(memo, renderer, work, keys)
        site = {**kept, **_file_map(files)}
    return RenderedSite(out, site, files=files, kept=kept, previous=previous)


def _stream(
    renderer: Renderer,
    config: SiteConfig,
    staging: Staging,
    work: Sequence[Job],
    pages: Sequence[Job],
    jobs: int,
    memo: MutableMapping[str, Any] | None,
    keys: PageKeys | None,
    hits: Mapping[Job, tuple[tuple[str, bytes], ...]],
    digests: dict[Job, bytes],
) -> RenderedSite:
    """``render_to`` through the staging folder (see there)."""
    site: dict[str, bytes] = {}
    paths: list[str] = []
    written = [0, 0]

    def add(rows: Sequence[Put]) -> None:
        for path, digest, size in rows:
            site[path] = digest
            paths.append(path)
            if size:
                written[0] += 1
                written[1] += size

    stale: list[Job] = []
    for job in pages:
        entries = hits.get(job)
        if entries is None or not all(staging.has(p, d) for p, d in entries):
            stale.append(job)
            continue
        for path, _ in entries:
            staging.keep(path)
        add([(p, d, 0) for p, d in entries])

    def read(path: str, digest: bytes) -> bytes | None:
        return _read_file(staging.out / path) if staging.has(path, digest) else None

    def reuse(path: str, digest: bytes) -> bool:
        if staging.has(path, digest):
            staging.keep(path)
            return True
        return False

    @_no_gc()
    def meanwhile() -> None:
        if keys is not None:
            keys.prepare()
            for job in stale:
                if job not in digests:
                    digests[job] = keys.key(*job)

    @_no_gc()
    def later() -> None:  # after the paper pages, whose workers' BibTeX parts it takes
        made, reused = _whole_site_files(renderer, work, memo, keys, reuse, read)
        add([(p, d, 0) for p, d in reused.items()])
        add([_put(staging, f) for f in made])
        if keys is not None:
            keys.record()  # made while the workers render (kept at the end)

    rendered = _render_jobs(renderer, stale, jobs, meanwhile, sink=staging, later=later)
    for job, rows in rendered:
        add(rows)
        if memo is not None:
            memo[_memo_name(job)] = (digests[job], tuple((p, d) for p, d, _ in rows))
    add([_put(staging, f) for f in static_files()])
    add([_put(staging, f) for f in _site_map(config, paths)])
    from generator.write import check_paths

    check_paths((), paths)
    _drop_unused(memo, renderer, work, keys)
    return RenderedSite(staging.out, site, staging=staging, written=(written[0], written[1]))


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: the work here makes tens of thousands of small
    tuples and no cycles, and each collection it would set off walks the whole catalog."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# the memo's entry for ``PageKeys.since``: what this build's keys were made from
_KEYS_RECORD = "keys"


def _memo_name(job: Job) -> str:
    return f"page\x00{job[0]}\x00{job[1]}"


def _page_keys(renderer: Renderer, config: SiteConfig) -> PageKeys:
    from generator.pagememo import PageKeys, build_salt

    extra = ("search.html",) if (TEMPLATES / "search.html").is_file() else ()
    salt = build_salt(config.title, config.description, config.base_url, extra, (TEMPLATES, STATIC))
    return PageKeys(renderer.index, salt, MAX_COAUTHORS)


def _file_digests(files: Sequence[OutputFile]) -> tuple[tuple[str, bytes], ...]:
    return tuple((f.path, hashlib.sha256(f.data).digest()) for f in files)


def _file_map(files: Sequence[OutputFile]) -> dict[str, bytes]:
    return dict(_file_digests(files))


def _site_map(config: SiteConfig, paths: Sequence[str]) -> list[OutputFile]:
    """sitemap.xml and robots.txt, with a base URL (``paths``: every other file of the site)."""
    base = config.base_url
    if not base:
        return []
    return [
        OutputFile("sitemap.xml", sitemap_xml(base, sitemap_paths(list(paths)))),
        OutputFile("robots.txt", robots_txt(base)),
    ]


def _whole_site_files(
    renderer: Renderer,
    work: Sequence[Job],
    memo: MutableMapping[str, Any] | None,
    keys: PageKeys | None,
    reuse: Callable[[str, bytes], bool],
    read: Callable[[str, bytes], bytes | None] = lambda path, digest: None,
) -> tuple[list[OutputFile], dict[str, bytes]]:
    """papers.json and papers.bib. With a memo: kept as they are (returned as path -> digest)
    when no paper changed and ``reuse(path, digest)`` finds the previous site's file; else
    made again from the previous file's pieces (``read(path, digest)``: its bytes, or None),
    taking each paper's line or entry from it when the paper's fingerprint is unchanged (the
    memo records, per file, each paper's fingerprint and where its piece is)."""
    files: list[OutputFile] = []
    kept: dict[str, bytes] = {}
    kinds = {job[0] for job in work}
    for kind in _WHOLE_SITE_JOBS:
        if kind not in kinds:
            continue
        if memo is None or keys is None:
            files.append(renderer.papers_json() if kind == "papers.json" else renderer.papers_bib())
            continue
        name = f"whole\x00{kind}"
        digest = keys.all_papers(kind)
        hit = memo.get(name)
        if not (isinstance(hit, tuple) and len(hit) == 4):
            hit = None  # none, or from a memo of another form
        if hit is not None and hit[0] == digest and reuse(*hit[1]):
            kept[hit[1][0]] = hit[1][1]
            continue
        data = record = None
        if hit is not None and hit[2] == keys.salt:
            data, record = read(*hit[1]), hit[3]
        made, record = (_papers_json if kind == "papers.json" else _papers_bib)(
            renderer, keys, record, data
        )
        memo[name] = (digest, (made.path, hashlib.sha256(made.data).digest()), keys.salt, record)
        files.append(made)
    return files, kept


def _fingerprints(keys: PageKeys, papers: Sequence[Paper]) -> tuple[tuple[str, ...], bytes]:
    ids = tuple([p.id for p in papers])
    return ids, keys.papers(ids)


def _old_pieces(
    ids: Sequence[str], fps: bytes, pieces: Sequence[bytes], extra: Sequence[Any]
) -> dict[str, tuple[bytes, Any, bytes]]:
    """paper id -> (fingerprint, extra, piece) from a previous file's record (none when
    the record does not fit the file)."""
    n = len(fps) // max(1, len(ids))
    if not len(ids) == len(pieces) == len(extra) or n * len(ids) != len(fps):
        return {}
    return {
        pid: (fps[i * n : i * n + n], extra[i], piece)
        for i, (pid, piece) in enumerate(zip(ids, pieces, strict=True))
    }


def _papers_json(
    renderer: Renderer, keys: PageKeys, record: Any, data: bytes | None
) -> tuple[OutputFile, Any]:
    """papers.json (``Renderer.papers_json``), its unchanged papers' lines taken from the
    previous file ``data`` (``record``: its papers' ids and fingerprints, and each line's
    length in bytes). When the papers are the same ones in the same order, the lines of
    the papers whose fingerprints changed are spliced into the previous file's bytes."""
    papers = renderer.index.catalog.papers
    ids, fps = _fingerprints(keys, papers)
    if record is not None and data is not None and len(record) == 3:
        spliced = _splice_json(renderer, ids, fps, record, data)
        if spliced is not None:
            return spliced
    old: dict[str, tuple[bytes, Any, bytes]] = {}
    if record is not None and data is not None and len(record) == 3:
        old_ids, old_fps, _ = record
        lines = data.split(b"\n")
        rows = lines[1:-2]
        if len(rows) == len(old_ids) and all(r.endswith(b",") for r in rows[:-1]):
            rows = [r[:-1] for r in rows[:-1]] + rows[-1:]
            old = _old_pieces(old_ids, old_fps, rows, [None] * len(rows))
    made: list[bytes] = []
    for i, p in enumerate(papers):
        found = old.get(p.id)
        if found is not None and found[0] == fps[i * 16 : i * 16 + 16]:
            made.append(found[2])
        else:
            made.append(renderer.paper_json_row(p).encode())
    body = b"[\n" + b",\n".join(made) + b"\n]\n"
    return OutputFile("papers.json", body), (ids, fps, tuple(map(len, made)))


def _splice_json(
    renderer: Renderer, ids: tuple[str, ...], fps: bytes, record: Any, data: bytes
) -> tuple[OutputFile, Any] | None:
    """``_papers_json`` when its papers are the previous file's, in the same order: the
    previous bytes with the changed papers' lines replaced (None when the record does not
    fit the file: then it is made line by line)."""
    old_ids, old_fps, sizes = record
    n = len(ids)
    if old_ids != ids or len(old_fps) != len(fps) or len(sizes) != n or n == 0:
        return None
    if len(data) != 5 + sum(sizes) + 2 * (n - 1):  # "[\n" rows joined by ",\n" "\n]\n"
        return None
    now, before = memoryview(fps), memoryview(old_fps)
    changed = [i for i in range(n) if now[i * 16 : i * 16 + 16] != before[i * 16 : i * 16 + 16]]
    view = memoryview(data)
    starts = [0, *accumulate(size + 2 for size in sizes)]  # row i at 2 + starts[i]
    pieces: list[bytes | memoryview] = []
    lengths = list(sizes)
    at = 0
    papers = renderer.index.catalog.papers
    for i in changed:
        row = renderer.paper_json_row(papers[i]).encode()
        pieces.append(view[at : 2 + starts[i]])
        pieces.append(row)
        at = 2 + starts[i] + sizes[i]
        lengths[i] = len(row)
    pieces.append(view[at:])
    body = b"".join(pieces)
    return OutputFile("papers.json", body), (ids, fps, tuple(lengths))


def _papers_bib(
    renderer: Renderer, keys: PageKeys, record: Any, data: bytes | None
) -> tuple[OutputFile, Any]:
    """papers.bib (``Renderer.papers_bib``), its unchanged papers' entries taken from the
    previous file ``data`` (``record``: its papers' ids, fingerprints, base citation keys,
    keys as chosen, and entry lengths in bytes)."""
    ix = renderer.index
    papers = ix.catalog.papers
    ids, fps = _fingerprints(keys, papers)
    if record is not None and data is not None:
        spliced = _splice_bib(renderer, ids, fps, record, data)
        if spliced is not None:
            return spliced
    old: dict[str, tuple[bytes, Any, bytes]] = {}
    if record is not None and data is not None:
        old_ids, old_fps, old_bases, old_chosen, sizes = record
        if len(data) == sum(sizes) + max(0, len(sizes) - 1):
            pieces, at = [], 0
            for size in sizes:
                pieces.append(data[at : at + size])
                at += size + 1
            old = _old_pieces(
                old_ids, old_fps, pieces, list(zip(old_bases, old_chosen, strict=False))
            )
    fp = {pid: fps[i * 16 : i * 16 + 16] for i, pid in enumerate(ids)}
    bases: list[str] = []
    own_key = ix.citation_key

    def base_key(p: Paper) -> str:
        found = old.get(p.id)
        made = found[1][0] if found is not None and found[0] == fp[p.id] else own_key(p)
        bases.append(made)
        return made

    chosen = citation_keys(papers, base_key)
    entries: list[bytes] = []
    for p in papers:
        key = chosen[p.id]
        found = old.get(p.id)
        if found is not None and found[0] == fp[p.id] and found[1][1] == key:
            entries.append(found[2])
        else:
            entries.append(paper_bibtex(p, key, ix.bib_body(p)).encode("utf-8"))
    body = b"\n".join(entries)
    record = (ids, fps, tuple(bases), tuple([chosen[p.id] for p in papers]))
    return OutputFile("papers.bib", body), (*record, tuple([len(e) for e in entries]))


def _splice_bib(
    renderer: Renderer, ids: tuple[str, ...], fps: bytes, record: Any, data: bytes
) -> tuple[OutputFile, Any] | None:
    """``_papers_bib`` when its papers are the previous file's, in the same order, and each
    paper whose fingerprint changed keeps its base citation key: then every key is the one
    chosen before (``citation_keys`` reads only the papers' ids and base keys, in order),
    and the previous bytes get the changed papers' entries (None when that does not hold:
    then the file is made entry by entry)."""
    old_ids, old_fps, bases, chosen, sizes = record
    n = len(ids)
    if old_ids != ids or len(old_fps) != len(fps) or not len(bases) == len(chosen) == n:
        return None
    if len(sizes) != n or n == 0 or len(data) != sum(sizes) + n - 1:  # entries joined by "\n"
        return None
    now, before = memoryview(fps), memoryview(old_fps)
    changed = [i for i in range(n) if now[i * 16 : i * 16 + 16] != before[i * 16 : i * 16 + 16]]
    ix = renderer.index
    papers = ix.catalog.papers
    if any(ix.citation_key(papers[i]) != bases[i] for i in changed):
        return None
    view = memoryview(data)
    starts = [0, *accumulate(size + 1 for size in sizes)]  # entry i at starts[i]
    pieces: list[bytes | memoryview] = []
    lengths = list(sizes)
    at = 0
    for i in changed:
        entry = paper_bibtex(papers[i], chosen[i], ix.bib_body(papers[i])).encode("utf-8")
        pieces.append(view[at : starts[i]])
        pieces.append(entry)
        at = starts[i] + sizes[i]
        lengths[i] = len(entry)
    pieces.append(view[at:])
    return OutputFile("papers.bib", b"".join(pieces)), (ids, fps, bases, chosen, tuple(lengths))


def _drop_unused(
    memo: MutableMapping[str, Any] | None,
    renderer: Renderer,
    work: Sequence[Job],
    keys: PageKeys | None,
) -> None:
    """Keep the memo to exactly this build's entries: its pages and whole-site files, and
    the record of what its page keys were made from (kept only now, when every page's
    entry is this build's)."""
    if memo is None:
        return
    used = {_memo_name(job) for job in work if job[0] not in _WHOLE_SITE_JOBS}
    used.update(f"whole\x00{job[0]}" for job in work if job[0] in _WHOLE_SITE_JOBS)
    if keys is not None:
        memo[_KEYS_RECORD] = keys.record()
        used.add(_KEYS_RECORD)
    for name in [k for k in memo if k not in used]:
        del memo[name]
