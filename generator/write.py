"""Write the rendered site atomically, in one of two ways.

- Beside it, then swapped in (``write_site`` without a trusted ``previous``, or with a
  ``before_swap`` step such as the search indexer, or when many files changed): everything goes
  into a staging folder beside ``out``, which replaces ``out`` in one atomic exchange only when
  every file was written and ``before_swap`` succeeded. Unchanged files are hard links to the
  previous site's.
- In place (``update_site``: a trusted ``previous`` digest of every file the site now holds,
  no ``before_swap`` step, few files changed): only the changed files' new bytes are written,
  into a staging folder beside ``out``; then, with SIGINT and SIGTERM held, each is renamed over
  its old version (kept as a hard link in the staging folder) and removed files are moved there,
  following a journal written first. Any failure rolls every step back from the journal, and a
  build killed outright (SIGKILL) while the renames run is rolled back by the next
  ``write_site`` on the same folder before it does anything else.

Either way a failure leaves the previous ``out`` byte-for-byte as it was, and a kill leaves at
worst a hidden ``.NAME.new-*`` folder beside it. A reader of the in-place site (``serve``)
sees each file either old or new, never half written.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import errno
import hashlib
import itertools
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from generator.build import BuildError
from generator.model import OutputFile
from generator.urls import is_safe_site_path

# Files every papersite build writes: an existing folder without them is not replaced.
SITE_MARKERS = ("index.html", "papers.json")
# An update in place is used while at most this share of the files changed (else the whole
# site is staged and swapped, as a cold build is: fewer steps to undo, one atomic exchange).
MAX_UPDATE_SHARE = 0.1
MIN_UPDATE_FILES = 64  # ... or at most this many files, whichever is more
JOURNAL = "journal.json"
# os.open flags of a new file (open(path, "xb")): created, never an existing one replaced
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class WriteError(BuildError):
    """The site cannot be written as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class WriteStats:
    files: int
    bytes: int  # bytes written (linked or unchanged files not counted)
    linked: int = 0  # files hard-linked unchanged from the previous site
    mode: str = "swap"  # "swap" (staged, then exchanged) | "update" (changed files in place)
    changed: int = 0  # files written because new or changed (both modes)
    removed: int = 0  # files of the previous site no longer in it (update mode)
    # path -> SHA-256 of every file written: what ``previous`` of the next build must be
    digests: Mapping[str, builtins.bytes] = field(default_factory=dict, repr=False)


def check_paths(
    files: Sequence[OutputFile], more: Iterable[str] = (), *, kept: Iterable[str] = ()
) -> None:
    """Every path stays inside the site, none is written twice, none is both file and folder
    (``more``: paths of further files of the site, not given as bytes; ``kept``: paths of
    files the previous site holds and keeps, each once, made safe when they were written:
    checked against the others only)."""
    seen: set[str] = set()
    for path in itertools.chain((f.path for f in files), more):
        if not is_safe_site_path(path):
            raise WriteError(f"refusing to write outside the site folder: {path!r}")
        if path in seen:
            raise WriteError(f"two files would be written to the same path: {path}")
        seen.add(path)
    if kept:
        kept = set(kept)
        twice = sorted(seen & kept)
        if twice:
            raise WriteError(f"two files would be written to the same path: {twice[0]}")
        seen |= kept
    clash = sorted(seen & _folders(seen))
    if clash:
        raise WriteError(f"a path is both a file and a folder: {clash[0]}")


def _holds(previous: Mapping[str, bytes], kept: Mapping[str, bytes]) -> bool:
    """Whether every (path, digest) of ``kept`` is in ``previous``."""
    if isinstance(previous, dict) and isinstance(kept, dict):
        return kept.items() <= previous.items()  # compared in C
    return all(previous.get(p) == d for p, d in kept.items())


