"""Build benchmark corpora with papersite and print per-stage figures as a table.

    python -m bench.bench_build [--sizes 1000,10000,100000] [--work /tmp/papersite-bench]
                                [--no-search] [--repeat 1]

For each size N: makes the corpus (bench/corpus.py, kept pristine in WORK and reused), copies
it into a folder of this run's own (so runs at the same time do not edit each other's corpus),
then times

- a cold build into a new output folder (never one just deleted: on a disk without a journal,
  creating files soon after deleting many is several times slower) with no build cache,
- a no-op rebuild (nothing changed),
- a rebuild after one record changes (bench.corpus.touch_one_record),

the last two ``--repeat`` times (each one-record rebuild changes another sentence; medians
are printed when repeated),

each as ``python -m generator build --seeds CORPUS/seeds --out OUT --timings FILE -q`` in a
child process. The whole command's wall time, CPU time (user+system, children included) and
peak memory come from ``os.wait4``; the per-stage figures come from the ``--timings`` JSON the
build writes (generator/progress.py).

Then (unless ``--no-serve``) the edit loop: ``python -m generator serve`` on the same corpus
and output folder, and one record changed 1 + ``--repeat`` times while it runs. Each rebuild's
wall time is the one the server prints ("rebuild done in X s", from the change being seen to
the site written); its CPU time is the server's (user+system, its forked workers included)
over that rebuild and the saving of its cache that follows it, from /proc. The first
rebuild after the server starts on an up-to-date site is shown apart ("serve first
rebuild": it reads the last build's memos from disk); the others are "serve one record".
With ``--verify`` the served site is compared with a cold build too. Prints Markdown
tables and writes every figure to ``WORK/results.json``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import CorpusOptions, touch_one_record, write_corpus
from generator.cache import CACHE_DIR, BuildCache

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    kind: str  # "cold" | "no-op" | "one record"
    n: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int
    pages: int
    stages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s if self.wall_s > 0 else 0.0


def run_timed(cmd: Sequence[str], cwd: Path, log: Path) -> tuple[float, float, float, int]:
    """Run ``cmd``; return (wall s, CPU s of it and its children, peak RSS MB, exit code)."""
    env = {**os.environ, "CI": "1"}  # one line per stage in the log, no progress bar
    with log.open("wb") as fh:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, proc.returncode


def count_pages(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html")) if out.is_dir() else 0


def build_once(
    kind: str, n: int, corpus: Path, out: Path, work: Path, search: bool, tag: str = ""
) -> Run:
    name = f"{n}-{kind.replace(' ', '-')}{tag}"
    timings = work / f"timings-{name}.json"
    timings.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "generator", "build", "--seeds", str(corpus / "seeds"),
           "--out", str(out), "--timings", str(timings), "-q"]  # fmt: skip
    if not search:
        cmd.append("--no-search")
    wall, cpu, rss, code = run_timed(cmd, ROOT, work / f"log-{name}.txt")
    stages: list[dict[str, Any]] = []
    if timings.exists():
        stages = list(json.loads(timings.read_text(encoding="utf-8")).get("stages", []))
    return Run(kind, n, wall, cpu, rss, code, count_pages(out), stages)


def stage_rows(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stages as recorded, with a nested "search index" taken out of the "write" stage
    that contains it (the build indexes the staging folder before the swap)."""
    rows = [dict(s) for s in stages]
    names = [r["name"] for r in rows]
    if "search index" in names and "write" in names:
        si, wr = rows[names.index("search index")], rows[names.index("write")]
        if names.index("search index") < names.index("write") and wr["wall_s"] >= si["wall_s"]:
            wr["wall_s"] -= si["wall_s"]
            wr["cpu_s"] -= si["cpu_s"]
            wr["cpu_children_s"] = wr.get("cpu_children_s", 0.0) - si.get("cpu_children_s", 0.0)
            wr["name"] = "write (without search)"
            rows.remove(si)
            rows.append(si)
    return rows


