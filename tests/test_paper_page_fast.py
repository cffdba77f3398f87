"""A paper page's fast paths (its JSON-LD, its BibTeX key, the site text's attributes), each
held to the plain way it replaces."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from typing import Any, cast

import pytest
from markupsafe import Markup, escape
from render_catalog import HOSTILE, Config, make_catalog

from generator import bibexport, latex, meta
from generator.bibexport import _MATH_RE, _SKIP_WORDS, _ascii_word, _first_title_word
from generator.config import SiteConfig
from generator.latex import escape_text
from generator.render import Renderer, SiteText
from generator.views import _CONTROL, AuthorRef, Link, PaperView, SiteIndex, drop_forbidden


def _first_title_word_plain(title: str) -> str:
    """The key's title word as first written: every word folded, then the first taken."""
    text = _MATH_RE.sub(" ", title)
    text = bibexport._COMMAND_RE.sub(" ", text)
    words = [w for w in re.split(r"[\s:;,.!?()\[\]{}\"'/]+", text) if _ascii_word(w)]
    for word in words:
        pieces = [p for p in word.split("-") if _ascii_word(p)]
        if not pieces:
            continue
        first = _ascii_word(pieces[0])
        if first in _SKIP_WORDS and len(words) > 1:
            continue
        return first + (_ascii_word(pieces[1])[:1] if len(pieces) > 1 else "")
    return ""


TITLE_WORDS = [
    "The", "the", "A", "an", "An", "THE", "a-b", "the-end", "-", "--", "x-", "-y", "Über",
    "Über-Fast", "$x$", "$$y$$", "\\(z\\)", "\\emph", "\\textit{Gaia}", "!!", "张三", "é",
    "ERNIE-Tiny", "2021", "(The", "The)", "a.", "'the'", '"an"', "/", "{}", ":", " ", "\t",
    "Neural", "networks", "on", "graphs", "\u00a0", "ﬁne", "Ⅻ",
]  # fmt: skip


def test_first_title_word_equals_folding_every_word() -> None:
    rng = random.Random(12)
    titles = ["", "The", "A", "The The", "the an a", "a x", "!! The", "The !!", "张三 the"]
    for _ in range(3000):
        n = rng.randrange(0, 7)
        titles.append(rng.choice([" ", "", "-", ":"]).join(rng.choices(TITLE_WORDS, k=n)))
    for title in titles:
        assert _first_title_word(title) == _first_title_word_plain(title), repr(title)


def _views(hostile: bool, base_url: str | None) -> list[tuple[PaperView, str]]:
    catalog = make_catalog(hostile=hostile)
    ix = SiteIndex(catalog, "Test papers", base_url)
    return [(ix.paper_view(p), ix.description(p)) for p in catalog.papers]


def paper_article(view: PaperView, description: str, url: str | None) -> dict[str, Any]:
    """The paper's ScholarlyArticle as data, as ``paper_head`` first built it for the encoder."""
    card = view.card
    article: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "headline": card.title_text,
        "author": [{"@type": "Person", "name": a.name} for a in view.authors],
        "description": description,
    }
    if card.date_iso:
        article["datePublished"] = card.date_iso
    if view.abs_url:
        article["sameAs"] = view.abs_url
    if view.doi_url:
        article["identifier"] = view.doi_url
    if view.topics:
        article["keywords"] = [t.text for t in view.topics]
    if view.venue:
        article["isPartOf"] = {"@type": "Periodical", "name": view.venue}
    if url:
        article["url"] = url
    return article


AWKWARD = [
    "",
    HOSTILE,
    'a "quoted" \\ back\\slash',
    "</script><!--",
    "line\u2028sep\u2029para",
    "\x00\x1f\x7f\x85 controls",
    "é 中 \U0001f600 \ud7ff",
]


@pytest.mark.parametrize("hostile", [False, True])
@pytest.mark.parametrize("url", [None, "https://example.org/sub/papers/x.html"])
def test_article_json_equals_the_encoder(hostile: bool, url: str | None) -> None:
    for view, description in _views(hostile, None):
        variants = [view]
        for text in AWKWARD:
            card = replace(view.card, title_text=text, date_iso=text or None)
            variants.append(
                replace(
                    view,
                    card=card,
                    authors=(AuthorRef(text, None), AuthorRef("B " + text, "authors/b.html")),
                    venue=text or None,
                    doi_url=text or None,
                    abs_url=text or None,
                    topics=(Link(text, "topics/t.html"),) if text else (),
                )
            )
        variants.append(replace(view, authors=(), topics=(), venue=None, doi_url=None))
        for v in variants:
            for desc in (description, *AWKWARD):
                made = meta._scholarly_article_json(v, desc, url)
                assert made == meta._JSON.encode(paper_article(v, desc, url))
                assert json.loads(made) == paper_article(v, desc, url)


