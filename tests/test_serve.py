"""``papersite serve``: a real server in a subprocess, real HTTP, real file changes.

The project (generator/, templates/, static/) is copied into tmp_path so a test can break a
template without touching the work tree. Every wait is bounded; the server is always stopped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator.serve import DevServer, inject_script

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 240.0
REBUILD_TIMEOUT = 180.0  # generous: CI machines are shared; a rebuild of seeds/ takes ~5 s


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8")


def _status(base: str) -> dict[str, Any]:
    code, body = _get(base + "__papersite/status")
    assert code == 200
    data: dict[str, Any] = json.loads(body)
    return data


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# -- in-process: the server machinery with a build step that writes one page ----------------


def test_dev_server_serves_injects_and_reports_errors(tmp_path: Path) -> None:
    out = tmp_path / "site"
    outcome: dict[str, Any] = {"fail": None}

    def build() -> tuple[bool, str | None]:
        if outcome["fail"]:
            raise RuntimeError(outcome["fail"])
        out.mkdir(exist_ok=True)
        page = "<!DOCTYPE html><html><head><title>t</title></head><body>v{}</body></html>"
        (out / "index.html").write_text(page.format(len(list(out.iterdir()))))
        (out / "data.json").write_text("{}")
        return True, None

    logs: list[str] = []
    server = DevServer(build, out, "127.0.0.1", 0, logs.append)
    try:
        server.rebuild()
        server.start()
        base = server.url
        code, body = _get(base)
        assert code == 200
        assert (
            '<script src="/__papersite/livereload.js" data-version="1" defer></script></head>'
            in body
        )
        assert "livereload" not in (out / "index.html").read_text()  # the file is untouched
        assert _get(base + "data.json") == (200, "{}")
        code, js = _get(base + "__papersite/livereload.js")
        assert code == 200 and "textContent" in js and "innerHTML" not in js
        assert _get(base + "__papersite/livereload.css")[0] == 200
        assert _status(base) == {"version": 1, "error": None, "building": False}
        assert _get(base + "nope.html")[0] == 404

        outcome["fail"] = "template base.html:3: unexpected '}'"
        server.rebuild()
        status = _status(base)
        assert status["version"] == 1
        assert "unexpected '}'" in status["error"] and "RuntimeError" in status["error"]
        assert _get(base)[0] == 200  # the last good site stays served
        assert any("build failed, previous site kept" in line for line in logs)

        outcome["fail"] = None
        server.rebuild()
        assert _status(base) == {"version": 2, "error": None, "building": False}
    finally:
        server.close()
    assert not server.thread.is_alive()


def test_a_change_made_during_the_first_build_is_rebuilt(tmp_path: Path) -> None:
    """The watch is armed before the first build (CI once lost a seed written just as the
    URL was printed): an edit made while that build runs triggers a second build."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    out = tmp_path / "site"
    builds: list[int] = []

    def build() -> tuple[bool, str | None]:
        builds.append(len(builds))
        out.mkdir(exist_ok=True)
        (out / "index.html").write_text(f"<html><head></head><body>{len(builds)}</body></html>")
        if len(builds) == 1:
            (seeds / "new.txt").write_text("an edit while the first build runs\n")
        return True, None

    logs: list[str] = []
    server = DevServer(build, out, "127.0.0.1", 0, logs.append)
    server.arm([seeds])
    server.rebuild()
    watcher = threading.Thread(target=server.watch)
    watcher.start()
    try:
        _wait(lambda: len(builds) >= 2, 60, "the rebuild after an edit during the first build")
    finally:
        server.close()
        watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert server.state.version == 2
    assert any("changed: new.txt" in line for line in logs)


def test_first_build_failing_serves_an_escaped_error_page(tmp_path: Path) -> None:
    def build() -> tuple[bool, str | None]:
        return False, "seeds/x.txt:1: error: <script>alert(1)</script>"

    server = DevServer(build, tmp_path / "site", "127.0.0.1", 0, lambda _: None)
    try:
        server.rebuild()
        server.start()
        code, body = _get(server.url)
        assert code == 503
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<script>alert" not in body
        assert "/__papersite/livereload.js" in body
    finally:
        server.close()


