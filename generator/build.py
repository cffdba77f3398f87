"""The build orchestrator: the whole pipeline, top to bottom, in one function.

    check -> config -> read seeds -> read BibTeX -> papers -> topics, similar papers -> catalog
          -> render (each page into a staging folder) -> search index -> swap into place

"check" hashes every input (``generator.cache``): when nothing changed since the last build
and the site is still the one it wrote, the build ends there. Otherwise each seed file's
records and the topics and similar papers are reused from the cache when their inputs' hashes
match; the catalog's author groups and the render run on every core (forked workers), and
the write hard-links every file whose bytes did not change from the previous site.

Only this module and the CLI touch the disk and the clock. Input problems are diagnostics;
they never stop the build (every record read is a paper or a diagnostic), but they make the
exit code 1. A failure while building (template error, I/O, Pagefind) leaves the previous
site exactly as it was.
"""

from __future__ import annotations

import argparse
import functools
import gc
import io
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from generator.diagnostics import Diagnostic, count, error, sort_diagnostics, warning
from generator.progress import Progress, mode_from_flags

if TYPE_CHECKING:
    from collections.abc import Hashable

    import jinja2

    from generator.cache import BuildCache, Fingerprint, Memo, WarmStore
    from generator.model import BibEntry, Paper, Record, SeedFile
    from generator.render import RenderedSite
    from generator.topics import TopicConfig, TopicResult


_T = TypeVar("_T")


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
    cache: bool = True  # reuse .papersite-cache/ (an unchanged build writes nothing)


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


