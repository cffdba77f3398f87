"""Author pages', cards' and feeds' fast paths, each held to the plain way it replaces
(the Jinja template or loop, the expression, the Markup-making escape) on hostile seed text."""

from __future__ import annotations

import itertools
import posixpath
import random
from dataclasses import replace
from typing import Any, cast

import pytest
from markupsafe import escape
from render_catalog import HOSTILE, Config, make_catalog, many_papers_catalog

from generator import feeds, urls, views
from generator.config import SiteConfig
from generator.feeds import FeedWriter
from generator.model import Catalog, Paper
from generator.render import (
    Anchors,
    Renderer,
    counted_html,
    environment,
    make_rel,
    year_links_html,
)
from generator.views import AuthorRef, Counted, Link, SiteIndex, clean, shorten

# templates/_card.html as it was, before cards were made in Python
_CARD_TEMPLATE = """\
<li class="card"><a class="card-title" href="{{ href }}">{{ card.title_html|unlink }}</a>{% if card.derived %} <span class="badge">derived title</span>{% endif %}
<span class="card-meta">{{ card.authors_text }} · {% if card.date_iso %}<time datetime="{{ card.date_iso }}">{{ card.date_display }}</time>{% else %}{{ card.date_display }}{% endif %}{% if card.category %} · {{ card.category }}{% endif %}</span></li>
"""  # noqa: E501

# the author page's years-active loop as it was in templates/author.html
_YEARS_LOOP = (
    '{% for y in years %}<a href="{{ root }}years/{{ y }}.html">{{ y }}</a>'
    "{% if not loop.last %}, {% endif %}{% endfor %}"
)


def site_config(**fields: Any) -> SiteConfig:
    return cast(SiteConfig, Config(**fields))


def _hostile_catalog() -> Catalog:
    """The hostile catalog with a linked title, a bare ampersand and an undated paper."""
    catalog = make_catalog(hostile=True)
    linked = replace(catalog.papers[0], title="See \\href{https://x.org/?a=1&b=2}{this} & <a>")
    return replace(catalog, papers=(linked, *catalog.papers[1:]))


@pytest.mark.parametrize("hostile", [False, True])
def test_card_html_equals_the_template(hostile: bool) -> None:
    catalog = _hostile_catalog() if hostile else many_papers_catalog(5)
    renderer = Renderer(catalog, site_config())
    template = environment().from_string(_CARD_TEMPLATE)
    cards = renderer.index.cards(p.id for p in catalog.papers)
    assert any(c.derived for c in cards) and any(not c.derived for c in cards)
    assert any(c.date_iso for c in cards) and any(not c.date_iso for c in cards)
    assert any(c.category for c in cards) and any(not c.category for c in cards)
    for prefix in ("", "../", "../../", 'x"&<'):
        for card in cards:
            made = renderer.card_html(prefix, card)
            assert made == template.render(card=card, href=prefix + card.path)
            assert renderer.card_html(prefix, card) is made  # made once per prefix
    if hostile:
        html = "".join(renderer.card_html("../", c) for c in cards)
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<a>" not in html and 'onmouseover="' not in html


@pytest.mark.parametrize(
    "years", [(), (2021,), (1999, 2000, 2021), [2020, 2021], ("<b>&",)], ids=repr
)
def test_year_links_equal_the_loop(years: Any) -> None:
    loop = environment().from_string(_YEARS_LOOP)
    made: dict[tuple[str, tuple[int, ...]], str] = {}
    for root in ("", "../", "https://ex.org/a&b/"):
        expected = loop.render(root=root, years=years)
        assert year_links_html(root, years, made) == expected
        assert year_links_html(root, years, made) == expected  # from the cache
    assert "<b>" not in year_links_html("../", ("<b>&",), {})


def _plain_counted(rel: Any, items: Any, cls: str) -> str:
    rows = "".join(
        f'<li><a href="{escape(rel(c.link.path))}">{escape(c.link.text)}</a> '
        f'<span class="count">{c.count}</span></li>\n'
        for c in items
    )
    return f'<ul class="{escape(cls)}">\n{rows}</ul>\n'


