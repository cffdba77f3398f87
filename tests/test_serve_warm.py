"""The dev server's warm rebuilds (``generator.serve.WarmBuilder``, ``generator.cache.WarmStore``):
what one build loaded or made is kept in the process for the next, and the site each rebuild
writes is a cold build's, byte for byte, after a record, a template or the config changed."""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import cache as cache_module
from generator.build import BuildOptions
from generator.cache import BuildCache, Memo
from generator.serve import DevServer, WarmBuilder
from tests.conftest import ROOT, TODAY
from tests.hardening_support import build_in_process, diff_trees, tree_digest

SEEDS = ROOT / "seeds"


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The builds run where ``build_in_process`` runs them (the cache and config are found
    relative to the working folder); the renderer's compiled templates are dropped after."""
    from generator import render

    monkeypatch.chdir(ROOT)
    yield
    render.environment.cache_clear()


def _project(tmp_path: Path) -> tuple[Path, Path]:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    config = tmp_path / "papersite.toml"
    config.write_text('title = "Warm papers"\n', encoding="utf-8")
    return seeds, config


def _builder(seeds: Path, out: Path, config: Path) -> WarmBuilder:
    return WarmBuilder(
        BuildOptions(seeds=seeds, out=out, config=config, no_search=True, today=TODAY, quiet=True)
    )


def _rebuild(builder: WarmBuilder) -> None:
    """A rebuild as the dev server runs it: the build, then its cache saved."""
    ok, error = builder()
    assert ok, error
    builder.settle()


def _assert_cold_equal(seeds: Path, served: Path, cold: Path, config: Path) -> None:
    from generator import render

    render.environment.cache_clear()  # the cold build compiles the templates anew
    built = build_in_process(seeds, cold, cache=False, config=config)
    assert built.code == 0, built.output
    assert diff_trees(tree_digest(cold), tree_digest(served)) == []


def _edit_one_abstract(seeds: Path, words: str) -> None:
    path = sorted(seeds.glob("003_*.txt"))[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2] + words
    path.write_text("\n".join(lines), encoding="utf-8")


