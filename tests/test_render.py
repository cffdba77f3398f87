"""Tier 1: render a hand-built Catalog in memory and check the pages."""

from __future__ import annotations

import json
import posixpath
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from render_catalog import Config, make_catalog, many_papers_catalog
from sitecheck import broken_links, parse

from generator import pagememo, render, urls
from generator.model import Catalog, OutputFile
from generator.render import Renderer, make_rel, render_site


def as_dict(files: tuple[OutputFile, ...]) -> dict[str, bytes]:
    return {f.path: f.data for f in files}


def pages_of(files: tuple[OutputFile, ...]) -> dict[str, str]:
    return {f.path: f.data.decode() for f in files if f.path.endswith(".html")}


@pytest.fixture(scope="module")
def site() -> dict[str, bytes]:
    return as_dict(render_site(make_catalog(), Config()))


@pytest.fixture(scope="module")
def hostile_files() -> tuple[OutputFile, ...]:
    return render_site(make_catalog(hostile=True), Config(base_url="https://example.org/sub/"))


def test_every_page_kind_is_written(site: dict[str, bytes]) -> None:
    for path in (
        "index.html",
        "404.html",
        "years.html",
        "authors.html",
        "topics.html",
        "listings.html",
        "papers/2106.02241.html",
        "papers/2105.11624.html",
        "papers/2009.14167.html",
        "papers/x-undated.html",
        "authors/hao-tian.html",
        "topics/distillation.html",
        "listings/list-a.html",
        "years/2021.html",
        "years/2020.html",
        "papers.json",
        "papers.bib",
        "listings.json",
        "feeds/authors/hao-tian.xml",
        "feeds/topics/distillation.xml",
        "feeds/listings/list-a.xml",
        "static/style.css",
        "static/site.js",
    ):
        assert path in site, path
    assert "sitemap.xml" not in site and "robots.txt" not in site  # no base URL


def test_paper_page_fields(site: dict[str, bytes]) -> None:
    html = site["papers/2106.02241.html"].decode()
    assert "<title>ERNIE-Tiny: distillation · Test papers</title>" in html
    assert '<a href="../authors/weiyue-su.html">Weiyue Su</a>' in html
    assert '<time datetime="2021-06-04">4 June 2021</time>' in html
    assert "<math" in html and "$" not in html.split("<main")[1]
    assert "<em>Gaia</em>" not in html  # this abstract has no \textit
    assert 'href="https://doi.org/10.1/x"' in html
    assert 'href="https://arxiv.org/abs/2106.02241"' in html
    assert 'href="https://arxiv.org/pdf/2106.02241"' in html
    assert 'href="https://github.com/x/y"' in html
    assert '<pre id="bibtex" class="bibtex" tabindex="0"><code>@' in html
    assert 'data-copy-target="bibtex" hidden' in html
    assert '<meta name="citation_title" content="ERNIE-Tiny: distillation">' in html
    assert html.count('name="citation_author"') == 2
    assert '<meta name="citation_publication_date" content="2021/06/04">' in html
    assert '<meta name="citation_arxiv_id" content="2106.02241">' in html
    assert '<meta name="citation_doi" content="10.1/x">' in html
    assert '<meta name="citation_journal_title" content="EMNLP">' in html
    assert '"@type":"ScholarlyArticle"' in html
    assert '<meta property="og:title" content="ERNIE-Tiny: distillation">' in html
    # listings, previous and next within each, similar papers, topics
    assert '<a href="../listings/list-a.html">List A</a> <span class="count">1 of 3</span>' in html
    assert '<a rel="next" href="2105.11624.html">Radial velocities</a>' in html
    assert '<a rel="prev" href="x-undated.html">Undated paper</a>' in html
    assert 'id="similar-h"' in html and 'href="../papers/2105.11624.html"' in html
    assert '<a href="../topics/distillation.html">Distillation</a>' in html
    # search markup contract
    assert '<form class="search-form" role="search" action="../search.html">' in html
    assert 'id="site-search"' in html and 'name="q"' in html
    assert '<body data-site-root="../" data-page-kind="paper">' in html
    assert '<span data-pagefind-filter="kind">paper</span>' in html
    assert 'data-pagefind-sort="date:2021-06-04"' in html
    assert '<span data-pagefind-filter="listing">List B</span>' in html
    assert '<script src="../static/search.js" defer></script>' in html


