"""Accessibility (issue 7): axe-core (axe-playwright-python's bundled axe.min.js) on every page
type of the seed site, light and dark: zero serious or critical violations.

The site is served with its strict CSP; axe is injected through Playwright's evaluate in a
context with ``bypass_csp=True`` (the tool's own script, not the site's, needs that).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import serve_site, watch_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE_KINDS = {
    "home": "index.html",
    "paper": "papers/1909.10351.html",
    "paper-derived-title": None,  # chosen from papers.json below
    "author": None,
    "topic": None,
    "listing": None,
    "year": None,
    "years": "years.html",
    "authors": "authors.html",
    "topics": "topics.html",
    "listings": "listings.html",
    "search": "search.html",
    "search-results": "search.html?q=distillation",
    "404": "404.html",
}


def _pages(site: Path) -> dict[str, str]:
    import json

    found = dict(PAGE_KINDS)
    papers = json.loads((site / "papers.json").read_text(encoding="utf-8"))
    derived = [p for p in papers if p.get("title_source") == "derived"]
    found["paper-derived-title"] = (derived or papers)[0]["url"]
    for kind, folder in (("author", "authors"), ("topic", "topics"), ("listing", "listings"),
                         ("year", "years")):  # fmt: skip
        found[kind] = sorted(
            p.relative_to(site).as_posix() for p in (site / folder).glob("*.html")
        )[0]
    return {k: v for k, v in found.items() if v}


@pytest.fixture(scope="module")
def served(seed_site: Path) -> Iterator[str]:
    with serve_site(seed_site) as base:
        yield base


@pytest.fixture(scope="module", params=["light", "dark"])
def context(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(color_scheme=request.param, bypass_csp=True)
    yield ctx
    ctx.close()


def _axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    out = []
    for v in results.response["violations"]:
        if v.get("impact") in ("serious", "critical"):
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"]][:5]
            out.append(f"{v['id']} ({v['impact']}): {targets}")
    return out


@pytest.mark.parametrize("kind", sorted(PAGE_KINDS))
def test_no_serious_or_critical_axe_violations(
    kind: str, seed_site: Path, served: str, context: Any
) -> None:
    rel = _pages(seed_site)[kind]
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = watch_page(page)
    page.goto(served + rel)
    page.wait_for_load_state("load")
    if rel.startswith("search.html?"):
        page.wait_for_selector("#search-page[data-state=done]")
    found = _axe(page)
    page.close()
    assert found == [], f"{rel}: {found}"
    assert problems.errors == []


def test_axe_reports_a_planted_violation(context: Any) -> None:
    """The check can fail: a page with an unlabeled image button is flagged."""
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><input type="image" src="x.png"></html>')
    found = _axe(page)
    page.close()
    assert any(f.startswith("input-image-alt") for f in found), found
