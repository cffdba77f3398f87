"""The render stage's fast paths, each held to the plain way it replaces."""

from __future__ import annotations

import hashlib
import posixpath
import random
import stat
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from jinja2 import pass_context
from markupsafe import Markup, escape
from render_catalog import HOSTILE, Config, make_catalog, many_papers_catalog

from generator import views
from generator.config import SiteConfig
from generator.model import Group
from generator.render import (
    _A_TAG,
    _CONTROL,
    Renderer,
    _fast_escape,
    environment,
    make_rel,
    page_bytes,
    root_prefix,
    sections_html,
    unlink,
)
from generator.views import Card, ListPage
from generator.write import WriteError, open_staging


def site_config(**fields: Any) -> SiteConfig:
    """The tests' stand-in config (the fields rendering reads), typed as the real one."""
    return cast(SiteConfig, Config(**fields))


def plain_page_bytes(html: str) -> bytes:
    return _CONTROL.sub("", html).encode("utf-8")


# every forbidden character's neighbours, and characters whose UTF-8 shares a lead byte
# with a forbidden one (EF B7 / EF BF / C2 8x-9x)
EDGES = [
    *map(chr, range(0x00, 0x21)),
    *map(chr, range(0x7E, 0xA1)),
    "\ufdcf",
    "\ufdd0",
    "\ufddf",
    "\ufdef",
    "\ufdf0",
    "\ufffd",
    "\ufffe",
    "\uffff",
    "\uf000",
    "\ufb01",
    "\ufe0f",
    "\u00b7",
    "\u2013",
    "\U0001f600",
    "\U0010ffff",
]


@pytest.mark.parametrize("char", EDGES, ids=[f"U+{ord(c):04X}" for c in EDGES])
def test_page_bytes_drops_what_the_expression_drops(char: str) -> None:
    for html in (char, f"<p>a{char}b</p>", f"· {char}{char} –\n"):
        assert page_bytes(html) == plain_page_bytes(html)


def test_page_bytes_on_random_text_equals_the_expression() -> None:
    rng = random.Random(8)
    pool = [*EDGES, "a", "<", "&", "é", "\u4e2d", "\n"]
    for _ in range(2000):
        html = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 40)))
        assert page_bytes(html) == plain_page_bytes(html), repr(html)


def _every_file(renderer: Renderer) -> dict[str, bytes]:
    return {f.path: f.data for job in renderer.jobs() for f in renderer.run(job)}


@pytest.mark.parametrize("hostile", [False, True])
def test_prepared_caches_render_the_same_site(hostile: bool) -> None:
    catalog = make_catalog(hostile=hostile)
    config = site_config(base_url="https://example.org/sub/")
    prepared = Renderer(catalog, config)
    prepared.prepare()
    prefix = root_prefix("papers")
    assert {key for key in prepared._card_html if key[0] == prefix} == {
        (prefix, p.id) for p in catalog.papers
    }
    assert set(prepared.index._plain) == {p.id for p in catalog.papers}
    assert _every_file(prepared) == _every_file(Renderer(catalog, config))


def test_prepared_caches_render_the_same_paged_lists() -> None:
    catalog = many_papers_catalog(450)
    prepared = Renderer(catalog, site_config())
    prepared.prepare()
    assert _every_file(prepared) == _every_file(Renderer(catalog, site_config()))


def test_staging_put_writes_like_open_xb(tmp_path: Path) -> None:
    out = tmp_path / "site"
    staging = open_staging(out)
    try:
        data = bytes(range(256)) * 1000
        digest, linked = staging.put("papers/a.html", data)
        assert not linked
        assert digest == hashlib.sha256(data).digest()
        target = staging.folder / "papers" / "a.html"
        assert target.read_bytes() == data
        plain = tmp_path / "plain"
        with open(plain, "xb") as fh:
            fh.write(b"")
        assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
        staging.put("empty.html", b"")
        assert (staging.folder / "empty.html").read_bytes() == b""
        with pytest.raises(WriteError, match="same path: papers/a.html"):
            staging.put("papers/a.html", b"other")
        assert target.read_bytes() == data
        with pytest.raises(WriteError, match="outside the site"):
            staging.put("../escape.html", b"x")
    finally:
        staging.abort()


# The Jinja macro and loop that ``sections_html``/``pager_html`` and ``title_links`` replace,
# kept here as the reference their output is held to (with the site's environment).
_SECTIONS_MACRO = """{% macro sections(listpage, level=2) %}
{% for section in listpage.sections %}
{% if section.heading %}
<h{{ level }} class="section-heading"{% if section.anchor %} id="{{ section.anchor }}"{% endif %}>{{ section.heading }}</h{{ level }}>
{% endif %}
<ol class="cards">
{{ cards(section.cards) }}</ol>
{% endfor %}
{{ pager(listpage) }}
{% endmacro %}

{% macro pager(listpage) %}
{% if listpage.pager.pages|length > 1 %}
<nav class="pager" aria-label="Pages" data-pagefind-ignore="all">
{% if listpage.pager.prev %}<a rel="prev" href="{{ rel(listpage.pager.prev) }}">← Previous page</a>{% endif %}
<span>Page {{ listpage.pager.page }} of {{ listpage.pager.pages|length }}</span>
{% if listpage.pager.next %}<a rel="next" href="{{ rel(listpage.pager.next) }}">Next page →</a>{% endif %}
{% if listpage.pager.pages|length <= 30 %}
<ol class="page-links">
{% for p in listpage.pager.pages %}
<li>{% if loop.index == listpage.pager.page %}<span aria-current="page">{{ loop.index }}</span>{% else %}<a href="{{ rel(p) }}">{{ loop.index }}</a>{% endif %}</li>
{% endfor %}
</ol>
{% endif %}
</nav>
{% endif %}
{% endmacro %}
"""  # noqa: E501