def test_counted_html_equals_the_plain_rows() -> None:
    anchors = Anchors()
    items = [
        Counted(Link("Hao Tian", "authors/hao-tian.html"), 3),
        Counted(Link(HOSTILE, "authors/x.html"), 1),
        Counted(Link(HOSTILE, "authors/x.html"), 2),  # the same link, another count
        Counted(Link("Bo & Zhang", "authors/bo-zhang.html"), 1),
    ]
    for path in ("authors/hao-tian.html", "topics/t.html", "index.html", "a/b/c.html"):
        rel = make_rel(path)
        page_dir = posixpath.dirname(path)
        for run in (items, items[::-1], items[:1]):
            for cls in ("counted", 'x"<'):
                made = counted_html(rel, run, cls, anchors, page_dir)
                assert made == _plain_counted(rel, run, cls)
    assert "<script>" not in counted_html(make_rel("x.html"), items, "c", anchors, "")


@pytest.mark.parametrize("limit", [None, 0, 1, 2, 100])
def test_coauthors_equal_the_plain_way(limit: int | None) -> None:
    catalog = make_catalog(hostile=True)
    ghost = replace(
        catalog.authors[1], coauthors=(("bo-zhang", 2), ("nobody", 2), ("weiyue-su", 1))
    )
    catalog = replace(catalog, authors=(catalog.authors[0], ghost, catalog.authors[2]))
    ix = SiteIndex(catalog, "T", None)
    for _ in range(2):  # made, then from the cache
        for author in catalog.authors:
            plain = (
                Counted(Link(clean(ix.authors[a].name), urls.author_path(a)), n)
                for a, n in author.coauthors
                if a in ix.authors
            )
            assert ix.coauthors(author, limit) == tuple(itertools.islice(plain, limit))


def test_author_refs_equal_the_plain_records() -> None:
    catalog = make_catalog(hostile=True)
    ix = SiteIndex(catalog, "T", None)
    for p in catalog.papers:
        ids = catalog.paper_authors.get(p.id, ())
        plain = (
            tuple(
                AuthorRef(clean(ix.authors[a].name), urls.author_path(a))
                if a in ix.authors
                else AuthorRef(clean(name), None)
                for name, a in zip(p.authors, ids, strict=True)
            )
            if ids
            else tuple(AuthorRef(clean(n), None) for n in p.authors)
        )
        assert ix.author_refs(p) == plain


@pytest.mark.parametrize("heading", ["2021", "June 2021", HOSTILE, "Ærø", ""])
def test_heading_anchor_is_the_slug(heading: str) -> None:
    assert views.heading_anchor(heading) == urls.slugify(heading)


def _plain_timestamp(date: str | None) -> str:
    if not date:
        return "1970-01-01T00:00:00Z"
    y, m, d = (date.split("-") + ["01", "01"])[:3]
    if not (y.isdigit() and m.isdigit() and d.isdigit()):
        return "1970-01-01T00:00:00Z"
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}T00:00:00Z"


@pytest.mark.parametrize(
    "date", [None, "", "2021", "2021-06", "2021-06-04", "21-6-4", "2021-xx", "2021-06-04-1"]
)
def test_timestamp_memo_equals_the_plain_way(date: str | None) -> None:
    for _ in range(2):
        assert feeds._timestamp(date) == _plain_timestamp(date)
    assert set(feeds._timestamp(date)) <= set("0123456789-:TZ")  # nothing to escape


@pytest.mark.parametrize("text", ["", "plain", HOSTILE, "a & b < c > d ' e \" f", "é\u2028"])
def test_feed_escape_equals_markupsafe(text: str) -> None:
    assert feeds.escape_text(text) == str(escape(text))
    assert type(feeds.escape_text(text)) is str


