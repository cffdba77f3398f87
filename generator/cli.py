"""Command line: ``papersite parse``, ``papersite build``, ``papersite serve``.

Only this module and ``generator.build`` touch the terminal; stages return data and diagnostics.
Exit codes: 0 success, 1 errors in the input (or warnings with --strict), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from generator.diagnostics import count, sort_diagnostics


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="papersite", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    parse = sub.add_parser("parse", help="print every record of the seed listings as JSON Lines")
    parse.add_argument("paths", nargs="*", type=Path, help="seed files or folders (default seeds/)")
    parse.add_argument("--today", help="reference date YYYY-MM-DD for listing dates without a year")

    build = sub.add_parser("build", help="build the static site")
    _build_options(build)

    serve = sub.add_parser("serve", help="build, serve on 127.0.0.1, rebuild on change")
    _build_options(serve)
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    return p


def _build_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", type=Path, default=Path("seeds"), help="seed folder (default seeds/)")
    p.add_argument("--out", type=Path, default=Path("site"), help="output folder (default site/)")
    p.add_argument("--base-url", help="absolute URL the site is served from (canonical links)")
    p.add_argument("--config", type=Path, help="TOML config (default papersite.toml if present)")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")
    p.add_argument("--today", help="reference date YYYY-MM-DD for listing dates without a year")
    p.add_argument(
        "--no-cache", action="store_true", help="ignore and do not update .papersite-cache/"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print errors and the summary only")
    p.add_argument("-v", "--verbose", action="store_true", help="print every stage and note")
    p.add_argument(
        "--timings",
        type=Path,
        help="write per-stage wall/CPU/peak-memory figures to this JSON file",
    )


def run() -> NoReturn:
    """The command line's entry point (``python -m generator``, the ``papersite`` script):
    ``main``'s exit status, with the output flushed but without Python's tear-down, which
    frees every object of the build one by one (seconds after a 100,000-paper build, for a
    process that is about to end anyway). Every file the build writes is closed by then, and
    the processes it forked are waited for."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken pipe: nothing more can be said
        code = code or 1
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command == "parse":
        return _cmd_parse(args)
    from generator import build

    if args.command == "build":
        return build.cmd_build(args)
    return build.cmd_serve(args)


def _cmd_parse(args: argparse.Namespace) -> int:
    from generator.readers import find_duplicates, read_seed_paths, reference_date

    paths = list(args.paths) or [Path("seeds")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        for p in missing:
            print(f"papersite parse: no such file or folder: {p}", file=sys.stderr)
        return 2
    try:
        today = reference_date(args.today)
    except ValueError as exc:
        print(f"papersite parse: {exc}", file=sys.stderr)
        return 2
    files, diags = read_seed_paths(paths, today=today)
    records = [r for f in files for r in f.records]
    out = sys.stdout
    for rec in records:
        out.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
    all_diags = sort_diagnostics([*diags, *find_duplicates(records)])
    for d in all_diags:
        print(d, file=sys.stderr)
    print(
        f"{len(records)} records from {len(files)} files; "
        f"{count(all_diags, 'error')} errors, {count(all_diags, 'warning')} warnings",
        file=sys.stderr,
    )
    return 1 if count(all_diags, "error") else 0