def test_inject_script_places() -> None:
    assert inject_script(b"<html><HEAD></HEAD></html>", 3) == (
        b'<html><HEAD><script src="/__papersite/livereload.js" data-version="3" defer>'
        b"</script></HEAD></html>"
    )
    assert inject_script(b"<p>x</p></body>", 1).endswith(b"</script></body>")
    assert inject_script(b"<p>x</p>", 1).startswith(b"<p>x</p><script")


# -- subprocess: the real command on a copy of the project ---------------------------------


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    base: str
    project: Path
    seeds: Path
    site: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("generator", "templates", "static"):
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__")
            )
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    site = tmp_path / "site"
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(project), "PYTHONUNBUFFERED": "1"}
    env.pop("CI", None)
    cmd = [sys.executable, "-m", "generator", "serve", "--seeds", str(seeds), "--out", str(site),
           "--port", "0", "--no-search", "--today", "2026-11-01"]  # fmt: skip
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=project, stdout=fh, stderr=subprocess.STDOUT, env=env)
    try:
        found: list[str] = []

        def started() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited {proc.returncode}:\n{log.read_text()}")
            m = re.search(r"at (http://127\.0\.0\.1:\d+/)", log.read_text(errors="replace"))
            if m:
                found.append(m.group(1))
            return bool(found)

        _wait(started, START_TIMEOUT, "the server to start")
        yield Served(proc, found[0], project, seeds, site, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _page_with(site: Path, needle: str) -> str:
    for path in sorted(site.rglob("*.html")):
        if needle in path.read_text(encoding="utf-8"):
            return path.relative_to(site).as_posix()
    raise AssertionError(f"no page contains {needle!r}")


def _version_above(s: Served, version: int) -> Callable[[], bool]:
    return lambda: _status(s.base)["version"] > version and not _status(s.base)["building"]


def test_serve_rebuilds_on_seed_change_and_stops_on_ctrl_c(served: Served) -> None:
    s = served
    code, home = _get(s.base)
    assert code == 200 and "/__papersite/livereload.js" in home
    status = _status(s.base)
    assert status["version"] == 1 and status["error"] is None
    needle = "has become an appealing domain"
    page = _page_with(s.site, needle)
    code, before = _get(s.base + page)
    assert code == 200 and needle in before and "zyxwvut" not in before

    seed = next(p for p in sorted(s.seeds.glob("*.txt")) if needle in p.read_text())
    seed.write_text(seed.read_text().replace(needle, "has become an appealing zyxwvut domain"))
    _wait(_version_above(s, 1), REBUILD_TIMEOUT, "the rebuild after a seed change")
    code, after = _get(s.base + page)
    assert code == 200 and "zyxwvut" in after
    assert "livereload" not in (s.site / page).read_text()  # only the response carries it

    s.proc.send_signal(signal.SIGINT)
    assert s.proc.wait(timeout=15) == 0
    assert "stopped" in s.log_text()


def test_serve_keeps_last_good_site_when_a_template_breaks(served: Served) -> None:
    s = served
    page = _page_with(s.site, "has become an appealing domain")
    templates = sorted((s.project / "templates").rglob("*.html"))
    assert templates, "the project has no templates to break"
    originals = {t: t.read_text(encoding="utf-8") for t in templates}
    for t in templates:
        t.write_text(originals[t] + "\n{% if %}\n", encoding="utf-8")
    _wait(lambda: _status(s.base)["error"] is not None, REBUILD_TIMEOUT, "the error to show")
    status = _status(s.base)
    assert status["version"] == 1
    assert "TemplateSyntaxError" in status["error"] or "template" in status["error"].lower()
    code, body = _get(s.base + page)
    assert code == 200 and "has become an appealing domain" in body
    assert "build failed, previous site kept" in s.log_text()

    for t, text in originals.items():
        t.write_text(text, encoding="utf-8")
    _wait(_version_above(s, 1), REBUILD_TIMEOUT, "the rebuild after the fix")
    assert _status(s.base)["error"] is None


def test_serve_shows_seed_errors(served: Served) -> None:
    s = served
    bad = s.seeds / "zzz_broken.txt"
    bad.write_bytes(b"\xff\xfe not a listing \x00\n")
    _wait(lambda: _status(s.base)["error"] is not None, REBUILD_TIMEOUT, "the seed error")
    assert "zzz_broken.txt" in _status(s.base)["error"]
    assert _get(s.base)[0] == 200
    bad.unlink()
    _wait(lambda: _status(s.base)["error"] is None, REBUILD_TIMEOUT, "the error to clear")