class _Loads:
    """Counts the cache files unpickled while it is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = pickle.load

        def counting(fh: Any) -> Any:
            self.count += 1
            return real(fh)

        monkeypatch.setattr(pickle, "load", counting)  # (as generator.cache calls it)


def test_warm_rebuild_after_a_record_change_is_a_cold_build_without_reading_the_cache(
    tmp_path: Path, in_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds, config = _project(tmp_path)
    out = tmp_path / "site"
    builder = _builder(seeds, out, config)
    _rebuild(builder)
    memos = {name: held[1] for name, held in builder.warm.memos.items()}
    assert {"papers", "topics", "catalog", "pages"} <= memos.keys()
    _edit_one_abstract(seeds, " We also report an ablation.")
    loads = _Loads(monkeypatch)
    _rebuild(builder)
    # every memo, cached seed file and stage result came from memory: only the changed
    # file's result was missing (it is parsed, not loaded)
    assert loads.count == 0
    assert all(builder.warm.memos[name][1] is memo for name, memo in memos.items())
    assert any(b"report an ablation" in p.read_bytes() for p in out.rglob("*.html"))
    _assert_cold_equal(seeds, out, tmp_path / "cold", config)
    # and again: a second warm rebuild after another change
    _edit_one_abstract(seeds, " And a second one.")
    _rebuild(builder)
    _assert_cold_equal(seeds, out, tmp_path / "cold-2", config)


def test_a_server_started_on_an_up_to_date_site_reads_the_memos_ahead(
    tmp_path: Path, in_root: None
) -> None:
    seeds, config = _project(tmp_path)
    out = tmp_path / "site"
    assert build_in_process(seeds, out, config=config).code == 0
    builder = _builder(seeds, out, config)
    _rebuild(builder)  # nothing changed: the memos are read while the server waits
    memos = {name: held[1] for name, held in builder.warm.memos.items()}
    assert {"papers", "topics", "catalog", "pages"} <= memos.keys()
    assert len(memos["papers"]) > 0
    _edit_one_abstract(seeds, " Read ahead.")
    _rebuild(builder)
    assert all(builder.warm.memos[name][1] is memo for name, memo in memos.items())
    _assert_cold_equal(seeds, out, tmp_path / "cold", config)


def test_warm_rebuild_after_a_template_change_uses_the_new_template(
    tmp_path: Path, in_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import render

    seeds, config = _project(tmp_path)
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    monkeypatch.setattr(render, "TEMPLATES", templates)
    out = tmp_path / "site"
    builder = _builder(seeds, out, config)
    _rebuild(builder)
    base = templates / "base.html"
    base.write_text(base.read_text().replace("<main ", "<main data-edited ", 1))
    _rebuild(builder)
    assert b"<main data-edited " in (out / "index.html").read_bytes()
    _assert_cold_equal(seeds, out, tmp_path / "cold", config)
    # a template broken: the build fails (previous site kept); mended: a cold build's bytes
    paper = templates / "paper.html"
    good = paper.read_text()
    paper.write_text(good.replace("{% block content %}", "{% block content %}{% if %}", 1))
    ok, error = builder()
    assert not ok and error and "previous site kept" in error
    assert b"<main data-edited " in (out / "index.html").read_bytes()
    paper.write_text(good.replace("{% block content %}", "{% block content %}<!-- v2 -->", 1))
    _rebuild(builder)
    assert any(b"<!-- v2 -->" in p.read_bytes() for p in (out / "papers").rglob("*.html"))
    _assert_cold_equal(seeds, out, tmp_path / "cold-2", config)


def test_warm_rebuild_after_a_config_change_is_a_cold_build(tmp_path: Path, in_root: None) -> None:
    seeds, config = _project(tmp_path)
    out = tmp_path / "site"
    builder = _builder(seeds, out, config)
    _rebuild(builder)
    config.write_text('title = "Other papers"\n', encoding="utf-8")
    _rebuild(builder)
    assert "Other papers" in (out / "index.html").read_text(encoding="utf-8")
    _assert_cold_equal(seeds, out, tmp_path / "cold", config)


def test_the_cache_is_saved_after_the_site_is_served_and_when_the_server_stops(
    tmp_path: Path, in_root: None
) -> None:
    seeds, config = _project(tmp_path)
    out = tmp_path / "site"
    builder = _builder(seeds, out, config)
    server = DevServer(builder, out, "127.0.0.1", 0, lambda text: None, after=builder.settle)
    try:
        server.rebuild()
        assert server.last_ok
        state = BuildCache(out).folder / "state" / "last.pickle"
        assert not state.exists()  # the site first; its cache when the server settles
        server.settle()
        assert state.exists()
        _edit_one_abstract(seeds, " Saved when the server stops.")
        server.rebuild()
        assert server.last_ok
    finally:
        server.close()
    again = build_in_process(seeds, out, config=config)  # what papersite build finds
    assert again.code == 0, again.output
    assert "up to date, nothing written" in again.output


def _memo_state(memo: Memo) -> tuple[Any, ...]:
    """Everything a memo knows: entries, each key's shard, each shard's keys, used, changed."""
    members = {i: sorted(keys) for i, keys in memo._members.items() if keys}
    return dict(memo._data), dict(memo._home), members, set(memo._used), set(memo._dirty)


def test_a_settled_memo_is_what_load_memo_reads_back(tmp_path: Path) -> None:
    disk = BuildCache(tmp_path / "site", root=tmp_path / "cache")
    memo = disk.load_memo("m", "code")
    for i in range(200):
        memo[f"k{i}"] = ("value", i)
    disk.store_memo("m", "code", memo)
    again = disk.load_memo("m", "code")
    for step in (3, 7):  # two builds: each uses some keys, changes one and adds one
        for i in range(0, 200, step):
            if f"k{i}" in again:
                _ = again[f"k{i}"]
        again["k0"] = ("changed", step)
        again[f"new{step}"] = ("new", step)
        disk.store_memo("m", "code", again)
        again.settle()
        assert _memo_state(again) == _memo_state(disk.load_memo("m", "code"))
    assert set(again) == {f"k{i}" for i in range(0, 200, 21)} | {"new7"}


def test_the_warm_store_hands_a_memo_over_once_and_only_for_its_source(
    tmp_path: Path,
) -> None:
    warm = cache_module.WarmStore()
    first = BuildCache(tmp_path / "site", root=tmp_path / "cache", warm=warm)
    memo = first.load_memo("m", "code-1")
    memo["a"] = 1
    first.store_memo("m", "code-1", memo)
    second = BuildCache(tmp_path / "site", root=tmp_path / "cache", warm=warm)
    assert second.load_memo("m", "code-1") is memo
    # taken out meanwhile: a build that fails before storing it leaves the files to be read
    third = BuildCache(tmp_path / "site", root=tmp_path / "cache", warm=warm)
    fresh = third.load_memo("m", "code-1")
    assert fresh is not memo and dict(fresh) == {"a": 1}
    third.store_memo("m", "code-1", fresh)
    other = BuildCache(tmp_path / "site", root=tmp_path / "cache", warm=warm)
    assert len(other.load_memo("m", "code-2")) == 0  # other generator source: not used


def test_the_warm_store_is_pruned_with_the_cache_files(tmp_path: Path) -> None:
    warm = cache_module.WarmStore()
    first = BuildCache(tmp_path / "site", root=tmp_path / "cache", warm=warm)
    first.store("read", "a", ("rows-a",))
    first.keep("read", "a", "made from a")
    first.store("read", "b", ("rows-b",))
    first.keep("read", "b", "made from b")
    first.prune(("read",))
    second = BuildCache(tmp_path / "site", root=tmp_path / "cache", warm=warm)
    assert second.recall("read", "a") == "made from a"
    assert second.load("read", "a") == ("rows-a",)
    second.prune(("read",))  # "b" unused by this build: gone from disk and from memory
    third = BuildCache(tmp_path / "site", root=tmp_path / "cache", warm=warm)
    assert third.recall("read", "b") is None and third.load("read", "b") is None
    assert third.recall("read", "a") == "made from a"