@pytest.mark.parametrize("base_url", [None, "https://example.org/sub/"])
def test_paper_head_json_ld_reads_back_as_the_article(base_url: str | None) -> None:
    for view, description in _views(True, base_url):
        path = view.card.path
        head = meta.paper_head(view, path, "Test papers", base_url, description)
        script = head.split('<script type="application/ld+json">', 1)[1]
        text, _, after = script.partition("</script>")
        assert after == ""
        assert "<" not in text and ">" not in text and "&" not in text  # inert in HTML
        url = meta.urls.absolute_url(base_url, path) if base_url else None
        assert json.loads(text) == paper_article(view, description, url)


def test_site_text_attributes_are_its_items() -> None:
    site = SiteText("Papers <&>", "Some  *text*\x07 here")
    assert site.title == site["title"] == "Papers <&>"
    assert site.description == site["description"] == "Some *text* here"
    assert "<em>text</em>" in site["description_html"]


def test_paper_pages_show_site_title_from_attributes() -> None:
    config = cast(SiteConfig, Config(title="Site <b>&</b>"))
    renderer = Renderer(make_catalog(), config)
    page = renderer.paper(make_catalog().papers[0].id).data.decode()
    assert "· Site &lt;b&gt;&amp;&lt;/b&gt;</title>" in page
    assert ">Site &lt;b&gt;&amp;&lt;/b&gt;</a> ·" in page


FORBIDDEN_EDGES = [
    *map(chr, range(0x00, 0x21)),
    *map(chr, range(0x7E, 0xA1)),
    *"\ufdcf\ufdd0\ufdef\ufdf0\ufffd\ufffe\uffff\u2028\u00ad\ue000\U0001f600",
]


def test_drop_forbidden_equals_the_expression() -> None:
    rng = random.Random(5)
    pool = [*FORBIDDEN_EDGES, "a", "{", "\\", "é", "\n"]
    for text in [*FORBIDDEN_EDGES, "", "@misc{k,\n      title={T},\n}\n"]:
        assert drop_forbidden(text) == _CONTROL.sub("", text), repr(text)
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 30)))
        assert drop_forbidden(text) == _CONTROL.sub("", text), repr(text)


@pytest.mark.parametrize("text", ["", "plain", HOSTILE, "a & b < c > d \" e ' f", "é\x00"])
def test_latex_text_escape_equals_markupsafe(text: str) -> None:
    assert escape_text(text) == str(escape(text))
    assert type(escape_text(text)) is str
    assert escape_text(Markup("<b>")) == "<b>"  # Markup is already safe, as escape() keeps it


@pytest.mark.parametrize("base_url", [None, "https://example.org/sub/"])
def test_folder_views_shared_by_pages_render_what_fresh_ones_do(base_url: str | None) -> None:
    """Each page rendered by a renderer that has rendered every other page first (its
    folder helpers made for earlier pages) equals it rendered by a fresh renderer."""
    catalog = make_catalog(hostile=True)
    config = cast(SiteConfig, Config(base_url=base_url))
    shared = Renderer(catalog, config)
    jobs = shared.jobs()
    for job in jobs:
        shared.run(job)
    folders = {key[0] for key in shared._folder_views}
    assert {"", "papers", "authors"} <= folders
    if base_url:
        assert ("", base_url) in shared._folder_views  # the 404 page: absolute links
    for job in jobs:
        again = {f.path: f.data for f in shared.run(job)}
        fresh = {f.path: f.data for f in Renderer(catalog, config).run(job)}
        assert again == fresh, job


LATEX_PIECES = [
    "a", "h", "H", "ttp", "ttps", ":", "/", "//", "-", "--", "---", "`", "``", "'", "''", "~",
    " ", "  ", "\n", "\t", "\r", "\u00a0", "\u202f", "\ue000", "\ue0010\ue001", '"', "é",
    "http:/", "https//", "HTTP:", "www.x.org", "x.y", "1", ",", "(", ")", "[", "]", "#",
    "&", "<", "^", "_", "\\", "$", "%", "{", "}", "://",
]  # fmt: skip


def test_paragraph_items_skip_the_scan_only_when_it_finds_nothing() -> None:
    rng = random.Random(3)
    texts = ["", " ", "h", "http", "https:", "ttps://", "x -- y", "`a'", "a~b"]
    for _ in range(4000):
        texts.append("".join(rng.choices(LATEX_PIECES, k=rng.randrange(0, 12))))
    skipped = 0
    for text in texts:
        plain = latex._PRIVATE_RE.sub("", text)
        skipped += not latex._may_hold_markup(plain)
        assert latex._paragraph_items.__wrapped__(text) == latex._parsed_items(plain), repr(text)
    assert skipped > 500  # the fast path was taken, and often
