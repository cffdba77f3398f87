"""Search at scale: index time, peak memory, bundle size, bytes and time of the first query.

    nice python -m bench.bench_search -n 10000 [-n 100000] [--work DIR] [--no-queries]
    nice python -m bench.bench_search --seeds /tmp/big/c100k/seeds   # a real corpus, search only

For each size it draws N papers with ``bench.corpus`` (the same recombined seed text the build
benchmark uses), builds an in-memory catalog (papers, their authors, one topic per category,
one per frequent title word), and writes a minimal site with the page markup the real
templates carry for search (data-pagefind-body, filters, meta, sort, weights) plus the real
``templates/search.html`` and ``static/search.js``. It then runs, in a child process (so
the peak memory is its own), the build's search stage, ``generator.search.build_search_index``:
Pagefind (over the pages, or over record pages above HOSTED_MAX_PAPERS; one run per
``PART_PAGES`` pages) beside the file:// index and ``engine.js``. It reports the stage's wall
and CPU seconds (its own and its Pagefind children's), Pagefind's pages per second and the
peak memory of the largest Pagefind run and of the process. Unless --no-queries, it then
queries a rare and a common word in headless Chromium, each from a freshly opened search
page: over http with Pagefind (``engine=pagefind``), over http with the script-loaded index
(``engine=index``), and from file://. It reports the time to results (first query and the
same query again) and the bytes the page loaded (opening the search page, then the query).
A query still running after QUERY_CAP_MS is reported as such.
"""

from __future__ import annotations

import argparse
import html
import json
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import Synth, load_pools  # noqa: E402
from generator.config import SiteConfig  # noqa: E402
from generator.model import Author, Catalog, Listing, Paper, Topic  # noqa: E402
from generator.urls import relative_url, slugify, unique_slugs  # noqa: E402

