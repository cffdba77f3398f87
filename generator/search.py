"""Build both search indexes over a written site.

- Hosted (http/https): the Pagefind binary shipped by ``pagefind[bin]`` runs over the
  written HTML (never the Python API's one-record-at-a-time calls) and writes ``pagefind/``.
  Pages mark what is indexed with ``data-pagefind-body`` (paper, author and topic pages).
- Opened from disk (file://), and over http for a site above HOSTED_MAX_PAPERS:
  ``generator.offline_index`` writes ``search-index/`` from the catalog, as classic scripts
  (see that module). For such a site Pagefind indexes a small ``record_page`` per page (the
  same URLs, filters, sort, meta, titles and authors; no abstracts) instead of the written
  HTML: a third of the work, for a bundle that serves ``?engine=pagefind`` and its facets.
  The record pages are written to a memory-backed folder (``/dev/shm``) when there is one
  with room, else beside the site. Pagefind numbers pages in the order it lists the files,
  so the page numbers (not the pages, words, filters or results) follow that folder's
  file system; on one machine two builds give the same bundle.

The two are built at once: Pagefind (child processes, one per part of PART_PAGES pages)
from a thread while this process writes the script-loaded index.

Pagefind 1.5 writes its filter indexes from a randomly seeded hash map, so the order of the
filter values (and of the filters in the metadata file) changes from run to run, and with it
the files' hashed names and the entry hash. ``canonicalise_pagefind`` rewrites those files in
one canonical order (filters by name, values by value, word variants by spelling) and renames
them by the hash of their new content, the way Pagefind names them, so two builds of the same
input give byte-identical bundles. The web client reads these files by the names the metadata
gives, and does not depend on their order.

A missing or failing Pagefind raises ``SearchIndexError`` with one readable line, so the build
fails and the previous site stays as it was; it never leaves a search box pointing at nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import gzip
import hashlib
import html
import importlib
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, overload

import cbor2

from generator.build import BuildError
from generator.model import Catalog
from generator.offline_index import (
    INDEX_DIR,
    Doc,
    build_offline_index,
    catalog_doc_count,
    catalog_docs,
    engine_file,
    iter_catalog_docs,
    padded_date,
    papers_by_date,
)
from generator.urls import author_path, is_safe_site_path, paper_path, topic_path
from generator.write import write_all

if TYPE_CHECKING:
    from generator.config import SiteConfig

PAGEFIND_DIR = "pagefind"
PAGEFIND_TIMEOUT = 3600  # seconds; a 100,000-paper site indexes in minutes
PART_PAGES = 20_000  # pages per Pagefind run: about 1.4 GB peak each (it holds ~70 KB a page)
# Pagefind's query time grows with the square of the pages a word is on (measured: a word on
# most pages takes 0.35 s at 2,500 papers, 0.9 s at 5,000 and 3.4 s at 10,000 in headless
# Chromium), and merging bundles does not change the total. Above this many papers search.js
# answers from the script-loaded index over http too (the Pagefind bundle is still built).
HOSTED_MAX_PAPERS = 2_000
ENGINE_ENV = "PAPERSITE_PAGEFIND_MAX_PAPERS"  # overrides HOSTED_MAX_PAPERS for a build
MAX_PARALLEL_PARTS = 2  # Pagefind parts indexed at once (see pagefind_workers)
FEED_BATCH = 1024  # documents made between two hand-overs to the Pagefind parts waiting


class SearchIndexError(BuildError):
    """Pagefind is missing or failed, or the index could not be written."""


@dataclass(frozen=True, slots=True)
class SearchStats:
    pages_indexed: int  # pages Pagefind indexed (paper, author and topic pages)
    pagefind_seconds: float
    offline_docs: int  # documents in search-index/
    offline_words: int
    offline_shards: int
    offline_bytes: int  # size of search-index/
    offline_seconds: float
    http_engine: str = "pagefind"  # what search.js answers from over http(s)
    bundles: int = 1  # Pagefind bundles (runs) merged in the browser


def pagefind_executable() -> Path:
    """The Pagefind binary: ``PAGEFIND_BINARY_PATH`` if set (as the pagefind package honours),
    else the one the ``pagefind_bin`` package ships."""
    env = os.environ.get("PAGEFIND_BINARY_PATH")
    if env:
        path = Path(env)
    else:
        try:
            module = importlib.import_module("pagefind_bin")
            path = Path(module.get_executable())
        except (ImportError, FileNotFoundError) as exc:
            raise SearchIndexError(
                "Pagefind binary not found: install the 'pagefind[bin]' package "
                f"(or build with --no-search): {exc}"
            ) from exc
    if not path.is_file() or not os.access(path, os.X_OK):
        raise SearchIndexError(f"Pagefind binary not found or not executable: {path}")
    return path


def _pagefind_once(
    exe: Path, site: Path, bundle: Path, slot: AbstractContextManager[object] | None = None
) -> int:
    """One Pagefind run over the HTML under ``site`` into ``bundle``, while holding ``slot``
    (if given; not while canonicalising); pages indexed."""
    cmd = [
        str(exe),
        "--site",
        str(site),
        "--output-path",
        str(bundle),
        "--force-language",
        "en",
        "--exclude-selectors",
        "nav, footer",
    ]
    try:
        with slot if slot is not None else nullcontext():
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=PAGEFIND_TIMEOUT, check=False
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SearchIndexError(f"Pagefind could not run: {exc}") from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        detail = lines[-1] if lines else "no output"
        raise SearchIndexError(f"Pagefind failed (exit {proc.returncode}): {detail}")
    m = re.search(r"Indexed (\d+) pages?", proc.stdout)
    pages = int(m.group(1)) if m else 0
    if pages == 0 or not (bundle / "pagefind.js").is_file():
        raise SearchIndexError(
            "Pagefind indexed no pages (no page has data-pagefind-body?): search would be empty"
        )
    _canonicalise_checked(bundle)
    return pages


def _canonicalise_checked(bundle: Path) -> None:
    try:
        canonicalise_pagefind(bundle)
    except (OSError, ValueError, KeyError, IndexError, TypeError, cbor2.CBORError) as exc:
        raise SearchIndexError(f"unexpected Pagefind output ({exc})") from exc


def pagefind_bundles(out: Path) -> list[tuple[str, tuple[str, ...]]]:
    """The bundles of the site in ``out``: (site path, its sort names), ``pagefind/`` first,
    then its parts in order."""
    if not (out / PAGEFIND_DIR).is_dir():
        return []
    parts = sorted(
        (int(d.name.removeprefix("part-")), d.name)
        for d in (out / PAGEFIND_DIR).glob("part-*")
        if d.name.removeprefix("part-").isdigit()
    )
    paths = [f"{PAGEFIND_DIR}/", *(f"{PAGEFIND_DIR}/{name}/" for _, name in parts)]
    out_list: list[tuple[str, tuple[str, ...]]] = []
    for path in paths:
        entry = json.loads((out / path / "pagefind-entry.json").read_text(encoding="utf-8"))
        sorts: set[str] = set()
        for info in entry["languages"].values():
            meta = _read_pf(out / path / f"pagefind.{info['hash']}.pf_meta")
            sorts.update(str(sort[0]) for sort in meta[4])  # [[name, [page numbers]]]
        out_list.append((path, tuple(sorted(sorts))))
    return out_list


@functools.lru_cache(maxsize=1 << 14)
def _filter_span(name: str, value: str) -> str:
    """A hidden filter value (the same few thousand recur on every page: made once each)."""
    return f'<span data-pagefind-filter="{html.escape(name)}">{html.escape(value)}</span>'


def record_page(doc: Doc) -> bytes:
    """A minimal page holding what Pagefind keeps of ``doc``: its filters, sort and meta, and
    its title and authors (a paper) or summary (an author or topic) as the indexed text.

    The filters, meta and sort are the ones the written page carries (``catalog_docs`` gives
    the values the pages give Pagefind); the abstract is left out (see ``build_search_index``).
    """
    e = html.escape
    hidden = "".join([_filter_span(name, value) for name, value in doc.filters])
    sort = ""
    if doc.kind == "paper":
        if doc.year:
            hidden += f'<span data-pagefind-meta="year">{e(doc.year)}</span>'
        if doc.date:
            sort = f' data-pagefind-sort="date:{e(padded_date(doc.date))}"'
        text = (
            '<p data-pagefind-weight="5" data-pagefind-meta="authors">'
            f"{e(doc.all_authors or 'Authors unknown')}</p>"
        )
    else:
        text = f"<p>{e(doc.body_text)}</p>"
    title = e(doc.title)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><article data-pagefind-body{sort}>"
        f"<div hidden data-pagefind-ignore>{hidden}</div>"
        f'<h1 data-pagefind-weight="10" data-pagefind-meta="title">{title}</h1>'
        f"{text}</article></body></html>\n"
    ).encode()


def _stage_part(out: Path, stage: Path, pages: Sequence[str]) -> None:
    """Fill ``stage`` with hard links to the part's written pages at their site paths."""
    for page in pages:
        if not is_safe_site_path(page):
            raise SearchIndexError(f"refusing to index outside the site: {page}")
        target = stage / page
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(out / page, target)
        except OSError:
            shutil.copyfile(out / page, target)