def run_build(
    options: BuildOptions, progress: Progress | None = None, warm: WarmStore | None = None
) -> BuildResult:
    """Build the site. ``warm``: what earlier builds in this process kept in memory (the dev
    server's rebuilds; see ``generator.cache.WarmStore``), used and updated by this one."""
    from generator.readers import reference_date

    progress = progress or Progress("quiet", stream=io.StringIO())
    started = time.perf_counter()
    try:
        today: date = reference_date(options.today)
    except ValueError as exc:
        return _failed_early(options, str(exc))
    if not options.seeds.is_dir():
        return _failed_early(options, f"seed folder not found: {options.seeds}")

    # The gathering stages make millions of objects that live until the build ends: the
    # collector, which would walk them again and again, is paused while they are made.
    with collector_paused():
        # Up to date? The inputs' fingerprint and the site on disk both match the last build.
        if warm is not None:
            warm.flush()  # the last build's cache, if the dev server has not saved it yet
        cache = _open_cache(options, warm)
        with progress.stage("check") as st:
            state = cache.load_state() if cache else None
            inputs = _fingerprint(options, today, state)
            if cache and state and _up_to_date(state, inputs.key, options.out):
                st.note("nothing changed since the last build")
                if warm is not None:  # the memos read ahead, for the dev server's next build
                    warm.defer(functools.partial(_read_memos, cache, inputs.code))
                return _unchanged_result(state, options, started, progress)

        from generator.catalog import build_catalog
        from generator.config import load_config
        from generator.papers import build_papers, fold_titles
        from generator.readers import find_duplicates
        from generator.render import render_to

        config, diags = load_config(options.config, options.base_url)
        all_diags: list[Diagnostic] = list(diags)
        memos: dict[str, Memo] = {}  # per-item work kept for the next build (generator.cache)

        title_keys: dict[str, str] | None = None  # titles folded while waiting (below)
        with (
            progress.stage("read") as st,
            _BibRead(options.seeds, cache, inputs.code, _workers()) as bibs,
        ):
            # a big BibTeX parse runs in a forked process beside the seed files' (else a
            # forked process parses half of the seed files, if there are enough)
            seed_files, diags, reread, input_keys = _read_seeds(
                options.seeds, today, cache, inputs.code, 1 if bibs.forked else _workers()
            )
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
            if bibs.forked:  # while waiting: fold the titles the papers stage matches by
                title_keys = fold_titles(records, _memo("papers", cache, inputs.code, memos))
            entries, diags, bib_keys = bibs.result()
            input_keys.update(bib_keys)
            all_diags += diags
            st.advance(len(records) + len(entries))
            st.note(
                f"{len(seed_files)} seed files ({reread} read, the rest cached), "
                f"{len(records)} records, {len(entries)} BibTeX entries"
            )

        with progress.stage("papers") as st:
            papers, diags = build_papers(
                records,
                entries,
                _memo("papers", cache, inputs.code, memos),
                _input_key(input_keys) if cache else None,
                jobs=_workers(),
                title_keys=title_keys,
            )
            all_diags += diags
            st.advance(len(papers))

        with progress.stage("topics+similar") as st:
            # the papers follow from their input files (and the code): name them by those
            files_read = tuple(dict.fromkeys(key for key, _ in input_keys.values()))
            topic_result, similar, cached = _topics_and_similar(
                papers, config.topics, cache, (inputs.code, files_read), memos
            )
            st.advance(len(papers))
            if cached:
                st.note("topics and similar papers unchanged (cached)")

        with progress.stage("catalog") as st:
            catalog, diags = build_catalog(
                papers,
                seed_files,
                topic_result,
                similar,
                config,
                jobs=_workers(),
                memo=_memo("catalog", cache, inputs.code, memos),
            )
            all_diags += diags
            st.advance(len(catalog.authors) + len(catalog.topics) + len(catalog.listings))

    if warm is not None:
        _templates_fresh(warm)
    _compiled_templates(cache, inputs.code)
    rendered: RenderedSite | None = None
    early = None  # the search index's forked process (generator.search.SearchJob), if any
    try:
        if not options.no_search:
            from generator.search import start_search_index

            # an index made from the catalog alone is built by a forked process meanwhile
            early = start_search_index(options.out, catalog, config)
        with progress.stage("render") as st:
            # pages go straight into a staging folder beside the site as they are rendered
            rendered = render_to(
                catalog,
                config,
                options.out,
                jobs=_workers(),
                memo=_memo("pages", cache, inputs.code, memos),
                previous=_previous_digests(cache, options.out) if cache else None,
                in_place=options.no_search,
            )
            st.advance(rendered.count)
        if early is not None:
            early.render_done()  # its Pagefind runs may use every core now
        search_step = None
        if not options.no_search:
            from generator.search import build_search_index

            def search_step(staging: Path) -> None:
                with progress.stage("search index") as st:
                    if early is None:
                        build_search_index(staging, catalog, config)
                        return
                    early.finish(staging)
                    st.note(f"built beside the render in {early.seconds:.1f} s")

        with progress.stage("write") as st:
            written = rendered.write(before_swap=search_step)
            st.advance(rendered.count)
            st.note(
                f"{written.changed} files written, {written.removed} removed, "
                f"{rendered.count - written.changed} unchanged ({written.mode})"
            )
    except BaseException as exc:
        # the staged pages (a failed write already removed them); this also covers an
        # interrupt that lands after the render stage has ended and before the write began
        if early is not None:
            early.abort()
        if rendered is not None:
            rendered.abort()
        if not isinstance(exc, (OSError, BuildError)):
            raise
        return BuildResult(
            False,
            sort_diagnostics(all_diags),
            "",
            failure=f"build failed, previous site kept: {exc}",
            timings=progress.timings(),
        )

    pages = rendered.pages
    counts = (
        f"{len(catalog.papers)} papers, {len(catalog.authors)} authors, "
        f"{len(catalog.topics)} topics, {len(catalog.listings)} listings; {pages} pages"
    )
    no_search = "" if not options.no_search else " (no search index)"
    summary = (
        f"{counts} written to {options.out} in {time.perf_counter() - started:.2f} s{no_search}"
    )
    final = sort_diagnostics(all_diags)
    if cache:
        complete = options.no_search  # else the indexer added files of its own
        digests = written.digests

        def save() -> None:
            with collector_paused():
                _remember(cache, inputs, final, counts, options.out, digests, complete, memos)

        if warm is not None:
            warm.defer(save)  # the dev server saves it once the site is served (WarmStore)
        else:
            with progress.stage("save cache"):
                save()
    return BuildResult(True, final, summary, timings=progress.timings())


