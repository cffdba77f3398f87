"""Page keys taken from the last build (``PageKeys.unchanged``): a rebuild makes again only
the keys of pages that may show what changed and takes the others from the memo. Every key
it takes must be the key it would have made: checked here for an edit of each field of a
paper, of its similar papers and of the catalog's authors, topics and listings, then for
whole sites rebuilt through a chain of edits against renders without any memo."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from generator import pagememo
from generator.catalog import build_catalog
from generator.config import SiteConfig
from generator.model import Catalog, Group, Paper
from generator.render import Renderer, _page_keys, render_site, render_to
from tests.conftest import seed_stages
from tests.hardening_support import build_in_process, diff_trees, tree_digest, two_seed_listings

Job = tuple[str, str]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    files, papers, topics, similar, config = seed_stages()
    made, _ = build_catalog(papers, files, topics, similar, config)
    return made


def _keys(catalog: Catalog) -> tuple[pagememo.PageKeys, list[Job]]:
    config = SiteConfig()
    renderer = Renderer(catalog, config)
    jobs = [j for j in renderer.jobs() if j[0] not in ("papers.json", "papers.bib")]
    return _page_keys(renderer, config), jobs


def _kept_keys_agree(before: Catalog, after: Catalog) -> tuple[int, int]:
    """(keys taken from ``before``, jobs) for ``after``; asserts each taken key is the key
    made again."""
    old, old_jobs = _keys(before)
    made = {job: old.key(*job) for job in old_jobs}
    record = old.record()
    new, jobs = _keys(after)
    unchanged = new.unchanged(record)
    if unchanged is None:
        return 0, len(jobs)
    kept = [job for job in jobs if unchanged(job)]
    wrong = [job for job in kept if made.get(job) != new.key(*job)]
    assert wrong == []
    return len(kept), len(jobs)


def _listed_paper(catalog: Catalog) -> Paper:
    """A paper with neighbours in a listing whose pages show it only as a neighbour, shown
    as similar by other pages, and on an author's page."""

    def near(pid: str) -> set[str]:
        return {q for q, _ in catalog.similar.get(pid, ())[:5]}

    shown = {pid for ids in catalog.similar.values() for pid, _ in ids[:5]}
    for listing in catalog.listings:
        ids = listing.paper_ids
        for i in range(1, len(ids) - 1):
            pid = ids[i]
            alone = pid not in near(ids[i - 1]) | near(ids[i + 1])
            if alone and pid in shown and catalog.paper_authors.get(pid):
                return next(p for p in catalog.papers if p.id == pid)
    raise AssertionError("no paper fits")


