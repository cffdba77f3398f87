"""generator.progress: what each mode prints, and the timings it records."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from generator.progress import Progress, mode_from_flags


def _run(progress: Progress) -> None:
    with progress.stage("read") as st:
        st.advance(3)
        st.note("3 seed files")
    with progress.stage("render", total=4) as st:
        for _ in range(4):
            st.advance()
    progress.error("seeds/a.txt:2: error: no title")
    progress.summary("4 pages, 1 error")


def test_not_a_tty_prints_one_line_per_stage() -> None:
    out = io.StringIO()
    _run(Progress("normal", out, tty=False))
    lines = out.getvalue().splitlines()
    assert [ln.split()[0] for ln in lines[:2]] == ["read", "render"]
    assert "3 items" in lines[0] and "4 items" in lines[1]
    assert lines[2:] == ["seeds/a.txt:2: error: no title", "4 pages, 1 error"]
    assert "\r" not in out.getvalue() and "3 seed files" not in out.getvalue()


def test_quiet_prints_only_errors_and_summary() -> None:
    out = io.StringIO()
    _run(Progress("quiet", out, tty=True, env={}))
    assert out.getvalue() == "seeds/a.txt:2: error: no title\n4 pages, 1 error\n"


def test_verbose_prints_notes_and_timings() -> None:
    out = io.StringIO()
    _run(Progress("verbose", out, tty=False))
    text = out.getvalue()
    assert "  read: 3 seed files\n" in text
    assert "cpu " in text and " MB" in text


def test_tty_draws_a_bar_and_clears_it() -> None:
    out = io.StringIO()
    _run(Progress("normal", out, tty=True, env={}))
    text = out.getvalue()
    assert "[" in text and "\r\x1b[2K" in text
    # every final line is clean: the bar is erased before the stage line is written
    finals = [seg.rsplit("\r\x1b[2K", 1)[-1] for seg in text.split("\n") if seg]
    assert finals[0].startswith("read") and finals[1].startswith("render")


def test_ci_env_disables_the_bar_even_on_a_tty() -> None:
    out = io.StringIO()
    _run(Progress("normal", out, tty=True, env={"CI": "true"}))
    assert "\r" not in out.getvalue()


def test_timings_record_every_stage(tmp_path: Path) -> None:
    progress = Progress("quiet", io.StringIO(), tty=False)
    with progress.stage("read") as st:
        st.advance(2)
        data = bytearray(30 * 1024 * 1024)  # 30 MB, touched so it is resident
        data[::4096] = b"x" * len(data[::4096])
        del data
    with progress.stage("write"):
        pass
    path = tmp_path / "t.json"
    progress.write_timings(path)
    got = json.loads(path.read_text())
    assert [s["name"] for s in got["stages"]] == ["read", "write"]
    read = got["stages"][0]
    assert read["items"] == 2 and read["wall_s"] >= 0 and read["cpu_s"] >= 0
    assert read["peak_rss_mb"] >= 30
    assert got["total"]["peak_rss_mb"] >= read["peak_rss_mb"]
    assert got["total"]["wall_s"] >= read["wall_s"]


def test_mode_from_flags_and_bad_mode() -> None:
    assert mode_from_flags(False, False) == "normal"
    assert mode_from_flags(False, True) == "verbose"
    assert mode_from_flags(True, True) == "quiet"
    with pytest.raises(ValueError, match="progress mode must be one of"):
        Progress("loud")  # type: ignore[arg-type]