def file_digests(files: Sequence[OutputFile]) -> dict[str, bytes]:
    """path -> SHA-256 of the bytes, hashed on two threads (hashlib releases the GIL)."""

    def part(chunk: Sequence[OutputFile]) -> list[tuple[str, bytes]]:
        return [(f.path, hashlib.sha256(f.data).digest()) for f in chunk]

    if len(files) < 2000:
        return dict(part(files))
    size = -(-len(files) // 8)
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return {k: v for rows in pool.map(part, chunks) for k, v in rows}


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
    files: Sequence[OutputFile],
    root: Path,
    previous: Path | None = None,
    known: Callable[[OutputFile], bool] | None = None,
) -> WriteStats:
    """Write ``files`` under the (new, empty) folder ``root``.

    A file whose bytes equal those of the same path under ``previous`` (the site being
    replaced) is hard-linked from it instead of written: an unchanged file keeps its inode and
    mtime, and a small change writes little. ``known(f)`` true means the caller knows the
    previous site's file has these bytes (it is linked without reading it). The previous site
    is only read, never changed.
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
        if previous is not None:
            old = previous.joinpath(*parts)
            if known is not None and known(f):
                if _link(old, target):
                    linked += 1
                    continue
            elif _link_if_same(old, target, f.data):
                linked += 1
                continue
        with open(target, "xb") as fh:
            fh.write(f.data)
        total += len(f.data)
    return WriteStats(len(files), total, linked, changed=len(files) - linked)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to the open file ``fd``, then close it."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _link(old: Path, target: str | Path) -> bool:
    try:
        os.link(old, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def _link_if_same(old: Path, target: str | Path, data: bytes) -> bool:
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
    previous: Mapping[str, bytes] | None = None,
    kept: Mapping[str, bytes] | None = None,
    digests: Mapping[str, bytes] | None = None,
) -> WriteStats:
    """Write the site to ``out`` atomically (see the module docstring); returns what was written.

    ``previous`` is path -> SHA-256 (``WriteStats.digests`` of the build that wrote the site now
    at ``out``), given only when the caller knows the site was not changed since (the build
    cache compares its folders' manifest). With it, unchanged files are known without reading
    them, and without ``before_swap`` a small change is written in place (``update_site``).

    Files unchanged since the previous site are hard links to it (``write_tree``), so
    ``before_swap`` may add or delete files in the staging folder but must never rewrite one in
    place (the search indexer writes only into folders of its own).

    ``kept`` (path -> SHA-256, with ``previous``): more files of the site, not given as bytes
    because ``previous`` says the site already holds them with these bytes (pages a render memo
    found unchanged); each must be in ``previous`` with that digest.

    ``digests``: path -> SHA-256 of every file, ``kept`` and ``files``, when the caller has
    them (the renderer hashed each file it made): not hashed again."""
    kept = kept or {}
    if kept and (previous is None or not _holds(previous, kept)):
        raise WriteError("kept files must be in the previous site with the same bytes")
    check_paths(files, kept=kept)
    out = Path(os.path.abspath(out))
    if digests is None or len(digests) != len(kept) + len(files):
        digests = {**kept, **file_digests(files)}
    recover(out)
    _check_target(out)
    total = len(digests)
    if previous is not None and before_swap is None and out.is_dir():
        # the kept files are in ``previous`` with these bytes: only ``files`` may differ
        changed = sum(1 for f in files if previous.get(f.path) != digests[f.path])
        removed = len(previous.keys() - digests.keys())
        if changed + removed <= max(MIN_UPDATE_FILES, int(total * MAX_UPDATE_SHARE)):
            return update_site(files, out, digests, previous)
    if kept and not out.is_dir():
        raise WriteError(f"kept files must be in the previous site: {out} is gone")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        staging.chmod(0o755)
        known = None
        if previous is not None:
            last = previous

            def known(f: OutputFile) -> bool:
                return last.get(f.path) == digests[f.path]

        stats = write_tree(files, staging, previous=out if out.is_dir() else None, known=known)
        made: set[Path] = set()
        for path in kept:
            target = staging / path
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            os.link(out / path, target, follow_symlinks=False)
        if before_swap is not None:
            before_swap(staging)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    linked = stats.linked + len(kept)
    return WriteStats(total, stats.bytes, linked, "swap", stats.changed, 0, digests)


# -- streamed ------------------------------------------------------------------------------


class Staging:
    """A new site filled file by file as its pages are rendered, then swapped in whole.

    ``open_staging`` makes the folder beside ``out`` (after ``recover``); ``put`` writes one
    file into it, or hard-links the previous site's file when its bytes are the same (known
    from ``previous`` digests without reading, else compared); ``put`` may be called from
    forked render workers at once (each file is written by exactly one of them). ``finish``
    checks every path, runs ``before_swap`` and swaps the folder in; ``abort`` removes it.
    So the site's bytes never need to be held in memory together, and a failure or a kill
    leaves the previous site as ``write_site`` does."""

    def __init__(self, out: Path, folder: Path, previous: Mapping[str, bytes] | None) -> None:
        self.out = out
        self.folder = folder
        self.previous = previous
        self.old = out if out.is_dir() else None
        self._made: set[str] = {""}
        self._root = os.fspath(folder)

    def _target(self, path: str) -> str:
        if not is_safe_site_path(path):
            raise WriteError(f"refusing to write outside the site folder: {path!r}")
        folder, _, _ = path.rpartition("/")
        if folder not in self._made:
            (self.folder / folder).mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        return f"{self._root}/{path}"  # a str, not a Path: this runs once per file of the site

    def put(self, path: str, data: bytes) -> tuple[bytes, bool]:
        """Write one file; returns its SHA-256 and whether it was linked unchanged."""
        digest = hashlib.sha256(data).digest()
        target = self._target(path)
        if self.old is not None:
            old = self.old / path
            if self.previous is not None:
                if self.previous.get(path) == digest and _link(old, target):
                    return digest, True
            elif _link_if_same(old, target, data):
                return digest, True
        try:
            fd = os.open(target, _NEW_FILE, 0o666)  # what open(target, "xb") asks for
        except FileExistsError:
            raise WriteError(f"two files would be written to the same path: {path}") from None
        write_all(fd, data)
        return digest, False

    def has(self, path: str, digest: bytes) -> bool:
        """Whether the previous site's file at ``path`` holds the bytes of ``digest`` (known
        from ``previous``, else read): a page a render memo found unchanged can be kept."""
        if self.old is None:
            return False
        if self.previous is not None:
            return self.previous.get(path) == digest
        try:
            with open(self.old / path, "rb") as fh:
                return hashlib.sha256(fh.read()).digest() == digest
        except OSError:
            return False

    def keep(self, path: str) -> None:
        """Link the previous site's file at ``path`` into the new site (after ``has``)."""
        assert self.old is not None
        os.link(self.old / path, self._target(path), follow_symlinks=False)

    def finish(
        self, digests: Mapping[str, bytes], before_swap: Callable[[Path], None] | None = None
    ) -> None:
        """Check every path written (``digests``: path -> SHA-256), run ``before_swap`` on
        the folder and swap it in place of ``out``."""
        check_paths((), digests)
        if before_swap is not None:
            before_swap(self.folder)
        _swap(self.folder, self.out)

    def abort(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def open_staging(out: Path, previous: Mapping[str, bytes] | None = None) -> Staging:
    """A ``Staging`` folder for a new site at ``out`` (an interrupted update of ``out`` is
    undone first, and ``out`` must be a folder papersite may replace)."""
    out = Path(os.path.abspath(out))
    recover(out)
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        folder.chmod(0o755)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Staging(out, folder, previous)


# -- in place ------------------------------------------------------------------------------


def update_site(
    files: Sequence[OutputFile],
    out: Path,
    digests: Mapping[str, bytes],
    previous: Mapping[str, bytes],
) -> WriteStats:
    """Bring the site at ``out`` (whose files are exactly ``previous``: path -> SHA-256) to
    ``files`` (``digests``) by replacing only the files that changed (module docstring).

    Steps, in the journal's order: remove the files that are gone (moved into the staging
    folder), remove folders left empty, make new folders, put each new or changed file (its
    old version hard-linked into the staging folder first). Undoing walks them backwards."""
    changed = [f for f in files if previous.get(f.path) != digests[f.path]]
    gone = sorted(previous.keys() - digests.keys())
    if not changed and not gone:
        return WriteStats(len(digests), 0, 0, "update", 0, 0, digests)
    if gone or any(f.path not in previous for f in changed):
        old_dirs, new_dirs = _folders(previous), _folders(digests)
    else:  # the same paths as before: no folder comes or goes
        old_dirs = new_dirs = set()
    steps: list[list[str]] = [["remove", p, f"o{i}"] for i, p in enumerate(gone)]
    steps += [["rmdir", d] for d in sorted(old_dirs - new_dirs, reverse=True)]
    steps += [["mkdir", d] for d in sorted(new_dirs - old_dirs)]
    for i, f in enumerate(changed):
        steps.append(["put", f.path, f"n{i}", f"p{i}", "1" if f.path in previous else ""])
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        total = 0
        for i, f in enumerate(changed):  # the new bytes, beside the site: may fail (disk full)
            with open(staging / f"n{i}", "xb") as fh:
                fh.write(f.data)
            total += len(f.data)
        tmp = staging / (JOURNAL + ".tmp")
        tmp.write_text(json.dumps({"site": str(out), "steps": steps}), encoding="utf-8")
        os.replace(tmp, staging / JOURNAL)  # from here on the journal says how to undo
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with _signals_deferred():
        try:
            for step in steps:
                _apply(out, staging, step)
        except BaseException:
            _undo(out, staging, steps)
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return WriteStats(len(digests), total, 0, "update", len(changed), len(gone), digests)


def _folders(paths: Iterable[str]) -> set[str]:
    """Every folder that holds one of ``paths`` (``a/b/c`` -> ``a``, ``a/b``): each path's
    parents are walked up only until one already found, so a site's worth costs a look-up
    or two per file."""
    found: set[str] = set()
    for p in paths:
        folder = p.rpartition("/")[0]
        while folder and folder not in found:
            found.add(folder)
            folder = folder.rpartition("/")[0]
    return found


def _apply(out: Path, staging: Path, step: Sequence[str]) -> None:
    kind, path = step[0], out / step[1]
    if kind == "remove":
        os.rename(path, staging / step[2])
    elif kind == "rmdir":
        os.rmdir(path)
    elif kind == "mkdir":
        os.mkdir(path)
    else:  # put
        if step[4]:
            os.link(path, staging / step[3], follow_symlinks=False)
        os.replace(staging / step[2], path)


def _undo(out: Path, staging: Path, steps: Sequence[Sequence[str]]) -> None:
    """Undo ``steps`` (all, some or none of them done), last first. Each undo looks at what is
    on disk, so undoing a step never done, or undoing twice, changes nothing."""
    for step in reversed(steps):
        kind, path = step[0], out / step[1]
        if kind == "remove":
            if (staging / step[2]).exists():
                os.rename(staging / step[2], path)
        elif kind == "rmdir":
            if not path.exists():
                os.mkdir(path)
        elif kind == "mkdir":
            if path.is_dir():
                os.rmdir(path)
        else:  # put
            old, new = staging / step[3], staging / step[2]
            if step[4]:
                if old.exists():
                    os.replace(old, path)
            elif not new.exists() and path.exists():
                os.unlink(path)


def recover(out: Path) -> None:
    """Undo an in-place update that a kill interrupted (a staging folder beside ``out`` with a
    journal naming ``out``), so the previous site is back before anything else happens."""
    out = Path(os.path.abspath(out))
    try:
        candidates = sorted(out.parent.glob(f".{out.name}.new-*"))
    except OSError:
        return
    for staging in candidates:
        try:
            journal = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a staged site a kill left: never swapped in, nothing to undo
        if journal.get("site") != str(out):
            continue
        with _signals_deferred():
            _undo(out, staging, journal["steps"])
            shutil.rmtree(staging, ignore_errors=True)


# -- swap ----------------------------------------------------------------------------------
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
