"""Catalog: authors, topics, listings and every cross-page list, complete before rendering.

Identity decisions live here: which spellings are one person (``generator.people``), which
papers a configured split assigns to which person, what a listing is called, and each
author's and listing's URL id (slugs decided once, collisions resolved in sorted order).
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import multiprocessing
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from itertools import chain, repeat
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from generator.config import SiteConfig
from generator.diagnostics import Diagnostic, warning
from generator.groups import (
    LINKAGE_IMPORT_WORK,
    MAX_DENSE,
    MAX_SMALL,
    GroupKeys,
    group_papers,
    pack_groups,
    prime_linkage,
    prime_topic_index,
    unpack_groups,
)
from generator.model import Author, Catalog, Group, Listing, Paper, SeedFile, Topic
from generator.people import name_key, normalise_name
from generator.topics import TopicResult
from generator.urls import slugify

# A name whose papers span at least this many papers is checked for several research areas.
MIN_PAPERS_TO_GROUP = 3
# A listing with more papers than this is grouped from the similar-paper lists (already
# computed for the whole site) instead of comparing its texts again.
MAX_LISTING_TEXT_GROUPING = 300


@dataclass(frozen=True, slots=True)
class _Person:
    key: str  # identity: name key, or name key + split label
    name: str  # display name


def _unique_ids(labels: Sequence[tuple[str, str]]) -> dict[str, str]:
    """(identity, display) pairs -> identity -> unique slug, decided in identity order."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for ident, display in sorted(labels):
        base = slugify(display)
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        out[ident] = slug
    return out


def _resolve_people(
    papers: Sequence[Paper], config: SiteConfig
) -> tuple[dict[str, tuple[str, ...]], dict[str, str], tuple[Diagnostic, ...]]:
    """paper id -> person keys (in author order), person key -> display name."""
    diags: list[Diagnostic] = []
    aliases = {
        name_key(normalise_name(a)): normalise_name(c) for a, c in config.author_aliases.items()
    }
    split_of: dict[tuple[str, str], str] = {}  # (name key, paper id) -> split label
    known_ids = {p.id for p in papers}
    for name, people in config.author_splits.items():
        nk = name_key(normalise_name(aliases.get(name_key(normalise_name(name)), name)))
        for label, ids in people:
            for pid in ids:
                if pid not in known_ids:
                    diags.append(
                        warning(
                            "config", 1, f"authors.splits.{name}.{label}: no paper with id {pid!r}"
                        )
                    )
                split_of[(nk, pid)] = label

    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    paper_people: dict[str, tuple[str, ...]] = {}
    # raw spelling -> (display name after aliases, its name key), or None when empty
    seen: dict[str, tuple[str, str] | None] = {}
    for paper in papers:
        keys: list[str] = []
        for raw in paper.authors:
            if raw in seen:
                found = seen[raw]
            else:
                display = normalise_name(raw)
                if display:
                    display = aliases.get(name_key(display), display)
                    found = (display, name_key(display))
                else:
                    found = None
                seen[raw] = found
            if found is None:
                continue
            display, nk = found
            split = split_of.get((nk, paper.id)) if split_of else None
            key = f"{nk}\x00{split}" if split else nk
            if key in keys:
                continue
            keys.append(key)
            spellings[key][split or display] += 1
        paper_people[paper.id] = tuple(keys)
    # The display name is the spelling used most, ties broken by the longest (fuller) form.
    names = {
        key: min(c.items(), key=lambda kv: (-kv[1], -len(kv[0]), kv[0]))[0]
        for key, c in spellings.items()
    }
    return paper_people, names, tuple(diags)


def _listing_name(
    seed: SeedFile,
    paper_ids: Sequence[str],
    paper_people: Mapping[str, tuple[str, ...]],
    names: Mapping[str, str],
    config: SiteConfig,
) -> str:
    stem = Path(seed.path).stem
    if stem in config.listing_names:
        return config.listing_names[stem]
    counts = Counter(k for pid in paper_ids for k in paper_people.get(pid, ()))
    if counts:
        key, n = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if n * 2 > len(paper_ids):
            return names[key]
    return stem