_TITLE_LINKS_LOOP = """{% for c in cards %}
<li><a href="{{ rel(c.path) }}">{{ c.title_html|unlink }}</a></li>
{% endfor %}
"""


def _list_pages(renderer: Renderer) -> list[ListPage]:
    ix = renderer.index
    c = ix.catalog
    pages = [lp for a in c.authors for lp in ix.author_pages(a)]
    pages += [lp for t in c.topics for lp in ix.topic_pages(t)]
    pages += [lp for li in c.listings for lp in ix.listing_pages(li)]
    pages += [lp for y, ids in ix.years().items() for lp in ix.year_pages(y, ids)]
    return pages


@pytest.mark.parametrize("n", [0, 12, 100])  # one page; a pager; more than 30 pages
def test_sections_html_equals_the_macro(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    catalog = many_papers_catalog(n) if n else make_catalog(hostile=True)
    renderer = Renderer(catalog, site_config())
    macro = environment().from_string(_SECTIONS_MACRO)
    pages = _list_pages(renderer)
    assert any(len(lp.pager.pages) > 1 for lp in pages) == (n > 0)
    assert any(len(lp.pager.pages) > 30 for lp in pages) == (n > 90)
    assert any(s.heading for lp in pages for s in lp.sections)
    for lp in pages:
        rel = make_rel(lp.path)
        prefix = root_prefix(posixpath.dirname(lp.path))

        def cards(cs: Sequence[Card], prefix: str = prefix) -> Markup:
            return Markup("".join(renderer.card_html(prefix, c) for c in cs))

        for level in (2, 3):
            made = sections_html(rel, cards, lp, level)
            assert made == macro.make_module({"rel": rel, "cards": cards}).sections(lp, level)


def test_sections_html_escapes_seed_headings() -> None:
    catalog = make_catalog(hostile=True)
    listing = replace(
        catalog.listings[1], groups=(Group(HOSTILE, ("x-undated",)), Group("g2", ("2106.02241",)))
    )
    renderer = Renderer(replace(catalog, listings=(catalog.listings[0], listing)), site_config())
    (lp,) = renderer.index.listing_pages(listing)
    html = sections_html(make_rel(lp.path), lambda cs: Markup(""), lp, 2)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("hostile", [False, True])
def test_title_links_equal_the_loop(hostile: bool) -> None:
    catalog = make_catalog(hostile=hostile)
    linked = replace(catalog.papers[0], title="See \\href{https://example.org/x}{this} <a href=y>")
    catalog = replace(catalog, papers=(linked, *catalog.papers[1:]))
    renderer = Renderer(catalog, site_config())
    loop = environment().from_string(_TITLE_LINKS_LOOP)
    cards = renderer.index.cards(p.id for p in catalog.papers)
    assert "<a " in cards[0].title_html  # the link the filter takes out
    for path in ("authors/hao-tian.html", "papers/x.html", "index.html"):
        rel = make_rel(path)
        page_dir = posixpath.dirname(path)
        made = renderer.title_links(rel, page_dir, cards)
        assert made == loop.render(cards=cards, rel=rel)
        assert renderer.title_links(rel, page_dir, cards[::-1]) == loop.render(
            cards=cards[::-1], rel=rel
        )


def test_unlink_equals_the_expression() -> None:
    rng = random.Random(5)
    pool = ["<a", "</a", "<a href='x'>", "</a>", "<abbr>", "a", ">", " ", "<", "é"]
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 8)))
        for value in (text, Markup(text)):
            made = unlink(value)
            assert type(made) is Markup
            assert made == _A_TAG.sub("", text), repr(text)


@pytest.mark.parametrize(
    "value", [0, 7, -3, 2021, 10**30, True, False, 1.5, None, "<b>", Markup("<b>")]
)
def test_fast_escape_equals_escape(value: object) -> None:
    made = _fast_escape(value)
    assert type(made) is Markup
    assert made == escape(value)


def test_template_calls_keep_jinja_semantics() -> None:
    env = environment()

    @pass_context
    def with_context(context: Any, x: str) -> str:
        return f"{context['who']}:{x}"

    def stops() -> str:
        raise StopIteration

    template = env.from_string("{{ plain('a') }} {{ ctx('b') }} {{ stops() is undefined }}")
    made = template.render(plain=lambda x: x + "!", ctx=with_context, stops=stops, who="me")
    assert made == "a! me:b True"


def test_template_globals_are_a_dict_overlaying_the_environments() -> None:
    """``make_globals`` copies into a dict what Jinja's ChainMap would look up: the
    environment's globals, shadowed by a template's own."""
    env = environment()
    template = env.from_string("{{ range(3)|list }} {{ x }}", globals={"x": "mine"})
    assert type(template.globals) is dict
    assert template.render() == "[0, 1, 2] mine"
    assert "x" not in env.globals
    shadowed = env.from_string("{{ range }}", globals={"range": "shadowed"})
    assert shadowed.render() == "shadowed"
    assert env.from_string("{{ range(2)|list }}").render() == "[0, 1]"


def test_paper_page_body_is_escaped() -> None:
    """paper.html collects its body with ``{% set %}``: the values in it are still escaped."""
    catalog = make_catalog(hostile=True)
    renderer = Renderer(catalog, site_config())
    for paper in catalog.papers:
        html = renderer.paper(paper.id).data.decode()
        body = html[html.index('<main id="main"') : html.index("</main>")]
        assert "<script>alert" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert '" onmouseover="' not in body
