"""Modules compiled with mypyc: an optional speed-up, never a second definition.

``build()`` (``make native``; ``make site``, ``make serve`` and ``make test`` run it) compiles
the modules in ``MODULES`` from their ``.py`` files, unchanged, into ``build/native/<key>/``,
laid out as the source tree (``generator/phrases.so``, ``generator/readers/common.so``, ...)
next to ``lib/`` (the code of all of them, one shared library). ``<key>`` is a hash of exactly
the source bytes compiled, of the modules they import (``IMPORTED``) and of the Python build.

On import, ``generator`` and ``generator.readers`` put their folder of that build in front of
their own (``use_compiled``) only when a build for the current sources exists, so an edited
source is never shadowed by a stale compiled module: its key changes, and every module is read
as plain Python until the next build. Without a C compiler or mypy the build is skipped with a
note and everything runs as plain Python. ``PAPERSITE_PURE_PYTHON=1`` (or the older
``PAPERSITE_PURE_READERS=1``) forces the plain modules.

This module imports nothing from ``generator``: the package's ``__init__`` imports it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

# compiled, in this order; all in one mypyc group (one shared library)
MODULES = (
    "generator.readers.common",
    "generator.readers.names",
    "generator.readers.arxiv_blocks",
    "generator.readers.arxiv_run_on",
    "generator.readers.listing",
    "generator.phrases",
)
# every generator module the compiled ones import, directly or not (mypyc compiles against
# their types, so the key covers them; tests/test_readers_native.py checks the list)
IMPORTED = (
    "generator.model",
    "generator.diagnostics",
    "generator.textio",
    "generator.readers.charclasses",
    "generator.readers.charclass_data",
)
ROOT = Path(__file__).resolve().parents[1]
NATIVE = ROOT / "build" / "native"
PURE_ENV = "PAPERSITE_PURE_PYTHON"
PURE_ENVS = (PURE_ENV, "PAPERSITE_PURE_READERS")  # the second: its name before phrases.py


def source_path(module: str) -> Path:
    """A module's source file relative to the repository root."""
    return Path(*module.split(".")).with_suffix(".py")


def source_key(root: Path = ROOT) -> str:
    """Hash of the compiled sources and the modules they import (under ``root``, a checkout)
    and of the Python build that loads them."""
    digest = hashlib.sha256(f"{sys.implementation.cache_tag} {sysconfig.get_platform()}".encode())
    for module in MODULES + IMPORTED:
        digest.update(f"{module}\0".encode() + (root / source_path(module)).read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def pure_forced() -> bool:
    """Whether plain Python is asked for."""
    return any(os.environ.get(name) for name in PURE_ENVS)


def compiled_dir() -> Path | None:
    """The build for the current sources, or None (not built, or plain Python asked for)."""
    if pure_forced():
        return None
    try:
        folder = NATIVE / source_key()
    except OSError:
        return None
    return folder if (folder / "complete").is_file() else None


@functools.cache
def loaded_dir() -> Path | None:
    """The build this process loads from: ``compiled_dir()`` when ``generator`` is imported."""
    return compiled_dir()


def use_compiled(package: str, path: list[str]) -> None:
    """Put the build's folder for ``package`` in front of ``path`` (the package's
    ``__path__``), if a build for the current sources exists."""
    folder = loaded_dir()
    if folder is None:
        return
    lib = str(folder / "lib")
    if lib not in sys.path:
        sys.path.append(lib)
    path.insert(0, str(folder.joinpath(*package.split("."))))


def build() -> int:
    """Compile ``MODULES`` for the current sources (nothing to do when already built)."""
    key = source_key()
    target = NATIVE / key
    if (target / "complete").is_file():
        print(f"native modules up to date ({target.relative_to(ROOT)})")
        return 0
    with tempfile.TemporaryDirectory(prefix="papersite-native-") as tmp:
        work = Path(tmp)
        shutil.copytree(
            ROOT / "generator", work / "generator", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
        if source_key(work) != key:
            print("native modules not built: the sources changed while being copied")
            return 1
        command = [sys.executable, "-m", "mypyc", *map(str, map(source_path, MODULES))]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr)
            print("native modules not built (mypyc failed); they run as plain Python")
            return 1
        stage = NATIVE / f".{key}.partial"
        shutil.rmtree(stage, ignore_errors=True)
        (stage / "lib").mkdir(parents=True)
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        for module in MODULES:
            built = source_path(module).with_suffix(suffix)
            (stage / built.parent).mkdir(parents=True, exist_ok=True)
            shutil.move(work / built, stage / built)
        for shared in work.glob(f"*__mypyc{suffix}"):  # the code of all of them, one library
            shutil.move(shared, stage / "lib")
        (stage / "complete").write_text(key + "\n")
    for old in NATIVE.iterdir():
        if old.name != stage.name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    stage.rename(target)
    print(f"native modules built ({target.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(build())
