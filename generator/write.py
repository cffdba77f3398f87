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
import stat
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
    bytes: int  # bytes written (linked files not counted)
    linked: int = 0  # files hard-linked unchanged from the previous site


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


def write_tree(
    files: Sequence[OutputFile], root: Path, previous: Path | None = None
) -> WriteStats:
    """Write ``files`` under the (new, empty) folder ``root``.

    A file whose bytes equal those of the same path under ``previous`` (the site being
    replaced) is hard-linked from it instead of written: an unchanged file keeps its inode and
    mtime, and a small change writes little. The previous site is only read, never changed.
    """
    made: set[Path] = {root}
    total = 0
    linked = 0
    for f in files:
        parts = f.path.split("/")
        target = root.joinpath(*parts)
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if previous is not None and _link_if_same(previous.joinpath(*parts), target, f.data):
            linked += 1
            continue
        with open(target, "xb") as fh:
            fh.write(f.data)
        total += len(f.data)
    return WriteStats(len(files), total, linked)


def _link_if_same(old: Path, target: Path, data: bytes) -> bool:
    try:
        st = os.stat(old, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with open(old, "rb") as fh:
            if fh.read() != data:
                return False
        os.link(old, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def write_site(
    files: Sequence[OutputFile],
    out: Path,
    before_swap: Callable[[Path], None] | None = None,
) -> WriteStats:
    """Write the site to ``out`` atomically (see the module docstring); returns what was written.

    Files unchanged since the previous site are hard links to it (``write_tree``), so
    ``before_swap`` may add or delete files in the staging folder but must never rewrite one in
    place (the search indexer writes only into folders of its own)."""
    check_paths(files)
    out = Path(os.path.abspath(out))
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        staging.chmod(0o755)
        stats = write_tree(files, staging, previous=out if out.is_dir() else None)
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
