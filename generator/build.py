"""The build orchestrator: the whole pipeline, top to bottom, in one function.

    config -> read seeds -> read BibTeX -> papers -> topics, similar papers -> catalog
           -> render (in memory) -> write to a staging folder -> search index -> swap into place

Only this module and the CLI touch the disk and the clock. Input problems are diagnostics;
they never stop the build (every record read is a paper or a diagnostic), but they make the
exit code 1. A failure while building (template error, I/O, Pagefind) leaves the previous
site exactly as it was.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, count, sort_diagnostics, warning
from generator.progress import Progress, mode_from_flags


@dataclass(frozen=True, slots=True)
class BuildOptions:
    seeds: Path = Path("seeds")
    out: Path = Path("site")
    config: Path | None = None
    base_url: str | None = None
    strict: bool = False
    no_search: bool = False
    today: str | None = None
    quiet: bool = False
    verbose: bool = False
    timings: Path | None = None  # write per-stage wall/CPU/memory figures here as JSON


@dataclass(frozen=True, slots=True)
class BuildResult:
    ok: bool  # the site was written
    diagnostics: tuple[Diagnostic, ...]
    summary: str
    failure: str | None = None  # one readable line when the build itself failed
    timings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return count(self.diagnostics, "error")

    @property
    def warnings(self) -> int:
        return count(self.diagnostics, "warning")


class BuildError(Exception):
    """A failure of the build itself (not of the input): reported in one line."""


def run_build(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    from generator.bibtex import read_bib_paths
    from generator.catalog import build_catalog
    from generator.config import load_config
    from generator.papers import build_papers
    from generator.readers import find_duplicates, read_seed_paths, reference_date
    from generator.render import render_site
    from generator.similar import find_similar
    from generator.topics import assign_topics
    from generator.write import write_site

    progress = progress or Progress("quiet", stream=io.StringIO())
    started = time.perf_counter()
    config, diags = load_config(options.config, options.base_url)
    all_diags: list[Diagnostic] = list(diags)
    try:
        today: date = reference_date(options.today)
    except ValueError as exc:
        return BuildResult(False, sort_diagnostics(all_diags), "", failure=str(exc))
    if not options.seeds.is_dir():
        return BuildResult(
            False,
            sort_diagnostics(all_diags),
            "",
            failure=f"seed folder not found: {options.seeds}",
        )

    with progress.stage("read") as st:
        seed_files, diags = read_seed_paths([options.seeds], today=today)
        all_diags += diags
        if not seed_files:
            all_diags.append(
                warning(
                    str(options.seeds),
                    0,
                    "no seed listings (*.txt) in this folder: the site has no papers",
                )
            )
        records = [r for f in seed_files for r in f.records]
        all_diags += find_duplicates(records)
        entries, diags = read_bib_paths([options.seeds])
        all_diags += diags
        st.advance(len(records) + len(entries))
        st.note(
            f"{len(seed_files)} seed files, {len(records)} records, {len(entries)} BibTeX entries"
        )

    with progress.stage("papers") as st:
        papers, diags = build_papers(records, entries)
        all_diags += diags
        st.advance(len(papers))

    with progress.stage("topics+similar") as st:
        topic_result = assign_topics(papers, config.topics)
        similar = find_similar(papers, topic_result.paper_topics)
        st.advance(len(papers))

    with progress.stage("catalog") as st:
        catalog, diags = build_catalog(papers, seed_files, topic_result, similar, config)
        all_diags += diags
        st.advance(len(catalog.authors) + len(catalog.topics) + len(catalog.listings))

    try:
        with progress.stage("render") as st:
            files = render_site(catalog, config)
            st.advance(len(files))
        search_step = None
        if not options.no_search:
            from generator.search import build_search_index

            def search_step(staging: Path) -> None:
                with progress.stage("search index"):
                    build_search_index(staging, catalog, config)

        with progress.stage("write") as st:
            write_site(files, options.out, before_swap=search_step)
            st.advance(len(files))
    except (OSError, BuildError) as exc:
        return BuildResult(
            False,
            sort_diagnostics(all_diags),
            "",
            failure=f"build failed, previous site kept: {exc}",
            timings=progress.timings(),
        )

    elapsed = time.perf_counter() - started
    pages = sum(1 for f in files if f.path.endswith(".html"))
    summary = (
        f"{len(catalog.papers)} papers, {len(catalog.authors)} authors, "
        f"{len(catalog.topics)} topics, {len(catalog.listings)} listings; "
        f"{pages} pages written to {options.out} in {elapsed:.2f} s"
        + ("" if not options.no_search else " (no search index)")
    )
    return BuildResult(True, sort_diagnostics(all_diags), summary, timings=progress.timings())


def options_from_args(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(
        seeds=args.seeds,
        out=args.out,
        config=args.config,
        base_url=args.base_url,
        strict=args.strict,
        no_search=args.no_search,
        today=args.today,
        quiet=args.quiet,
        verbose=args.verbose,
        timings=getattr(args, "timings", None),
    )


def report(result: BuildResult, options: BuildOptions, progress: Progress) -> int:
    """Print diagnostics and the summary; return the exit code."""
    shown = (
        {"error"}
        | (set() if options.quiet else {"warning"})
        | ({"note"} if options.verbose else set())
    )
    for d in result.diagnostics:
        if d.severity in shown:
            progress.error(str(d))
    if options.timings is not None:
        progress.write_timings(options.timings)
    if result.failure:
        progress.error(f"papersite: {result.failure}")
        return 1
    progress.summary(f"{result.summary}; {result.errors} errors, {result.warnings} warnings")
    if result.errors or (options.strict and result.warnings):
        return 1
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    progress = Progress(mode_from_flags(options.quiet, options.verbose))
    try:
        result = run_build(options, progress)
    except KeyboardInterrupt:
        print("papersite: interrupted, previous site kept", file=sys.stderr)
        return 130
    return report(result, options, progress)


def cmd_serve(args: argparse.Namespace) -> int:
    from generator.serve import serve

    return serve(args)


def build_main(argv: Sequence[str]) -> int:
    from generator.cli import main

    return main(["build", *argv])
