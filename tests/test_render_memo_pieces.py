"""The render memo at the grain of what pages show: a paper's card, feed entry and full
record are fingerprinted apart (generator.pagememo), and papers.json / papers.bib are
remade from the previous files' pieces (generator.render._whole_site_files). Every build
here must equal a render without any memo; the tests also check that pages which do not
show what changed are not rendered again."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from generator import bibexport, render
from generator.model import Catalog, OutputFile, Paper
from generator.render import Renderer, render_site, render_to
from generator.write import WriteError, _folders, check_paths
from tests.render_catalog import Config, make_catalog, paper


class Site:
    """One output folder built again and again through the memo, as the build does it:
    with the previous build's digests (so few changes are written in place)."""

    def __init__(self, out: Path, config: Config | None = None) -> None:
        self.out = out
        self.config = config or Config()
        self.memo: dict[str, Any] = {}
        self.digests: dict[str, bytes] | None = None

    def build(self, catalog: Catalog, trusted: bool = True) -> dict[str, bytes]:
        previous = self.digests if trusted else None
        site = render_to(catalog, self.config, self.out, memo=self.memo, previous=previous)  # type: ignore[arg-type]
        self.digests = dict(site.write().digests)
        return {
            p.relative_to(self.out).as_posix(): p.read_bytes()
            for p in sorted(self.out.rglob("*"))
            if p.is_file()
        }


def _plain(catalog: Catalog, config: Config | None = None) -> dict[str, bytes]:
    return {f.path: f.data for f in render_site(catalog, config or Config())}  # type: ignore[arg-type]


def _edit(catalog: Catalog, paper_id: str, **changes: Any) -> Catalog:
    papers = tuple(replace(p, **changes) if p.id == paper_id else p for p in catalog.papers)
    return replace(catalog, papers=papers)


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every job the renderer renders from now on."""
    seen: list[tuple[str, str]] = []
    original = Renderer.run

    def run(self: Renderer, job: tuple[str, str]) -> list[OutputFile]:
        seen.append(job)
        return original(self, job)

    monkeypatch.setattr(Renderer, "run", run)
    return seen


# A new value for every field of a paper a page may show (origins is shown nowhere).
NEW_VALUES: dict[str, Any] = {
    "id": None,  # not edited: a paper's id is its identity (a new id is a new paper)
    "arxiv_id": "2106.99999",
    "title": "An entirely new title",
    "title_source": "derived",
    "authors": ("Hao Tian", "Weiyue Su"),
    "authors_truncated": True,
    "date": "2019-02-03",
    "date_precision": "month",
    "year": 2019,
    "category": "astro-ph.GA",
    "abstract": "A new abstract about $y^3$ that is long enough. " * 3,
    "comments": "9 pages",
    "journal_ref": "Nature 1",
    "venue": "ICML",
    "doi": "10.2/new",
    "url": "https://example.org/new",
    "code_url": "https://github.com/new/code",
    "has_code": False,
    "affiliation": "New University",
    "score": 0.25,
    "listings": ("list-a",),
    "origins": None,
    "field_sources": (("title", "bibtex"),),
}


def test_every_paper_field_has_a_new_value_here() -> None:
    assert {f.name for f in fields(Paper)} == set(NEW_VALUES)


@pytest.mark.parametrize("name", [n for n, v in NEW_VALUES.items() if v is not None])
def test_a_changed_paper_field_rebuilds_like_a_cold_render(tmp_path: Path, name: str) -> None:
    """Whatever field of a paper changes, every page showing it is made again (the keys
    cover it), in place and streamed alike."""
    catalog = make_catalog()
    edited = _edit(catalog, "2106.02241", **{name: NEW_VALUES[name]})
    assert edited != catalog
    for trusted in (True, False):
        site = Site(tmp_path / f"site-{trusted}")
        assert site.build(catalog) == _plain(catalog)
        assert site.build(edited, trusted) == _plain(edited), (name, trusted)
        assert site.build(catalog, trusted) == _plain(catalog), (name, trusted)


def test_an_abstract_edit_renders_only_the_pages_that_show_abstracts(
    tmp_path: Path, rendered: list[tuple[str, str]]
) -> None:
    """Cards do not show abstracts: list pages and neighbours' pages are kept; the paper's
    page and the feeds that summarise it are made again."""
    catalog = make_catalog()
    site = Site(tmp_path / "site")
    site.build(catalog)
    edited = _edit(catalog, "2106.02241", abstract="A different abstract.")
    expected = _plain(edited)
    rendered.clear()
    assert site.build(edited) == expected
    assert ("paper", "2106.02241") in rendered
    assert ("feed", "topics:distillation") in rendered
    assert ("feed", "authors:hao-tian") in rendered
    for kept in [
        ("paper", "2105.11624"),  # its neighbour in list A, and similar paper: shows its card
        ("author", "hao-tian"),
        ("topic", "distillation"),
        ("listing", "list-a"),
        ("year", "2021"),
        ("home", ""),
    ]:
        assert kept not in rendered, kept


def test_a_title_edit_renders_the_pages_that_list_the_paper(
    tmp_path: Path, rendered: list[tuple[str, str]]
) -> None:
    catalog = make_catalog()
    site = Site(tmp_path / "site")
    site.build(catalog)
    edited = _edit(catalog, "2106.02241", title="Another title")
    expected = _plain(edited)
    rendered.clear()
    assert site.build(edited) == expected
    for made in [
        ("paper", "2106.02241"),
        ("paper", "2105.11624"),
        ("author", "hao-tian"),
        ("topic", "distillation"),
        ("listing", "list-a"),
        ("year", "2021"),
    ]:
        assert made in rendered, made
    assert ("author", "bo-zhang") not in rendered  # lists no paper whose card changed


def test_papers_json_and_bib_remake_only_the_changed_papers_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = make_catalog()
    site = Site(tmp_path / "site")
    site.build(catalog)
    edited = _edit(catalog, "2105.11624", abstract="Changed.", venue="NeurIPS")
    expected = _plain(edited)
    rows: list[str] = []
    bodies: list[str] = []
    row, body = Renderer.paper_json_row, bibexport.paper_bibtex

    def counted_row(self: Renderer, p: Paper) -> str:
        rows.append(p.id)
        return row(self, p)

    def counted_body(p: Paper, *args: Any) -> str:
        bodies.append(p.id)
        return body(p, *args)

    monkeypatch.setattr(Renderer, "paper_json_row", counted_row)
    monkeypatch.setattr(render, "paper_bibtex", counted_body)
    assert site.build(edited) == expected
    assert rows == ["2105.11624"]
    assert bodies == ["2105.11624"]
    rows.clear()
    bodies.clear()
    assert site.build(edited) == expected  # nothing changed: both files kept
    assert rows == [] and bodies == []


def test_papers_bib_follows_citation_keys_that_shift(tmp_path: Path) -> None:
    """A new paper with the same base citation key as a later one takes its key; the later
    one's entry changes though the paper did not."""
    catalog = make_catalog()
    twin = replace(catalog.papers[0], id="0001.00001", arxiv_id="0001.00001")
    more = replace(catalog, papers=(twin, *catalog.papers))
    site = Site(tmp_path / "site")
    site.build(catalog)
    assert site.build(more) == _plain(more)
    assert site.build(catalog) == _plain(catalog)


