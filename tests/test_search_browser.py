"""Search in a real browser (Debian's chromium), on the site built from seeds/: over http with
the strict CSP, under a sub-path, and opened from disk (file://, the script-loaded index)."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT, SEEDS, build_site

from generator.offline_index import INDEX_DIR, engine_file
from generator.search import ENGINE_ENV, pagefind_bundles, run_pagefind
from tests.browser_support import serve_site, watch_page

pytestmark = pytest.mark.browser

TINYBERT = "papers/1909.10351.html"
PATHS = ["http", "subpath", "file"]


@pytest.fixture(scope="module", params=PATHS)
def site_url(request: pytest.FixtureRequest, seed_site: Path) -> Iterator[str]:
    """The seed site's base URL, served three ways."""
    if request.param == "file":
        yield seed_site.resolve().as_uri() + "/"
        return
    prefix = "/" if request.param == "http" else "/sub/dir/"
    with serve_site(seed_site, prefix) as base:
        yield base


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    problems = watch_page(pg)
    yield pg
    context.close()
    assert problems.errors == [], problems.errors


def search(page: Any, base: str, query: str) -> list[dict[str, str]]:
    """Open the search page with a query string; return every result (clicking "More")."""
    page.goto(base + "search.html" + query)
    return results(page)


def results(page: Any) -> list[dict[str, str]]:
    page.wait_for_selector("#search-page[data-state=done]")
    while page.is_visible("#search-more"):
        n = page.locator(".search-result").count()
        page.click("#search-more")
        page.wait_for_selector(f".search-result:nth-child({n + 1})")
    found: list[dict[str, str]] = page.eval_on_selector_all(
        ".search-result",
        """items => items.map(li => ({
            href: li.querySelector('a').href,
            title: li.querySelector('a').textContent,
            meta: (li.querySelector('.search-result-meta') || {}).textContent || '',
            excerpt: li.querySelector('.search-result-excerpt').textContent,
            marks: Array.from(li.querySelectorAll('.search-result-excerpt mark'))
                .map(m => m.textContent).join('|'),
        }))""",
    )
    return found


def site_path(href: str) -> str:
    m = re.search(r"((papers|authors|topics)/[^/?#]+\.html)$", urlsplit(href).path)
    return m.group(1) if m else href


def test_distillation_lists_tinybert_with_highlights(page: Any, site_url: str) -> None:
    found = search(page, site_url, "?q=distillation")
    paths = [site_path(r["href"]) for r in found]
    assert TINYBERT in paths
    tiny = found[paths.index(TINYBERT)]
    assert "TinyBERT" in tiny["title"]
    assert "Xiaoqi Jiao" in tiny["meta"] and "2019" in tiny["meta"]
    assert re.search(r"distil", tiny["marks"], re.IGNORECASE)
    assert re.search(r"\d+ results? for", page.text_content("#search-status"))


def test_topic_and_year_filters_narrow(page: Any, site_url: str) -> None:
    everything = search(page, site_url, "?q=distillation")
    topic = search(page, site_url, "?q=distillation&topic=knowledge+distillation")
    both = search(page, site_url, "?q=distillation&topic=knowledge+distillation&year=2021")
    assert 0 < len(both) < len(topic) < len(everything)
    assert {site_path(r["href"]) for r in both} <= {site_path(r["href"]) for r in topic}
    assert all(site_path(r["href"]).startswith("papers/") for r in topic)
    assert all("2021" in r["meta"] for r in both)
    # the form shows the filters the URL asked for
    assert page.input_value("#search-filter-year") == "2021"
    assert page.input_value("#search-filter-topic") == "knowledge distillation"


def test_sort_by_date_orders_results(page: Any, site_url: str) -> None:
    newest = search(page, site_url, "?q=language&sort=date-desc")
    years = [int(m.group(0)) for r in newest if (m := re.search(r"\b(19|20)\d\d\b", r["meta"]))]
    assert len(years) == len(newest) > 3
    assert years == sorted(years, reverse=True)
    oldest = search(page, site_url, "?q=language&sort=date-asc")
    assert [site_path(r["href"]) for r in oldest] == [site_path(r["href"]) for r in newest][::-1]


def test_form_keeps_state_in_url_and_back_works(page: Any, site_url: str) -> None:
    search(page, site_url, "?q=distillation")
    page.select_option("#search-filter-year", "2021")
    page.wait_for_url(re.compile(r"year=2021"))
    narrowed = results(page)
    assert all("2021" in r["meta"] for r in narrowed)
    page.go_back()
    page.wait_for_url(re.compile(r"q=distillation$"))
    assert page.input_value("#search-filter-year") == ""
    assert len(results(page)) > len(narrowed)
    assert parse_qs(urlsplit(page.url).query) == {"q": ["distillation"]}


