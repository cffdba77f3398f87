"""The compiled readers (generator/readers/native.py): used only for the sources they were
compiled from, and reading exactly what the plain-Python readers read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import generator.readers as readers_package
from generator.readers import native

ROOT = Path(__file__).resolve().parents[1]


def _copy_sources(tmp_path: Path) -> Path:
    package = tmp_path / "generator" / "readers"
    shutil.copytree(ROOT / "generator" / "readers", package, ignore=shutil.ignore_patterns("*.pyc"))
    for name in native.IMPORTED:
        shutil.copy2(ROOT / "generator" / name, tmp_path / "generator" / name)
    return package


def test_the_key_changes_with_any_compiled_or_imported_source(tmp_path: Path) -> None:
    package = _copy_sources(tmp_path)
    key = native.source_key(package)
    assert key == native.source_key(ROOT / "generator" / "readers")
    for path in [package / f"{name}.py" for name in native.MODULES] + [
        package.parent / name for name in native.IMPORTED
    ]:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert native.source_key(package) != key, path.name
        path.write_bytes(original)
    assert native.source_key(package) == key


def test_a_build_for_other_sources_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "native" / ("0" * 24)
    (stale / "readers").mkdir(parents=True)
    (stale / "complete").write_text("0" * 24 + "\n")
    monkeypatch.setattr(native, "NATIVE", tmp_path / "native")
    assert native.compiled_dir() is None
    current = tmp_path / "native" / native.source_key()
    (current / "readers").mkdir(parents=True)
    assert native.compiled_dir() is None  # not complete: a build stopped half-way
    (current / "complete").write_text(native.source_key() + "\n")
    assert native.compiled_dir() == current
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native.compiled_dir() is None


def _loaded_from(pure: bool) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    if pure:
        env[native.PURE_ENV] = "1"
    code = (
        "import generator.readers as r; r.readers(); import sys\n"
        "for m in ('common', 'names', 'arxiv_blocks', 'arxiv_run_on', 'listing'):\n"
        "    print(type(sys.modules['generator.readers.' + m].__loader__).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_the_readers_load_compiled_exactly_when_built_for_these_sources() -> None:
    plain = ["SourceFileLoader"] * len(native.MODULES)
    assert _loaded_from(pure=True) == plain
    expected = plain if native.compiled_dir() is None else ["ExtensionFileLoader"] * len(plain)
    assert _loaded_from(pure=False) == expected
    assert readers_package.__path__[-1] == str(ROOT / "generator" / "readers")


def _parse(paths: list[Path], pure: bool) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    env["SOURCE_DATE_EPOCH"] = "1795305600"
    if pure:
        env[native.PURE_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "generator", "parse", *map(str, paths)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout, done.stderr


@pytest.mark.skipif(
    native.compiled_dir() is None, reason="native readers not built (make builds them)"
)
def test_compiled_readers_read_what_the_plain_ones_read(tmp_path: Path) -> None:
    cases = []
    for case_file in sorted((ROOT / "tests" / "fixtures" / "readers" / "cases").glob("*.txt")):
        for k, block in enumerate(case_file.read_text(encoding="utf-8").split("\n=== ")[1:]):
            if "\n--- text\n" in block:
                text = block.split("\n--- text\n", 1)[1].split("\n--- ", 1)[0]
                cases.append(tmp_path / f"{case_file.stem}_{k:03d}.txt")
                cases[-1].write_text(text + "\n", encoding="utf-8")
    paths = sorted((ROOT / "seeds").glob("*.txt")) + cases
    compiled, plain = _parse(paths, pure=False), _parse(paths, pure=True)
    assert compiled[0].count("\n") > 80
    assert compiled == plain
