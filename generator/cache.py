"""The build cache: what makes a rebuild with nothing changed exit at once, and a rebuild
after a small change redo only what the change touches.

It lives in ``.papersite-cache/<output id>/`` under the working folder (like ``.pytest_cache``;
never inside or beside the published site). Everything in it is keyed by content hashes, and
every file is written atomically (temporary name, then rename), so a killed build leaves at
worst an unused temporary file; a cache that cannot be read or written is simply not used.

- ``fingerprint``: one hash over every input of a build (seed and BibTeX files, the config,
  templates, static files, the generator's own source, the options and the environment that
  reach the output). File digests are reused while a file's size, mtime and inode are
  unchanged, so a no-op check stats the inputs instead of reading them.
- ``state``: the fingerprint of the last successful build, its diagnostics and summary, and a
  manifest of the site it wrote (each folder's mtime and inode, see ``site_manifest``). When
  the fingerprint and the manifest both match, the site on disk is what a build would write.
- stage results (pickles) keyed by the hash of their inputs: each seed file's records and
  each BibTeX file's entries, the topics and similar papers of a set of papers.
- memos (``load_memo``/``store_memo``): per stage, its per-item work (each paper's merge,
  each paper's phrase counts, each page's bytes) keyed by the item's inputs, in
  ``MEMO_SHARDS`` pickles by key hash; valid only for the generator source that wrote them.
  Only the shards a build changed are rewritten, each holding only the entries it used.
- ``site``: path -> SHA-256 of every file the last build wrote, with the folders' manifest
  of the site it wrote them to (``generator.write`` updates a site in place from it).

A process that builds again and again (``papersite serve``) hands its ``BuildCache`` a
``WarmStore``: what one build loaded or stored is then kept in memory for the next (values,
the objects made from them with ``keep``, the memos as saved), so a rebuild reads from disk
only what it has not seen. The files are written as before: a later ``build`` finds them.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CACHE_DIR = Path(".papersite-cache")
FORMAT = 1  # bump when the layout of cached values changes
KEEP_OUTPUTS = 64  # cache folders of this many output folders are kept, most recent first
GENERATOR_DIR = Path(__file__).resolve().parent
# Environment variables that reach the output: where Pagefind is found, which modules load.
ENV_KEYS = ("PATH", "PYTHONPATH", "PAGEFIND_BINARY_PATH")

StatKey = tuple[int, int, int]  # size, mtime_ns, inode


def _stat_key(st: os.stat_result) -> StatKey:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def digest_value(value: Any) -> str:
    """A content hash of a picklable value (deterministic for the data model's frozen
    dataclasses, tuples, strings and insertion-ordered dicts)."""
    return digest_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


@dataclass
class Fingerprint:
    """Input files' digests (path -> digest) and the hash over them and the options."""

    key: str
    files: dict[str, str]
    stats: dict[str, StatKey] = field(default_factory=dict)
    code: str = ""  # hash of the generator's own source (part of every stage's cache key)


def _tree_files(root: Path, suffixes: tuple[str, ...] | None = None) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if suffixes is None or name.endswith(suffixes):
                yield Path(dirpath, name)


def fingerprint(
    inputs: Iterable[Path],
    trees: Iterable[tuple[Path, tuple[str, ...] | None]],
    options: Mapping[str, Any],
    previous: Fingerprint | None,
) -> Fingerprint:
    """Hash the named input files, every file under each (tree, suffixes) and ``options``.

    A file whose (size, mtime, inode) equals the previous build's keeps its digest unread.
    """
    old_files = previous.files if previous else {}
    old_stats = previous.stats if previous else {}
    files: dict[str, str] = {}
    stats: dict[str, StatKey] = {}
    paths = list(inputs)
    for root, suffixes in trees:
        paths.extend(_tree_files(root, suffixes))
    for path in paths:
        name = str(path)
        try:
            st = path.stat()
        except OSError:
            files[name] = "missing"
            continue
        sk = _stat_key(st)
        if old_stats.get(name) == sk and name in old_files:
            files[name] = old_files[name]
        else:
            try:
                files[name] = digest_bytes(path.read_bytes())
            except OSError:
                files[name] = "unreadable"
                continue
        stats[name] = sk
    env = {k: os.environ.get(k) for k in ENV_KEYS}
    whole = repr((FORMAT, sys.version, sys.executable, sorted(options.items()), env, files))
    code_files = sorted((k, v) for k, v in files.items() if Path(k).is_relative_to(GENERATOR_DIR))
    code = repr((FORMAT, sys.version, sys.executable, code_files))
    return Fingerprint(
        digest_bytes(whole.encode("utf-8")), files, stats, digest_bytes(code.encode("utf-8"))
    )