# Record pages are written to a memory-backed folder when there is one with room: creating a
# small file there costs a fraction of what it costs on a disk (measured: ~0.1 ms against
# 0.3-0.5 ms, 13,781 record pages 1.2 s against 3-8 s of this process's CPU).
MEMORY_STAGE = Path("/dev/shm")
STAGE_BYTES_PER_PAGE = 8192  # a record page takes one 4 KiB page of tmpfs; twice that, to spare


# Memory-backed folders are named with the process id of the build that made them: a build
# killed outright (SIGKILL) cannot remove its own, and they would hold memory until reboot.
LEFTOVER = re.compile(r"papersite-(?:search|pagefind)-(\d+)-")
LEFTOVER_AGE_S = 600.0  # and untouched this long (a pid of another pid namespace looks dead)


def sweep_leftovers(root: Path | None = None, now: float | None = None) -> int:
    """Remove the stage folders in ``root`` (else MEMORY_STAGE) that builds no longer running
    left behind: named ``LEFTOVER`` with a process id that no process has, and not modified
    for ``LEFTOVER_AGE_S``. Returns how many were removed; never raises."""
    folder = MEMORY_STAGE if root is None else root
    now = time.time() if now is None else now
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    removed = 0
    for name in sorted(names):
        found = LEFTOVER.match(name)
        if found is None or _process_exists(int(found.group(1))):
            continue
        path = folder / name
        try:
            if now - path.lstat().st_mtime < LEFTOVER_AGE_S or not path.is_dir():
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += not path.exists()
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or not a pid we can ask about): leave it
    return True


