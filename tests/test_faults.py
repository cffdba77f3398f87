"""Faults (issue 7): a build killed at any point (SIGINT, SIGKILL) or failing (an unwritable
output folder, a full disk, a template error, the Pagefind binary missing or failing) leaves the
previous site byte-for-byte as it was and says what went wrong in one readable line; a missing
Pagefind never leaves a site whose search box points at nothing.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS, TODAY
from tests.hardening_support import build_in_process, diff_trees, tree_digest

FAILED = "papersite: build failed, previous site kept: "


def _cli(seeds: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "generator", "build", "--seeds", str(seeds), "--out", str(out),
            "--today", TODAY, *extra]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def _small_seeds(folder: Path, files: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in sorted(SEEDS.glob("*.txt"))[-files:]:
        shutil.copyfile(f, folder / f.name)
    return folder


def _one_failure_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("papersite:")]
    assert len(lines) == 1, text
    assert "Traceback" not in text, text
    return lines[0]


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


# -- killed builds -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, dict[str, str], dict[str, str]]:
    """A generated 150-paper corpus, its site (with search) and the site's digest; the corpus is
    then changed so a completed rebuild differs, and the digest of that rebuild (made in
    another folder; builds are deterministic) is the fourth item."""
    root = tmp_path_factory.mktemp("kill")
    subprocess.run(
        [sys.executable, "-m", "bench.corpus", "-n", "150", "-o", str(root / "corpus")],
        cwd=ROOT, env=_env(), check=True, capture_output=True,
    )  # fmt: skip
    seeds, out = root / "corpus" / "seeds", root / "site"
    proc = subprocess.run(_cli(seeds, out), cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    shutil.copyfile(sorted(SEEDS.glob("*.txt"))[-1], seeds / "zz_extra.txt")  # a new listing
    new = root / "new" / "site"
    proc = subprocess.run(_cli(seeds, new), cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    before, after = tree_digest(out), tree_digest(new)
    assert before != after
    shutil.copytree(out, root / "backup", symlinks=True)
    return seeds, out, before, after


# The stage lines the build prints when a stage ends (one line per stage when not on a TTY).
KILL_POINTS = ["start", "read", "papers", "catalog", "render", "search index"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_build_leaves_the_previous_site(
    sig: signal.Signals, corpus: tuple[Path, Path, dict[str, str], dict[str, str]]
) -> None:
    """Killed before the swap: the previous site. Killed during the swap (after the search
    index, the last stage): the previous site or the complete new one, nothing in between."""
    seeds, out, before, complete = corpus
    killed = []
    for point in KILL_POINTS:
        proc = subprocess.Popen(
            _cli(seeds, out), cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        seen: list[str] = []
        if point != "start":
            for line in proc.stdout:
                seen.append(line)
                if line.startswith(point + " "):
                    break
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=120)
        text = "".join(seen) + rest
        if proc.returncode == 0:  # finished before the signal landed: a valid new site
            pytest.fail(f"build finished before {sig.name} at {point!r}:\n{text}")
        killed.append(point)
        now = tree_digest(out)
        if point == KILL_POINTS[-1] and now == complete:
            shutil.rmtree(out)  # the swap was done: put the previous site back for the next point
            shutil.copytree(out.parent / "backup", out, symlinks=True)
        else:
            assert diff_trees(before, now) == [], f"{sig.name} after {point!r}"
        assert "Traceback" not in text, text
        if sig == signal.SIGINT and point == "start" and proc.returncode == -signal.SIGINT:
            assert text == "", text  # interrupted while Python was starting: nothing ran yet
        elif sig == signal.SIGINT:
            assert proc.returncode == 130, text
            assert "papersite: interrupted, previous site kept" in text, text
            leftovers = [n for n in _siblings(out) if n.startswith(".")]
            assert leftovers == [], f"SIGINT after {point!r} left {leftovers}"
        else:
            assert proc.returncode == -signal.SIGKILL
    for name in _siblings(out):  # SIGKILL may leave hidden staging folders beside the site
        if name not in (out.name, "backup", "corpus", "new"):
            assert name.startswith(f".{out.name}.new-"), name
            shutil.rmtree(out.parent / name)
    assert killed == KILL_POINTS


# -- failing builds ----------------------------------------------------------------------


@pytest.fixture()
def previous(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A small seed folder, a site built from it, and that site's digest; the seeds are then
    changed (one more file) so any completed rebuild would differ."""
    seeds = _small_seeds(tmp_path / "seeds")
    out = tmp_path / "out" / "site"
    built = build_in_process(seeds, out, search=True)
    assert built.code == 0, built.output
    shutil.copyfile(sorted(SEEDS.glob("*.txt"))[0], seeds / "extra.txt")
    return seeds, out, tree_digest(out)


def _assert_kept(out: Path, before: dict[str, str]) -> None:
    assert diff_trees(before, tree_digest(out)) == []
    assert _siblings(out) == [out.name], "staging or old site left beside the site"


def test_output_path_whose_parent_is_a_file(tmp_path: Path) -> None:
    seeds = _small_seeds(tmp_path / "seeds")
    (tmp_path / "afile").write_text("not a folder")
    built = build_in_process(seeds, tmp_path / "afile" / "site")
    assert built.code == 1
    line = _one_failure_line(built.output)
    assert line.startswith(FAILED) and "afile" in line, line
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    seeds = _small_seeds(tmp_path / "seeds")
    (tmp_path / "site").write_text("keep me")
    built = build_in_process(seeds, tmp_path / "site")
    assert built.code == 1
    assert "not a folder" in _one_failure_line(built.output)
    assert (tmp_path / "site").read_text() == "keep me"


