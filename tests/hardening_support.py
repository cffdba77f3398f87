"""Helpers for the hardening tests (issue 7): in-process builds with their exit code, tree
digests for "byte-for-byte as it was", the static link check of a written site, and the
invariant "every record read is a paper or is named in a diagnostic".
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import posixpath
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.conftest import ROOT, TODAY
from tests.sitecheck import broken_links

Tree = dict[str, str]


def two_seed_listings(tmp_path: Path) -> Path:
    """A seeds folder in ``tmp_path`` with two of the real listings (002, 003) and the
    BibTeX file: enough for a rebuild test, a fraction of the whole seeds' build time."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in [*sorted((ROOT / "seeds").glob("00[23]_*.txt")), *(ROOT / "seeds").glob("*.bib")]:
        shutil.copyfile(path, seeds / path.name)
    return seeds


@dataclass(frozen=True)
class Built:
    """An in-process build: its result, exit code and everything it printed."""

    result: object  # generator.build.BuildResult
    code: int
    output: str


def build_in_process(seeds: Path, out: Path, *, search: bool = False, **options: object) -> Built:
    """``run_build`` then ``report`` as ``papersite build`` does, with the output captured."""
    from generator.build import BuildOptions, report, run_build
    from generator.progress import Progress

    opts = BuildOptions(
        seeds=seeds,
        out=out,
        no_search=not search,
        today=TODAY,
        quiet=True,
        **options,  # type: ignore[arg-type]
    )
    stream = io.StringIO()
    progress = Progress("quiet", stream=stream)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = run_build(opts, progress)
        code = report(result, opts, progress)
    finally:
        os.chdir(cwd)
    return Built(result, code, stream.getvalue())


def tree_digest(root: Path) -> Tree:
    """Every entry under ``root``: files by sha256, folders and symlinks marked."""
    found: Tree = {}
    if not root.exists():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in dirnames:
            p = base / name
            found[p.relative_to(root).as_posix() + "/"] = "link" if p.is_symlink() else "dir"
        for name in filenames:
            p = base / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                found[rel] = "link:" + os.readlink(p)
            else:
                found[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def diff_trees(before: Tree, after: Tree) -> list[str]:
    changed = [f"changed {k}" for k in before if k in after and before[k] != after[k]]
    gone = [f"missing {k}" for k in before if k not in after]
    new = [f"new {k}" for k in after if k not in before]
    return sorted(changed + gone + new)


def site_link_problems(site: Path, *, fast: bool = False) -> list[str]:
    """Every internal href/src of every page of ``site`` that does not resolve (static check).

    ``fast`` reads links with a regular expression instead of an HTML parser (five times
    quicker, for the fuzzer): sound for our pages, whose attribute values are always quoted
    with ``"`` and autoescaped, so no ``href="`` can appear in text or inside another value.
    """
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    pages = {
        rel: (site / rel).read_text(encoding="utf-8") for rel in files if rel.endswith(".html")
    }
    if not fast:
        return broken_links(pages, files)
    bad: list[str] = []
    ids = {rel: {html.unescape(v) for v in _ID.findall(text)} for rel, text in pages.items()}
    for rel, text in pages.items():
        for raw in _LINK.findall(text):
            link = html.unescape(raw)
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            if parts.scheme or link.startswith("/") or parts.netloc:
                bad.append(f"{rel}: non-relative link {link!r}")
                continue
            target = rel
            if parts.path:
                target = posixpath.normpath(
                    posixpath.join(posixpath.dirname(rel), unquote(parts.path))
                )
            if parts.path.endswith("/") or target not in files:
                bad.append(f"{rel}: {link!r} -> {target} missing")
            elif parts.fragment and target in ids and parts.fragment not in ids[target]:
                bad.append(f"{rel}: {link!r} -> no id {parts.fragment!r}")
    return bad


_LINK = re.compile(r'\s(?:href|src)="([^"]*)"')
_ID = re.compile(r'\sid="([^"]*)"')


def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.is_file())


def unaccounted_records(seeds: Path, site: Path, diagnostics: Iterable[object]) -> list[str]:
    """Records and BibTeX entries of ``seeds`` that are neither a paper of ``site/papers.json``
    nor named (file and line) in a diagnostic."""
    from datetime import date

    from generator.bibtex import read_bib_paths
    from generator.readers import read_seed_paths, split_arxiv_id

    named = {(d.file, d.line) for d in diagnostics}  # type: ignore[attr-defined]
    files, _ = read_seed_paths([seeds], today=date.fromisoformat(TODAY))
    entries, _ = read_bib_paths([seeds])
    papers = json.loads((site / "papers.json").read_text(encoding="utf-8"))
    by_arxiv = {split_arxiv_id(p["arxiv_id"])[0] for p in papers if p.get("arxiv_id")}
    dois = {str(p["doi"]).lower() for p in papers if p.get("doi")}
    titles = {str(p["title"]) for p in papers}
    missing: list[str] = []
    for f in files:
        for r in f.records:
            if (r.file, r.line) in named:
                continue
            if r.arxiv_id and split_arxiv_id(r.arxiv_id)[0] in by_arxiv:
                continue
            same = [
                p
                for p in papers
                if (r.abstract and p.get("abstract") == r.abstract)
                or (r.title and p.get("title") == r.title)
            ]
            if not same:
                missing.append(f"record {r.file}:{r.line} ({r.arxiv_id or r.title!r})")
    for e in entries:
        if (e.file, e.line) in named:
            continue
        if e.arxiv_id and split_arxiv_id(e.arxiv_id)[0] in by_arxiv:
            continue
        if (e.doi and e.doi.lower() in dois) or (e.title and e.title in titles):
            continue
        missing.append(f"BibTeX entry {e.file}:{e.line} ({e.key})")
    return missing