# -- pipeline helpers ----------------------------------------------------------------------


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic garbage collection inside: the stages' data are tuples, strings and
    frozen dataclasses freed by reference counting, and each collection would walk every
    object made so far (a second or more of a one-record rebuild). What exists at the end
    is frozen (``gc.freeze``: never walked by later collections, freed as usual when its
    last reference goes), so the young generation does not start out holding it all; the
    collector is then resumed if it was running."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if running:
            gc.enable()


def _failed_early(options: BuildOptions, failure: str) -> BuildResult:
    from generator.config import load_config

    _, diags = load_config(options.config, options.base_url)
    return BuildResult(False, sort_diagnostics(diags), "", failure=failure)


def _workers() -> int:
    """Render processes: one per core this process may run on."""
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):
        return max(1, min(8, os.cpu_count() or 1))


def _file_bytes(target: Path, what: str, diags: list[Diagnostic]) -> bytes | None:
    """An input file's bytes, or None with an error naming it ("cannot read <what>: ...")."""
    try:
        return target.read_bytes()
    except OSError as exc:
        diags.append(error(str(target), 0, f"cannot read {what}: {exc.strerror or exc}"))
        return None


# id(record or entry) -> (its file's cache key, a hash of the record's or entry's own fields)
InputKeys = dict[int, tuple[str, str]]


# The work worth a second process: parsing this many bytes of seed listings (~0.03 s a MB)
# takes ~1 s; less gains little over the cost of a fork and of sending the result back, and
# loses when the other core is busy. A BibTeX file is worth it from 1 MB (~0.5 s of parsing,
# ~1 s with its entries' keys): meanwhile this process parses the seed listings and folds
# their titles for the papers stage (a cold 10,000-paper build with a 1.4 MB file: read and
# papers 0.6 s shorter on an idle machine; session 11, bench/RESULTS.md).
MIN_FORKED_SEED_BYTES = 32 << 20
MIN_FORKED_BIB_BYTES = 1 << 20


def _read_seeds(
    folder: Path, today: date, cache: BuildCache | None, code: str, jobs: int = 1
) -> tuple[tuple[SeedFile, ...], tuple[Diagnostic, ...], int, InputKeys]:
    """``readers.read_seed_paths([folder])``, each file's result cached by its bytes' hash
    (and the generator's source): after a change only the changed files are parsed again.
    Also returns how many were, and each record's input key (``_input_key``). With ``jobs``
    > 1 and enough to parse, a forked process parses the later half of them (by bytes)."""
    from generator.cache import digest_value
    from generator.forked import fork_call
    from generator.readers import read_seed_bytes

    # each file in order: the error that it cannot be read, or (name, key, bytes, cached)
    slots: list[Diagnostic | tuple[str, str, bytes, Any]] = []
    for target in sorted(folder.glob("*.txt")):
        name = str(target)
        failed: list[Diagnostic] = []
        data = _file_bytes(target, "the file", failed)
        if data is None:
            slots.append(failed[0])
            continue
        key = digest_value((code, name, today.isoformat(), data))
        hit = _cached_seed(cache, key) if cache else None
        slots.append((name, key, data if hit is None else b"", hit))
    misses = [(s[0], s[2]) for s in slots if isinstance(s, tuple) and s[3] is None]
    size = sum(len(data) for _, data in misses)
    split = len(misses)  # the first ``split`` are parsed here, the others by a forked process
    if jobs > 1 and size >= MIN_FORKED_SEED_BYTES and len(misses) > 1:
        split, done = 0, 0
        while split < len(misses) - 1 and done < size // 2:
            done += len(misses[split][1])
            split += 1
    files: list[SeedFile] = []
    diags: list[Diagnostic] = []
    keys: InputKeys = {}
    with fork_call(
        _parse_seeds, misses[split:], today, cache is not None, fork=split < len(misses)
    ) as child:
        mine = split
        forked: Iterator[Any] | None = None
        for slot in slots:
            if isinstance(slot, Diagnostic):
                diags.append(slot)
                continue
            name, key, data, hit = slot
            if hit is None:
                if mine:
                    mine -= 1
                    seed, file_diags = read_seed_bytes(name, data, today)
                    packed = _pack_seed(seed, file_diags) if cache else None
                    hit = seed, file_diags, packed[4] if packed else ()
                else:
                    forked = forked or iter(child.result())
                    packed = next(forked)
                    hit = _unpack_seed(packed)
                    assert hit is not None
                if cache:
                    cache.store("read", key, packed, warm=False)  # kept unpacked instead:
                    cache.keep("read", key, hit)
            seed, file_diags, row_keys = hit
            files.append(seed)
            diags.extend(file_diags)
            if cache:
                keys.update(zip(map(id, seed.records), zip(repeat(key), row_keys), strict=True))
    return tuple(files), tuple(diags), len(misses), keys