def test_whole_site_files_are_not_taken_from_a_damaged_previous_file(tmp_path: Path) -> None:
    """Pieces come from the previous files only when they hold the bytes recorded: a file
    changed behind the build's back (no trusted digests then) is remade whole."""
    catalog = make_catalog()
    site = Site(tmp_path / "site")
    site.build(catalog)
    for name in ("papers.json", "papers.bib"):
        data = (site.out / name).read_bytes()
        (site.out / name).write_bytes(data.replace(b"a", b"b"))
    edited = _edit(catalog, "2106.02241", abstract="Changed again.")
    assert site.build(edited, trusted=False) == _plain(edited)


def test_many_papers_rebuild_in_place_like_a_cold_render(tmp_path: Path) -> None:
    """Enough papers that only a few pages change (the in-place path), papers added and
    removed between builds."""
    base = make_catalog()
    extra = tuple(
        paper(f"2101.{i:05d}", f"Paper {i}", f"20{10 + i % 10}-01-0{1 + i % 9}", ("Bo Zhang",))
        for i in range(150)
    )
    catalog = replace(base, papers=base.papers + extra)
    site = Site(tmp_path / "site")
    site.build(catalog)
    edited = _edit(catalog, "2101.00007", abstract="Seven.", title="Seven")
    assert site.build(edited) == _plain(edited)
    fewer = replace(edited, papers=edited.papers[:-3])
    assert site.build(fewer) == _plain(fewer)
    assert site.build(catalog) == _plain(catalog)


def test_check_paths_checks_the_paths_given_by_name_too() -> None:
    check_paths([OutputFile("a/b.html", b"")], ["a/c.html", "d.html"])
    with pytest.raises(WriteError, match="same path: a/b.html"):
        check_paths([OutputFile("a/b.html", b"")], ["a/b.html"])
    with pytest.raises(WriteError, match="both a file and a folder: a/b"):
        check_paths([OutputFile("a/b", b"")], ["a/b/c.html"])
    with pytest.raises(WriteError, match="outside the site folder"):
        check_paths([], ["../x.html"])


def test_folders_are_every_parent_of_every_path() -> None:
    paths = ["a/b/c/d.html", "a/b/e.html", "x.html", "a/f/g.html", "z/y/x/w/v.html"]
    naive = {"/".join(p.split("/")[:i]) for p in paths for i in range(1, p.count("/") + 1)}
    assert _folders(paths) == naive
    assert _folders(reversed(paths)) == naive


def test_page_keys_are_the_same_made_one_by_one_or_all_at_once() -> None:
    """``PageKeys.prepare`` (every paper's fingerprints in one pass) changes no key."""
    catalog = make_catalog(hostile=True)
    renderer = Renderer(catalog, Config())  # type: ignore[arg-type]
    lazy = render._page_keys(renderer, Config())  # type: ignore[arg-type]
    eager = render._page_keys(renderer, Config())  # type: ignore[arg-type]
    eager.prepare()
    jobs = [job for job in renderer.jobs() if job[0] not in render._WHOLE_SITE_JOBS]
    assert len({lazy.key(*job) for job in jobs}) == len(jobs)  # every page its own key
    assert [lazy.key(*job) for job in jobs] == [eager.key(*job) for job in jobs]
    for kind in render._WHOLE_SITE_JOBS:
        assert lazy.all_papers(kind) == eager.all_papers(kind)
