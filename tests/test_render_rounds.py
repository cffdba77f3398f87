"""A whole site renders in two rounds of forked workers: paper pages first (their workers
send back the papers' plain abstracts), then the other pages from the adopted caches."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from render_catalog import Config, make_catalog, many_papers_catalog

from generator.bibexport import citation_key, entry_body
from generator.build import BuildError
from generator.config import SiteConfig
from generator.render import Renderer, _render_jobs, render_site, render_to, root_prefix


def site_config(**fields: Any) -> SiteConfig:
    return cast(SiteConfig, Config(**fields))


def _every_file(renderer: Renderer) -> dict[str, bytes]:
    return {f.path: f.data for job in renderer.jobs() for f in renderer.run(job)}


@pytest.mark.parametrize("hostile", [False, True])
def test_adopted_plain_abstracts_render_the_same_site(hostile: bool) -> None:
    catalog = make_catalog(hostile=hostile)
    config = site_config(base_url="https://example.org/sub/")
    ids = [p.id for p in catalog.papers]
    texts = Renderer(catalog, config).plain_abstracts(ids)
    assert any(texts)
    adopting = Renderer(catalog, config)
    adopting.prepare_cards()
    adopting.adopt_plain(ids, texts)
    prefix = root_prefix("papers")
    assert set(adopting._card_html) == {(prefix, pid) for pid in ids}
    assert adopting.index._plain == dict(zip(ids, texts, strict=True))
    assert _every_file(adopting) == _every_file(Renderer(catalog, config))


def test_adopted_plain_abstracts_are_the_ones_shown() -> None:
    catalog = make_catalog()
    config = site_config()
    ids = [p.id for p in catalog.papers]
    marked = Renderer(catalog, config)
    marked.adopt_plain(ids, [f"ADOPTED{i}" for i in range(len(ids))])
    feeds = [f for job in marked.jobs() if job[0] == "feed" for f in marked.run(job)]
    assert any(b"ADOPTED" in f.data for f in feeds)


@pytest.mark.parametrize("hostile", [False, True])
def test_adopted_bibtex_parts_render_the_same_site(hostile: bool) -> None:
    catalog = make_catalog(hostile=hostile)
    config = site_config()
    ids = [p.id for p in catalog.papers]
    parts = Renderer(catalog, config).bibtex_parts(ids)
    assert parts == [(entry_body(p), citation_key(p)) for p in catalog.papers]
    adopting = Renderer(catalog, config)
    adopting.adopt_bibtex(ids, parts)
    assert adopting.index._bib_bodies == {pid: b for pid, (b, _) in zip(ids, parts, strict=True)}
    assert _every_file(adopting) == _every_file(Renderer(catalog, config))


def test_adopted_bibtex_parts_are_the_ones_written() -> None:
    catalog = make_catalog()
    config = site_config()
    ids = [p.id for p in catalog.papers]
    marked = Renderer(catalog, config)
    marked.adopt_bibtex(ids, [(f"BODY{i}\n", f"key{i}") for i in range(len(ids))])
    bib = marked.papers_bib().data.decode()
    assert all(f"@misc{{key{i},\nBODY{i}\n" in bib for i in range(len(ids)))
    page = marked.paper(ids[0]).data.decode()
    assert "key0" in page and "BODY0" in page


def test_adopted_feed_entries_are_the_ones_written() -> None:
    catalog = make_catalog(hostile=True)
    config = site_config()
    ids = [p.id for p in catalog.papers]
    made = Renderer(catalog, config).feed_entries(ids)
    adopting = Renderer(catalog, config)
    adopting.adopt_entries(ids, made)
    assert _every_file(adopting) == _every_file(Renderer(catalog, config))
    marked = Renderer(catalog, config)
    marked.adopt_entries(ids, [f"<ENTRY{i}/>\n".encode() for i in range(len(ids))])
    feeds = [f.data for job in marked.jobs() if job[0] == "feed" for f in marked.run(job)]
    assert any(b"<ENTRY0/>" in data for data in feeds)


def test_two_rounds_make_no_feed_entries_without_feeds() -> None:
    catalog = many_papers_catalog(300)
    parent = Renderer(catalog, site_config())
    work = [job for job in parent.jobs() if job[0] != "feed"]
    done = _render_jobs(parent, work, 2)
    assert [job for job, _ in done] == work
    assert parent.feed_writer._entries == {}
    assert set(parent.index._bib_bodies) == {p.id for p in catalog.papers}


def test_two_rounds_give_every_job_in_order_and_adopt_every_paper() -> None:
    catalog = many_papers_catalog(300)
    config = site_config()
    parent = Renderer(catalog, config)
    work = parent.jobs()
    assert len(work) > 200  # enough work for workers
    done = _render_jobs(parent, work, 2)
    assert [job for job, _ in done] == work
    serial = Renderer(catalog, config)
    assert [made for _, made in done] == [serial.run(job) for job in work]
    # the paper pages' workers sent their papers' cache entries back to this process
    assert set(parent.index._plain) == {p.id for p in catalog.papers}
    assert set(parent.index._bib_bodies) == {p.id for p in catalog.papers}
    assert set(parent.index._bib_keys) == {p.id for p in catalog.papers}
    assert set(parent.feed_writer._entries) == {p.id for p in catalog.papers}
    assert {pid for _, pid in parent._card_html} >= {p.id for p in catalog.papers}


def test_meanwhile_runs_once_in_this_process_during_the_first_round() -> None:
    catalog = many_papers_catalog(300)
    parent = Renderer(catalog, site_config())
    calls: list[int] = []
    done = _render_jobs(parent, parent.jobs(), 2, meanwhile=lambda: calls.append(1))
    assert calls == [1]
    assert len(done) == len(parent.jobs())


def test_later_runs_once_in_this_process_after_the_paper_pages_are_adopted() -> None:
    catalog = many_papers_catalog(300)
    parent = Renderer(catalog, site_config())
    ids = {p.id for p in catalog.papers}
    calls: list[str] = []
    done = _render_jobs(
        parent,
        parent.jobs(),
        2,
        meanwhile=lambda: calls.append("meanwhile"),
        later=lambda: calls.append(f"later {set(parent.index._bib_bodies) == ids}"),
    )
    assert calls == ["meanwhile", "later True"]
    assert len(done) == len(parent.jobs())


def test_a_failing_page_in_either_round_fails_the_render(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    catalog = many_papers_catalog(300)
    original = Renderer.run
    for kind in ("paper", "author"):

        def run(self: Renderer, job: tuple[str, str], kind: str = kind) -> Any:
            if job[0] == kind:
                raise BuildError(f"broken {kind} page")
            return original(self, job)

        monkeypatch.setattr(Renderer, "run", run)
        out = tmp_path / kind
        with pytest.raises(BuildError, match=f"broken {kind} page"):
            render_to(catalog, site_config(), out, jobs=2)
        assert not out.exists()
        monkeypatch.setattr(Renderer, "run", original)


def test_two_rounds_stream_the_same_site_as_a_serial_render(tmp_path: Path) -> None:
    catalog = make_catalog(hostile=True)
    big = many_papers_catalog(300)
    for i, cat in enumerate((catalog, big)):
        out = tmp_path / f"site{i}"
        render_to(cat, site_config(), out, jobs=2, memo={}).write()
        on_disk = {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        assert on_disk == {f.path: f.data for f in render_site(cat, site_config())}
