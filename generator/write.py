"""Write the rendered site atomically: everything goes into a staging folder beside ``out``,
which is swapped in only when every file was written (and the optional ``before_swap``
step, e.g. the search indexer, succeeded). A failure at any point leaves the previous
``out`` byte-for-byte as it was; a kill leaves at worst a hidden staging folder beside it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.build import BuildError
from generator.model import OutputFile
from generator.urls import is_safe_site_path

# Files every papersite build writes: an existing folder without them is not replaced.
SITE_MARKERS = ("index.html", "papers.json")


class WriteError(BuildError):
    """The site cannot be written as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class WriteStats:
    files: int
    bytes: int


def check_paths(files: Sequence[OutputFile]) -> None:
    """Every path stays inside the site, none is written twice, none is both file and folder."""
    seen: set[str] = set()
    folders: set[str] = set()
    for f in files:
        if not is_safe_site_path(f.path):
            raise WriteError(f"refusing to write outside the site folder: {f.path!r}")
        if f.path in seen:
            raise WriteError(f"two files would be written to the same path: {f.path}")
        seen.add(f.path)
        parts = f.path.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    clash = sorted(seen & folders)
    if clash:
        raise WriteError(f"a path is both a file and a folder: {clash[0]}")


def _check_target(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise WriteError(f"output path exists and is not a folder: {out}")
    looks_like_site = all((out / m).is_file() for m in SITE_MARKERS)
    if out.is_dir() and any(out.iterdir()) and not looks_like_site:
        raise WriteError(
            f"refusing to replace {out}: it is not empty and does not look like a site "
            f"built by papersite (no {' and '.join(SITE_MARKERS)})"
        )
    cwd = Path.cwd().resolve()
    target = out.resolve()
    if target == cwd or target in cwd.parents:
        raise WriteError(f"refusing to replace {out}: it contains the current folder")


def write_tree(files: Sequence[OutputFile], root: Path) -> WriteStats:
    """Write ``files`` under the (new, empty) folder ``root``."""
    made: set[Path] = {root}
    total = 0
    for f in files:
        target = root.joinpath(*f.path.split("/"))
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        with open(target, "xb") as fh:
            fh.write(f.data)
        total += len(f.data)
    return WriteStats(len(files), total)


def write_site(
    files: Sequence[OutputFile],
    out: Path,
    before_swap: Callable[[Path], None] | None = None,
) -> WriteStats:
    """Write the site to ``out`` atomically (see the module docstring); returns what was written."""
    check_paths(files)
    out = Path(os.path.abspath(out))
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        staging.chmod(0o755)
        stats = write_tree(files, staging)
        if before_swap is not None:
            before_swap(staging)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stats


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two folders (Linux renameat2 RENAME_EXCHANGE); False where the
    system or file system cannot, so the caller falls back to two renames."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap(staging: Path, out: Path) -> None:
    """Put the new site in place of the old one, then delete the old one.

    Where Linux allows it the two folders are exchanged in one atomic step, so a kill at any
    moment leaves either the old site or the new one at ``out`` (and at worst a hidden
    ``.NAME.new-*`` folder beside it). Elsewhere the old site is renamed away first."""
    if not out.exists():
        os.rename(staging, out)
        return
    with _signals_deferred():
        if _exchange(staging, out):
            old = staging  # now holds the previous site
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            old.rmdir()  # a unique name for the old site; rename needs it absent
            os.rename(out, old)
            try:
                os.rename(staging, out)
            except BaseException:
                os.rename(old, out)
                raise
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the site is swapped and the old one removed, so an
    interrupt cannot leave a half-deleted old site beside the new one; they arrive after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
