"""The seed readers compiled with mypyc: an optional speed-up, never a second definition.

``python -m generator.readers.native`` compiles the layout modules from their ``.py`` files,
unchanged, into ``build/native/<key>/``, where ``<key>`` is a hash of exactly the source bytes
compiled (the readers and the modules they import) and of the Python build. On import,
``generator.readers`` looks in front of its own folder only when a build for the current
sources exists, so an edited source is never shadowed by a stale compiled module: its key
changes, and the pure-Python modules are read until the next build (``make site`` and
``make test`` build it; without a C compiler or mypy the build is skipped with a note and
everything runs as plain Python). ``PAPERSITE_PURE_READERS=1`` forces the plain modules.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

# compiled, in this order of import; the key also covers the modules they import
MODULES = ("common", "names", "arxiv_blocks", "arxiv_run_on", "listing")
IMPORTED = ("model.py", "diagnostics.py", "textio.py")
PACKAGE = Path(__file__).resolve().parent  # generator/readers
ROOT = PACKAGE.parents[1]
NATIVE = ROOT / "build" / "native"
PURE_ENV = "PAPERSITE_PURE_READERS"


def source_key(package: Path = PACKAGE) -> str:
    """Hash of the compiled sources (``package`` is a ``generator/readers`` folder) and of
    the Python build that loads them."""
    digest = hashlib.sha256(f"{sys.implementation.cache_tag} {sysconfig.get_platform()}".encode())
    files = [package / f"{name}.py" for name in MODULES] + [package.parent / f for f in IMPORTED]
    for path in files:
        digest.update(f"{path.name}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def compiled_dir() -> Path | None:
    """The build for the current sources, or None (not built, or plain Python asked for)."""
    if os.environ.get(PURE_ENV):
        return None
    try:
        folder = NATIVE / source_key()
    except OSError:
        return None
    return folder if (folder / "complete").is_file() else None


def build() -> int:
    """Compile the readers for the current sources (nothing to do when already built)."""
    key = source_key()
    target = NATIVE / key
    if (target / "complete").is_file():
        print(f"native readers up to date ({target.relative_to(ROOT)})")
        return 0
    with tempfile.TemporaryDirectory(prefix="papersite-native-") as tmp:
        work = Path(tmp)
        shutil.copytree(
            ROOT / "generator", work / "generator", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
        if source_key(work / "generator" / "readers") != key:
            print("native readers not built: the sources changed while being copied")
            return 1
        command = [sys.executable, "-m", "mypyc"]
        command += [f"generator/readers/{name}.py" for name in MODULES]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr)
            print("native readers not built (mypyc failed); the readers run as plain Python")
            return 1
        stage = NATIVE / f".{key}.partial"
        shutil.rmtree(stage, ignore_errors=True)
        (stage / "readers").mkdir(parents=True)
        (stage / "lib").mkdir()
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        for name in MODULES:
            shutil.move(work / "generator" / "readers" / f"{name}{suffix}", stage / "readers")
        for shared in work.glob(f"*__mypyc{suffix}"):  # the code of all of them, one library
            shutil.move(shared, stage / "lib")
        (stage / "complete").write_text(key + "\n")
    for old in NATIVE.iterdir():
        if old.name not in (stage.name,) and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    stage.rename(target)
    print(f"native readers built ({target.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(build())