def _cached_seed(
    cache: BuildCache, key: str
) -> tuple[SeedFile, tuple[Diagnostic, ...], tuple[str, ...]] | None:
    """A seed file's cached result: as this process made it (a ``WarmStore``), else read."""
    hit = cache.recall("read", key)
    if hit is None:
        packed = cache.load("read", key, warm=False)
        hit = _unpack_seed(packed) if packed is not None else None
        if hit is not None:
            cache.keep("read", key, hit)
    return hit


def _parse_seeds(
    items: Sequence[tuple[str, bytes]], today: date, with_keys: bool
) -> list[tuple[Any, ...]]:
    """Each seed file's result as ``_pack_seed`` rows (a forked process's share)."""
    from generator.readers import read_seed_bytes

    return [_pack_seed(*read_seed_bytes(name, data, today), with_keys) for name, data in items]


def _read_bibs(
    folder: Path, cache: BuildCache | None, code: str, jobs: int = 1
) -> tuple[tuple[BibEntry, ...], tuple[Diagnostic, ...], InputKeys]:
    """``bibtex.read_bib_paths([folder])``, each file's entries cached by its bytes' hash."""
    with _BibRead(folder, cache, code, jobs) as bibs:
        return bibs.result()


class _BibRead:
    """``_read_bibs`` under way: the files the cache does not hold are parsed, when they are
    big enough and ``jobs`` > 1, by a forked process while this one goes on (``forked``);
    ``result()`` waits for them. Use as a context manager (the process is ended on error)."""

    def __init__(self, folder: Path, cache: BuildCache | None, code: str, jobs: int) -> None:
        from generator.cache import digest_value
        from generator.forked import fork_call

        self.cache = cache
        # each file in order: the error that it cannot be read, or (name, key, bytes, cached)
        self.slots: list[Diagnostic | tuple[str, str, bytes, Any]] = []
        # key -> (entries, diagnostics, row keys) as this process made them (a WarmStore)
        self.made: dict[str, tuple[tuple[BibEntry, ...], tuple[Diagnostic, ...], Any]] = {}
        for target in sorted(p for p in folder.glob("*.bib") if p.is_file()):
            name = str(target)
            failed: list[Diagnostic] = []
            data = _file_bytes(target, "BibTeX file", failed)
            if data is None:
                self.slots.append(failed[0])
                continue
            key = digest_value((code, name, data))
            made = cache.recall("bib", key) if cache else None
            if made is not None:
                self.made[key] = made
                self.slots.append((name, key, b"", made))
                continue
            packed = cache.load("bib", key, warm=False) if cache else None
            hit = packed if isinstance(packed, tuple) and len(packed) == 3 else None
            self.slots.append((name, key, data, hit))
        misses = [(s[0], s[2]) for s in self.slots if isinstance(s, tuple) and s[3] is None]
        fork = jobs > 1 and sum(len(data) for _, data in misses) >= MIN_FORKED_BIB_BYTES
        self.child = fork_call(_parse_bibs, misses, cache is not None, fork=fork)

    @property
    def forked(self) -> bool:
        return self.child.forked

    def __enter__(self) -> _BibRead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.child.cancel()

    def result(self) -> tuple[tuple[BibEntry, ...], tuple[Diagnostic, ...], InputKeys]:
        from generator.bibtex import read_bib_bytes
        from generator.model import BibEntry

        cache = self.cache
        entries: list[BibEntry] = []
        diags: list[Diagnostic] = []
        keys: InputKeys = {}
        parsed = iter(self.child.result()) if self.child.forked else None
        for slot in self.slots:
            if isinstance(slot, Diagnostic):
                diags.append(slot)
                continue
            name, key, data, packed = slot
            if key in self.made:
                file_entries, file_diags, row_keys = self.made[key]
            elif packed is None and parsed is None:
                file_entries, file_diags = read_bib_bytes(name, data)
                rows = _rows(file_entries)
                row_keys = _row_keys(rows) if cache else ()
                if cache:
                    cache.store("bib", key, (rows, _rows(file_diags), row_keys), warm=False)
            else:
                if packed is None:
                    assert parsed is not None
                    packed = next(parsed)
                    if cache:
                        cache.store("bib", key, packed, warm=False)
                file_entries = _unrows(BibEntry, packed[0])
                file_diags = _unrows(Diagnostic, packed[1])
                row_keys = packed[2]
            if cache and key not in self.made:  # kept made for the next build (WarmStore)
                cache.keep("bib", key, (tuple(file_entries), tuple(file_diags), row_keys))
            entries.extend(file_entries)
            diags.extend(file_diags)
            if cache:
                keys.update(zip(map(id, file_entries), zip(repeat(key), row_keys), strict=True))
        return tuple(entries), tuple(diags), keys


