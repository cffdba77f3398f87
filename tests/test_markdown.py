"""The config's description is Markdown: rendered, never raw HTML, links only to http(s)."""

from __future__ import annotations

from generator.markdown import markdown_html


def test_markdown_renders_emphasis_and_links() -> None:
    html = markdown_html("Papers from *our* group; see [the lab](https://example.org/lab).")
    assert html == (
        '<p>Papers from <em>our</em> group; see <a href="https://example.org/lab">the lab</a>.</p>'
    )


def test_raw_html_stays_text() -> None:
    html = markdown_html('<script>alert(1)</script> <img src=x onerror="alert(1)">')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_only_http_links() -> None:
    for url in ("javascript:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd"):
        html = markdown_html(f"[x]({url})")
        assert "href" not in html, html
    assert 'href="http://a.org"' in markdown_html("[x](http://a.org)")


def test_home_page_shows_the_description(tmp_path: object) -> None:
    from generator.config import SiteConfig
    from generator.model import Catalog
    from generator.render import render_site

    config = SiteConfig(description="A **bold** claim")
    files = render_site(Catalog(papers=(), authors=(), topics=(), listings=()), config)
    home = next(f for f in files if f.path == "index.html").data.decode()
    assert "A <strong>bold</strong> claim" in home