def record_stage(pages: int, parts_at_once: int, root: Path | None = None) -> Path | None:
    """The memory-backed folder (``root``, else MEMORY_STAGE) to stage ``parts_at_once``
    parts of ``pages`` record pages in, or None (no such folder, not writable, or too small:
    stage beside the site)."""
    memory = MEMORY_STAGE if root is None else root
    try:
        if not memory.is_dir() or not os.access(memory, os.W_OK | os.X_OK):
            return None
        free = os.statvfs(memory)
    except OSError:
        return None
    needed = pages * parts_at_once * STAGE_BYTES_PER_PAGE
    return memory if free.f_bavail * free.f_frsize >= needed else None


def _stage_records(stage: Path, records: Sequence[Doc]) -> None:
    """Write the ``record_page`` of each of ``records`` at its site path under ``stage``
    (each folder made once; a plain open and write per file)."""
    made: set[str] = set()
    root = str(stage)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    for doc in records:
        if not is_safe_site_path(doc.url):
            raise SearchIndexError(f"refusing to index outside the site: {doc.url}")
        folder = doc.url.rpartition("/")[0]
        if folder not in made:
            os.makedirs(os.path.join(root, folder), exist_ok=True)
            made.add(folder)
        data = record_page(doc)
        write_all(os.open(os.path.join(root, doc.url), flags, 0o644), data)