def test_derived_title_truncated_authors_month_precision(site: dict[str, bytes]) -> None:
    html = site["papers/2105.11624.html"].decode()
    assert "Title derived from the abstract" in html
    assert '<span class="et-al">et al.</span>' in html
    assert '<time datetime="2021-05">May 2021</time>' in html
    assert "javascript:" not in html  # code_url was javascript: and is dropped
    assert "\\textit" not in html and "<em>Gaia</em>" in html
    assert 'href="https://example.org/a"' in html  # plain URL linked
    run_on = site["papers/2009.14167.html"].decode()
    assert '<time datetime="2020">2020</time>' in run_on
    undated = site["papers/x-undated.html"].decode()
    assert "Date unknown" in undated and "Authors unknown" in undated


def test_author_topic_listing_pages(site: dict[str, bytes]) -> None:
    author = site["authors/hao-tian.html"].decode()
    assert "These papers may come from different researchers who share this name." in author
    assert '<h3>stars <span class="count">1</span></h3>' in author
    assert '<a href="bo-zhang.html">Bo Zhang</a> <span class="count">1</span>' in author
    assert 'id="2021"' in author and "active" not in author.split("summary")[0]
    assert 'data-pagefind-filter="kind">author<' in author
    bo = site["authors/bo-zhang.html"].decode()
    assert "2 papers · active 2020–2021" in bo
    assert "different researchers" not in bo
    topic = site["topics/distillation.html"].decode()
    assert "Papers that say distillation." in topic
    assert '<a href="computation-and-language-cs-cl.html">' in topic  # related topic
    assert 'data-pagefind-filter="kind">topic<' in topic
    assert '<a href="../authors/hao-tian.html">Hao Tian</a> <span class="count">2</span>' in topic
    listing = site["listings/list-b.html"].decode()
    assert "These papers may come from different researchers" in listing
    assert 'id="g1"' in listing and "data-pagefind-body" not in listing
    home = site["index.html"].decode()
    assert "<title>Test papers</title>" in home and 'href="listings/list-a.html"' in home
    assert home.index("2106.02241") < home.index("2105.11624")  # newest first
    authors = site["authors.html"].decode()
    assert authors.index("Weiyue Su") < authors.index("Hao Tian") < authors.index("Bo Zhang")
    assert authors.index('id="letter-s"') < authors.index("Weiyue Su")  # by last name


def test_every_link_resolves(site: dict[str, bytes]) -> None:
    pages = {p: d.decode() for p, d in site.items() if p.endswith(".html")}
    assert broken_links(pages, set(site)) == []


def test_every_page_has_title_and_description(site: dict[str, bytes]) -> None:
    for path, data in site.items():
        if path.endswith(".html"):
            html = data.decode()
            assert "<title>" in html and '<meta name="description" content="' in html, path
            assert 'data-site-root="' in html and 'id="site-search"' in html, path


def test_rel_matches_relative_url() -> None:
    targets = [
        "index.html",
        "papers/a.html",
        "authors/b.html",
        "feeds/topics/t.xml",
        "static/style.css",
        "authors/b.page-2.html",
        "",
    ]
    for page in ["index.html", "papers/x.html", "authors/y.html", "years/2021.html"]:
        rel = make_rel(page)
        for t in targets:
            assert rel(t) == urls.relative_url(page, t), (page, t)
        assert rel("#cite") == "#cite"