def _parse_bibs(items: Sequence[tuple[str, bytes]], with_keys: bool) -> list[tuple[Any, ...]]:
    """Each BibTeX file's entries and diagnostics as rows, as the cache keeps them."""
    from generator.bibtex import read_bib_bytes

    out: list[tuple[Any, ...]] = []
    for name, data in items:
        file_entries, file_diags = read_bib_bytes(name, data)
        rows = _rows(file_entries)
        out.append((rows, _rows(file_diags), _row_keys(rows) if with_keys else ()))
    return out


def _input_key(
    keys: InputKeys,
) -> Callable[[Sequence[Record], BibEntry | None], Hashable]:
    """A paper's inputs named by the hashes of their fields, made once when their file was
    read (and kept with it in the cache) instead of by value: an unchanged record, even in
    an edited file, is the same record as in the last build."""

    def key(records: Sequence[Record], entry: BibEntry | None) -> Hashable:
        return (tuple(keys[id(r)][1] for r in records), keys[id(entry)][1] if entry else None)

    return key


def _pack_seed(
    seed: SeedFile, diags: tuple[Diagnostic, ...], with_keys: bool = True
) -> tuple[Any, ...]:
    """A seed file's result as plain tuples (unpickled several times faster than dataclasses),
    with each record's hash (``_row_keys``; none without ``with_keys``)."""
    rows = _rows(seed.records)
    return (seed.path, seed.layout, rows, _rows(diags), _row_keys(rows) if with_keys else ())


def _unpack_seed(
    packed: Any,
) -> tuple[SeedFile, tuple[Diagnostic, ...], tuple[str, ...]] | None:
    from generator.model import Record, SeedFile

    if not isinstance(packed, tuple) or len(packed) != 5:
        return None
    path, layout, records, diags, row_keys = packed
    seed = SeedFile(path, layout, _unrows(Record, records))
    return seed, _unrows(Diagnostic, diags), row_keys


def _row_keys(rows: Sequence[tuple[Any, ...]]) -> tuple[str, ...]:
    """A hash of each row's fields (a record's: its file, line and position included)."""
    from generator.cache import digest_value

    return tuple(map(digest_value, rows))


def _rows(items: Sequence[Any]) -> tuple[tuple[Any, ...], ...]:
    """Frozen dataclasses as tuples of their fields in declaration order (``_unrows``)."""
    from dataclasses import fields

    if not items:
        return ()
    get = attrgetter(*(f.name for f in fields(items[0])))
    return tuple(get(item) for item in items)


def _unrows(cls: Callable[..., _T], rows: Sequence[tuple[Any, ...]]) -> tuple[_T, ...]:
    return tuple(cls(*row) for row in rows)