class DocFeed(Sequence[Doc]):
    """The search documents while one thread makes them and others read them a part at a
    time: the length is known from the start (one document per paper, author and topic);
    reading a document or a slice waits until it is made, and raises ``SearchIndexError``
    if the maker closed the feed before making it."""

    def __init__(self, total: int) -> None:
        self._docs: list[Doc] = []
        self._total = total
        self._closed = False
        self._ready = threading.Condition()

    def __len__(self) -> int:
        return self._total

    def add(self, docs: Sequence[Doc]) -> None:
        with self._ready:
            if self._closed or len(self._docs) + len(docs) > self._total:
                raise SearchIndexError("more search documents than pages to index")
            self._docs.extend(docs)
            self._ready.notify_all()

    def close(self) -> None:
        """No more documents (the readers still waiting for one raise)."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def fill(self, docs: Iterator[Doc], batch: int = FEED_BATCH) -> list[Doc]:
        """Add every document of ``docs``, ``batch`` at a time, then close; all of them."""
        try:
            pending: list[Doc] = []
            for doc in docs:
                pending.append(doc)
                if len(pending) >= batch:
                    self.add(pending)
                    pending = []
            self.add(pending)
        finally:
            self.close()
        if len(self._docs) != self._total:
            raise SearchIndexError(
                f"{len(self._docs)} search documents for {self._total} pages to index"
            )
        return self._docs

    def _wait(self, needed: int) -> None:
        with self._ready:
            self._ready.wait_for(lambda: len(self._docs) >= needed or self._closed)
            if len(self._docs) < needed:
                raise SearchIndexError("the search documents were not all made")

    @overload
    def __getitem__(self, index: int) -> Doc: ...

    @overload
    def __getitem__(self, index: slice) -> list[Doc]: ...

    def __getitem__(self, index: int | slice) -> Doc | list[Doc]:
        if isinstance(index, slice):
            start, stop, stride = index.indices(self._total)
            self._wait(max(range(start, stop, stride), default=-1) + 1)
            return self._docs[index]
        position = range(self._total)[index]  # IndexError when out of range
        self._wait(position + 1)
        return self._docs[position]


def run_pagefind(
    out: Path,
    pages: Sequence[str] | None = None,
    part_pages: int = PART_PAGES,
    records: Sequence[Doc] | None = None,
    workers: int = 1,
    slots: threading.Semaphore | None = None,
    memory_root: Path | None = None,
) -> int:
    """Index the written site into ``out/pagefind``; return the number of pages indexed.

    With ``pages`` (site paths of the pages to index), Pagefind runs once per ``part_pages``
    of them, each over a folder of hard links to its pages, into ``pagefind/`` (the first
    part) and ``pagefind/part-<k>/``: its indexer holds everything in memory, so this bounds
    the peak. Up to ``workers`` parts run at once (each is one Pagefind process on about one
    core; the next part is staged, or the last one canonicalised, meanwhile), each into a
    folder of its own, moved in place when all are done. search.js merges the parts. With
    ``records`` (one per page, in the same order) a part's folder holds their
    ``record_page`` instead, in a memory-backed folder if there is one (``record_stage``).
    Without either it indexes the whole site in one run. ``slots`` (a semaphore of
    ``workers`` permits) lets the caller allow more parts at once while it runs.
    ``records`` may be a ``DocFeed`` another thread is still filling: a part starts once its
    documents are made. ``memory_root``: the memory-backed folder to stage record pages in
    (default MEMORY_STAGE).
    """
    exe = pagefind_executable()
    shutil.rmtree(out / PAGEFIND_DIR, ignore_errors=True)
    if records is not None:
        total = len(records)  # a DocFeed knows it before its documents are all made
    elif pages is not None:
        total = len(pages)
    else:
        return _pagefind_once(exe, out, out / PAGEFIND_DIR)
    step = max(1, part_pages)
    starts = list(range(0, total, step))
    if slots is None:
        slots = threading.Semaphore(max(1, workers))
    # a thread more than Pagefind slots: the next part is staged while the others index
    threads = max(1, workers, MAX_PARALLEL_PARTS) + 1
    memory = record_stage(min(step, total), threads, memory_root) if records is not None else None

    def part(k: int) -> int:
        stage = out / f".pagefind-part-{k}"
        start = starts[k]
        try:
            if memory is not None:
                stage = Path(
                    tempfile.mkdtemp(prefix=f"papersite-pagefind-{os.getpid()}-", dir=memory)
                )
            else:
                shutil.rmtree(stage, ignore_errors=True)
            if records is not None:
                _stage_records(stage, records[start : start + step])
            elif pages is not None:
                _stage_part(out, stage, pages[start : start + step])
            return _pagefind_once(exe, stage, out / f".pagefind-bundle-{k}", slots)
        except OSError as exc:
            raise SearchIndexError(f"could not prepare the pages for Pagefind: {exc}") from exc
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            total = sum(pool.map(part, range(len(starts))))
        for k in range(len(starts)):
            bundle = out / PAGEFIND_DIR / (f"part-{k}" if k else "")
            bundle.parent.mkdir(parents=True, exist_ok=True)
            (out / f".pagefind-bundle-{k}").rename(bundle)
    except OSError as exc:
        raise SearchIndexError(f"could not move the Pagefind bundles in place: {exc}") from exc
    finally:
        for k in range(len(starts)):
            shutil.rmtree(out / f".pagefind-bundle-{k}", ignore_errors=True)
    return total


PF_HEADER = b"pagefind_dcd"  # every gzip'd Pagefind index file starts with this


def pagefind_hash(data: bytes) -> str:
    """SHA-1 of ``data`` spelt the way Pagefind spells it (each byte in hex, not zero-padded)."""
    return "".join(f"{b:x}" for b in hashlib.sha1(data).digest())


# An index chunk is [[word, pages, variants]...], a variant [form, pages]. A word with two or
# more variants has an array header of 2+ items (0x82-0x97, or 0x98/0x99 and the length)
# followed by a variant's own header (0x82) and its form's text header (0x60-0x7b). A chunk
# without these bytes holds no such word (the bytes may occur by chance: then it is decoded).
MULTI_VARIANT = re.compile(rb"(?:[\x82-\x97]|\x98[\x00-\xff]|\x99[\x00-\xff]{2})\x82[\x60-\x7b]")


def _read_pf_raw(path: Path) -> bytes:
    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(PF_HEADER):
        raise SearchIndexError(f"unexpected Pagefind file (no header): {path.name}")
    return raw[len(PF_HEADER) :]


def _read_pf(path: Path) -> Any:
    return cbor2.loads(_read_pf_raw(path))


def _write_pf(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(PF_HEADER + data, compresslevel=9, mtime=0))


def _short_name(data: bytes, lang: str, digits: int, taken: set[str]) -> str:
    """``<lang>_<hash>`` of ``data``, the hash lengthened on a collision (as Pagefind does)."""
    full = pagefind_hash(data)
    n = digits
    while f"{lang}_{full[:n]}" in taken and n < len(full):
        n += 1
    name = f"{lang}_{full[:n]}"
    taken.add(name)
    return name


def _replace_files(folder: Path, suffix: str, files: dict[str, tuple[str, bytes]]) -> None:
    """Remove every old file first, then write the new ones (a new name may be an old one)."""
    for old in files:
        (folder / f"{old}.{suffix}").unlink()
    for new, data in files.values():
        _write_pf(folder / f"{new}.{suffix}", data)


def canonicalise_pagefind(bundle: Path) -> None:
    """Rewrite the order-unstable files of a Pagefind bundle in a canonical order."""
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for lang, info in sorted(entry["languages"].items()):
        meta_path = bundle / f"pagefind.{info['hash']}.pf_meta"
        meta = _read_pf(meta_path)
        # meta: [version, pages, index chunks [[from, to, hash]], filters [[name, hash]], ...]
        chunks: dict[str, tuple[str, bytes]] = {}
        taken = {chunk[2] for chunk in meta[2]}
        for chunk in meta[2]:
            raw = _read_pf_raw(bundle / "index" / f"{chunk[2]}.pf_index")
            if not MULTI_VARIANT.search(raw):
                continue  # no word with two variants: nothing to reorder, nothing to decode
            words = cbor2.loads(raw)
            multi = False
            for word in words[0]:  # [word, pages, additional variants [[form, pages]]]
                if len(word[2]) > 1:
                    word[2] = sorted(word[2], key=lambda v: str(v[0]))
                    multi = True
            if multi:  # rewritten even if in order already: one compression, whatever the order
                data = cbor2.dumps(words)
                taken.discard(chunk[2])  # the same words in the same order keep their name
                chunks[chunk[2]] = (_short_name(data, lang, 7, taken), data)
                chunk[2] = chunks[chunk[2]][0]
        _replace_files(bundle / "index", "pf_index", chunks)
        filters: dict[str, tuple[str, bytes]] = {}
        named: list[list[str]] = []
        taken = set()
        for name, old in sorted(meta[3], key=lambda f: str(f[0])):
            index = _read_pf(bundle / "filter" / f"{old}.pf_filter")
            index[1].sort(key=lambda v: str(v[0]))  # [filter, [[value, [page numbers]]]]
            data = cbor2.dumps(index)
            filters[old] = (_short_name(data, lang, 7, taken), data)
            named.append([name, filters[old][0]])
        _replace_files(bundle / "filter", "pf_filter", filters)
        meta[3] = named
        data = cbor2.dumps(meta)
        meta_path.unlink()
        info["hash"] = f"{lang}_{pagefind_hash(data)[: len(lang) + 8]}"
        _write_pf(bundle / f"pagefind.{info['hash']}.pf_meta", data)
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    entry_path.write_text(text, encoding="utf-8")


def _release_when(event: threading.Event | None, slots: threading.Semaphore, n: int) -> None:
    """``slots.release(n)`` now, or once ``event`` is set (from a thread of its own)."""
    if event is None or event.is_set():
        slots.release(n)
        return

    def release() -> None:
        event.wait()
        slots.release(n)

    threading.Thread(target=release, name="papersite-cores-free", daemon=True).start()


def search_docs(catalog: Catalog) -> list[Doc]:
    """The documents both indexes hold (``catalog_docs`` with the pages' text helpers)."""
    from generator.latex import plain_text
    from generator.views import category_name, clean

    return catalog_docs(catalog, plain_text, clean, category_name)


def iter_search_docs(catalog: Catalog) -> Iterator[Doc]:
    """``search_docs`` one document at a time."""
    from generator.latex import plain_text
    from generator.views import category_name, clean

    return iter_catalog_docs(catalog, plain_text, clean, category_name)


def write_offline_index(
    out: Path, catalog: Catalog, docs: Sequence[Doc] | None = None
) -> tuple[int, int, int, int]:
    """Write ``out/search-index/``; return (documents, words, shards, bytes)."""
    index = build_offline_index(search_docs(catalog) if docs is None else docs)
    folder = out / INDEX_DIR
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path, data in index.files:
        if not is_safe_site_path(path):
            raise SearchIndexError(f"refusing to write outside the site: {path}")
        (out / path).write_bytes(data)
    return index.docs, index.words, index.shards, index.size


def indexed_pages(catalog: Catalog) -> list[str]:
    """The pages Pagefind indexes (they carry data-pagefind-body): papers newest first,
    then authors, then topics. Cut into parts in this order, each bundle holds a contiguous
    run of dates, which search.js relies on to merge a date sort across bundles."""
    return [
        *(paper_path(p.id) for p in papers_by_date(catalog)),
        *(author_path(a.id) for a in catalog.authors),
        *(topic_path(t.id) for t in catalog.topics),
    ]


def hosted_engine(papers: int) -> str:
    """``"pagefind"`` for a site Pagefind answers in time, else ``"index"`` (see
    HOSTED_MAX_PAPERS; the environment variable PAPERSITE_PAGEFIND_MAX_PAPERS overrides it)."""
    limit = HOSTED_MAX_PAPERS
    env = os.environ.get(ENGINE_ENV, "").strip()
    if env:
        try:
            limit = int(env)
        except ValueError as exc:
            raise SearchIndexError(f"{ENGINE_ENV} must be a whole number, not {env!r}") from exc
    return "pagefind" if papers <= limit else "index"


def pagefind_workers(script_index_done: bool = False) -> int:
    """Pagefind parts run at once: one per core beyond the one building the script index
    (every core once it is written), at most MAX_PARALLEL_PARTS (each holds up to a part's
    peak memory)."""
    cores = (os.cpu_count() or 1) - (0 if script_index_done else 1)
    return max(1, min(MAX_PARALLEL_PARTS, cores))


def build_search_index(
    out: Path,
    catalog: Catalog,
    config: SiteConfig,
    memory_root: Path | None = None,
    cores_free: threading.Event | None = None,
) -> SearchStats:
    """Pagefind bundle(s), the script-loaded index and ``search-index/engine.js`` for the
    site written in ``out``.

    Pagefind runs (a child process per part, from a thread) while this process builds the
    script-loaded index, so the two share the cores. When Pagefind answers hosted search
    (``hosted_engine``), it indexes the written pages. When the script-loaded index answers
    (a large site), Pagefind indexes a ``record_page`` per page instead: the same URLs,
    filters, sort and meta, titles and authors, without the abstracts, which are two thirds
    of its work (its bundle then serves ``?engine=pagefind`` and facets by title and author;
    every word of every page is searched by the script-loaded index).
    ``memory_root``: where record pages are staged (``run_pagefind``). ``cores_free``: set
    when no other work shares the cores; until then one Pagefind part runs at a time (the
    render is using the other cores, and each part holds up to a part's peak memory).
    """
    if memory_root is None:
        sweep_leftovers()  # (a forked search child's parent has swept already)
    engine = hosted_engine(len(catalog.papers))
    to_index = indexed_pages(catalog)
    feed = DocFeed(catalog_doc_count(catalog))  # made below, while Pagefind runs
    pagefind_time: list[float] = []
    slots = threading.Semaphore(pagefind_workers())

    def pagefind() -> int:
        started = time.perf_counter()
        try:
            if engine == "pagefind":
                return run_pagefind(out, to_index, workers=pagefind_workers(), slots=slots)
            return run_pagefind(
                out, records=feed, workers=pagefind_workers(), slots=slots, memory_root=memory_root
            )
        finally:
            pagefind_time.append(time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=1) as pool:
        indexing = pool.submit(pagefind) if to_index else None
        docs = feed.fill(iter_search_docs(catalog))  # the first parts index meanwhile
        t1 = time.perf_counter()
        try:
            docs_n, nwords, shards, size = write_offline_index(out, catalog, docs)
        except OSError as exc:
            raise SearchIndexError(f"could not write the file:// search index: {exc}") from exc
        offline_seconds = time.perf_counter() - t1
        if (spare := pagefind_workers(script_index_done=True) - pagefind_workers()) > 0:
            # the core the script-loaded index used can index a part now (or once it is free)
            _release_when(cores_free, slots, spare)
        pages = indexing.result() if indexing is not None else 0
    if not to_index:  # nothing to search (every record was in error, or no seeds): an empty index
        engine = "index"
    try:
        bundles = pagefind_bundles(out)
        path, data = engine_file(engine, bundles)
        (out / path).write_bytes(data)
    except OSError as exc:
        raise SearchIndexError(f"could not write the file:// search index: {exc}") from exc
    return SearchStats(
        pages_indexed=pages,
        pagefind_seconds=pagefind_time[0] if pagefind_time else 0.0,
        offline_docs=docs_n,
        offline_words=nwords,
        offline_shards=shards,
        offline_bytes=size,
        offline_seconds=offline_seconds,
        http_engine=engine,
        bundles=len(bundles),
    )


# -- built beside the render ---------------------------------------------------------------


def needs_pages(catalog: Catalog) -> bool:
    """Whether the search index reads the written pages (Pagefind answers hosted search:
    ``hosted_engine``); otherwise it is made from the catalog alone and can be built while
    the pages are rendered (``start_search_index``)."""
    pages = catalog_doc_count(catalog)  # as many as ``indexed_pages`` lists
    return pages > 0 and hosted_engine(len(catalog.papers)) == "pagefind"


class SearchJob:
    """The search index of a site being built by a forked process (``start_search_index``)
    into a folder of its own beside the site while this process renders the pages.

    The process leads a process group of its own (it and its Pagefind runs are stopped
    together by ``abort``), dies with this process (Linux), stages its record pages in a
    memory-backed folder of its own, and sends back its ``SearchStats`` or its failure
    through a pipe. It runs one Pagefind part at a time until ``render_done`` (the render
    uses the other cores meanwhile). ``finish`` waits for it and moves what it wrote into
    the staged site; ``abort`` stops it and removes both folders. Either leaves no process
    and no file."""

    def __init__(
        self, pid: int, result: int, render: int, folder: Path, memory: Path | None
    ) -> None:
        self.folder = folder  # pagefind/ and search-index/ are written here
        self.memory = memory
        self._pid: int | None = pid
        self._result: int | None = result  # read end of the pipe the process answers on
        self._render: int | None = render  # closed when the render is done
        self.seconds = 0.0  # the process's wall time, from fork to result (once finished)

    def finish(self, staging: Path) -> SearchStats:
        """Wait for the index, then move its folders into ``staging`` (the new site);
        ``SearchIndexError`` if it failed (and nothing is left behind)."""
        try:
            payload = self._receive()
            status = self._reap()
            if not payload:
                raise SearchIndexError(
                    f"the search index process ended without a result ({_exit_text(status)})"
                )
            kind, value, self.seconds = pickle.loads(payload)
            if kind == "failed":
                raise SearchIndexError(value)
            if kind != "ok":  # a bug: its traceback, as the build would show it in-process
                raise RuntimeError(f"the search index process failed:\n{value}")
            for name in sorted(os.listdir(self.folder)):
                os.rename(self.folder / name, staging / name)
        except OSError as exc:
            self.abort()
            raise SearchIndexError(f"could not move the search index in place: {exc}") from exc
        except BaseException:
            self.abort()
            raise
        self._remove_folders()
        stats: SearchStats = value
        return stats

    def render_done(self) -> None:
        """The render has ended: the process may use every core (``build_search_index``)."""
        fd, self._render = self._render, None
        if fd is not None:
            os.close(fd)

    def abort(self) -> None:
        """Stop the process and its Pagefind runs (if still running) and remove its folders."""
        pid, self._pid = self._pid, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # not yet in its own group
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self._close()
        self._remove_folders()

    def _receive(self) -> bytes:
        assert self._result is not None
        chunks: list[bytes] = []
        while chunk := os.read(self._result, 1 << 16):
            chunks.append(chunk)
        self._close()
        return b"".join(chunks)

    def _reap(self) -> int:
        pid, self._pid = self._pid, None
        assert pid is not None
        _, status = os.waitpid(pid, 0)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # a Pagefind run it left (it never should)
        return status

    def _close(self) -> None:
        self.render_done()
        fd, self._result = self._result, None
        if fd is not None:
            os.close(fd)

    def _remove_folders(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.memory is not None:
            shutil.rmtree(self.memory, ignore_errors=True)


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def start_search_index(out: Path, catalog: Catalog, config: SiteConfig) -> SearchJob | None:
    """Start building the search index of the site for ``out`` in a forked process, into a
    folder beside ``out`` (``SearchJob``), when it does not read the written pages
    (``needs_pages``); else, or where processes cannot be forked, None (the caller builds it
    over the written site with ``build_search_index``). Raises ``SearchIndexError`` at once
    if Pagefind is missing."""
    if needs_pages(catalog) or not hasattr(os, "fork"):
        return None
    if catalog_doc_count(catalog):
        pagefind_executable()  # fail now, not after the render
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    # named like the render's staging folder: a build killed outright leaves only that kind
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-search-", dir=out.parent))
    memory: Path | None = None
    try:
        if record_stage(1, 1) is not None:
            sweep_leftovers()
            prefix = f"papersite-search-{os.getpid()}-"  # the build's: whose leftover it is
            memory = Path(tempfile.mkdtemp(prefix=prefix, dir=MEMORY_STAGE))
        result, answer = os.pipe()
        render_ended, render = os.pipe()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        if memory is not None:
            shutil.rmtree(memory, ignore_errors=True)
        raise
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(result)
        os.close(render)
        _search_child(answer, render_ended, parent, folder, memory, catalog, config)
    os.close(answer)
    os.close(render_ended)
    job = SearchJob(pid, result, render, folder, memory)
    try:
        os.setpgid(pid, pid)  # as the child does: whichever runs first
    except PermissionError:
        pass  # the child has already called exec or setsid (it does neither), or is gone
    except ProcessLookupError:
        pass  # it has already ended: finish reports how
    except BaseException:
        job.abort()
        raise
    return job


PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent ends


def _search_child(
    answer: int,
    render_ended: int,
    parent: int,
    folder: Path,
    memory: Path | None,
    catalog: Catalog,
    config: SiteConfig,
) -> NoReturn:
    """The forked search process: build, send the result (``SearchJob.finish``), exit."""
    started = time.perf_counter()
    try:
        reply: tuple[str, Any]
        try:
            gc.freeze()  # the inherited catalog: never walked by this process's collections
            os.setpgid(0, 0)
            _end_with(parent, folder, memory)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)  # a background process group must not read the terminal
            os.close(devnull)
            cores_free = threading.Event()
            threading.Thread(
                target=_set_at_end, args=(render_ended, cores_free), daemon=True
            ).start()
            stats = build_search_index(folder, catalog, config, memory, cores_free)
            reply = ("ok", stats)
        except (OSError, BuildError) as exc:
            reply = ("failed", str(exc))
        except BaseException:  # noqa: BLE001 - a bug: sent back as its traceback
            reply = ("bug", traceback.format_exc())
        write_all(answer, pickle.dumps((*reply, time.perf_counter() - started)))
    finally:
        os._exit(0)


def _set_at_end(fd: int, event: threading.Event) -> None:
    """Set ``event`` when the pipe ``fd`` is closed at its other end (``render_done``)."""
    try:
        with contextlib.suppress(OSError):
            while os.read(fd, 1024):
                pass
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
        event.set()


def _end_with(parent: int, folder: Path, memory: Path | None) -> None:
    """Have this process sent SIGTERM when ``parent`` ends (Linux), and then (or on any
    SIGTERM) stop its Pagefind runs, remove its folders and exit; at once if it has ended."""

    def end(signum: int = 0, frame: object = None) -> NoReturn:
        _kill_children()
        shutil.rmtree(folder, ignore_errors=True)
        if memory is not None:
            shutil.rmtree(memory, ignore_errors=True)
        os.killpg(0, signal.SIGKILL)  # this process and a Pagefind run started meanwhile
        os._exit(1)

    signal.signal(signal.SIGTERM, end)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        end()


def _kill_children() -> None:
    """SIGKILL every child process of this one (its Pagefind runs)."""
    me = os.getpid()
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == me:
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue
