"""Seed reader speed and memory: 100,000 generated records in the three layouts.

    python -m bench.bench_parse [-n 100000] [--per-file 1000] [--seed 1] [--dump FILE]

Generates the records in memory (deterministic for a given seed: 40% arXiv blocks, 20% run-on,
40% listing, ~1 kB abstracts, references, DOIs, camel-cased titles, accented names), then
reads every file with ``read_seed_bytes`` twice: once timed (records/s, MB/s, and CPU time
per layout), once under ``tracemalloc`` (peak Python memory allocated while reading, records
kept, against the input size). The one-time import of the layout readers (which build their
character classes and patterns) is timed apart, before the reading. Prints one line per
figure; exits 1 if a record is lost or a diagnostic is raised. ``--dump FILE`` writes every
record read (JSON Lines, as ``python -m generator parse`` prints them) and every diagnostic to
FILE, to compare two versions of the readers on the same records.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Sequence
from datetime import date, timedelta

from generator.readers import read_seed_bytes, readers

TODAY = date(2026, 11, 22)


def _words(text: str) -> list[str]:
    return text.split()


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WORDS = _words(
    "we study the of a model for with learning data and on is to in new large language "
    "training results show that our method improves over baselines across tasks while using "
    "fewer parameters memory graph networks attention inference scale efficient robust"
)
TITLE_WORDS = _words(
    "Learning Models Language Efficient Towards Scaling Reasoning Graph Neural Networks for "
    "with via on of LoopMoE NewsDialogues TinyBERT G-MAP DQ-LoRe Mixture-of-Experts DFA NPUs "
    "LLMs GPT-4 Transformers Benchmark Distillation"
)
GIVEN = _words("Yichun Jing Ana Bo Wen-tau Jean-Pierre Łukasz Zoë José Seán Xiaoqi Ye Chengwu")
FAMILY = [
    *_words("Yin Xiong Silva Li Yih Dupont Kaiser Müller González O'Brien LeCun McDonald Liu"),
    "van der Berg",
    "de Souza e Silva",
]
STARTS = ("We ", "In this paper, we ", "A ", "The ", "Recent ", "3D ")
JOURNALS = ("ICML 2020", "Phys. Rev. D 101, 123456 (2020)", "Nature 580, 123-127 (2020)")


def _abstract(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=150)
    return rng.choice(STARTS) + " ".join(words) + "."


def _arxiv_id(rng: random.Random, k: int) -> str:
    yymm = f"{rng.randint(15, 26):02d}{rng.randint(1, 12):02d}"
    return f"{yymm}.{k:05d}" + rng.choice(("", "", "v2"))


def _reference(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return ""
    if roll < 0.8:
        return rng.choice(JOURNALS)
    return f"doi: 10.{rng.randint(1000, 9999)}/abc.{rng.randint(1, 10**6)} {rng.choice(JOURNALS)}"


def make_file(layout: str, count: int, rng: random.Random, first: int) -> bytes:
    lines: list[str] = []
    if layout == "listing":
        for _ in range(count):
            day = TODAY - timedelta(days=rng.randint(0, 3000))
            score = f"{rng.randint(100, 999) / 10}" if rng.random() < 0.3 else ""
            year = "" if score else f", {day.year}"
            code = "Code" if not score and rng.random() < 0.2 else ""
            lines.append(f"{score}{rng.choice(('CL', 'LG', 'AI'))}{MONTHS[day.month - 1]} "
                         f"{day.day}{year}{code}")  # fmt: skip
            title = " ".join(rng.choices(TITLE_WORDS, k=rng.randint(3, 10)))
            names = ", ".join(
                f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}" for _ in range(rng.randint(1, 3))
            )
            lines.append(title + names + (" et al." if rng.random() < 0.7 else ""))
            lines.append(_abstract(rng))
        return ("\n".join(lines) + "\n").encode()
    if layout == "arxiv-blocks":
        for k in range(count):
            lines += [_abstract(rng), ""]
            if rng.random() < 0.5:
                lines += [f"{rng.randint(5, 40)} pages, {rng.randint(1, 12)} figures", ""]
            ref = _reference(rng)
            lines.append(f"arXiv:{_arxiv_id(rng, first + k)}" + (f" - {ref}" if ref else ""))
            day = TODAY - timedelta(days=rng.randint(0, 3000))
            lines += [f"Created: {day.isoformat()}", ""]
        return "\n".join(lines).encode()
    tail = ""
    for k in range(count):
        abstract = _abstract(rng)
        if tail:
            lines[-1] = tail + abstract
        else:
            lines.append(abstract)
        if rng.random() < 0.5:
            lines.append(f"{rng.randint(5, 40)} pages")
        ref = _reference(rng)
        tail = f"arXiv:{_arxiv_id(rng, first + k)}" + (f" - {ref}" if ref else "")
        lines.append(tail)
    return "\n".join(lines).encode()


def make_corpus(n: int, per_file: int, seed: int) -> list[tuple[str, bytes, int]]:
    rng = random.Random(seed)
    files: list[tuple[str, bytes, int]] = []
    made = 0
    while made < n:
        roll = rng.random()
        layout = "arxiv-blocks" if roll < 0.4 else ("arxiv-run-on" if roll < 0.6 else "listing")
        count = min(per_file, n - made)
        files.append((f"{layout}-{len(files):04d}.txt", make_file(layout, count, rng, made), count))
        made += count
    return files


def read_all(
    corpus: list[tuple[str, bytes, int]], per_layout: dict[str, list[float]] | None = None
) -> tuple[int, int, list[object]]:
    """Read every file, keeping what was read; ``per_layout`` collects [records, CPU s]."""
    records = 0
    problems = 0
    kept: list[object] = []
    for name, data, _ in corpus:
        cpu = time.process_time()
        seed, diags = read_seed_bytes(name, data, TODAY)
        if per_layout is not None:
            row = per_layout.setdefault(seed.layout or "none", [0, 0.0])
            row[0] += len(seed.records)
            row[1] += time.process_time() - cpu
        records += len(seed.records)
        problems += len(diags)
        kept.append(seed)
    return records, problems, kept


def _dump(path: str, corpus: list[tuple[str, bytes, int]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for name, data, _ in corpus:
            seed, diags = read_seed_bytes(name, data, TODAY)
            for record in seed.records:
                out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
            for diag in diags:
                out.write(f"{diag}\n")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="records to generate")
    ap.add_argument("--per-file", type=int, default=1000, help="records per seed file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dump", metavar="FILE", help="write the records and diagnostics read")
    args = ap.parse_args(argv)

    corpus = make_corpus(args.n, args.per_file, args.seed)
    size = sum(len(data) for _, data, _ in corpus)
    expected = sum(count for _, _, count in corpus)

    cpu_start = time.process_time()
    readers()  # imports the layout readers
    imports = time.process_time() - cpu_start

    per_layout: dict[str, list[float]] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    records, problems, kept = read_all(corpus, per_layout)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if args.dump:
        _dump(args.dump, corpus)
    del kept

    tracemalloc.start()
    read_all(corpus)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    from generator.readers.native import compiled_dir

    kind = "compiled (mypyc, build/native)" if compiled_dir() else "plain Python"
    print(f"readers          {kind}")
    print(f"files            {len(corpus)}")
    print(f"input            {size / 1e6:.1f} MB, {expected} records")
    print(f"records read     {records} ({problems} diagnostics)")
    print(f"time             {elapsed:.2f} s wall, {cpu:.2f} s CPU")
    print(f"records/s        {records / elapsed:,.0f} (wall), {records / cpu:,.0f} (CPU)")
    for layout, (count, secs) in sorted(per_layout.items()):
        print(f"  {layout:14s} {count:7.0f} records, {secs:.2f} s CPU, {count / secs:,.0f}/s (CPU)")
    print(
        f"reader imports   {imports:.2f} s CPU once ({records / (cpu + imports):,.0f} records/s "
        "(CPU) counting them)"
    )
    print(f"MB/s             {size / 1e6 / elapsed:.1f}")
    print(f"peak memory      {peak / 1e6:.1f} MB while reading ({peak / size:.2f}x the input)")
    return 0 if records == expected and problems == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