def _other(value: Any) -> Any:
    """A value of the same kind, different."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, tuple):
        return (*value, value[0]) if value else ("x",)
    return "x"


def _edit(catalog: Catalog, paper_id: str, **changes: Any) -> Catalog:
    papers = tuple(replace(p, **changes) if p.id == paper_id else p for p in catalog.papers)
    return replace(catalog, papers=papers)


EDITED = [f.name for f in fields(Paper) if f.name not in ("id", "origins")]


@pytest.mark.parametrize("field", EDITED)
def test_keys_kept_after_a_paper_field_changes_are_the_keys_made_again(
    catalog: Catalog, field: str
) -> None:
    p = _listed_paper(catalog)
    value = _other(getattr(p, field))
    if field == "date":  # stays a date (years and feeds order by it)
        value = "1999-01-02"
    if field == "title_source":
        value = "derived" if p.title_source != "derived" else "seed"
    edited = _edit(catalog, p.id, **{field: value})
    kept, jobs = _kept_keys_agree(catalog, edited)
    if field in ("listings", "year", "date", "date_precision"):
        assert kept == 0  # the basis reads these: every key is made again
    else:
        assert 0 < kept < jobs


def test_nothing_changed_keeps_every_key_but_the_whole_site_pages(catalog: Catalog) -> None:
    kept, jobs = _kept_keys_agree(catalog, catalog)
    singles = {"home", "years", "authors-index", "topics-index", "listings-index"}
    singles |= {"404", "listings.json", "search"}
    assert kept == len([j for j in _keys(catalog)[1] if j[0] not in singles])
    assert jobs - kept == len(singles)


def _similar_moved(c: Catalog) -> Catalog:
    pid, near = next((k, v) for k, v in c.similar.items() if len(v) >= 2)
    return replace(c, similar={**c.similar, pid: (near[1], near[0], *near[2:])})


def _similar_dropped(c: Catalog) -> Catalog:
    pid, near = next((k, v) for k, v in c.similar.items() if len(v) >= 1)
    return replace(c, similar={**c.similar, pid: near[1:]})


def _author_renamed(c: Catalog) -> Catalog:
    a = max(c.authors, key=lambda a: len(a.paper_ids))
    return replace(c, authors=tuple(replace(x, name="Zed") if x is a else x for x in c.authors))


def _author_grouped(c: Catalog) -> Catalog:
    a = max(c.authors, key=lambda a: len(a.paper_ids))
    groups = (Group("one", a.paper_ids[:1]), Group("two", a.paper_ids[1:]))
    return replace(c, authors=tuple(replace(x, groups=groups) if x is a else x for x in c.authors))


def _coauthors_counted(c: Catalog) -> Catalog:
    a = next(x for x in c.authors if x.coauthors)
    first = (a.coauthors[0][0], a.coauthors[0][1] + 1)
    b = replace(a, coauthors=(first, *a.coauthors[1:]))
    return replace(c, authors=tuple(b if x is a else x for x in c.authors))


def _topic_renamed(c: Catalog) -> Catalog:
    t = c.topics[0]
    return replace(c, topics=(replace(t, name=t.name + " x"), *c.topics[1:]))


def _listing_reordered(c: Catalog) -> Catalog:
    li = c.listings[0]
    ids = li.paper_ids
    moved = replace(li, paper_ids=(ids[1], ids[0], *ids[2:]))
    return replace(c, listings=(moved, *c.listings[1:]))


def _papers_reordered(c: Catalog) -> Catalog:
    return replace(c, papers=(c.papers[1], c.papers[0], *c.papers[2:]))


STRUCTURE_EDITS: dict[str, Callable[[Catalog], Catalog]] = {
    "similar moved": _similar_moved,
    "similar dropped": _similar_dropped,
    "author renamed": _author_renamed,
    "author grouped": _author_grouped,
    "co-authors counted": _coauthors_counted,
    "topic renamed": _topic_renamed,
    "listing reordered": _listing_reordered,
    "papers reordered": _papers_reordered,
}


@pytest.mark.parametrize("what", sorted(STRUCTURE_EDITS))
def test_keys_kept_after_the_catalog_changes_are_the_keys_made_again(
    catalog: Catalog, what: str
) -> None:
    kept, jobs = _kept_keys_agree(catalog, STRUCTURE_EDITS[what](catalog))
    if what.startswith("similar"):
        assert jobs - kept == 1 + 8  # the page that shows them, and the whole-site pages
    else:
        assert kept == 0


def test_a_record_of_another_form_keeps_nothing(catalog: Catalog) -> None:
    keys, _ = _keys(catalog)
    record = keys.record()
    assert keys.unchanged(record) is not None
    assert keys.unchanged(None) is None
    assert keys.unchanged(("page-keys-0", *record[1:])) is None
    assert keys.unchanged(record[:4]) is None


# -- whole sites ------------------------------------------------------------------------


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_a_chain_of_edits_renders_what_a_render_without_memo_does(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Job] = []
    original = pagememo.PageKeys.key

    def key(self: pagememo.PageKeys, kind: str, key: str) -> bytes:
        made.append((kind, key))
        return original(self, kind, key)

    monkeypatch.setattr(pagememo.PageKeys, "key", key)
    config = SiteConfig()
    out = tmp_path / "site"
    memo: dict[str, Any] = {}
    digests: dict[str, bytes] | None = None
    p = _listed_paper(catalog)
    q = catalog.papers[-1]
    steps = [
        catalog,
        _edit(catalog, p.id, title="A new title"),
        _edit(catalog, p.id, title="A new title", abstract="Changed."),
        _similar_moved(_edit(catalog, p.id, abstract="Changed.")),
        _edit(_edit(catalog, p.id, abstract="Changed."), q.id, authors=("Ada Lovelace",)),
        _edit(_edit(catalog, p.id, title="Two at once"), q.id, title="Two at once, too"),
        _edit(_edit(catalog, p.id, title="Two at once", doi="10.1/x"), q.id, journal_ref="J 1"),
        catalog,
    ]
    for i, step in enumerate(steps):
        made.clear()
        site = render_to(step, config, out, memo=memo, previous=digests)
        digests = dict(site.write().digests)
        cold = {f.path: f.data for f in render_site(step, config)}
        assert _files(out) == cold, f"step {i}"
        if i in (1, 2, 4, 5, 6):  # papers' fields changed: only the pages showing them are keyed
            assert 0 < len(made) < len(_keys(step)[1]) / 4


def _move_first_record(seeds: Path) -> None:
    """Move the first record of listing 003 into a listing of its own."""
    b = sorted(seeds.glob("003_*.txt"))[0]
    lines = b.read_text(encoding="utf-8").split("\n")
    b.write_text("\n".join(lines[3:]), encoding="utf-8")
    (seeds / "009_moved.txt").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")


def _edit_line(seeds: Path, line: int, edit: Callable[[str], str]) -> None:
    path = sorted(seeds.glob("003_*.txt"))[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line] = edit(lines[line])
    path.write_text("\n".join(lines), encoding="utf-8")


def test_rebuilds_after_edits_and_a_move_equal_cold_builds(tmp_path: Path) -> None:
    seeds = two_seed_listings(tmp_path)
    warm = tmp_path / "warm"
    assert build_in_process(seeds, warm).code == 0
    edits: list[Callable[[Path], None]] = [
        lambda s: _edit_line(s, 1, lambda x: "Revised " + x),
        lambda s: _edit_line(s, 2, lambda x: x + " We also report an ablation."),
        _move_first_record,
        lambda s: _edit_line(s, 2, lambda x: x + " And another."),
    ]
    for i, edit in enumerate(edits):
        before = tree_digest(warm)
        edit(seeds)
        rebuilt = build_in_process(seeds, warm)
        assert rebuilt.code == 0, rebuilt.output
        cold = tmp_path / f"cold-{i}"
        assert build_in_process(seeds, cold, cache=False).code == 0
        assert diff_trees(tree_digest(cold), tree_digest(warm)) == [], f"edit {i}"
        assert tree_digest(warm) != before
        shutil.rmtree(cold)