def build_catalog(
    papers: Sequence[Paper],
    seed_files: Sequence[SeedFile],
    topics: TopicResult,
    similar: Mapping[str, tuple[tuple[str, float], ...]],
    config: SiteConfig,
    *,
    jobs: int = 1,
    memo: MutableMapping[str, Any] | None = None,
) -> tuple[Catalog, tuple[Diagnostic, ...]]:
    """Every page's lists. ``jobs`` > 1 groups the listings' and authors' papers in that
    many forked processes (the one costly step: each set is grouped on its own).

    ``memo`` (kept by the caller between builds) holds each set's grouping, keyed by a hash
    of exactly what grouping reads (``groups.GroupKeys``), and the site's structure (who
    wrote what, listings, co-authors, per-author and per-topic counts: ``_Structure``),
    keyed by a hash of exactly what it reads (``_structure_key``): a rebuild regroups only
    the sets whose papers, topics or similar-paper links changed, and an edit that leaves
    every paper's authors, listings, year and topics as they were reuses the structure.
    The result is the same with or without it."""
    paper_topics = topics.paper_topics
    kept, begun, unsaved = _structure(papers, seed_files, topics, config, memo)
    if kept is not None:
        stem_to_listing, names, person_papers = kept.stem_to_listing, kept.names, kept.person_papers
        listing_sets = [(name, ids) for _, name, ids, _, _ in kept.listings]
    else:
        assert begun is not None
        stem_to_listing, names, person_papers = (
            begun.stem_to_listing,
            begun.names,
            begun.person_papers,
        )
        listing_sets = [(name, ids) for _, _, name, ids in begun.listing_rows]
    # A structure made now is finished while the sets are grouped (``_group_sets``).
    original = papers
    finished: list[_Structure] = []

    def finish() -> None:
        assert begun is not None
        finished.append(_finish_structure(begun, original, topics))

    # Papers now carry listing ids instead of file stems.
    papers = tuple(
        _with_listings(p, tuple(stem_to_listing.get(s, s) for s in p.listings)) for p in papers
    )
    by_id = {p.id: p for p in papers}

    # Research areas of each listing's and each person's papers (sets of at least
    # MIN_PAPERS_TO_GROUP). Listings (few) compare the texts themselves unless large;
    # people (many) reuse the similar-paper lists already computed.
    tasks: list[tuple[tuple[str, ...], str, bool]] = [
        (ids, name, len(ids) > MAX_LISTING_TEXT_GROUPING) for name, ids in listing_sets
    ]
    tasks += [(ids, names[key], True) for key, ids in person_papers.items()]
    grouped = _group_sets(
        tasks,
        by_id,
        paper_topics,
        topics.topics,
        similar,
        jobs,
        memo,
        meanwhile=finish if kept is None else None,
    )
    # ``_group_sets`` runs ``meanwhile`` once, with workers or without
    (st,) = (kept,) if kept is not None else finished
    listing_groups, author_groups = grouped[: len(st.listings)], grouped[len(st.listings) :]
    if unsaved is not None and memo is not None:
        # kept only now: an empty memo tells _group_sets that nothing can be found in it
        memo[unsaved] = _STRUCTURE_FIELDS(st)  # as a plain tuple (unpickled faster)

    listings = [
        Listing(
            id=lid,
            file=Path(path).name,
            name=name,
            paper_ids=ids,
            topics=top,
            groups=groups,
            mixed=mixed,
        )
        for (path, name, ids, lid, top), (groups, mixed) in zip(
            st.listings, listing_groups, strict=True
        )
    ]

    # Authors, in the structure's order (by sort name).
    made: dict[str, Author] = {}
    for (key, ids), (groups, mixed), (top, years) in zip(
        st.person_papers.items(), author_groups, st.author_rows, strict=True
    ):
        made[key] = Author(
            id=st.person_ids[key],
            name=st.names[key],
            paper_ids=ids,
            coauthors=st.coauthors.get(key, ()),
            topics=top,
            years=years,
            groups=groups if mixed else (),
        )
    authors = tuple(map(made.__getitem__, st.author_order))

    # Topics get their most frequent authors.
    full_topics = tuple(
        replace(t, top_authors=top) for t, top in zip(topics.topics, st.topic_tops, strict=True)
    )

    return Catalog(
        papers=papers,
        authors=authors,
        topics=full_topics,
        listings=tuple(listings),
        paper_topics=dict(paper_topics),
        similar=dict(similar),
        paper_authors=st.paper_authors,
    ), st.diags