def _topics_and_similar(
    papers: Sequence[Paper],
    topic_config: TopicConfig,
    cache: BuildCache | None,
    inputs: tuple[str, tuple[str, ...]],
    memos: dict[str, Memo],
) -> tuple[TopicResult, dict[str, tuple[tuple[str, float], ...]], bool]:
    """Topics and similar papers, cached by the hash of the papers' inputs (the generator's
    source and the cache keys of the seed and BibTeX files their records and entries came
    from, in order) and the topic config: a rebuild whose papers are unchanged (a template
    edit, a config change elsewhere) reuses them. Otherwise each is given its memo of
    per-paper work."""
    from generator.cache import digest_value
    from generator.similar import find_similar
    from generator.topics import assign_topics

    code = inputs[0]
    key = digest_value((inputs, topic_config)) if cache else ""
    hit = cache.load("topics", key) if cache else None
    if hit is not None:
        return hit[0], hit[1], True
    memo = _memo("topics", cache, code, memos)  # both read the same per-paper work
    # Objects that exist now (records, papers, memos) outlive the stage: left out of its
    # garbage collections, which then walk only what it makes (and its forked workers copy
    # no pages for them).
    gc.freeze()
    try:
        topic_result = assign_topics(papers, topic_config, workers=_workers(), memo=memo)
        similar = find_similar(papers, topic_result.paper_topics, workers=_workers(), memo=memo)
    finally:
        gc.unfreeze()
    if cache:
        cache.store("topics", key, (topic_result, similar))
    return topic_result, similar, False


def _read_memos(cache: BuildCache, code: str) -> None:
    """Every memo the last build saved, read into ``cache``'s ``WarmStore`` now (a dev
    server that started on an up-to-date site, while it waits for the first change), so
    that the first rebuild finds them in memory as the later ones do."""
    try:
        files = [p.name for p in (cache.folder / "memo").iterdir()]
    except OSError:
        return
    held = cache.warm.memos if cache.warm is not None else {}
    names = {f.rsplit("-", 1)[0] for f in files if f.endswith(".pickle") and f[0] != "."}
    for name in sorted(names - held.keys()):
        cache.keep_memo(name, code, cache.load_memo(name, code))


def _memo(name: str, cache: BuildCache | None, code: str, memos: dict[str, Memo]) -> Memo | None:
    """The memo ``name`` of the last build (loaded once, kept in ``memos`` to be saved after
    the build), or None without a cache (the stage then does all its work). Stages asking
    for the same name share one memo (topics and similar papers both read each paper's
    phrase counts)."""
    if cache is None:
        return None
    if name not in memos:
        memos[name] = cache.load_memo(name, code)
    return memos[name]


# -- the build cache -----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = Path("papersite.toml")  # generator.config.DEFAULT_CONFIG (not imported: slow)


def _open_cache(options: BuildOptions, warm: WarmStore | None = None) -> BuildCache | None:
    if not options.cache:
        return None
    from generator.cache import BuildCache

    return BuildCache(options.out, warm=warm)


TEMPLATE_CODE = "jinja"  # the cache's folder of compiled templates (Jinja's bytecode cache)


def _compiled_templates(cache: BuildCache | None, code: str) -> None:
    """The renderer's templates compiled by an earlier build are loaded, not compiled again
    (~0.1 s): Jinja's bytecode cache in the build cache (none without one), each file
    checked against its template's source by Jinja; named by the generator's source (which
    sets the environment they are compiled for) and Jinja's version, whose others' files
    are removed."""
    import jinja2

    import generator.render as render
    from generator.cache import digest_value

    env = render.environment()
    env.bytecode_cache = None
    if cache is None:
        return
    prefix = digest_value((code, jinja2.__version__))[:16]
    folder = cache.folder / TEMPLATE_CODE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if not old.name.startswith(prefix):
                old.unlink(missing_ok=True)
    except OSError:
        return  # no cache then: compiled as usual
    env.bytecode_cache = _template_cache_class()(str(folder), f"{prefix}-%s.cache")