def test_opening_a_result_lands_on_its_page(page: Any, site_url: str) -> None:
    found = search(page, site_url, "?q=tinybert")
    link = next(r for r in found if site_path(r["href"]) == TINYBERT)
    page.locator(".search-result a", has_text=link["title"]).first.click()
    page.wait_for_load_state()
    assert page.url.split("#")[0].endswith(TINYBERT)
    assert "TinyBERT" in page.text_content("h1")


def test_no_match_says_so(page: Any, site_url: str) -> None:
    assert search(page, site_url, "?q=zzqxjvwk") == []
    assert "No results" in page.text_content("#search-status")


def test_author_name_finds_author_page(page: Any, site_url: str) -> None:
    found = search(page, site_url, "?q=Xiaoqi+Jiao")
    paths = [site_path(r["href"]) for r in found]
    assert "authors/xiaoqi-jiao.html" in paths[:3]
    assert any(r["href"].endswith(TINYBERT) for r in found)


def test_latex_phrase_finds_paper_without_markup(page: Any, site_url: str) -> None:
    # seed 000: "... silicon nitride (Si$_3$N$_4$) has emerged as a leading platform ..."
    found = search(page, site_url, "?q=Si3N4+isolator")
    assert found, "no result for a phrase from a LaTeX-bearing abstract"
    first = found[0]
    assert site_path(first["href"]) == "papers/2104.01158.html"
    text = first["title"] + first["excerpt"]
    for raw in ("$", "\\", "_3", "{", "}"):
        assert raw not in text, f"raw LaTeX {raw!r} in {text!r}"


def test_kind_filter_and_search_box_on_other_pages(page: Any, site_url: str) -> None:
    authors = search(page, site_url, "?q=distillation&kind=author")
    assert authors and all(site_path(r["href"]).startswith("authors/") for r in authors)
    page.goto(site_url + TINYBERT)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
    page.keyboard.type("tinybert")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"search\.html\?q=tinybert"))
    assert any(site_path(r["href"]) == TINYBERT for r in results(page))


def index_order(site: Path) -> list[str]:
    """The site's indexed pages in the build's order (``search.indexed_pages``: papers newest
    first, authors, topics), read back from the script-loaded index's document files."""
    urls: list[str] = []
    for n in itertools.count():
        path = site / INDEX_DIR / f"d-{n}.js"
        if not path.is_file():
            return urls
        payload = path.read_text(encoding="utf-8").split(",", 1)[1].rsplit(");", 1)[0]
        urls += [doc[0] for doc in json.loads(payload)]
    return urls


def build_as_large_site(site: Path) -> None:
    """Build the seeds as a site above the hosted-engine limit is built: the script-loaded
    index answers, and Pagefind holds a record page per page (``search.record_page``)."""
    cwd, before = os.getcwd(), os.environ.get(ENGINE_ENV)
    os.chdir(ROOT)
    os.environ[ENGINE_ENV] = "0"
    try:
        assert build_site(SEEDS, site) in (0, 1)
    finally:
        os.chdir(cwd)
        if before is None:
            del os.environ[ENGINE_ENV]
        else:
            os.environ[ENGINE_ENV] = before


@pytest.fixture(scope="module", params=["pagefind-parts", "index-over-http", "pagefind-records"])
def variant(
    request: pytest.FixtureRequest, seed_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The seed site served over http as a large site is: its Pagefind index built in parts
    (merged in the browser), search answered from the script-loaded index, or Pagefind asked
    (as ``?engine=pagefind`` does) on a large site's bundle of record pages."""
    site = tmp_path_factory.mktemp(request.param) / "site"
    if request.param == "pagefind-records":
        build_as_large_site(site)
        assert '"http":"index"' in (site / INDEX_DIR / "engine.js").read_text(encoding="utf-8")
        path, data = engine_file("pagefind", pagefind_bundles(site))
        (site / path).write_bytes(data)
        with serve_site(site, "/sub/") as base:
            yield base, "pagefind"
        return
    shutil.copytree(seed_site, site)
    if request.param == "pagefind-parts":
        run_pagefind(site, index_order(site), part_pages=30)
        bundles = pagefind_bundles(site)
        assert len(bundles) == 16  # papers in the first three, newest first
        path, data = engine_file("pagefind", bundles)
        backend = "pagefind"
    else:
        path, data = engine_file("index", pagefind_bundles(site))
        backend = "offline"
    (site / path).write_bytes(data)
    with serve_site(site, "/sub/") as base:
        yield base, backend


def test_large_site_engines_answer_the_same(page: Any, variant: tuple[str, str]) -> None:
    base, backend = variant
    test_distillation_lists_tinybert_with_highlights(page, base)
    assert page.get_attribute("#search-page", "data-backend") == backend
    test_topic_and_year_filters_narrow(page, base)
    test_sort_by_date_orders_results(page, base)
    test_author_name_finds_author_page(page, base)