STRUCTURE_VERSION = "catalog-structure-1"  # a change of what _structure reads or makes


@dataclass(frozen=True, slots=True)
class _Structure:
    """What the catalog decides from who wrote which paper, where it is listed, its year and
    its topics alone (never from titles, abstracts or the similar-paper lists)."""

    diags: tuple[Diagnostic, ...]
    names: dict[str, str]  # person key -> display name
    person_ids: dict[str, str]  # person key -> author id
    # per seed file, in file order: (its path, listing name, paper ids, listing id, topics)
    listings: tuple[tuple[str, str, tuple[str, ...], str, tuple[str, ...]], ...]
    stem_to_listing: dict[str, str]
    person_papers: dict[str, tuple[str, ...]]  # person key -> paper ids, newest first
    author_rows: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]  # (topics, years) each
    author_order: tuple[str, ...]  # person keys, as the authors are sorted
    coauthors: dict[str, tuple[tuple[str, int], ...]]
    paper_authors: dict[str, tuple[str, ...]]  # paper id -> author ids
    topic_tops: tuple[tuple[tuple[str, int], ...], ...]  # per topic, its top authors


_STRUCTURE_FIELDS = attrgetter(*(f.name for f in fields(_Structure)))


def _structure_key(
    papers: Sequence[Paper],
    seed_files: Sequence[SeedFile],
    topics: TopicResult,
    config: SiteConfig,
) -> str | None:
    """A hash of everything ``_make_structure`` reads (None when a value cannot be hashed
    this way: then the structure is made again)."""
    get = topics.paper_topics.get
    rows = [(p.id, p.authors, p.listings, p.year, get(p.id, ())) for p in papers]
    try:
        data = marshal.dumps(
            (
                STRUCTURE_VERSION,
                rows,
                [s.path for s in seed_files],
                [(t.id, t.paper_ids) for t in topics.topics],
                list(config.author_aliases.items()),
                list(config.author_splits.items()),
                list(config.listing_names.items()),
            ),
            0,  # values only, each with its type: equal bytes mean equal values
        )
    except ValueError:
        return None
    return "structure\x00" + hashlib.blake2b(data, digest_size=20).hexdigest()


def _structure(
    papers: Sequence[Paper],
    seed_files: Sequence[SeedFile],
    topics: TopicResult,
    config: SiteConfig,
    memo: MutableMapping[str, Any] | None,
) -> tuple[_Structure | None, _Begun | None, str | None]:
    """The structure found in ``memo`` under ``_structure_key``, or else its first part
    (``_begin_structure``, for ``_finish_structure``) and the key to keep the finished
    structure under (the caller stores it; None: not kept)."""
    key = _structure_key(papers, seed_files, topics, config) if memo is not None else None
    if key is not None and memo is not None:
        kept = memo.get(key)
        if isinstance(kept, tuple) and len(kept) == len(fields(_Structure)):
            return _Structure(*kept), None, None
    return None, _begin_structure(papers, seed_files, config), key


def _make_structure(
    papers: Sequence[Paper],
    seed_files: Sequence[SeedFile],
    topics: TopicResult,
    config: SiteConfig,
) -> _Structure:
    """The whole structure at once (``_begin_structure``, then ``_finish_structure``)."""
    return _finish_structure(_begin_structure(papers, seed_files, config), papers, topics)