def _plain_entry(ix: SiteIndex, writer: FeedWriter, paper: Paper) -> str:
    """``FeedWriter.entry`` as it was: one line per element, each escaped by ``_el``."""

    def el(tag: str, text: str) -> str:
        return f"<{tag}>{escape(text)}</{tag}>"

    card = ix.card(paper.id)
    href = writer.href(urls.feed_path("authors", "x"), card.path)
    entry_id = (
        f"https://arxiv.org/abs/{clean(paper.arxiv_id)}"
        if paper.arxiv_id
        else f"urn:papersite:paper:{paper.id}"
    )
    parts = ["  <entry>", "    " + el("title", card.title_text), "    " + el("id", entry_id)]
    parts.append("    " + el("updated", _plain_timestamp(paper.date)))
    if paper.date:
        parts.append("    " + el("published", _plain_timestamp(paper.date)))
    parts.append(f'    <link rel="alternate" type="text/html" href="{escape(href)}"/>')
    names = [ref.name for ref in ix.author_refs(paper)[: feeds.ENTRY_AUTHORS] if ref.name]
    for name in names or ["Unknown"]:
        parts.append(f"    <author>{el('name', name)}</author>")
    for topic in ix.topic_links(ix.catalog.paper_topics.get(paper.id, ())):
        parts.append(f'    <category term="{escape(topic.text)}"/>')
    summary = shorten(ix.summary(paper.id), 400) if ix.summary(paper.id) else card.title_text
    parts.append("    " + el("summary", summary))
    parts.append("  </entry>")
    return "\n".join(parts) + "\n"


@pytest.mark.parametrize("base_url", [None, "https://ex.org/a&b/"])
def test_feed_entries_equal_the_plain_way(base_url: str | None) -> None:
    catalog = _hostile_catalog()
    no_id = replace(catalog.papers[1], arxiv_id=None, abstract="x" * 900 + HOSTILE)
    catalog = replace(catalog, papers=(catalog.papers[0], no_id, *catalog.papers[2:]))
    ix = SiteIndex(catalog, "T", base_url)
    writer = FeedWriter(ix)
    for p in catalog.papers:
        made = writer.entry(p)
        assert made == _plain_entry(ix, writer, p)
        assert "<script>" not in made
    renderer = Renderer(catalog, site_config(base_url=base_url))
    feed = renderer.feeds("topics", "distillation").data.decode()
    assert "<script>" not in feed and "&lt;script&gt;" in feed


def _str_feed(writer: FeedWriter, feed: bytes, papers: list[Paper]) -> str:
    """A feed as ``FeedWriter.feed`` made it before its entries were kept as bytes: its
    head (the text before the first entry), the entries as ``str`` and the closing tag."""
    text = feed.decode("utf-8")
    head = text[: text.index("  <entry>")] if papers else text[: -len("</feed>\n")]
    return head + "".join(writer.entry(p) for p in papers) + "</feed>\n"


@pytest.mark.parametrize("base_url", [None, "https://ex.org/a&b/"])
def test_feeds_from_entry_bytes_equal_the_str_way(base_url: str | None) -> None:
    catalog = _hostile_catalog()
    renderer = Renderer(catalog, site_config(base_url=base_url))
    ix, writer = renderer.index, renderer.feed_writer
    jobs = [job for job in renderer.jobs() if job[0] == "feed"]
    assert jobs
    for job in jobs:
        kind, _, item = job[1].partition(":")
        (made,) = renderer.run(job)
        ids = {"authors": ix.authors, "topics": ix.topics}.get(kind, ix.listings)[item].paper_ids
        papers = feeds.newest_papers(ix.papers, ids)
        assert made.data == _str_feed(writer, made.data, papers).encode("utf-8")
    for p in catalog.papers:
        assert writer.entry_bytes(p) == writer.entry(p).encode("utf-8")
        assert writer.entry_bytes(p) is writer.entry_bytes(p)  # made once


def _plain_clean(text: str) -> str:
    return " ".join(views._CONTROL.sub("", text).split())


def test_clean_equals_the_plain_way() -> None:
    rng = random.Random(11)
    spaces = [c for c in map(chr, range(0x3001)) if c.isspace()] + ["\u205f", "\u3000"]
    pool = [" ", "  ", "a", "é", "…", "\x00", "\x7f", "\x85", "\x9f", "\ufdd0", "\uffff"]
    pool += ["\ufffd", "\u200b", "\u00ad", *spaces]
    assert "\u2028" in spaces and "\xa0" in spaces and "\x1f" in spaces
    for _ in range(20000):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 7)))
        assert views.clean.__wrapped__(text) == _plain_clean(text), repr(text)
    for text in ("", " ", "a b", " a", "a ", "a  b", "Title: x…", HOSTILE, "x\ty"):
        assert views.clean(text) == _plain_clean(text)