def test_hostile_text_is_inert(hostile_files: tuple[OutputFile, ...]) -> None:
    pages = pages_of(hostile_files)
    assert len(pages) > 15
    for path, html in pages.items():
        page = parse(html)
        for tag, attrs in page.tags:
            assert not any(k.startswith("on") for k in attrs), (path, tag, attrs)
            for k in ("href", "src", "action"):
                v = (attrs.get(k) or "").strip().lower()
                assert not v.startswith(("javascript:", "data:")), (path, tag, attrs)
            if tag == "script":
                assert attrs.get("type") == "application/ld+json" or (
                    attrs.get("src", "") or ""
                ).endswith(".js"), (path, attrs)
        for body in page.scripts:
            assert "<" not in body, path  # JSON-LD escapes < so nothing can close it
            if body:
                json.loads(body)
        assert "<script>alert" not in html, path
        if path.startswith(("papers/", "authors/", "topics/", "listings/")):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    for f in hostile_files:
        if f.path.endswith(".xml"):
            ET.fromstring(f.data)  # feeds and sitemap stay well-formed


def test_links_resolve_with_hostile_text(hostile_files: tuple[OutputFile, ...]) -> None:
    assert broken_links(pages_of(hostile_files), {f.path for f in hostile_files}) == []


def test_base_url_adds_canonical_sitemap_robots(hostile_files: tuple[OutputFile, ...]) -> None:
    files = as_dict(hostile_files)
    paper = files["papers/2106.02241.html"].decode()
    assert '<link rel="canonical" href="https://example.org/sub/papers/2106.02241.html">' in paper
    assert (
        '<meta property="og:url" content="https://example.org/sub/papers/2106.02241.html">' in paper
    )
    sitemap = ET.fromstring(files["sitemap.xml"])
    locs = [el.text for el in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://example.org/sub/papers/2106.02241.html" in locs
    assert "https://example.org/sub/" in locs
    assert not any(loc and loc.endswith("404.html") for loc in locs)
    assert (
        files["robots.txt"]
        == b"User-agent: *\nAllow: /\nSitemap: https://example.org/sub/sitemap.xml\n"
    )
    # the 404 page is served at any URL, so its links are absolute
    assert 'href="https://example.org/sub/static/style.css"' in files["404.html"].decode()


def test_renders_are_byte_identical_and_sorted() -> None:
    a = render_site(make_catalog(hostile=True), Config())
    b = render_site(make_catalog(hostile=True), Config())
    assert a == b
    assert [f.path for f in a] == sorted(f.path for f in a)


def test_parallel_render_equals_serial() -> None:
    catalog = many_papers_catalog(300)
    assert render_site(catalog, Config(), jobs=2) == render_site(catalog, Config())


def test_long_lists_are_paged() -> None:
    files = as_dict(render_site(many_papers_catalog(450), Config()))
    assert "authors/bo-zhang.page-3.html" in files and "authors/bo-zhang.page-4.html" not in files
    first = files["authors/bo-zhang.html"].decode()
    assert first.count('class="card"') == 200
    assert '<a rel="next" href="bo-zhang.page-2.html">' in first
    last = files["authors/bo-zhang.page-3.html"].decode()
    assert last.count('class="card"') == 452 - 400
    assert "data-pagefind-body" not in last  # only page 1 is a search result
    assert "listings/list-a.page-3.html" in files
    pages = {p: d.decode() for p, d in files.items() if p.endswith(".html")}
    assert broken_links(pages, set(files)) == []


def test_feeds_are_atom_newest_first(site: dict[str, bytes]) -> None:
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(site["feeds/authors/hao-tian.xml"])
    assert feed.findtext("a:updated", namespaces=ns) == "2021-06-04T00:00:00Z"
    ids = [e.findtext("a:id", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert ids == ["https://arxiv.org/abs/2106.02241", "https://arxiv.org/abs/2105.11624"]
    link = feed.find("a:entry/a:link", ns)
    assert link is not None
    href = link.get("href") or ""
    resolved = posixpath.normpath(posixpath.join("feeds/authors", href))
    assert resolved == "papers/2106.02241.html"


def test_exports(site: dict[str, bytes]) -> None:
    papers = json.loads(site["papers.json"])
    assert [p["id"] for p in papers] == ["2106.02241", "2105.11624", "2009.14167", "x-undated"]
    first = papers[0]
    for key in (
        "id",
        "url",
        "arxiv_id",
        "title",
        "title_source",
        "authors",
        "authors_truncated",
        "date",
        "date_precision",
        "year",
        "category",
        "topics",
        "listings",
        "comments",
        "journal_ref",
        "doi",
        "code_url",
        "abstract",
        "field_sources",
    ):
        assert key in first, key
    assert first["url"] == "papers/2106.02241.html"
    assert first["topics"] == ["Distillation", "Computation and Language (cs.CL)"]
    assert papers[1]["title_source"] == "derived"
    listings = json.loads(site["listings.json"])
    assert listings[1]["file"] == "seeds/list-b.txt" and listings[1]["name"] == "List B"
    assert listings[1]["groups"] == [
        {"label": "g1", "papers": ["x-undated"]},
        {"label": "g2", "papers": ["2106.02241"]},
    ]
    assert listings[0]["groups"] == [
        {"label": "List A", "papers": ["2106.02241", "2105.11624", "2009.14167"]}
    ]
    assert site["papers.bib"].count(b"@") == 4


def test_no_inline_style_or_handlers(site: dict[str, bytes]) -> None:
    for path, data in site.items():
        if path.endswith(".html"):
            page = parse(data.decode())
            for tag, attrs in page.tags:
                assert tag != "style" and "style" not in attrs, (path, tag)
                if tag == "script":
                    assert attrs.get("src") or attrs.get("type") == "application/ld+json"


def test_paper_page_is_small(site: dict[str, bytes]) -> None:
    size = len(site["papers/2106.02241.html"]) + len(site["static/style.css"])
    assert size < 20_000, size


# -- the render memo (incremental builds) ------------------------------------------------------


def _rendered_jobs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record every job the renderer actually renders (serial render only)."""
    seen: list[tuple[str, str]] = []
    original = Renderer.run

    def run(self: Renderer, job: tuple[str, str]) -> list[OutputFile]:
        seen.append(job)
        return original(self, job)

    monkeypatch.setattr(Renderer, "run", run)
    return seen


def _memo_build(
    tmp_path: Path, catalog: Catalog, config: Config, memo: dict[str, Any], jobs: int = 1
) -> tuple[OutputFile, ...]:
    """A build through the page memo, as the build runs it (``render_to`` + write into the
    same folder each time): the site's files, as ``render_site`` returns them."""
    from generator.render import render_to

    out = tmp_path / "memo-site"
    render_to(catalog, config, out, jobs=jobs, memo=memo).write()
    return tuple(OutputFile(path, data) for path, data in sorted(_tree(out).items()))


def test_memo_output_equals_a_render_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = make_catalog(hostile=True)
    plain = render_site(catalog, Config(base_url="https://example.org/x/"))
    memo: dict[str, Any] = {}
    seen = _rendered_jobs(monkeypatch)
    assert _memo_build(tmp_path, catalog, Config(base_url="https://example.org/x/"), memo) == plain
    first = len(seen)
    assert first > 10 and memo
    assert _memo_build(tmp_path, catalog, Config(base_url="https://example.org/x/"), memo) == plain
    assert len(seen) == first  # nothing rendered again: every page came from the memo
    # site settings are part of every key
    other = _memo_build(tmp_path, catalog, Config(title="Other title"), memo)
    assert len(seen) == 2 * first
    assert other == render_site(catalog, Config(title="Other title"))


def _edit_paper(catalog: Catalog, paper_id: str, **changes: Any) -> Catalog:
    papers = tuple(replace(p, **changes) if p.id == paper_id else p for p in catalog.papers)
    return replace(catalog, papers=papers)


def test_memo_rerenders_every_page_showing_a_changed_abstract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = make_catalog()
    memo: dict[str, Any] = {}
    old = as_dict(_memo_build(tmp_path, catalog, Config(), memo))
    edited = _edit_paper(catalog, "2106.02241", abstract="A new abstract about $y^3$.")
    fresh = render_site(edited, Config())
    seen = _rendered_jobs(monkeypatch)
    assert _memo_build(tmp_path, edited, Config(), memo) == fresh
    changed = {path for path, data in as_dict(fresh).items() if old.get(path) != data}
    # the paper page, its feeds (summaries) and papers.json show the abstract
    assert {"papers/2106.02241.html", "papers.json", "feeds/topics/distillation.xml"} <= changed
    assert ("paper", "2106.02241") in seen
    assert ("feed", "topics:distillation") in seen
    # pages that do not show this paper were reused, not rendered
    assert ("paper", "2009.14167") not in seen
    assert ("author", "bo-zhang") not in seen
    assert ("404", "") not in seen


def test_memo_rerenders_every_page_showing_a_changed_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = make_catalog()
    memo: dict[str, Any] = {}
    _memo_build(tmp_path, catalog, Config(), memo)
    edited = _edit_paper(catalog, "2106.02241", title="A brand new title")
    fresh = as_dict(render_site(edited, Config()))
    seen = _rendered_jobs(monkeypatch)
    assert as_dict(_memo_build(tmp_path, edited, Config(), memo)) == fresh
    for path, data in fresh.items():
        if path.endswith((".html", ".xml")) and not path.startswith("static/"):
            shows = b"A brand new title" in data
            kind_key = {"papers": "paper", "authors": "author", "topics": "topic"}
            folder, _, name = path.rpartition("/")
            if shows and folder in kind_key:
                assert (kind_key[folder], name.removesuffix(".html")) in seen, path
    # its neighbour in list A shows it as "previous"; the paper after that does not
    assert ("paper", "2105.11624") in seen
    assert ("paper", "2009.14167") not in seen
    assert ("author", "bo-zhang") not in seen


def test_memo_follows_renamed_authors_and_drops_removed_pages(tmp_path: Path) -> None:
    catalog = many_papers_catalog(300)
    memo: dict[str, Any] = {}
    _memo_build(tmp_path, catalog, Config(), memo, jobs=2)
    author = catalog.authors[0]
    renamed = replace(
        catalog, authors=(replace(author, name="Renamed Person"),) + catalog.authors[1:]
    )
    assert _memo_build(tmp_path, renamed, Config(), memo, jobs=2) == render_site(renamed, Config())
    fewer = replace(catalog, papers=catalog.papers[:-1])
    assert _memo_build(tmp_path, fewer, Config(), memo) == render_site(fewer, Config())
    gone = catalog.papers[-1].id
    assert not [k for k in memo if k.endswith(gone)]  # no entry kept for a page not built


def test_page_keys_cover_templates_static_and_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "tree"
    for folder in ("templates", "static", "generator"):
        shutil.copytree(pagememo.ROOT / folder, root / folder)
    monkeypatch.setattr(pagememo, "ROOT", root)
    salt = pagememo.build_salt("t", "d", None, ())
    assert pagememo.build_salt("t", "d", None, ()) == salt
    assert pagememo.build_salt("t", "d", "https://x.org/", ()) != salt
    for edited in ("templates/paper.html", "static/style.css", "generator/views.py"):
        path = root / edited
        text = path.read_bytes()
        path.write_bytes(text + b"\n")
        assert pagememo.build_salt("t", "d", None, ()) != salt, edited
        path.write_bytes(text)
    assert pagememo.build_salt("t", "d", None, ()) == salt


def test_memo_follows_the_templates_render_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = make_catalog()
    memo: dict[str, Any] = {}
    _memo_build(tmp_path, catalog, Config(), memo)
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    base = templates / "base.html"
    base.write_text(base.read_text().replace("<main ", "<main data-edited "))
    monkeypatch.setattr(render, "TEMPLATES", templates)
    render.environment.cache_clear()
    try:
        edited = as_dict(_memo_build(tmp_path, catalog, Config(), memo))
        assert all(
            b"<main data-edited " in data for p, data in edited.items() if p.endswith(".html")
        )
    finally:
        render.environment.cache_clear()


# -- render_to: pages streamed into the site as they are rendered ----------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("jobs", [1, 2])
def test_streamed_site_equals_the_rendered_files(tmp_path: Path, jobs: int) -> None:
    """render_to + write: the folder holds exactly render_site's files, byte for byte, whether
    the pages were written by this process or by forked workers."""
    from generator.render import render_to

    catalog = many_papers_catalog(260)  # enough jobs for the workers
    config = Config(base_url="https://example.org/x/")
    out = tmp_path / "site"
    rendered = render_to(catalog, config, out, jobs=jobs)
    assert not out.exists()  # nothing in place before the write
    stats = rendered.write()
    expected = as_dict(render_site(catalog, config))
    assert _tree(out) == expected
    assert rendered.count == len(expected) == stats.files == stats.changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_streamed_rebuild_keeps_memo_pages_and_equals_a_cold_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memo holds page digests, not bytes: an unchanged page is linked from the previous
    site (trusted digests: not even read), a changed one rendered; the site always equals a
    cold build's, also when a page of the previous site was edited by hand."""
    from generator.render import render_to

    catalog = make_catalog()
    out = tmp_path / "site"
    memo: dict[str, Any] = {}
    first = render_to(catalog, Config(), out, memo=memo).write()
    assert memo and all(isinstance(v[1], tuple) for k, v in memo.items() if k.startswith("page"))
    assert not [v for v in memo.values() if isinstance(v, OutputFile | bytes)]
    seen = _rendered_jobs(monkeypatch)
    again = render_to(catalog, Config(), out, memo=memo, previous=first.digests).write()
    assert seen == [] and again.mode == "update" and again.changed == 0
    edited = _edit_paper(catalog, "2106.02241", abstract="A new abstract about $y^3$.")
    update = render_to(edited, Config(), out, memo=memo, previous=again.digests).write()
    assert ("paper", "2106.02241") in seen and ("paper", "2009.14167") not in seen
    assert update.mode == "update" and 0 < update.changed < 10
    assert _tree(out) == as_dict(render_site(edited, Config()))
    # no trusted digests (a search index was added, say) and a page changed by hand
    (out / "papers" / "2009.14167.html").write_text("edited by hand")
    seen.clear()
    render_to(edited, Config(), out, memo=memo).write()
    assert seen == [("paper", "2009.14167")]  # read, found changed, rendered again
    assert _tree(out) == as_dict(render_site(edited, Config()))


def test_streamed_build_failing_half_way_keeps_the_previous_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.build import BuildError
    from generator.render import render_to

    catalog = many_papers_catalog(260)
    out = tmp_path / "site"
    render_to(catalog, Config(), out).write()
    before = _tree(out)
    original = Renderer.run

    def run(self: Renderer, job: tuple[str, str]) -> list[OutputFile]:
        if job == ("paper", catalog.papers[-1].id):
            raise BuildError("template error in paper.html:1 rendering it")
        return original(self, job)

    monkeypatch.setattr(Renderer, "run", run)
    for jobs in (1, 2):
        with pytest.raises(BuildError, match="template error"):
            render_to(replace(catalog, papers=catalog.papers[1:]), Config(), out, jobs=jobs)
        assert _tree(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_streamed_rebuild_of_a_small_site_with_an_empty_memo(tmp_path: Path) -> None:
    """Trusted digests of the site but no memo (deleted): every page rendered, in place."""
    from generator.render import render_to

    catalog = make_catalog()
    out = tmp_path / "site"
    first = render_to(catalog, Config(), out).write()
    memo: dict[str, Any] = {}
    again = render_to(catalog, Config(), out, memo=memo, previous=first.digests).write()
    assert again.mode == "update" and again.changed == 0 and memo
    assert _tree(out) == as_dict(render_site(catalog, Config()))