@dataclass(frozen=True, slots=True)
class _Begun:
    """The first part of a structure: what grouping needs (who wrote which paper, the
    listings' names and ids). The rest is made from it while the sets are grouped."""

    diags: tuple[Diagnostic, ...]
    names: dict[str, str]  # person key -> display name
    paper_people: dict[str, tuple[str, ...]]  # paper id -> person keys, in author order
    # per seed file, in file order: (its path, its stem, listing name, paper ids)
    listing_rows: list[tuple[str, str, str, tuple[str, ...]]]
    listing_ids: dict[str, str]  # f"{position:06d}{stem}" -> listing id
    stem_to_listing: dict[str, str]
    person_papers: dict[str, tuple[str, ...]]  # person key -> paper ids, newest first


def _begin_structure(
    papers: Sequence[Paper], seed_files: Sequence[SeedFile], config: SiteConfig
) -> _Begun:
    paper_people, names, diags = _resolve_people(papers, config)

    # Listings: one per seed file, in file order; ids from their names.
    listing_rows: list[tuple[str, str, str, tuple[str, ...]]] = []
    stem_papers: dict[str, dict[str, None]] = defaultdict(dict)
    for p in papers:
        for s in p.listings:
            stem_papers[s][p.id] = None
    for seed in seed_files:
        stem = Path(seed.path).stem
        ids = tuple(stem_papers.get(stem, ()))
        listing_rows.append(
            (seed.path, stem, _listing_name(seed, ids, paper_people, names, config), ids)
        )
    listing_ids = _unique_ids(
        [(f"{i:06d}{stem}", name) for i, (_, stem, name, _) in enumerate(listing_rows)]
    )
    stem_to_listing = {
        stem: listing_ids[f"{i:06d}{stem}"] for i, (_, stem, _, _) in enumerate(listing_rows)
    }

    person_lists: dict[str, list[str]] = defaultdict(list)
    for p in papers:  # newest first
        for k in paper_people[p.id]:
            person_lists[k].append(p.id)
    person_papers = {key: tuple(ids) for key, ids in person_lists.items()}
    return _Begun(
        diags=diags,
        names=names,
        paper_people=paper_people,
        listing_rows=listing_rows,
        listing_ids=listing_ids,
        stem_to_listing=stem_to_listing,
        person_papers=person_papers,
    )


def _finish_structure(begun: _Begun, papers: Sequence[Paper], topics: TopicResult) -> _Structure:
    """The rest of the structure: author ids, topic counts, years, order, co-authors."""
    names, paper_people, person_papers = begun.names, begun.paper_people, begun.person_papers
    person_ids = _unique_ids([(k, names[k]) for k in names])
    paper_topics = topics.paper_topics
    topics_of = {p.id: paper_topics.get(p.id, ()) for p in papers}

    def topic_counts(ids: Sequence[str]) -> tuple[str, ...]:
        if len(ids) == 1:  # one paper (most authors): each topic once, so in id order
            own = topics_of[ids[0]]
            if len(set(own)) == len(own):
                return tuple(sorted(own))
        return _by_count(Counter(chain.from_iterable(map(topics_of.__getitem__, ids))))

    listings = tuple(
        (
            path,
            name,
            ids,
            begun.listing_ids[f"{i:06d}{stem}"],
            topic_counts(ids)[:12],
        )
        for i, (path, stem, name, ids) in enumerate(begun.listing_rows)
    )

    year_of = {p.id: p.year for p in papers}
    author_rows = tuple(
        (
            topic_counts(ids)[:10],
            tuple(sorted({y for i in ids if (y := year_of[i]) is not None})),
        )
        for ids in person_papers.values()
    )
    order = sorted(person_papers, key=lambda k: (_sort_name(names[k]), person_ids[k]))
    coauthors = _coauthor_lists(papers, paper_people, _name_ranks(names), person_ids)
    paper_authors = {pid: tuple(person_ids[k] for k in keys) for pid, keys in paper_people.items()}

    tops: list[tuple[tuple[str, int], ...]] = []
    for t in topics.topics:
        c = Counter(chain.from_iterable(map(paper_authors.get, t.paper_ids, repeat(()))))
        tops.append(tuple((a, c[a]) for a in _by_count(c)[:10]))

    return _Structure(
        diags=begun.diags,
        names=names,
        person_ids=person_ids,
        listings=listings,
        stem_to_listing=begun.stem_to_listing,
        person_papers=person_papers,
        author_rows=author_rows,
        author_order=tuple(order),
        coauthors=coauthors,
        paper_authors=paper_authors,
        topic_tops=tuple(tops),
    )


