"""Quality gates: ruff and mypy --strict on the package are clean (issue 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_clean() -> None:
    proc = _run(str(BIN / "ruff"), "check", "generator", "tests", "bench")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_clean() -> None:
    proc = _run(str(BIN / "mypy"), "--strict", "generator")
    assert proc.returncode == 0, proc.stdout + proc.stderr
