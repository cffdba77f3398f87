"""Build both search indexes over a written site.

- Hosted (http/https): the Pagefind binary shipped by ``pagefind[bin]`` runs once over the
  written HTML (never the Python API's one-record-at-a-time calls) and writes ``pagefind/``.
  Pages mark what is indexed with ``data-pagefind-body`` (paper, author and topic pages).
- Opened from disk (file://): ``generator.offline_index`` writes ``search-index/`` from the
  catalog, as classic scripts (see that module).

A missing or failing Pagefind raises ``SearchIndexError`` with one readable line, so the build
fails and the previous site stays as it was; it never leaves a search box pointing at nothing.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.build import BuildError
from generator.model import Catalog
from generator.offline_index import INDEX_DIR, build_offline_index, catalog_docs
from generator.urls import is_safe_site_path

if TYPE_CHECKING:
    from generator.config import SiteConfig

PAGEFIND_DIR = "pagefind"
PAGEFIND_TIMEOUT = 3600  # seconds; a 100,000-paper site indexes in minutes


class SearchIndexError(BuildError):
    """Pagefind is missing or failed, or the index could not be written."""


@dataclass(frozen=True, slots=True)
class SearchStats:
    pages_indexed: int  # pages Pagefind indexed (paper, author and topic pages)
    pagefind_bytes: int  # size of pagefind/
    pagefind_seconds: float
    offline_docs: int  # documents in search-index/
    offline_words: int
    offline_shards: int
    offline_bytes: int  # size of search-index/
    offline_seconds: float


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


def _tree_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def run_pagefind(out: Path) -> int:
    """Index the written site into ``out/pagefind``; return the number of pages indexed."""
    exe = pagefind_executable()
    shutil.rmtree(out / PAGEFIND_DIR, ignore_errors=True)
    cmd = [
        str(exe),
        "--site",
        str(out),
        "--output-subdir",
        PAGEFIND_DIR,
        "--force-language",
        "en",
        "--exclude-selectors",
        "nav, footer",
    ]
    try:
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
    if pages == 0 or not (out / PAGEFIND_DIR / "pagefind.js").is_file():
        raise SearchIndexError(
            "Pagefind indexed no pages (no page has data-pagefind-body?): search would be empty"
        )
    return pages


def write_offline_index(out: Path, catalog: Catalog) -> tuple[int, int, int, int]:
    """Write ``out/search-index/``; return (documents, words, shards, bytes)."""
    from generator.latex import plain_text
    from generator.views import category_name, clean

    docs = catalog_docs(catalog, plain_text, clean, category_name)
    index = build_offline_index(docs)
    folder = out / INDEX_DIR
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path, data in index.files:
        if not is_safe_site_path(path):
            raise SearchIndexError(f"refusing to write outside the site: {path}")
        (out / path).write_bytes(data)
    return index.docs, index.words, index.shards, index.size


def build_search_index(out: Path, catalog: Catalog, config: SiteConfig) -> SearchStats:
    """Pagefind bundle and file:// index for the site written in ``out``."""
    t0 = time.perf_counter()
    pages = run_pagefind(out)
    t1 = time.perf_counter()
    try:
        docs, nwords, shards, size = write_offline_index(out, catalog)
    except OSError as exc:
        raise SearchIndexError(f"could not write the file:// search index: {exc}") from exc
    t2 = time.perf_counter()
    return SearchStats(
        pages_indexed=pages,
        pagefind_bytes=_tree_size(out / PAGEFIND_DIR),
        pagefind_seconds=t1 - t0,
        offline_docs=docs,
        offline_words=nwords,
        offline_shards=shards,
        offline_bytes=size,
        offline_seconds=t2 - t1,
    )