def _group_sets(
    tasks: Sequence[tuple[tuple[str, ...], str, bool]],
    by_id: Mapping[str, Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    topics: Sequence[Topic],
    similar: Mapping[str, tuple[tuple[str, float], ...]],
    jobs: int,
    memo: MutableMapping[str, Any] | None,
    *,
    meanwhile: Callable[[], object] | None = None,
) -> list[tuple[tuple[Group, ...], bool]]:
    """``group_papers`` of each (paper ids, the set's name, use the similar lists) task, in
    order: sets too small are not grouped, kept results come from ``memo``, and the rest
    are grouped in ``jobs`` forked workers (their results are stored in ``memo``; with an
    empty memo, the workers compute the keys too). ``meanwhile`` runs in this process while
    the workers group (or after, when there are none)."""
    out: list[tuple[tuple[Group, ...], bool]] = [((), False)] * len(tasks)
    todo = [t for t, (ids, _, _) in enumerate(tasks) if len(ids) >= MIN_PAPERS_TO_GROUP]
    keyer = GroupKeys(paper_topics, topics, similar) if memo is not None else None

    def key_of(t: int) -> str:
        assert keyer is not None
        ids, name, use_similar = tasks[t]
        return keyer.key([by_id[i] for i in ids], ignore_names=(name,), use_similar=use_similar)

    keys: dict[int, str] = {}
    rebuild = keyer is not None and memo is not None and len(memo) > 0
    papers = list(by_id.values())
    if rebuild and keyer is not None and memo is not None:
        # A kept memo (a rebuild: most sets are in it): look the sets up here and group
        # only the others. With an empty memo nothing can be found, so the workers
        # compute each set's key along with its grouping. The keys of sets none of whose
        # inputs changed since the last build are that build's (``GroupKeys.kept``).
        same = keyer.kept(memo.get(_GROUPS_RECORD), papers, tasks)
        missing: list[int] = []
        for t in todo:
            key = keys[t] = same.get(t) or key_of(t)
            kept = memo.get(key)
            if kept is not None:
                out[t] = unpack_groups(kept)
            else:
                missing.append(t)
        todo = missing

    def run(t: int) -> tuple[str | None, _Packed]:
        """(memo key, packed grouping) of a set; runs in the workers."""
        ids, name, use_similar = tasks[t]
        key = keys.get(t) or (key_of(t) if keyer is not None else None)
        result = group_papers(
            [by_id[i] for i in ids],
            paper_topics,
            topics,
            ignore_names=(name,),
            similar=similar if use_similar else None,
        )
        return key, pack_groups(result)

    prime_topic_index(topics)  # computed once here, inherited by the forked workers
    if _linkage_work(len(tasks[t][0]) for t in todo) > LINKAGE_IMPORT_WORK:
        prime_linkage()  # likewise (else the sets are clustered without scipy)
    costs = [_grouping_cost(len(tasks[t][0]), tasks[t][2]) for t in todo]

    def alongside() -> None:
        if meanwhile is not None:
            meanwhile()
        if keyer is not None:  # what the record needs of each paper
            keyer.prepare(papers)

    for t, (made, packed) in zip(todo, _map(run, todo, jobs, costs, alongside), strict=True):
        if made is not None and memo is not None:
            memo[made] = packed
            keys[t] = made
        out[t] = unpack_groups(packed)
    if keyer is not None and memo is not None:
        memo[_GROUPS_RECORD] = keyer.record(papers, tasks, [keys.get(t) for t in range(len(tasks))])
    return out


_GROUPS_RECORD = "groups-record"  # the memo's entry for ``GroupKeys.kept``


_Packed = tuple[tuple[tuple[str, tuple[str, ...]], ...], bool]


def _linkage_work(sizes: Iterable[int]) -> int:
    """The sizes squared of the sets average linkage clusters as arrays (``groups``: more
    than MAX_SMALL papers, at most MAX_DENSE)."""
    return sum(n * n for n in sizes if MAX_SMALL < n <= MAX_DENSE)


def _grouping_cost(n: int, use_similar: bool) -> float:
    """Rough cost of grouping a set of ``n`` papers (for handing the costliest out first):
    a fixed part, a part per paper (more when texts are compared) and the n x n matrix."""
    return 10.0 + n * (1.0 if use_similar else 3.0) + (n * n / 2000 if n <= 2500 else 0.0)


_T = TypeVar("_T")
_R = TypeVar("_R")
# What forked workers run and on what (inherited through fork, never pickled: a task is
# only a list of positions in _ITEMS, and only results travel back).
_TASK: Callable[[Any], Any] | None = None
_ITEMS: Sequence[Any] = ()
MIN_PARALLEL_ITEMS = 100  # fewer items are not worth starting processes for
CHUNKS_PER_JOB = 8  # work is handed out in this many pieces per worker (balance)


def _run_chunk(positions: Sequence[int]) -> list[Any]:
    assert _TASK is not None
    items = _ITEMS
    return [_TASK(items[i]) for i in positions]


def _chunks(costs: Sequence[float] | None, count: int, jobs: int) -> list[list[int]]:
    """Positions 0..count-1 in pieces of about equal cost, costliest first (so the last
    pieces to finish are small ones); without costs, consecutive pieces of equal length."""
    pieces = jobs * CHUNKS_PER_JOB
    if costs is None or sum(costs) <= 0:
        size = max(1, -(-count // pieces))
        return [list(range(i, min(i + size, count))) for i in range(0, count, size)]
    order = sorted(range(count), key=lambda i: -costs[i])
    share = sum(costs) / pieces
    out: list[list[int]] = []
    current: list[int] = []
    weight = 0.0
    for i in order:
        current.append(i)
        weight += costs[i]
        if weight >= share:
            out.append(current)
            current, weight = [], 0.0
    if current:
        out.append(current)
    return out


def _map(
    fn: Callable[[_T], _R],
    items: Sequence[_T],
    jobs: int,
    costs: Sequence[float] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[_R]:
    """``[fn(x) for x in items]``, in forked worker processes when ``jobs`` > 1 and there are
    enough items; results in order, so the output does not depend on ``jobs``. The
    workers read ``items`` from the memory they inherit: only positions are sent to them.
    ``costs`` (one per item, any unit): hand the costliest items out first. ``meanwhile``
    runs in this process while the workers work (or after, when there are none)."""
    global _TASK, _ITEMS
    if (
        jobs < 2
        or len(items) < MIN_PARALLEL_ITEMS
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        done = [fn(x) for x in items]
        if meanwhile is not None:
            meanwhile()
        return done
    chunks = _chunks(costs, len(items), jobs)
    _TASK, _ITEMS = fn, items
    out: list[Any] = [None] * len(items)
    # Objects that exist now are left out of the workers' garbage collections (they are
    # the inherited papers, topics and lists: walking them costs time and copies pages).
    gc.freeze()
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            parts = pool.map(_run_chunk, chunks)
            if meanwhile is not None:
                meanwhile()
            for positions, part in zip(chunks, parts, strict=True):
                for i, r in zip(positions, part, strict=True):
                    out[i] = r
    finally:
        gc.unfreeze()
        _TASK, _ITEMS = None, ()
    return out


_PAPER_FIELDS = attrgetter(*(f.name for f in fields(Paper)))
_LISTINGS_AT = [f.name for f in fields(Paper)].index("listings")


def _with_listings(paper: Paper, listings: tuple[str, ...]) -> Paper:
    """``replace(paper, listings=listings)`` without its per-call field lookups."""
    values = list(_PAPER_FIELDS(paper))
    values[_LISTINGS_AT] = listings
    return Paper(*values)


def _by_count(counts: Counter[str]) -> tuple[str, ...]:
    """The keys, most counted first, ties in key order (a stable sort by count, descending,
    of the sorted keys)."""
    return tuple(sorted(sorted(counts), key=counts.__getitem__, reverse=True))


def _name_ranks(names: Mapping[str, str]) -> dict[str, int]:
    """Person key -> the rank of its display name among all display names (equal names,
    equal ranks): sorting keys by it sorts them by name, as stably."""
    rank = {name: i for i, name in enumerate(sorted(set(names.values())))}
    return {key: rank[name] for key, name in names.items()}


def _coauthor_lists(
    papers: Sequence[Paper],
    paper_people: Mapping[str, tuple[str, ...]],
    ranks: Mapping[str, int],
    person_ids: Mapping[str, str],
) -> dict[str, tuple[tuple[str, int], ...]]:
    """Person key -> (author id, papers together) of everyone they share a paper with, most
    papers first, ties by display name (``ranks``, from ``_name_ranks``), then in the order
    first met (papers in the order given, each paper's people in order). Counted as arrays
    (the pairs grow with the square of a paper's author count)."""
    number: dict[str, int] = {}  # person key -> its number
    rows: dict[int, list[list[int]]] = defaultdict(list)  # author count -> each paper's people
    where: dict[int, list[int]] = defaultdict(list)  # author count -> each paper's position
    for at, p in enumerate(papers):
        keys = paper_people[p.id]
        if len(keys) > 1:
            rows[len(keys)].append([number.setdefault(k, len(number)) for k in keys])
            where[len(keys)].append(at)
    if not rows:
        return {}
    people = len(number)
    width = max(rows) + 1  # "first met" is position * width + place in the paper
    firsts: list[np.ndarray] = []
    pairs: list[np.ndarray] = []
    for m, members in rows.items():
        table = np.array(members, dtype=np.int64)  # one row per paper
        me, other = np.nonzero(~np.eye(m, dtype=bool))  # every ordered pair of places
        pairs.append((table[:, me] * people + table[:, other]).ravel())
        places = np.array(where[m], dtype=np.int64)
        firsts.append((places[:, None] * width + other[None, :]).ravel())
    pair = np.concatenate(pairs)
    first = np.concatenate(firsts)
    order = np.lexsort((first, pair))  # each pair's occurrences together, earliest first
    pair, first = pair[order], first[order]
    starts = np.flatnonzero(np.concatenate(([True], pair[1:] != pair[:-1])))
    together = np.diff(np.append(starts, len(pair)))  # papers per pair
    pair, first = pair[starts], first[starts]
    me_of, other_of = pair // people, pair % people
    everyone = list(number)
    rank = np.array([ranks[k] for k in everyone], dtype=np.int64)
    order = np.lexsort((first, rank[other_of], -together, me_of))
    me_of, other_of, together = me_of[order], other_of[order], together[order]
    ids = [person_ids[k] for k in everyone]
    listed = list(zip(map(ids.__getitem__, other_of.tolist()), together.tolist(), strict=True))
    bounds = np.flatnonzero(np.concatenate(([True], me_of[1:] != me_of[:-1]))).tolist()
    bounds.append(len(listed))
    heads = me_of[bounds[:-1]].tolist()
    return {
        everyone[head]: tuple(listed[lo:hi])
        for head, lo, hi in zip(heads, bounds, bounds[1:], strict=False)
    }


def _sort_name(name: str) -> tuple[str, str]:
    """Authors index order: by last name, then full name (folded)."""
    parts = name.split()
    last = parts[-1] if parts else name
    return (name_key(last), name_key(name))
