"""The search index of a large site (made from the catalog alone) is built by a forked process
while the pages render (``generator.search.start_search_index``): the site is byte-identical
to the one built with the index made after the render; a failure in that process fails the
build with one line and keeps the previous site; an interrupt, a failed render or ``abort``
leave no process, no folder beside the site and nothing in the memory-backed folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_search_index import CATALOG

import generator.search as search
from generator.search import (
    ENGINE_ENV,
    SearchIndexError,
    build_search_index,
    needs_pages,
    start_search_index,
)
from tests.conftest import ROOT, SEEDS, TODAY
from tests.hardening_support import build_in_process, diff_trees, tree_digest

FAILED = "papersite: build failed, previous site kept: "


@pytest.fixture()
def index_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every site answers hosted search from the script-loaded index (as a large one does),
    and record pages are staged in a memory-backed folder of this test's own."""
    monkeypatch.setenv(ENGINE_ENV, "0")
    memory = tmp_path / "shm"
    memory.mkdir()
    monkeypatch.setattr(search, "MEMORY_STAGE", memory)
    return memory


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (a killed one may stay a zombie until
    whoever adopted it reaps it)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _processes_naming(text: str) -> list[str]:
    """Command lines of running processes that mention ``text`` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            found.append(cmd)
    return found


def test_only_an_index_made_from_the_catalog_is_built_beside_the_render(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert needs_pages(CATALOG)  # a small site: Pagefind indexes the written pages
    monkeypatch.setenv(ENGINE_ENV, "0")
    assert not needs_pages(CATALOG)


def test_a_site_whose_index_needs_its_pages_starts_no_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert start_search_index(tmp_path / "site", CATALOG, None) is None  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_the_forked_index_equals_the_one_built_in_process(
    index_engine: Path, tmp_path: Path
) -> None:
    job = start_search_index(tmp_path / "site", CATALOG, None)  # type: ignore[arg-type]
    assert job is not None
    assert job.folder.parent == tmp_path and job.folder.name.startswith(".site.new-")
    staged = tmp_path / "staged"
    staged.mkdir()
    job.finish(staged)
    assert job.seconds > 0
    here = tmp_path / "here"
    here.mkdir()
    build_search_index(here, CATALOG, None)  # type: ignore[arg-type]
    assert tree_digest(staged) == tree_digest(here)
    assert (staged / "pagefind" / "pagefind.js").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "shm", "staged"]
    assert list(index_engine.iterdir()) == []


def test_abort_stops_the_process_and_its_pagefind_runs_and_removes_their_folders(
    index_engine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = tmp_path / "pagefind"
    slow.write_text("#!/bin/sh\nsleep 60\n")
    slow.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(slow))
    job = start_search_index(tmp_path / "site", CATALOG, None)  # type: ignore[arg-type]
    assert job is not None
    pid = job._pid
    assert pid is not None
    deadline = time.monotonic() + 30
    while not _processes_naming(str(job.folder)) and time.monotonic() < deadline:
        time.sleep(0.05)  # until Pagefind (the stand-in) runs
    assert _processes_naming(str(job.folder)), "Pagefind never started"
    assert any(index_engine.iterdir())  # record pages staged in its memory folder
    job.abort()
    assert not _group_alive(pid)
    assert _processes_naming(str(tmp_path)) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pagefind", "shm"]
    assert list(index_engine.iterdir()) == []


def test_a_missing_pagefind_fails_before_the_render(
    index_engine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/nonexistent/pagefind")
    with pytest.raises(SearchIndexError, match="Pagefind binary not found"):
        start_search_index(tmp_path / "site", CATALOG, None)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shm"]


def test_a_bug_in_the_process_comes_back_as_its_traceback(
    index_engine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug in the indexer")

    monkeypatch.setattr(search, "build_search_index", broken)
    job = start_search_index(tmp_path / "site", CATALOG, None)  # type: ignore[arg-type]
    assert job is not None
    staged = tmp_path / "staged"
    staged.mkdir()
    with pytest.raises(RuntimeError, match=r"(?s)Traceback.*ZeroDivisionError: a bug"):
        job.finish(staged)
    assert list(staged.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shm", "staged"]


def test_a_build_with_the_index_beside_the_render_equals_one_with_it_after(
    index_engine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beside = build_in_process(SEEDS, tmp_path / "beside" / "site", search=True, cache=False)
    assert beside.code == 0, beside.output
    monkeypatch.setattr(search, "start_search_index", lambda *args: None)
    after = build_in_process(SEEDS, tmp_path / "after" / "site", search=True, cache=False)
    assert after.code == 0, after.output
    first, second = (
        tree_digest(tmp_path / "beside" / "site"),
        tree_digest(tmp_path / "after" / "site"),
    )
    assert diff_trees(first, second) == []
    assert "search-index/engine.js" in first and "pagefind/pagefind.js" in first
    assert sorted(p.name for p in (tmp_path / "beside").iterdir()) == ["site"]
    assert list(index_engine.iterdir()) == []


def test_a_failing_pagefind_beside_the_render_keeps_the_previous_site(
    index_engine: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failing_pagefind: Path,
) -> None:
    out = tmp_path / "out" / "site"
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    assert build_in_process(SEEDS, out, search=True).code == 0
    before = tree_digest(out)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(failing_pagefind))
    built = build_in_process(SEEDS, out, search=True, cache=False)
    assert built.code == 1, built.output
    lines = [ln for ln in built.output.splitlines() if ln.startswith("papersite:")]
    assert len(lines) == 1 and lines[0].startswith(FAILED), built.output
    assert "Pagefind failed (exit 3): Error: disk full" in lines[0]
    assert diff_trees(before, tree_digest(out)) == []
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]
    assert list(index_engine.iterdir()) == []


def test_a_failed_render_stops_the_index_beside_it(
    index_engine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import generator.render as render

    started: list[search.SearchJob] = []
    real_start = search.start_search_index

    def start(*args: object) -> search.SearchJob | None:
        job = real_start(*args)  # type: ignore[arg-type]
        assert job is not None
        started.append(job)
        return job

    def failing_render(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(search, "start_search_index", start)
    monkeypatch.setattr(render, "render_to", failing_render)
    out = tmp_path / "out" / "site"
    built = build_in_process(SEEDS, out, search=True, cache=False)
    assert built.code == 1 and FAILED in built.output, built.output
    (job,) = started
    assert job._pid is None  # reaped
    assert _processes_naming(str(tmp_path)) == []
    assert list(out.parent.iterdir()) == []
    assert list(index_engine.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"]
)
def test_a_build_killed_while_the_index_is_made_beside_the_render(
    sig: signal.Signals, tmp_path: Path
) -> None:
    """Killed during the render: the index process and its Pagefind runs end with the build
    and remove their folders (SIGINT: the build stops them; SIGTERM, SIGKILL: the process
    is told when the build dies). Only the render's hidden ``.site.new-*`` staging folder
    may be left, by a build killed outright, as before."""
    out = tmp_path / "site"
    slow = tmp_path / "pagefind"  # runs until killed: the index is still being made
    slow.write_text("#!/bin/sh\nsleep 60\n")
    slow.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", ENGINE_ENV: "0"}
    env["PAGEFIND_BINARY_PATH"] = str(slow)
    cmd = [sys.executable, "-m", "generator", "build", "--seeds", str(SEEDS), "--out", str(out),
           "--today", TODAY, "--no-cache"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("render "):
            break
    deadline = time.monotonic() + 30
    while not _processes_naming(str(slow)):
        assert time.monotonic() < deadline, "Pagefind never started"
        time.sleep(0.05)
    memory = list(search.MEMORY_STAGE.glob(f"papersite-search-{proc.pid}-*"))
    assert memory or not search.MEMORY_STAGE.is_dir()
    proc.send_signal(sig)
    rest, _ = proc.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while _processes_naming(str(tmp_path)):
        assert time.monotonic() < deadline, _processes_naming(str(tmp_path))
        time.sleep(0.05)
    assert not any(path.exists() for path in memory)
    left = sorted(os.listdir(tmp_path))
    if sig == signal.SIGINT:
        assert proc.returncode == 130, rest
        assert "papersite: interrupted, previous site kept" in rest
        assert "Traceback" not in rest, rest
        assert left == ["pagefind"]
    else:
        assert proc.returncode == -sig
        for name in left:
            assert name == "pagefind" or name.startswith(".site.new-"), name
            assert not name.startswith(".site.new-search-"), name


def test_more_pagefind_parts_at_once_only_once_the_cores_are_free() -> None:
    import threading

    slots = threading.Semaphore(1)
    assert slots.acquire(blocking=False)  # the one part running
    free = threading.Event()
    search._release_when(free, slots, 1)
    assert not slots.acquire(timeout=0.2)  # the render still runs: no second part
    free.set()
    assert slots.acquire(timeout=10)
    search._release_when(None, slots, 2)  # nothing else running: at once
    assert slots.acquire(blocking=False) and slots.acquire(blocking=False)


def test_the_process_hears_that_the_render_is_done(tmp_path: Path) -> None:
    import threading

    ended, render = os.pipe()
    event = threading.Event()
    thread = threading.Thread(target=search._set_at_end, args=(ended, event))
    thread.start()
    assert not event.wait(0.2)
    os.close(render)
    assert event.wait(10)
    thread.join()
