"""Benchmark topics, similar papers and grouping on a generated corpus.

    .venv/bin/python -m bench.bench_topics [-n 100000] [--seed 1] [--dump FILE]

The corpus is deterministic and built in memory from the real seeds: each paper takes
sentences from a seed abstract, from others of the same listing and from any listing, then
a cluster-specific vocabulary shift rewrites some words into coined variants (so the corpus
has many topics, not 64), and authors come from a Zipf-distributed pool. Prints the wall
time, CPU time of this process and of its finished worker processes, and peak memory (RSS)
of each stage, and the largest peak of a worker.
Listings and authors are grouped as the catalog groups them (``generator.catalog._group_sets``:
one pool of forked workers, costliest sets first).
``--dump FILE`` pickles the topics and similar lists, so two versions of the code can be
checked for the same results (``pickle.load`` both and compare with ``==``).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import random
import re
import resource
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from generator.bibtex import read_bib_paths
from generator.catalog import MAX_LISTING_TEXT_GROUPING, MIN_PAPERS_TO_GROUP, _group_sets
from generator.model import Paper
from generator.papers import build_papers
from generator.readers import read_seed_paths
from generator.similar import find_similar
from generator.topics import TopicConfig, assign_topics

ROOT = Path(__file__).resolve().parent.parent
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_WORD = re.compile(r"\b[a-z]{5,}\b")
SYLLABLES = ("ra", "ko", "mi", "sen", "tal", "vor", "qu", "lin", "dex", "pho", "gar", "zu")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_cpu() -> float:
    """CPU seconds of the finished worker processes (forked phrase counting, ranking,
    author grouping)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _child_peak_mb() -> float:
    """Largest peak of any finished worker process (similar papers' forked ranking)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def corpus(n: int, seed: int) -> list[Paper]:
    files, _ = read_seed_paths([ROOT / "seeds"], today=date(2026, 11, 22))
    entries, _ = read_bib_paths([ROOT / "seeds"])
    seeds, _ = build_papers([r for f in files for r in f.records], entries)
    rng = random.Random(seed)
    sentences = [[s for s in _SENTENCE.split(p.abstract) if len(s) > 20] for p in seeds]
    by_listing: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(seeds):
        by_listing[p.listings[0] if p.listings else ""].append(i)
    words = sorted({w for p in seeds for w in _WORD.findall(p.abstract.lower())})
    n_clusters = max(1, n // 40)
    shifts = []
    for _ in range(n_clusters):
        chosen = rng.sample(words, 25)
        shifts.append(
            {w: w[: rng.randint(3, 5)] + "".join(rng.choices(SYLLABLES, k=2)) for w in chosen}
        )
    pool = [
        f"{rng.choice(['Wei', 'Anna', 'Jun', 'Maria', 'Omar', 'Li', 'Sara', 'Ken'])}{k % 97} "
        f"{rng.choice(['Zhang', 'Smith', 'Rossi', 'Tanaka', 'Kim', 'Novak', 'Silva'])}{k}"
        for k in range(max(100, n // 3))
    ]
    cum = list(itertools.accumulate(1.0 / (k + 10) for k in range(len(pool))))
    papers: list[Paper] = []
    for k in range(n):
        cluster = rng.randrange(n_clusters)
        base = cluster % len(seeds)
        mates = by_listing[seeds[base].listings[0] if seeds[base].listings else ""]
        parts = rng.sample(sentences[base], min(len(sentences[base]), rng.randint(2, 4)))
        for _ in range(rng.randint(1, 3)):
            other = sentences[rng.choice(mates)]
            if other:
                parts.append(rng.choice(other))
        any_other = sentences[rng.randrange(len(seeds))]
        if any_other:
            parts.append(rng.choice(any_other))

        def rewrite(m: re.Match[str], shift: dict[str, str] = shifts[cluster]) -> str:
            return shift.get(m.group(0), m.group(0))

        text = _WORD.sub(rewrite, " ".join(parts))
        title = _WORD.sub(rewrite, seeds[base].title)
        authors = tuple(dict.fromkeys(rng.choices(pool, cum_weights=cum, k=rng.randint(2, 7))))
        papers.append(
            Paper(
                id=f"b{k:06d}",
                arxiv_id=None,
                title=title,
                title_source="seed",
                authors=authors,
                authors_truncated=False,
                date=None,
                date_precision=None,
                year=None,
                category=seeds[base].category,
                abstract=text,
                listings=(f"listing{k % max(1, n // 50):05d}",),
            )
        )
    return papers


class Stage:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> Stage:
        self.wall, self.cpu, self.rss = time.perf_counter(), time.process_time(), _rss_mb()
        self.child = _child_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        child = _child_cpu() - self.child
        print(
            f"{self.name:<28} {wall:7.2f} s wall {cpu:7.2f} s cpu (+{child:6.2f} workers)  "
            f"rss {self.rss:7.0f} -> {_rss_mb():7.0f} MB  peak {_peak_mb():7.0f} MB",
            flush=True,
        )


def sets_of(papers: Sequence[Paper]) -> tuple[dict[str, list[Paper]], dict[str, list[Paper]]]:
    """Each listing's papers and each author's papers (the corpus has one listing a paper)."""
    listings: dict[str, list[Paper]] = defaultdict(list)
    authors: dict[str, list[Paper]] = defaultdict(list)
    for p in papers:
        listings[p.listings[0]].append(p)
        for a in p.authors:
            authors[a].append(p)
    return listings, authors


def grouping_tasks(
    listings: Mapping[str, Sequence[Paper]], authors: Mapping[str, Sequence[Paper]]
) -> list[tuple[tuple[str, ...], str, bool]]:
    """The catalog's grouping tasks (``generator.catalog.build_catalog``): each listing's
    papers (by the similar lists above MAX_LISTING_TEXT_GROUPING papers, else by text) and
    each author's papers (by the similar lists)."""
    tasks = [
        (tuple(p.id for p in ps), name, len(ps) > MAX_LISTING_TEXT_GROUPING)
        for name, ps in listings.items()
    ]
    tasks += [(tuple(p.id for p in ps), a, True) for a, ps in authors.items()]
    return tasks


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--workers", type=int, default=2, help="worker processes (phrases, similar, authors)"
    )
    ap.add_argument("--dump", type=Path, help="pickle (topic result, similar lists) here")
    args = ap.parse_args(argv)
    with Stage(f"generate {args.n} papers"):
        papers = corpus(args.n, args.seed)
    total = time.perf_counter()
    with Stage("topics"):
        result = assign_topics(papers, TopicConfig(), workers=args.workers)
    with Stage("similar papers"):
        similar = find_similar(papers, result.paper_topics, workers=args.workers)
    listings, authors = sets_of(papers)
    tasks = grouping_tasks(listings, authors)
    by_id = {p.id: p for p in papers}
    many = [ps for ps in authors.values() if len(ps) >= MIN_PAPERS_TO_GROUP]
    with Stage(f"group {len(listings)} listings + {len(many)} authors"):
        # As the catalog does: one pool of forked workers, costliest sets first.
        grouped = _group_sets(
            tasks, by_id, result.paper_topics, result.topics, similar, args.workers, None
        )
    mixed = sum(flag for _, flag in grouped[: len(listings)])
    elapsed = time.perf_counter() - total
    sizes = sorted(len(t.paper_ids) for t in result.topics)
    shown = sum(len(v) for v in similar.values())
    print(
        f"total (topics+similar+grouping) {elapsed:.2f} s, peak RSS {_peak_mb():.0f} MB "
        f"(largest worker {_child_peak_mb():.0f} MB); "
        f"{len(result.topics)} topics (median {sizes[len(sizes) // 2] if sizes else 0} papers, "
        f"max {sizes[-1] if sizes else 0}); {shown / len(papers):.2f} similar per paper; "
        f"{mixed} of {len(listings)} listings mixed; largest author {max(len(p) for p in many)}"
    )

    if args.dump:  # after the figures, so it is not timed
        args.dump.write_bytes(pickle.dumps((result, similar)))


if __name__ == "__main__":
    main()