@functools.cache
def _template_cache_class() -> type[jinja2.FileSystemBytecodeCache]:
    """(Made on first use: Jinja is imported only by a build that renders.)"""
    import jinja2

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        """Jinja's bytecode cache, failing soft as the build cache does: a compiled template
        that cannot be written is compiled again next time."""

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                return

    return TemplateCache


def _templates_fresh(warm: WarmStore) -> None:
    """The renderer compiles its templates once per process; a process that builds again
    (``warm``) keeps them compiled while their bytes are the ones they were compiled from,
    and has them compiled again when a template changed."""
    import generator.render as render
    from generator.cache import digest_value

    folder = Path(render.TEMPLATES)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    try:
        key = digest_value((str(folder), [(str(p), p.read_bytes()) for p in files]))
    except OSError:
        key = None  # unreadable now: compiled again (the render reports what is wrong)
    if key is None or key != warm.templates:
        render.environment.cache_clear()
    warm.templates = key


def _fingerprint(
    options: BuildOptions, today: date, state: Mapping[str, Any] | None
) -> Fingerprint:
    """Every input that reaches the output: seed and BibTeX files, the config, templates and
    static files (where the renderer reads them), the generator's source, the options."""
    from generator.cache import GENERATOR_DIR, fingerprint

    render = sys.modules.get("generator.render")  # tests may point it at other templates
    templates = Path(getattr(render, "TEMPLATES", ROOT / "templates"))
    static = Path(getattr(render, "STATIC", ROOT / "static"))
    config = options.config if options.config is not None else DEFAULT_CONFIG
    seeds = options.seeds
    inputs = [*sorted(seeds.glob("*.txt")), *sorted(seeds.glob("*.bib")), config]
    return fingerprint(
        inputs,
        [(templates, None), (static, None), (GENERATOR_DIR, (".py",))],
        {
            "seeds": os.path.abspath(seeds),
            "out": os.path.abspath(options.out),
            "config": os.path.abspath(config),
            "base_url": options.base_url,
            "no_search": options.no_search,
            "today": today.isoformat(),
        },
        state.get("fingerprint") if state else None,
    )


def _up_to_date(state: Mapping[str, Any], key: str, out: Path) -> bool:
    from generator.cache import site_manifest

    return bool(state.get("key") == key and site_manifest(out) == state.get("manifest"))


def _unchanged_result(
    state: Mapping[str, Any], options: BuildOptions, started: float, progress: Progress
) -> BuildResult:
    no_search = "" if not options.no_search else " (no search index)"
    summary = (
        f"{state['counts']} in {options.out}: up to date, nothing written "
        f"({time.perf_counter() - started:.2f} s){no_search}"
    )
    return BuildResult(True, tuple(state["diagnostics"]), summary, timings=progress.timings())


def _previous_digests(cache: BuildCache, out: Path) -> Mapping[str, bytes] | None:
    """What the last build wrote to ``out`` (path -> SHA-256), if the site is still exactly
    that: the folders' manifest (names, mtimes, inodes) is the one recorded after writing."""
    from generator.cache import site_manifest

    stored = cache.load("site", "digests")
    if not isinstance(stored, dict) or not stored.get("complete"):
        return None  # none, or the site also holds files the build did not list (search)
    if site_manifest(out) != stored["manifest"]:
        return None
    digests = stored.get("digests")
    return digests if isinstance(digests, dict) else None


def _remember(
    cache: BuildCache,
    inputs: Fingerprint,
    diagnostics: tuple[Diagnostic, ...],
    counts: str,
    out: Path,
    digests: Mapping[str, bytes],
    complete: bool,
    memos: Mapping[str, Memo],
) -> None:
    from generator.cache import site_manifest

    for name, memo in memos.items():
        cache.store_memo(name, inputs.code, memo)
    manifest = site_manifest(out)
    if manifest is None:
        return
    cache.store(
        "site", "digests", {"manifest": manifest, "digests": dict(digests), "complete": complete}
    )
    cache.store_state(
        {
            "key": inputs.key,
            "fingerprint": inputs,
            "diagnostics": diagnostics,
            "counts": counts,
            "manifest": manifest,
        }
    )
    cache.prune(("read", "bib", "topics", "memo"))


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
        cache=not getattr(args, "no_cache", False),
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