def stage_table(run: Run) -> str:
    out = [
        f"{run.kind.capitalize()} build, {run.n:,} papers: {run.pages:,} HTML pages in "
        f"{run.wall_s:.2f} s "
        f"({run.pages_per_s:,.0f} pages/s), CPU {run.cpu_s:.2f} s, peak {run.peak_rss_mb:,.0f} MB",
        "",
        "| stage | wall s | CPU s (self + workers) | peak RSS MB | items | items/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in stage_rows(run.stages):
        cpu = s["cpu_s"] + s.get("cpu_children_s", 0.0)
        rate = s["items"] / s["wall_s"] if s["wall_s"] > 0 and s["items"] else 0.0
        out.append(
            f"| {s['name']} | {s['wall_s']:.3f} | {cpu:.3f} | {s['peak_rss_mb']:,.0f} "
            f"| {s['items']:,} | {rate:,.0f} |"
        )
    return "\n".join(out)


def summary_table(runs: list[Run]) -> str:
    out = [
        "| N | build | wall s | CPU s | peak RSS MB | HTML pages | pages/s | exit |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        out.append(
            f"| {r.n:,} | {r.kind} | {r.wall_s:.2f} | {r.cpu_s:.2f} | {r.peak_rss_mb:,.0f} "
            f"| {r.pages:,} | {r.pages_per_s:,.0f} | {r.exit_code} |"
        )
    return "\n".join(out)


def tree_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def verify(corpus: Path, out: Path, cold: Path, search: bool) -> str:
    """Build ``corpus`` cold into ``cold``; "" when it equals ``out`` byte for byte, else a
    short account of the differences."""
    shutil.rmtree(cold, ignore_errors=True)
    cmd = [sys.executable, "-m", "generator", "build", "--seeds", str(corpus / "seeds"),
           "--out", str(cold), "-q", "--no-cache"]  # fmt: skip
    if not search:
        cmd.append("--no-search")
    subprocess.run(cmd, cwd=ROOT, check=False, capture_output=True)
    a, b = tree_files(out), tree_files(cold)
    shutil.rmtree(cold, ignore_errors=True)
    if a == b:
        return ""
    changed = sorted(p for p in a.keys() & b.keys() if a[p] != b[p])
    only = sorted(a.keys() ^ b.keys())
    return f"{len(changed)} files differ, {len(only)} in one only (e.g. {(changed + only)[:3]})"


SERVE_TIMEOUT = 600.0  # for the first build or one rebuild of the server, in seconds
REBUILT = re.compile(r"rebuild (done|failed.*) in ([0-9.]+) s")


def _proc_cpu(pid: int) -> float:
    """CPU seconds of a running process and of its children it has waited for (its forked
    workers), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _idle_cpu(pid: int, timeout: float = 60.0) -> float:
    """``_proc_cpu`` once the process is idle (its CPU time still for half a second): the
    server saves a rebuild's cache after it has printed that the site is rebuilt."""
    last = _proc_cpu(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _proc_cpu(pid)
        if now - last < 0.02:
            return now
        last = now
    return last


def _proc_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve_rebuilds(
    n: int, corpus: Path, out: Path, work: Path, search: bool, repeat: int
) -> list[Run]:
    """``papersite serve`` in a child process; one record changed 1 + ``repeat`` times, each
    rebuild timed (the module docstring). The server is stopped before returning."""
    cmd = [sys.executable, "-m", "generator", "serve", "--seeds", str(corpus / "seeds"),
           "--out", str(out), "--port", "0", "-q"]  # fmt: skip
    if not search:
        cmd.append("--no-search")
    env = {**os.environ, "CI": "1"}
    log = (work / f"log-{n}-serve.txt").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()

    def wait_for(pattern: re.Pattern[str]) -> re.Match[str]:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                if proc.poll() is not None:
                    raise RuntimeError(f"papersite serve exited ({proc.returncode})") from None
                continue
            found = pattern.search(line)
            if found:
                return found
        raise RuntimeError(f"papersite serve: timed out waiting for {pattern.pattern!r}")

    runs: list[Run] = []
    try:
        wait_for(re.compile(r"^serving "))
        for i in range(1 + max(1, repeat)):
            kind = "serve first rebuild" if i == 0 else "serve one record"
            print(f"# N={n}: {kind} ({i})", file=sys.stderr, flush=True)
            before = _idle_cpu(proc.pid)
            touch_one_record(corpus / "seeds")
            done = wait_for(REBUILT)
            cpu = _idle_cpu(proc.pid) - before  # its cache saved after it, included
            code = 0 if done.group(1) == "done" else 1
            wall = float(done.group(2))
            runs.append(Run(kind, n, wall, cpu, _proc_peak_mb(proc.pid), code, count_pages(out)))
    finally:
        proc.send_signal(signal.SIGTERM)  # (SIGINT is ignored by a job started in background)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        log.close()
    return runs


def median_run(runs: list[Run]) -> Run:
    """A row of medians (wall, CPU and memory each on its own) of repeated runs."""

    def med(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    first = runs[0]
    return Run(
        f"{first.kind}, median of {len(runs)}",
        first.n,
        med([r.wall_s for r in runs]),
        med([r.cpu_s for r in runs]),
        med([r.peak_rss_mb for r in runs]),
        max(r.exit_code for r in runs),
        first.pages,
    )


def ensure_corpus(n: int, work: Path, seed: int) -> Path:
    """The pristine corpus for ``n`` in ``work`` (made once, under a lock so that two benchmarks
    started together make it once); runs edit copies of it, never it."""
    corpus = work / f"corpus-{n}"
    stats = corpus / "stats.json"
    with open(work / ".corpus.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stats.exists():
            got = json.loads(stats.read_text(encoding="utf-8"))
            # older runs edited the corpus in place: such a corpus is regenerated
            if got.get("n") == n and got.get("seed") == seed and not (corpus / "touched").exists():
                return corpus
        print(f"# making corpus N={n}", file=sys.stderr, flush=True)
        write_corpus(corpus, CorpusOptions(n=n, seed=seed), ROOT / "seeds")
    return corpus


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_build", description=__doc__)
    ap.add_argument("--sizes", default="1000,10000", help="comma list (e.g. 1000,10000,100000)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/papersite-bench"))
    ap.add_argument("--no-search", action="store_true", help="build without the search index")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the build outputs")
    ap.add_argument("--repeat", type=int, default=1, help="no-op and one-record rebuilds")
    ap.add_argument(
        "--no-serve", action="store_true", help="skip the rebuilds of a running papersite serve"
    )
    ap.add_argument(
        "--verify",
        action="store_true",
        help="then build the edited corpus cold (--no-cache) and compare the sites byte for byte",
    )
    a = ap.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    # generator/'s bytecode, as `make` writes it: where PYTHONDONTWRITEBYTECODE is set, each
    # timed build would otherwise compile the package from source again
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "generator")], check=False)
    a.work.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    failed = False
    for n in sizes:
        mine = a.work / f"run-{os.getpid()}-{n}"  # this run's corpus copy and sites
        shutil.rmtree(mine, ignore_errors=True)
        corpus = mine / "corpus"
        shutil.copytree(ensure_corpus(n, a.work, a.seed), corpus)
        out = mine / "site"
        # a cold build: no cached stages either (the build runs in ROOT, its cache is there)
        cache_folder = BuildCache(out, root=ROOT / CACHE_DIR).folder
        shutil.rmtree(cache_folder, ignore_errors=True)
        search = not a.no_search
        print(f"# N={n}: cold build", file=sys.stderr, flush=True)
        cold = build_once("cold", n, corpus, out, mine, search)
        runs.append(cold)
        repeats: dict[str, list[Run]] = {"no-op": [], "one record": []}
        for i in range(max(1, a.repeat)):
            print(f"# N={n}: no-op rebuild ({i + 1})", file=sys.stderr, flush=True)
            tag = f"-{i + 1}" if a.repeat > 1 else ""
            repeats["no-op"].append(build_once("no-op", n, corpus, out, mine, search, tag))
            touch_one_record(corpus / "seeds")
            print(
                f"# N={n}: rebuild after one record changed ({i + 1})", file=sys.stderr, flush=True
            )
            repeats["one record"].append(
                build_once("one record", n, corpus, out, mine, search, tag)
            )
        if a.verify:
            print(f"# N={n}: cold build of the edited corpus, to compare", file=sys.stderr)
            differ = verify(corpus, out, mine / "site-verify", search)
            print(f"Verify, {n:,} papers: rebuilt site vs cold build: {differ or 'identical'}\n")
            failed = failed or bool(differ)
        print(stage_table(cold) + "\n", flush=True)
        for done in repeats.values():
            runs.extend(done)
            if len(done) > 1:
                runs.append(median_run(done))
            print(stage_table(sorted(done, key=lambda r: r.cpu_s)[len(done) // 2]) + "\n")
        if not a.no_serve:
            served = serve_rebuilds(n, corpus, out, mine, search, a.repeat)
            warm = [r for r in served if r.kind == "serve one record"]
            runs.extend(served)
            if len(warm) > 1:
                runs.append(median_run(warm))
            if a.verify:
                print(f"# N={n}: cold build of the edited corpus, to compare", file=sys.stderr)
                differ = verify(corpus, out, mine / "site-verify", search)
                print(f"Verify, {n:,} papers: served site vs cold build: {differ or 'identical'}\n")
                failed = failed or bool(differ)
        shutil.rmtree(cache_folder, ignore_errors=True)
        if not a.keep and all(r.exit_code == 0 for r in runs):  # else its logs are kept
            shutil.rmtree(mine, ignore_errors=True)
    print(summary_table(runs), flush=True)
    results = [asdict(r) | {"pages_per_s": r.pages_per_s} for r in runs]
    (a.work / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0 if all(r.exit_code == 0 for r in runs) and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