def test_full_disk_leaves_the_previous_site(previous: tuple[Path, Path, dict[str, str]]) -> None:
    """ "Disk full": the build runs with RLIMIT_FSIZE (files over 16 KB fail with EFBIG; Python
    ignores SIGXFSZ), so writing the site fails part way."""
    seeds, out, before = previous
    limit = 16 * 1024

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        _cli(seeds, out, "--no-search"), cwd=ROOT, env=_env(), capture_output=True, text=True,
        preexec_fn=limit_file_size, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = _one_failure_line(proc.stdout + proc.stderr)
    assert line.startswith(FAILED) and "too large" in line.lower(), line
    _assert_kept(out, before)


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {proc.stderr}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_really_full_disk_on_a_tiny_tmpfs(tmp_path: Path) -> None:
    """ENOSPC for real: the previous site fills most of a small tmpfs."""
    seeds = _small_seeds(tmp_path / "seeds")
    with _tmpfs(tmp_path / "disk", "3m") as disk:
        out = disk / "site"
        built = build_in_process(seeds, out)
        assert built.code == 0, built.output
        used = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        assert used < 3_000_000
        filler = disk / "filler"
        filler.write_bytes(b"\0" * max(0, 3 * 1024 * 1024 - used - used // 2))
        before = tree_digest(out)
        shutil.copyfile(sorted(SEEDS.glob("*.txt"))[0], seeds / "extra.txt")
        built = build_in_process(seeds, out)
        assert built.code == 1, built.output
        line = _one_failure_line(built.output)
        assert line.startswith(FAILED) and "No space left" in line, line
        filler.unlink()
        _assert_kept(out, before)


def test_read_only_output_parent(previous: tuple[Path, Path, dict[str, str]]) -> None:
    """A read-only bind mount over the output's parent (chmod does not stop root)."""
    seeds, out, before = previous
    parent = out.parent
    proc = subprocess.run(["mount", "--bind", str(parent), str(parent)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip("cannot bind-mount here (needs root and CAP_SYS_ADMIN)")
    try:
        ro = subprocess.run(["mount", "-o", "remount,bind,ro", str(parent)], capture_output=True)
        assert ro.returncode == 0, ro.stderr
        built = build_in_process(seeds, out)
        assert built.code == 1, built.output
        line = _one_failure_line(built.output)
        assert line.startswith(FAILED) and "Read-only file system" in line, line
    finally:
        subprocess.run(["umount", "-l", str(parent)], check=False)
    _assert_kept(out, before)


@pytest.mark.parametrize(
    ("template", "broken", "expected"),
    [
        ("paper.html", "{% if %}", "paper.html:"),
        ("base.html", "{{ no_such_name.attribute }}", "'no_such_name' is undefined"),
        ("topic.html", "{{ 1 / 0 }}", "topic.html:"),
    ],
)
def test_template_error_leaves_the_previous_site(
    template: str,
    broken: str,
    expected: str,
    previous: tuple[Path, Path, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """render.py reads its templates from ``render.TEMPLATES`` (no user option to point it
    elsewhere), so the test points that at a copy with one template broken."""
    from generator import render

    seeds, out, before = previous
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    path = templates / template
    text = path.read_text(encoding="utf-8")
    block = "<body" if template == "base.html" else "{% block content %}"
    path.write_text(text.replace(block, block + broken, 1), encoding="utf-8")
    monkeypatch.setattr(render, "TEMPLATES", templates)
    render.environment.cache_clear()
    try:
        built = build_in_process(seeds, out)
    finally:
        render.environment.cache_clear()
    assert built.code == 1, built.output
    line = _one_failure_line(built.output)
    assert line.startswith(FAILED) and expected in line, line
    _assert_kept(out, before)


@pytest.mark.parametrize(
    "binary",
    [
        "/nonexistent/pagefind",  # missing
        "/bin/false",  # fails
        "/bin/true",  # "succeeds" without writing an index
        "{dir}",  # a folder, not an executable
    ],
)
def test_missing_or_failing_pagefind_leaves_the_previous_site(
    binary: str,
    previous: tuple[Path, Path, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    seeds, out, before = previous
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", binary.format(dir=tmp_path))
    built = build_in_process(seeds, out, search=True)
    assert built.code == 1, built.output
    line = _one_failure_line(built.output)
    assert line.startswith(FAILED) and "Pagefind" in line, line
    assert len(line) < 400, line
    _assert_kept(out, before)


def test_pagefind_missing_from_path_and_package(
    previous: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    """The CLI with the pagefind_bin package made unimportable and an empty PATH."""
    seeds, out, before = previous
    shadow = tmp_path / "shadow"
    (shadow / "pagefind_bin").mkdir(parents=True)
    (shadow / "pagefind_bin" / "__init__.py").write_text("raise ImportError('hidden by test')\n")
    env = {**_env(), "PYTHONPATH": f"{shadow}{os.pathsep}{ROOT}", "PATH": str(tmp_path)}
    env.pop("PAGEFIND_BINARY_PATH", None)
    proc = subprocess.run(_cli(seeds, out), cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = _one_failure_line(proc.stdout + proc.stderr)
    assert line.startswith(FAILED) and "Pagefind" in line, line
    _assert_kept(out, before)


def test_no_search_says_so_and_ships_no_dangling_index(
    previous: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--no-search`` builds without Pagefind (even when it is missing) and says so."""
    seeds, out, _ = previous
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/nonexistent/pagefind")
    built = build_in_process(seeds, out)
    assert built.code == 0, built.output
    assert "no search index" in built.output
    assert not (out / "pagefind").exists()
