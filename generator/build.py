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
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from generator.diagnostics import Diagnostic, count, sort_diagnostics


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


@dataclass(frozen=True, slots=True)
class BuildResult:
    ok: bool  # the site was written
    diagnostics: tuple[Diagnostic, ...]
    summary: str
    failure: str | None = None  # one readable line when the build itself failed
    stages: tuple[tuple[str, float], ...] = field(default=())

    @property
    def errors(self) -> int:
        return count(self.diagnostics, "error")

    @property
    def warnings(self) -> int:
        return count(self.diagnostics, "warning")


class BuildError(Exception):
    """A failure of the build itself (not of the input): reported in one line."""


def run_build(options: BuildOptions) -> BuildResult:
    from generator.bibtex import read_bib_paths
    from generator.catalog import build_catalog
    from generator.config import load_config
    from generator.papers import build_papers
    from generator.readers import find_duplicates, read_seed_paths, reference_date
    from generator.render import render_site
    from generator.similar import find_similar
    from generator.topics import assign_topics
    from generator.write import write_site

    started = time.perf_counter()
    stages: list[tuple[str, float]] = []

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        stages.append((name, now - t0))
        return now

    t = started
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

    seed_files, diags = read_seed_paths([options.seeds], today=today)
    all_diags += diags
    records = [r for f in seed_files for r in f.records]
    all_diags += find_duplicates(records)
    entries, diags = read_bib_paths([options.seeds])
    all_diags += diags
    t = lap("read", t)

    papers, diags = build_papers(records, entries)
    all_diags += diags
    t = lap("papers", t)

    topic_result = assign_topics(papers, config.topics)
    similar = find_similar(papers, topic_result.paper_topics)
    t = lap("topics+similar", t)

    catalog, diags = build_catalog(papers, seed_files, topic_result, similar, config)
    all_diags += diags
    t = lap("catalog", t)

    try:
        files = render_site(catalog, config)
        t = lap("render", t)
        search_step = None
        if not options.no_search:
            from generator.search import build_search_index

            def search_step(staging: Path) -> None:
                build_search_index(staging, catalog, config)

        write_site(files, options.out, before_swap=search_step)
        t = lap("write+search" if search_step else "write", t)
    except (OSError, BuildError) as exc:
        return BuildResult(
            False,
            sort_diagnostics(all_diags),
            "",
            failure=f"build failed, previous site kept: {exc}",
            stages=tuple(stages),
        )

    elapsed = time.perf_counter() - started
    pages = sum(1 for f in files if f.path.endswith(".html"))
    summary = (
        f"{len(catalog.papers)} papers, {len(catalog.authors)} authors, "
        f"{len(catalog.topics)} topics, {len(catalog.listings)} listings; "
        f"{pages} pages written to {options.out} in {elapsed:.2f} s"
        + ("" if not options.no_search else " (no search index)")
    )
    return BuildResult(True, sort_diagnostics(all_diags), summary, stages=tuple(stages))


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
    )


def report(result: BuildResult, options: BuildOptions, stream: object = None) -> int:
    """Print diagnostics and the summary; return the exit code."""
    out = sys.stderr if stream is None else stream
    for d in result.diagnostics:
        if options.quiet and d.severity != "error":
            continue
        if d.severity == "note" and not options.verbose:
            continue
        print(d, file=out)  # type: ignore[call-overload]
    if options.verbose:
        for name, secs in result.stages:
            print(f"  {name:<16} {secs:8.3f} s", file=out)  # type: ignore[call-overload]
    if result.failure:
        print(f"papersite: {result.failure}", file=out)  # type: ignore[call-overload]
        return 1
    tail = f"; {result.errors} errors, {result.warnings} warnings"
    print(result.summary + tail, file=out)  # type: ignore[call-overload]
    if result.errors or (options.strict and result.warnings):
        return 1
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    try:
        result = run_build(options)
    except KeyboardInterrupt:
        print("papersite: interrupted, previous site kept", file=sys.stderr)
        return 130
    return report(result, options)


def cmd_serve(args: argparse.Namespace) -> int:
    from generator.serve import serve

    return serve(args)


def build_main(argv: Sequence[str]) -> int:
    from generator.cli import main

    return main(["build", *argv])
