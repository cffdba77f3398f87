"""Links (issue 7): every internal href/src resolves over http, under a sub-path and from
file://. A real browser opens a sample of pages of each kind three ways and checks every link
and resource the browser resolved (the static whole-site checks, all pages, are in
test_render_site.py: ``test_every_link_resolves`` and ``..._moved_to_a_sub_directory``); the
fuzzer's fast static check is checked here against the parser-based one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.browser_support import serve_site, watch_page
from tests.hardening_support import site_link_problems

KINDS = ("papers", "authors", "topics", "listings", "years")
_LINKS = """() => Array.from(document.querySelectorAll('[href], [src]'))
  .map(el => typeof el.href === 'string' ? el.href : (typeof el.src === 'string' ? el.src : ''))
  .filter(u => u)"""


def _sample(site: Path, per_kind: int = 3) -> list[str]:
    top = sorted(p.name for p in site.glob("*.html"))
    chosen = list(top)
    for kind in KINDS:
        inside = sorted(p.relative_to(site).as_posix() for p in (site / kind).glob("*.html"))
        step = max(1, len(inside) // per_kind)
        chosen += inside[::step][:per_kind]
    return chosen


@pytest.fixture(scope="module", params=["http", "subpath", "file"])
def base(request: pytest.FixtureRequest, seed_site: Path) -> Iterator[str]:
    if request.param == "file":
        yield seed_site.resolve().as_uri() + "/"
        return
    with serve_site(seed_site, "/" if request.param == "http" else "/deep/sub/path/") as url:
        yield url


@pytest.mark.browser
@pytest.mark.slow
def test_every_link_of_sampled_pages_resolves_in_the_browser(
    base: str,
    seed_site: Path,
    browser: Any,
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = watch_page(page)
    failed: list[str] = []
    page.on(
        "requestfailed",  # requests cut short by the next navigation are not failures
        lambda r: (
            "ERR_ABORTED" not in (r.failure or "")
            and failed.append(f"request failed {r.url}: {r.failure}")
        ),
    )
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    checked: dict[str, bool] = {}
    bad: list[str] = []
    for rel in _sample(seed_site):
        page.goto(base + rel)
        page.wait_for_load_state("load")
        for url in page.evaluate(_LINKS):
            if not url.startswith(base):
                if url.startswith(("http://127.0.0.1", "file:")):
                    bad.append(f"{rel}: {url} outside the site")
                continue  # external links are not followed
            target = url.split("#")[0].split("?")[0]
            if target not in checked:
                if base.startswith("file:"):
                    checked[target] = Path(unquote(urlsplit(target).path)).is_file()
                else:
                    checked[target] = context.request.get(target).status == 200
            if not checked[target]:
                bad.append(f"{rel}: {url}")
    context.close()
    assert len(checked) > 100
    assert bad == [], bad[:20]
    assert failed == [], failed[:20]
    assert problems.errors == [], problems.errors[:20]


def test_fast_link_check_agrees_and_catches_breakage(seed_site: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(seed_site, site)
    assert site_link_problems(site) == site_link_problems(site, fast=True) == []
    victim = next((site / "authors").glob("*.html"))
    victim.unlink()
    slow, fast = site_link_problems(site), site_link_problems(site, fast=True)
    assert slow and sorted(slow) == sorted(fast)
    page = site / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace('href="', 'href="/', 1))
    assert any("non-relative" in p for p in site_link_problems(site, fast=True))
