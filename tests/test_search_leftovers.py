"""Memory-backed stage folders that a build killed outright (SIGKILL) leaves behind are
removed by the next build's search stage: named with their build's process id, removed only
when no process has that id and they have not been touched for a while."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from generator import search
from generator.offline_index import Doc
from generator.search import LEFTOVER_AGE_S, sweep_leftovers


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _folder(root: Path, name: str, age: float) -> Path:
    path = root / name
    (path / "papers").mkdir(parents=True)
    (path / "papers" / "a.html").write_text("<p>x</p>", encoding="utf-8")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_removes_only_old_folders_of_builds_that_are_gone(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getpid()
    old = LEFTOVER_AGE_S + 60
    gone_search = _folder(tmp_path, f"papersite-search-{dead}-abc", old)
    gone_part = _folder(tmp_path, f"papersite-pagefind-{dead}-def", old)
    running = _folder(tmp_path, f"papersite-search-{alive}-ghi", old)
    fresh = _folder(tmp_path, f"papersite-pagefind-{dead}-jkl", 5)
    unnamed = _folder(tmp_path, "papersite-pagefind-xyz", old)  # no pid: not ours to judge
    other = _folder(tmp_path, f"someone-else-{dead}-mno", old)
    assert sweep_leftovers(tmp_path) == 2
    assert not gone_search.exists() and not gone_part.exists()
    for kept in (running, fresh, unnamed, other):
        assert kept.is_dir(), kept


def test_a_file_with_a_leftover_name_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / f"papersite-search-{_dead_pid()}-file"
    path.write_text("not a folder", encoding="utf-8")
    then = time.time() - LEFTOVER_AGE_S - 60
    os.utime(path, (then, then))
    assert sweep_leftovers(tmp_path) == 0
    assert path.is_file()


def test_missing_root_is_no_error(tmp_path: Path) -> None:
    assert sweep_leftovers(tmp_path / "absent") == 0


def test_stage_folders_are_named_with_the_build_pid(tmp_path: Path, monkeypatch) -> None:
    """The folders the search stage stages record pages in carry its process id (what
    sweep_leftovers reads), and are gone when Pagefind is done."""
    made: list[str] = []
    real = search.tempfile.mkdtemp

    def spy(*args: Any, **kwargs: Any) -> str:
        path = real(*args, **kwargs)
        made.append(path)
        return path

    monkeypatch.setattr(search.tempfile, "mkdtemp", spy)
    site = tmp_path / "site"
    site.mkdir()
    memory = tmp_path / "shm"
    memory.mkdir()
    docs = [
        Doc(f"papers/p{n}.html", "paper", f"Paper {n}", "A. Author", "2020", "2020-01-01",
            f"Paper {n}", "A. Author", "distillation", (("year", "2020"),))
        for n in range(3)
    ]  # fmt: skip
    assert search.run_pagefind(site, records=docs, part_pages=2, memory_root=memory) == 3
    staged = [Path(p) for p in made if Path(p).parent == memory]
    assert len(staged) == 2, made
    for path in staged:
        found = search.LEFTOVER.match(path.name)
        assert found is not None and int(found.group(1)) == os.getpid(), path.name
        assert not path.exists()
