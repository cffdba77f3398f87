"""Benchmark research-area grouping (listings and authors) on the topics bench's corpus.

    .venv/bin/python -m bench.bench_grouping [-n 100000] [--inputs FILE] [--out FILE]

The inputs (papers, topics, similar lists) are made once by ``bench.bench_topics``'s corpus
and kept in ``--inputs`` (a pickle; made when missing), so runs of two versions of the
grouping code read the same inputs. Topics are then computed again in this process
(``--no-warm`` skips it): the topics stage notes each paper's phrase, which a lone paper's
label reuses, as in ``bench.bench_topics`` and in a build. Three timings, each printed as
wall time, CPU of this process and CPU of its finished workers:

- listings one by one in this process, by text (what ``bench.bench_topics`` did until session 4);
- authors in forked workers with the similar lists (likewise);
- listings and authors together as the catalog groups them (``catalog._group_sets``: every
  set in the forked workers, listings above 300 papers from the similar lists).

``--out FILE`` pickles every grouping, to check two versions give the same (``==``).
"""

from __future__ import annotations

import argparse
import pickle
import resource
import time
from pathlib import Path

from bench.bench_topics import corpus, grouping_tasks, sets_of
from generator import catalog
from generator.groups import group_papers
from generator.similar import find_similar
from generator.topics import TopicConfig, assign_topics


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(name: str, started: tuple[float, float, float]) -> None:
    wall, cpu, child = started
    print(
        f"{name:<34} {time.perf_counter() - wall:7.2f} s wall {time.process_time() - cpu:7.2f} "
        f"s cpu (+{_child_cpu() - child:6.2f} workers)",
        flush=True,
    )


def _start() -> tuple[float, float, float]:
    return time.perf_counter(), time.process_time(), _child_cpu()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--inputs", type=Path, help="pickled (papers, topics, similar lists)")
    ap.add_argument("--no-warm", action="store_true", help="do not compute topics here first")
    ap.add_argument("--out", type=Path, help="pickle every grouping here")
    args = ap.parse_args(argv)

    made = False
    if args.inputs is not None and args.inputs.exists():
        papers, result, similar = pickle.loads(args.inputs.read_bytes())
    else:
        papers = corpus(args.n, args.seed)
        result = assign_topics(papers, TopicConfig(), workers=args.workers)
        similar = find_similar(papers, result.paper_topics, workers=args.workers)
        made = True
        if args.inputs is not None:
            args.inputs.write_bytes(pickle.dumps((papers, result, similar), protocol=5))
    if not made and not args.no_warm:
        started = _start()
        again = assign_topics(papers, TopicConfig(), workers=args.workers)
        assert again == result, "the topics code gives other topics than the inputs hold"
        _timed("topics (to warm the caches)", started)

    listings, authors = sets_of(papers)
    many = [(a, ps) for a, ps in authors.items() if len(ps) >= 3]
    out: dict[str, object] = {}

    started = _start()
    out["listings"] = [
        group_papers(ps, result.paper_topics, result.topics) for ps in listings.values()
    ]
    _timed(f"listings one by one ({len(listings)})", started)

    started = _start()
    out["authors"] = catalog._map(
        lambda item: group_papers(
            item[1], result.paper_topics, result.topics, ignore_names=(item[0],), similar=similar
        ),
        many,
        args.workers,
    )
    _timed(f"authors in workers ({len(many)})", started)

    by_id = {p.id: p for p in papers}
    tasks = grouping_tasks(listings, authors)
    started = _start()
    out["catalog"] = catalog._group_sets(
        tasks, by_id, result.paper_topics, result.topics, similar, args.workers, None
    )
    _timed(f"catalog: both in workers ({len(tasks)})", started)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.out is not None:
        args.out.write_bytes(pickle.dumps(out, protocol=5))


if __name__ == "__main__":
    main()
