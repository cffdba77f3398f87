"""The 200 MB seed file (issue 7, "Extremes"): generate one file of valid arXiv-block records,
build it, report the time and the peak memory of the build.

    python -m bench.bench_extremes [--mb 200] [--authors 0] [--work DIR] [--search]

``--authors N`` adds a listing file with one paper by N authors (the issue's 5,000).

Too heavy for CI (hundreds of thousands of papers); ``tests/test_extremes.py`` builds a scaled
case of the same generator. The build runs ``python -m generator build`` in a child process, and
the peak memory is the child's maximum resident set size (``getrusage(RUSAGE_CHILDREN)``).
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def _sentences() -> list[str]:
    """Sentences of the seed abstracts (arXiv-block files), the text pool of the records."""
    found: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        for para in path.read_text(encoding="utf-8").split("\n\n"):
            para = para.strip()
            if len(para) < 200 or para.startswith("arXiv:") or "\n" in para:
                continue
            found += [s.strip() + "." for s in para.split(". ") if len(s) > 30]
    return sorted(set(found))


def write_big_seed(path: Path, n_bytes: int, seed: int = 1) -> int:
    """Write arXiv-block records to ``path`` until it holds ``n_bytes``; return the count.

    Every record is valid: an abstract of 4 to 9 seed sentences, sometimes a comments
    paragraph, a unique new-style arXiv id, a ``Created:`` date.
    """
    rng = random.Random(seed)
    pool = _sentences()
    written = 0
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        while written < n_bytes:
            year, month = 2001 + (n // 90000) // 12 % 24, (n // 90000) % 12 + 1
            arxiv = f"{year % 100:02d}{month:02d}.{10000 + n % 90000:05d}"
            parts = [" ".join(rng.sample(pool, rng.randint(4, 9)))]
            if rng.random() < 0.3:
                parts.append(f"{rng.randint(4, 30)} pages, {rng.randint(1, 12)} figures")
            parts.append(f"arXiv:{arxiv}\nCreated: {year}-{month:02d}-{rng.randint(1, 28):02d}")
            block = "\n\n".join(parts) + "\n\n"
            fh.write(block)
            written += len(block.encode("utf-8"))
            n += 1
    return n


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=200.0, help="size of the seed file in MB")
    ap.add_argument("--work", type=Path, default=Path("/tmp/papersite-extremes"))
    ap.add_argument("--authors", type=int, default=0, help="add one paper with N authors")
    ap.add_argument("--search", action="store_true", help="also build the search indexes")
    args = ap.parse_args(argv)
    seeds = args.work / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for old in seeds.glob("*"):
        old.unlink()
    t0 = time.perf_counter()
    records = write_big_seed(seeds / "big.txt", int(args.mb * 1_000_000))
    size = (seeds / "big.txt").stat().st_size
    print(f"generated {size / 1e6:.1f} MB, {records} records in {time.perf_counter() - t0:.1f} s")
    if args.authors:
        from tests.test_extremes import LISTING, author_names

        names = ", ".join(author_names(args.authors))
        text = LISTING.format(title="One Paper, Many Authors", authors=names, abstract="We met.")
        (seeds / "many.txt").write_text(text, encoding="utf-8")
        print(f"added one paper with {args.authors} authors")
    cmd = [sys.executable, "-m", "generator", "build", "--seeds", str(seeds)]
    cmd += ["--out", str(args.work / "site"), "--today", "2026-11-22"]
    if not args.search:
        cmd.append("--no-search")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
    print("\n".join(tail))
    print(f"build: exit {proc.returncode}, {elapsed:.1f} s, peak RSS {peak_mb:.0f} MB")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