BASE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="icon" href="data:,"><script src="{root}static/search.js" defer></script>{head}</head>
<body data-site-root="{root}" data-page-kind="{kind}"><header data-pagefind-ignore="all">
<form class="search-form" role="search" action="{root}search.html">
<input type="search" name="q" id="site-search" aria-label="Search"></form></header>
<main id="main">{body}</main><footer data-pagefind-ignore="all">papersite</footer></body></html>
"""


def synth_catalog(n: int, seed: int = 1) -> Catalog:
    synth = Synth(load_pools(ROOT / "seeds"), n, seed)
    drawn = sorted(synth.papers(n), key=lambda p: (p.date, p.arxiv_id), reverse=True)
    papers = tuple(
        Paper(
            id=p.arxiv_id,
            arxiv_id=p.arxiv_id,
            title=p.title,
            title_source="seed",
            authors=p.authors,
            authors_truncated=False,
            date=p.date,
            date_precision="day",
            year=int(p.date[:4]),
            category="cs." + p.category,
            abstract=p.abstract,
            listings=(f"listing-{i % 20:02d}",),
        )
        for i, p in enumerate(drawn)
    )
    author_ids = unique_slugs(a for p in papers for a in p.authors)
    by_author: dict[str, list[str]] = {}
    for p in papers:
        for a in p.authors:
            by_author.setdefault(a, []).append(p.id)
    authors = tuple(Author(author_ids[a], a, tuple(ids)) for a, ids in sorted(by_author.items()))
    words = Counter(w for p in papers for w in {w.lower() for w in p.title.split() if len(w) > 6})
    phrases = [w for w, c in words.most_common(200) if c >= 5 and w.isalpha()]
    paper_topics: dict[str, tuple[str, ...]] = {}
    members: dict[str, list[str]] = {}
    for p in papers:
        tids = ["cat-" + slugify(p.category or "")]
        title_words = {w.lower() for w in p.title.split()}
        tids += [slugify(w) for w in phrases if w in title_words][:3]
        paper_topics[p.id] = tuple(tids)
        for t in tids:
            members.setdefault(t, []).append(p.id)
    names = {"cat-" + slugify(p.category or ""): f"Category {p.category}" for p in papers}
    names.update({slugify(w): w for w in phrases})
    topics = tuple(
        Topic(t, names[t], "category" if t.startswith("cat-") else "phrase",
              f"Papers about {names[t]}.", tuple(ids))
        for t, ids in sorted(members.items())
    )  # fmt: skip
    listings = tuple(
        Listing(lid, f"{lid}.txt", f"Listing {lid[-2:]}",
                tuple(p.id for p in papers if lid in p.listings))
        for lid in sorted({lid for p in papers for lid in p.listings})
    )  # fmt: skip
    return Catalog(papers, authors, topics, listings, paper_topics=paper_topics)


def write_site(catalog: Catalog, out: Path) -> int:
    """Minimal pages with the search markup; returns the number of pages written."""
    from generator.latex import plain_text

    e = html.escape
    if out.exists():
        shutil.rmtree(out)
    for sub in ("papers", "authors", "topics", "static"):
        (out / sub).mkdir(parents=True)
    topic_names = {t.id: t.name for t in catalog.topics}
    listing_names = {lst.id: lst.name for lst in catalog.listings}
    count = 0

    def page(path: str, kind: str, title: str, body: str, head: str = "") -> None:
        nonlocal count
        root = relative_url(path, "")
        text = BASE.format(title=e(title), root=root, kind=kind, body=body, head=head)
        (out / path).write_text(text, encoding="utf-8")
        count += 1

    for p in catalog.papers:
        title = plain_text(p.title)
        meta = ['<span data-pagefind-filter="kind">paper</span>']
        meta += [f'<span data-pagefind-filter="topic">{e(topic_names[t])}</span>'
                 for t in catalog.paper_topics.get(p.id, ())]  # fmt: skip
        meta += [f'<span data-pagefind-filter="year">{p.year}</span>',
                 f'<span data-pagefind-meta="year">{p.year}</span>',
                 f'<span data-pagefind-filter="category">{e(p.category or "")}</span>']  # fmt: skip
        meta += [f'<span data-pagefind-filter="listing">{e(listing_names[lid])}</span>'
                 for lid in p.listings]  # fmt: skip
        body = (
            f'<article data-pagefind-body data-pagefind-sort="date:{p.date}">'
            f"<div hidden data-pagefind-ignore>{''.join(meta)}</div>"
            f'<h1 data-pagefind-weight="10" data-pagefind-meta="title">{e(title)}</h1>'
            f'<p data-pagefind-weight="5" data-pagefind-meta="authors">'
            f"{e(', '.join(p.authors))}</p>"
            f"<section><p>{e(plain_text(p.abstract))}</p></section></article>"
            f'<section data-pagefind-ignore="all"><pre>@article{{{p.id}}}</pre></section>'
        )
        page(f"papers/{p.id}.html", "paper", title, body)
    for a in catalog.authors:
        body = (
            "<article data-pagefind-body><div hidden data-pagefind-ignore>"
            '<span data-pagefind-filter="kind">author</span></div>'
            f'<h1 data-pagefind-meta="title" data-pagefind-weight="10">{e(a.name)}</h1>'
            f"<p>{len(a.paper_ids)} papers</p></article>"
        )
        page(f"authors/{a.id}.html", "author", a.name, body)
    for t in catalog.topics:
        body = (
            "<article data-pagefind-body><div hidden data-pagefind-ignore>"
            '<span data-pagefind-filter="kind">topic</span></div>'
            f'<h1 data-pagefind-meta="title" data-pagefind-weight="10">{e(t.name)}</h1>'
            f"<p>{e(t.definition)}</p></article>"
        )
        page(f"topics/{t.id}.html", "topic", t.name, body)
    search = (ROOT / "templates" / "search.html").read_text(encoding="utf-8")
    search = search.split("{% block content %}", 1)[1].split("{% endblock %}", 1)[0]
    search = search.replace("{{ rel('search.html') }}", "search.html")
    css = '<link rel="stylesheet" href="static/search.css">'
    page("search.html", "search", "Search", search, css)
    for name in ("search.js", "search.css"):
        shutil.copy(ROOT / "static" / name, out / "static" / name)
    return count


def _tree(folder: Path) -> tuple[int, int]:
    files = [f for f in folder.rglob("*") if f.is_file()]
    return len(files), sum(f.stat().st_size for f in files)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def seeds_catalog(seeds: Path) -> tuple[Catalog, SiteConfig]:
    """The catalog a build of ``seeds`` makes (default config, no cache), through the build's
    own stages: read, papers, topics and similar papers, catalog."""
    from datetime import date

    from generator.build import _read_bibs, _read_seeds, _topics_and_similar, _workers
    from generator.catalog import build_catalog
    from generator.config import load_config
    from generator.papers import build_papers

    config, _ = load_config(None, None)
    seed_files, _, _, _ = _read_seeds(seeds, date(2026, 11, 22), None, "")
    entries, _, _ = _read_bibs(seeds, None, "")
    papers, _ = build_papers([r for f in seed_files for r in f.records], entries, None, None)
    topics, similar, _ = _topics_and_similar(papers, config.topics, None, ("", ()), {})
    catalog, _ = build_catalog(
        papers, seed_files, topics, similar, config, jobs=_workers(), memo=None
    )
    return catalog, config


def child_build(source: str, site: Path, report: Path) -> None:
    """In a child process: catalog (``source``: a number of synthetic papers, or a seed
    folder), pages, then the build's search stage (``generator.search.build_search_index``);
    figures to ``report``. A seed folder's site above HOSTED_MAX_PAPERS gets no pages: its
    search stage does not read them (Pagefind indexes record pages)."""
    from generator.offline_index import INDEX_DIR
    from generator.search import HOSTED_MAX_PAPERS, build_search_index

    t0 = time.perf_counter()
    config: SiteConfig | None = None
    if source.isdigit():
        catalog = synth_catalog(int(source))
        pages = write_site(catalog, site)
    else:
        catalog, config = seeds_catalog(Path(source))
        site.mkdir(parents=True, exist_ok=True)
        small = len(catalog.papers) <= HOSTED_MAX_PAPERS
        pages = write_site(catalog, site) if small else 0
    n = len(catalog.papers)
    t1 = time.perf_counter()
    children0 = _cpu(resource.RUSAGE_CHILDREN)  # the catalog's worker processes
    cpu0 = _cpu(resource.RUSAGE_SELF) + children0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = build_search_index(site, catalog, config)  # type: ignore[arg-type]
    t2 = time.perf_counter()
    cpu_self = _cpu(resource.RUSAGE_SELF)
    cpu_children = _cpu(resource.RUSAGE_CHILDREN)
    pf_files, pf_bytes = _tree(site / "pagefind")
    ix_files, ix_bytes = _tree(site / INDEX_DIR)
    shards = [f.stat().st_size for f in (site / INDEX_DIR).glob("s-*.js")]
    figures = {
        "papers": n,
        "pages": pages,
        "site_seconds": round(t1 - t0, 1),
        "search_seconds": round(t2 - t1, 1),
        "search_cpu_seconds": round(cpu_self + cpu_children - cpu0, 1),
        "pagefind_cpu_seconds": round(cpu_children - children0, 1),
        "search_cpu_self_seconds": round(cpu_self + children0 - cpu0, 1),
        "pagefind_pages": stats.pages_indexed,
        "pagefind_seconds": round(stats.pagefind_seconds, 1),
        "pagefind_pages_per_s": round(stats.pages_indexed / max(stats.pagefind_seconds, 1e-9)),
        "pagefind_bundles": stats.bundles,
        "http_engine": stats.http_engine,
        "pagefind_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "pagefind_files": pf_files,
        "pagefind_mb": round(pf_bytes / 1e6, 1),
        "offline_seconds": round(stats.offline_seconds, 1),
        "process_peak_mb_before": round(rss0),
        "process_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "offline_files": ix_files,
        "offline_mb": round(ix_bytes / 1e6, 1),
        "offline_shards": stats.offline_shards,
        "offline_largest_shard_kb": round(max(shards) / 1e3, 1),
        "words": pick_words(catalog),
    }
    report.write_text(json.dumps(figures, indent=1), encoding="utf-8")


def pick_words(catalog: Catalog) -> dict[str, str]:
    """A rare word (in one or two abstracts) and the most common non-stop word."""
    from generator.latex import plain_text
    from generator.offline_index import STOP_WORDS, words

    df: Counter[str] = Counter()
    for p in catalog.papers:
        df.update(set(words(plain_text(p.title) + " " + plain_text(p.abstract))))
    common = next(w for w, _ in df.most_common() if w not in STOP_WORDS and w.isalpha())
    rare = sorted(w for w, c in df.items() if c == 1 and len(w) >= 8 and w.isalpha())
    return {"rare": rare[len(rare) // 2] if rare else common, "common": common}


QUERY_CAP_MS = 120_000
WAIT_JS = """async ([q, cap]) => {
  const page = document.getElementById("search-page");
  const input = document.getElementById("search-q");
  const t0 = performance.now();
  input.value = q;
  document.getElementById("search-form").requestSubmit();
  await new Promise((resolve) => {
    const check = () => (page.dataset.state === "done" || page.dataset.state === "error"
      || performance.now() - t0 > cap) ? resolve() : setTimeout(check, 2);
    check();
  });
  const status = document.getElementById("search-status").textContent;
  return [performance.now() - t0, page.dataset.state === "done" ? status : "capped: " + status];
}"""


def query_times(site: Path, words: dict[str, str]) -> dict[str, Any]:
    from tests.browser_support import launch_browser, serve_site

    out: dict[str, Any] = {}
    with launch_browser() as browser, serve_site(site) as base:
        file_url = site.resolve().as_uri() + "/"
        for path, url, query in (
            ("http_pagefind", base, "?engine=pagefind"),
            ("http_index", base, "?engine=index"),
            ("file", file_url, ""),
        ):
            for kind, word in words.items():
                page = browser.new_page()
                page.set_default_timeout(QUERY_CAP_MS * 2)
                loaded: list[str] = []
                page.on("requestfinished", lambda r, loaded=loaded: loaded.append(r.url))
                page.goto(url + "search.html" + query)
                page.wait_for_selector("#search-page[data-state=idle]", timeout=QUERY_CAP_MS)
                opened = len(loaded)
                ms, status = page.evaluate(WAIT_JS, [word, QUERY_CAP_MS])
                ms2 = -1.0
                if ms < QUERY_CAP_MS:
                    ms2, _ = page.evaluate(WAIT_JS, [word, QUERY_CAP_MS])
                on_open = _bytes(site, url, loaded[:opened])
                on_query = _bytes(site, url, loaded[opened:])
                out[f"{path}_{kind}"] = {
                    "word": word,
                    "status": status.strip(),
                    "first_ms": round(ms),
                    "repeat_ms": round(ms2),
                    "kb_open": round(on_open / 1e3, 1),
                    "kb_query": round(on_query / 1e3, 1),
                }
                page.close()
    return out


def _bytes(site: Path, base: str, urls: list[str]) -> int:
    total = 0
    for u in urls:
        if u.startswith(base):
            rel = u[len(base) :].split("?", 1)[0]
            f = site / rel
            if f.is_file():
                total += f.stat().st_size
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, action="append", help="papers (repeatable; default 10000)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/papersite-bench-search"))
    ap.add_argument("--no-queries", action="store_true", help="skip the browser queries")
    ap.add_argument(
        "--seeds", type=Path, help="a seed folder's catalog instead (search stage only, no queries)"
    )
    ap.add_argument("--child", nargs=3, metavar=("N", "SITE", "REPORT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_build(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    sources = [str(args.seeds.resolve())] if args.seeds else [str(n) for n in args.n or [10_000]]
    for source in sources:
        n = source if source.isdigit() else "seeds"
        shutil.rmtree(args.work / n / "site", ignore_errors=True)
        site = args.work / str(n) / "site"
        report = args.work / str(n) / "build.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "bench.bench_search",
            "--child",
            source,
            str(site),
            str(report),
        ]
        subprocess.run(cmd, check=True, cwd=ROOT)
        figures = json.loads(report.read_text(encoding="utf-8"))
        words = figures.pop("words")
        if not args.no_queries and not args.seeds:
            figures["queries"] = query_times(site, words)
        (args.work / str(n) / "figures.json").write_text(json.dumps(figures, indent=1))
        print(json.dumps(figures, indent=1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