def site_manifest(out: Path) -> dict[str, tuple[int, int]] | None:
    """Relative path -> (mtime_ns, inode) of the site folder and every folder in it; None if
    unreadable. A file added, removed, renamed or replaced (as editors and tools save)
    changes its folder's mtime, and a new site is a new folder; a stat of every file would
    also see bytes rewritten in place, but costs a second per 100,000 files."""
    found: dict[str, tuple[int, int]] = {}
    base = len(str(out)) + 1
    try:
        st = os.stat(out)
        found[""] = (st.st_mtime_ns, st.st_ino)
        stack = [str(out)]
        while stack:
            folder = stack.pop()
            with os.scandir(folder) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                        found[entry.path[base:]] = (st.st_mtime_ns, st.st_ino)
                        stack.append(entry.path)
    except OSError:
        return None
    return found


MEMO_SHARDS = 64  # files per memo: a small change rewrites the few shards it touched


def shard_of(key: Any) -> int:
    """Which shard file of its memo a key lives in (stable across processes)."""
    text = key if isinstance(key, str) else repr(key)
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % MEMO_SHARDS


class Memo(MutableMapping[Any, Any]):
    """A dict that remembers which keys a build used and which shards it changed.

    Reading or writing a key marks it used; writing a value that is not the very object
    already stored, or deleting, marks the key's shard changed, as does leaving a stored key
    unused (it is dropped). ``shards()`` is what to write back."""

    def __init__(
        self,
        data: dict[Any, Any] | None = None,
        home: dict[Any, int] | None = None,
        members: dict[int, list[Any]] | None = None,
    ):
        self._data: dict[Any, Any] = data if data is not None else {}
        # key -> its shard (as loaded, or ``shard_of`` when first stored)
        self._home: dict[Any, int] = (
            home if home is not None else {k: shard_of(k) for k in self._data}
        )
        # shard -> its keys (``home`` the other way round)
        self._members: dict[int, list[Any]] = defaultdict(list)
        if members is not None:
            self._members.update(members)
        else:
            for key, i in self._home.items():
                self._members[i].append(key)
        self._used: set[Any] = set()
        self._dirty: set[int] = set()

    def __getitem__(self, key: Any) -> Any:
        value = self._data[key]
        self._used.add(key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        if self._data.get(key, _MISSING) is not value:
            self._data[key] = value
            i = self._home.get(key)
            if i is None:
                i = self._home[key] = shard_of(key)
                self._members[i].append(key)
            self._dirty.add(i)
        self._used.add(key)

    def __delitem__(self, key: Any) -> None:
        del self._data[key]
        self._used.discard(key)
        self._dirty.add(self._home[key])

    def __contains__(self, key: object) -> bool:
        found = key in self._data
        if found:
            self._used.add(key)
        return found

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def mark_dirty(self, shard: int) -> None:
        self._dirty.add(shard)

    def settle(self) -> None:
        """Become what ``load_memo`` reads back once ``shards()`` is stored: the entries this
        build did not use are dropped, and none is used or changed yet."""
        unused = self._data.keys() - self._used
        for key in unused:
            del self._data[key]
        for i in {self._home.pop(key) for key in unused}:
            self._members[i] = [k for k in self._members[i] if k in self._data]
        self._used = set()
        self._dirty = set()

    def shards(self) -> dict[int, dict[Any, Any]]:
        """shard -> its entries this build used, for every shard that differs from the stored
        one (changed, or holding keys this build did not use). Only those shards' keys are
        visited (a rebuild changes a few of them)."""
        dirty = set(self._dirty)
        dirty.update(map(self._home.__getitem__, self._data.keys() - self._used))
        data, used = self._data, self._used
        return {
            i: {k: data[k] for k in self._members.get(i, ()) if k in used and k in data}
            for i in sorted(dirty)
        }


_MISSING = object()


class WarmStore:
    """What the builds of one process keep in memory for the next one (``BuildCache``'s
    ``warm``). Everything in it is keyed like the cache's files (by content hashes), so it
    is never stale; it is pruned with them."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}  # a cache file's path -> its value as stored
        self.kept: dict[str, Any] = {}  # a cache file's path -> what was made from it (keep)
        self.memos: dict[str, tuple[str, Memo]] = {}  # name -> (generator source, memo)
        self.templates: str | None = None  # hash of the templates the renderer compiled
        self._deferred: Callable[[], None] | None = None

    def defer(self, save: Callable[[], None]) -> None:
        """Have ``save`` (a build's writing of its cache) run at the next ``flush``: a dev
        server writes the cache once the rebuilt site is served, off the edit-reload path."""
        self.flush()
        self._deferred = save

    def flush(self) -> None:
        """Run the deferred save, if any (before the next build, and before the process
        ends, so the files hold what the memory does)."""
        save, self._deferred = self._deferred, None
        if save is not None:
            save()


class BuildCache:
    """One output folder's cache. Every method fails soft: a cache problem costs time only."""

    def __init__(self, out: Path, root: Path | None = None, warm: WarmStore | None = None) -> None:
        target = os.path.abspath(out)
        self.root = Path(root if root is not None else CACHE_DIR)
        self.folder = self.root / digest_bytes(target.encode("utf-8"))[:16]
        self.warm = warm
        self._used: set[str] = set()

    # -- values -------------------------------------------------------------------------
    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / f"{key}.pickle"

    def load(self, kind: str, key: str, warm: bool = True) -> Any | None:
        """The value stored for (kind, key), or None. With a ``WarmStore`` (and ``warm``),
        a value this process stored or loaded before is not read again (the same object
        comes back: values are never changed once stored)."""
        path = self._path(kind, key)
        name = str(path)
        self._used.add(name)
        if warm and self.warm is not None:
            found = self.warm.values.get(name)
            if found is not None:
                return found
        try:
            with open(path, "rb") as fh:
                value = pickle.load(fh)
        except Exception:  # noqa: BLE001 - missing, truncated or stale: recompute
            return None
        if warm and self.warm is not None:
            self.warm.values[name] = value
        return value

    def recall(self, kind: str, key: str) -> Any | None:
        """What ``keep`` kept for (kind, key) in an earlier build of this process, or None
        (no ``WarmStore``, or not kept). The file stays in use (not pruned)."""
        if self.warm is None:
            return None
        name = str(self._path(kind, key))
        found = self.warm.kept.get(name)
        if found is not None:
            self._used.add(name)
        return found

    def keep(self, kind: str, key: str, made: Any) -> None:
        """Keep in memory (with a ``WarmStore``) what was made from the value of (kind, key),
        for ``recall`` in the next build; it lives as long as that cache file does."""
        if self.warm is not None:
            self.warm.kept[str(self._path(kind, key))] = made

    def store(self, kind: str, key: str, value: Any, warm: bool = True) -> None:
        path = self._path(kind, key)
        self._used.add(str(path))
        if warm and self.warm is not None:
            self.warm.values[str(path)] = value
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, pickle.PicklingError, RecursionError):
            return

    def prune(self, kinds: Iterable[str]) -> None:
        """Drop the entries of ``kinds`` this build did not use, and the cache folders of
        output folders not built for a while (at most ``KEEP_OUTPUTS`` are kept)."""
        kinds = tuple(kinds)
        if self.warm is not None:
            for held in (self.warm.values, self.warm.kept):
                for name in [n for n in held if n not in self._used]:
                    if Path(name).parent.name in kinds:
                        del held[name]
        for kind in kinds:
            folder = self.folder / kind
            try:
                for entry in os.scandir(folder):
                    if entry.path not in self._used:
                        os.unlink(entry.path)
            except OSError:
                pass
        try:
            os.utime(self.folder)
            others = sorted(
                (p for p in self.root.iterdir() if p.is_dir()),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            for stale in others[KEEP_OUTPUTS:]:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass

    # -- memos ----------------------------------------------------------------------------
    def load_memo(self, name: str, code: str) -> Memo:
        """The memo ``name`` as the last build left it (a shard that is missing, unreadable
        or written by other generator source ``code`` is empty, and rewritten at the end).
        With a ``WarmStore``, the memo the last build of this process stored (``store_memo``)
        is handed over instead: it holds what the files hold. It is taken out of the store
        meanwhile (a build that fails before storing it leaves the files to be read again)."""
        if self.warm is not None:
            held = self.warm.memos.pop(name, None)
            if held is not None and held[0] == code:
                return held[1]
        data: dict[Any, Any] = {}
        home: dict[Any, int] = {}
        members: dict[int, list[Any]] = {}
        bad: list[int] = []
        for i in range(MEMO_SHARDS):
            stored = self.load("memo", f"{name}-{i:02d}", warm=False)
            entries = None
            if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == code:
                entries = stored[1]
            if isinstance(entries, dict):
                data.update(entries)
                home.update(dict.fromkeys(entries, i))
                members[i] = list(entries)
            else:
                bad.append(i)
        memo = Memo(data, home, members)
        for i in bad:
            memo.mark_dirty(i)
        return memo

    def store_memo(self, name: str, code: str, memo: Memo) -> None:
        """Write back the shards of the memo this build changed (each with only the entries
        this build used); the others stay as they are."""
        for i in range(MEMO_SHARDS):
            self._used.add(str(self._path("memo", f"{name}-{i:02d}")))
        for i, entries in memo.shards().items():
            self.store("memo", f"{name}-{i:02d}", (code, entries), warm=False)
        if self.warm is not None:
            memo.settle()
            self.keep_memo(name, code, memo)

    def keep_memo(self, name: str, code: str, memo: Memo) -> None:
        """Hand ``memo`` (as ``load_memo`` would read it now) to the next build of this
        process (with a ``WarmStore``)."""
        if self.warm is not None:
            self.warm.memos[name] = (code, memo)

    # -- the last build's state ------------------------------------------------------------
    def load_state(self) -> dict[str, Any] | None:
        state = self.load("state", "last")
        return state if isinstance(state, dict) and state.get("format") == FORMAT else None

    def store_state(self, state: dict[str, Any]) -> None:
        self.store("state", "last", {"format": FORMAT, "time": time.time(), **state})
