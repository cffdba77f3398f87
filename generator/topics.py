"""Topics: recurring phrases of all titles and abstracts, plus the arXiv category.

1. Count every candidate phrase (``generator.phrases``) per paper into a sparse paper x
   phrase matrix; variants that differ only in case, hyphenation or number share a column,
   and an acronym defined somewhere ("mixture of experts (MoE)") shares its long form's.
2. Keep phrases that recur (in at least two papers, at most 40% of them), hang together
   (the phrase appears in a good share of the papers that use its rarest word) and are not
   a fragment of a longer phrase used just as often ("theorem proving" inside "automated
   theorem proving").
3. Give each paper its best phrases (weighted by use in its title and abstract and by how
   discriminating the phrase is), never two that share a word, at most five topics with
   the category; drop topics left with fewer than two papers and repeat until stable.
4. Name each topic by its most used spelling, say what defines it, relate it to the topics
   sharing its papers, then apply the config (block, merge, pin, rename).

Uses numpy/scipy sparse matrices so 100,000 papers fit in seconds and bounded memory.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import multiprocessing as mp
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from generator.categories import CATEGORY_NAMES, full_category
from generator.model import Paper, Topic
from generator.phrases import (
    BOILERPLATE_PHRASES,
    CONNECTORS,
    GENERIC_NOUNS,
    GENERIC_UNIGRAMS,
    STOP_WORDS,
    TERMS,
    acronym_definitions,
    chunk_phrase_keys,
    chunk_surfaces,
    chunks,
    field_noun,
    key_of_name,
    key_parts,
    key_uses,
    lone_subject_ok,
    merge_key,
    nounish_alone,
    nounish_end,
    phrase_keys,
    singular,
    surfaces_of,
    target_surfaces,
)
from generator.urls import slugify

_ICS = re.compile(r"\b[A-Za-z]{4,}ics\b")
# Possessive: the classes either side are disjoint, so giving back never helps.
_CAPITALISED = re.compile(r"\b[A-Za-z][a-z0-9]*+[A-Z][A-Za-z0-9]*+\b")
MAX_SHARE = 0.4  # no topic holds more than this share of the papers
MAX_TOPICS = 5  # per paper, category included
MIN_COHESION = 0.2
TITLE_WEIGHT = 2


@dataclass(frozen=True)
class TopicConfig:
    """Overrides from the config; keys are topic names as shown (case-insensitive)."""

    rename: Mapping[str, str] = field(default_factory=dict)
    merge: Mapping[str, str] = field(default_factory=dict)  # name -> name it joins
    block: tuple[str, ...] = ()
    pin: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # paper id -> names


@dataclass(frozen=True)
class TopicResult:
    topics: tuple[Topic, ...]
    paper_topics: Mapping[str, tuple[str, ...]]  # paper id -> topic ids, best first


@dataclass
class _Stats:
    """The paper x phrase counts, columns merged by variant."""

    keys: list[str]  # column -> spaced key of its first spelling
    counts: sp.csr_matrix  # papers x columns, title uses weighted
    df: np.ndarray  # papers per column
    column: dict[str, int]  # merge key -> column
    acronyms: dict[int, str]  # column -> acronym (lower) merged into it
    named: dict[int, int]  # column -> papers writing it with inner capitals (BERT, MoE)
    ics: set[int]  # unigram columns also written as a "-ics" noun (photonic / photonics)
    title_df: np.ndarray  # papers per column using it in their title
    canon: np.ndarray  # vocabulary index -> column (variants and acronyms merged)


def paper_text(paper: Paper) -> tuple[str, str]:
    title = "" if paper.title_source == "derived" else paper.title
    return title, paper.abstract


# What one paper's text contributes to the counts, computed alone (so it can run in a
# worker, or come from a memo of an earlier build) and kept compact and picklable:
_Entry = tuple[
    str,  # its phrase keys, the title's first, then in order of use, "\n"-joined
    bytes,  # their counts (array "i"), title uses added
    bytes | None,  # positions among the keys of the title's keys (array "i"); None: no title
    bytes,  # positions among the keys of the similarity terms (array "i")
    bytes,  # similarity term counts (array "i")
    tuple[str, int] | None,  # its most used phrase
    tuple[tuple[str, str], ...],  # acronym definitions
    tuple[str, ...],  # capitalised words
    tuple[str, ...],  # "-ics" words
]
Memo = MutableMapping[str, Any]
MEMO_VERSION = "topics-1"  # part of every memo key: a change of the per-paper work renames it


def text_key(title: str, abstract: str) -> str:
    """Memo key of a paper's per-paper work: a hash of exactly the text it reads."""
    h = hashlib.blake2b(digest_size=16, person=b"papersite-text")
    h.update(title.encode("utf-8", "surrogatepass"))
    h.update(b"\x00")
    h.update(abstract.encode("utf-8", "surrogatepass"))
    return f"{MEMO_VERSION}:{h.hexdigest()}"


def paper_entry(title: str, abstract: str) -> _Entry:
    """The per-paper work of topics and similar papers for one text."""
    in_abstract = Counter(phrase_keys(abstract))
    title_pos: bytes | None = None
    if title:
        in_title = Counter(phrase_keys(title))
        sim, lone = _terms_and_lone(in_title, in_abstract)
        # The title's keys come first: a phrase is numbered where a paper first uses it.
        # Each adds the title's weight once to its count.
        total = {**dict.fromkeys(in_title, 0), **in_abstract}
        for k in in_title:
            total[k] += TITLE_WEIGHT
        title_pos = array("i", range(len(in_title))).tobytes()
    else:
        sim, lone = _terms_and_lone({}, in_abstract)
        total = in_abstract
    pos = dict(zip(total, range(len(total)), strict=True))
    definitions, capitals, ics = _text_marks(title, abstract)
    return (
        "\n".join(total),
        array("i", total.values()).tobytes(),
        title_pos,
        array("i", map(pos.__getitem__, sim)).tobytes(),
        array("i", sim.values()).tobytes(),
        lone,
        tuple(definitions),
        tuple(capitals),
        tuple(ics),
    )


def _definitions(title: str, abstract: str) -> list[tuple[str, str]]:
    """A text's acronym definitions: the title's, then the abstract's, each sorted."""
    definitions: list[tuple[str, str]] = []
    for text in (title, abstract):
        if "(" in text:
            definitions.extend(sorted(set(acronym_definitions(text))))
    return definitions


def _text_marks(title: str, abstract: str) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """A text's acronym definitions, capitalised words and "-ics" words (sorted)."""
    definitions = _definitions(title, abstract)
    capitals = {singular(w.lower()) for w in _CAPITALISED.findall(abstract)}
    capitals.update(singular(w.lower()) for w in _CAPITALISED.findall(title))
    both = abstract + " " + title
    ics = {w.lower()[:-1] for w in _ICS.findall(both)} if "ics" in both else set()
    return definitions, sorted(capitals), sorted(ics)


def _block_marks(texts: Sequence[tuple[str, str]]) -> list[tuple[list[str], list[str]]]:
    """Per text, the capitalised words and "-ics" words ``_text_marks`` gives (sorted),
    found for the whole block at once: numpy finds every stretch between ASCII spaces that
    holds an upper-case letter after a letter or digit (as every capitalised word does) or
    "ics" (as every "-ics" word does), and only those stretches are matched, not the texts.
    (No match of ``_CAPITALISED`` or ``_ICS`` spans a space: each is a whole run of word
    characters.)"""
    joined = "\n".join(itertools.chain.from_iterable(texts))  # title, abstract, title, ...
    code = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    upper = (code - 65) < 26  # A-Z (below 65 wraps round to a large number)
    word = upper | ((code - 97) < 26) | ((code - 48) < 10)
    caps_at = np.flatnonzero(upper[1:] & word[:-1]) + 1
    ics_at = np.flatnonzero((code[:-2] == 105) & (code[1:-1] == 99) & (code[2:] == 115))
    spaces = np.flatnonzero((code == 32) | ((code - 9) < 5))  # " ", "\t\n\v\f\r"
    ends = np.append(spaces, len(code))
    begins = np.concatenate(([0], spaces + 1))
    # Where each text (title, abstract, ...) begins in ``joined``: one "\n" after each.
    sizes = np.fromiter(map(len, itertools.chain.from_iterable(texts)), np.int64, 2 * len(texts))
    starts = np.cumsum(sizes + 1) - sizes - 1
    out: list[tuple[set[str], set[str]]] = [(set(), set()) for _ in texts]
    for kind, found_at, pattern in ((0, caps_at, _CAPITALISED), (1, ics_at, _ICS)):
        # Each stretch holding one: between the spaces before and after it, once.
        stretch = np.unique(np.searchsorted(spaces, found_at))
        lo, hi = begins[stretch], ends[stretch]
        paper = (np.searchsorted(starts, lo, side="right") - 1) >> 1
        rows: list[int] = []
        words: list[str] = []
        findall = pattern.findall
        for a, b, row in zip(lo.tolist(), hi.tolist(), paper.tolist(), strict=True):
            found = findall(joined, a, b)
            if found:
                words += found
                rows += [row] * len(found)
        if kind == 0:
            key = {w: singular(w.lower()) for w in set(words)}
        else:
            key = {w: w.lower()[:-1] for w in set(words)}
        for row, w in zip(rows, words, strict=True):
            out[row][kind].add(key[w])
    return [(sorted(c), sorted(i)) for c, i in out]


def _terms_and_lone(
    in_title: Mapping[str, int], in_abstract: Mapping[str, int]
) -> tuple[dict[str, int], tuple[str, int] | None]:
    """``similarity_counts`` and ``_lone_of`` of a text's phrase-key counts in one pass
    over each: the similarity terms (words and two-word phrases) with their counts, title
    uses counting double, in order of first use, and its most used phrase."""
    sim: dict[str, int] = {}
    uses: dict[str, int] = {}
    flags_of = _USES.get
    for weight, counts in ((TITLE_WEIGHT, in_title), (1, in_abstract)):
        sim_get = sim.get
        uses_get = uses.get
        for key, n in counts.items():
            flags = flags_of(key)
            if flags is None:
                flags = _key_uses(key)
            if flags:
                if flags & 1:
                    sim[key] = sim_get(key, 0) + weight * n
                if flags & 2:
                    uses[key] = uses_get(key, 0) + weight * n
    return sim, _best_use(uses)


# phrase key of up to three words -> what it is used for: 1 a similarity term (a word or
# two-word phrase, not a general word; ``similarity_counts``), 2 a lone paper's possible
# subject (two or three words, ``_lone_of``).
_USES: dict[str, int] = {}


def _key_uses(key: str) -> int:
    """``phrases.key_uses`` of a key (compiled), noted in ``_USES``."""
    found = key_uses(key)
    if len(_USES) > 2_000_000:
        _USES.clear()
    _USES[key] = found
    return found


def entry_terms(entry: _Entry) -> tuple[list[str], array[int]]:
    """The similarity terms of a paper and their counts, from its entry."""
    keys = entry[0].split("\n") if entry[0] else []
    counts = array("i")
    counts.frombytes(entry[4])
    positions = array("i")
    positions.frombytes(entry[3])
    return [keys[i] for i in positions], counts


def memo_entry(title: str, abstract: str, memo: Memo | None) -> _Entry:
    """A text's entry from the memo, computed (and noted) when missing."""
    if memo is None:
        return paper_entry(title, abstract)
    key = text_key(title, abstract)
    found = memo.get(key)
    if found is None:
        found = memo[key] = paper_entry(title, abstract)
    return found


@dataclass(frozen=True)
class _Block:
    """What consecutive papers' texts contribute to the counts, made where they are counted
    (a forked worker) so the parent takes each distinct phrase key of the block once: the
    keys are numbered within the block in order of first use."""

    keys: str  # the block's distinct phrase keys, in order of first use, "\n"-joined
    ids: bytes  # each paper's phrase keys as block numbers (array "i"), papers in order
    lengths: bytes  # per paper, how many phrase keys it has (array "i")
    counts: bytes  # each paper's phrase key counts, title uses added (array "i")
    title_ids: bytes  # block numbers of the titles' keys, papers in order (array "i")
    sim_ids: bytes  # block numbers of the similarity terms, papers in order (array "i")
    sim_lengths: bytes  # per paper, how many similarity terms it has (array "i")
    sim_counts: bytes  # the similarity terms' counts (array "i")
    lone: tuple[tuple[str, int] | None, ...]  # per paper, its most used phrase
    definitions: dict[tuple[str, str], int]  # acronym definitions, how many papers give each
    capitals: dict[str, int]  # capitalised words, how many papers write each
    ics: frozenset[str]  # "-ics" words


def _block_of_entries(entries: Sequence[_Entry]) -> _Block:
    """The block of texts from their entries (from a memo, or counted to be noted in one),
    all entries at once: their keys joined and numbered in order of first use, their
    positions moved by where each entry's keys begin."""
    joined = [entry[0] for entry in entries if entry[0]]
    keys = "\n".join(joined).split("\n") if joined else []
    distinct = list(dict.fromkeys(keys))
    number = dict(zip(distinct, range(len(distinct)), strict=True))
    ids = np.fromiter(map(number.__getitem__, keys), dtype=np.int32, count=len(keys))
    # per entry: how many keys (one count each), title keys, similarity terms
    sizes = np.array([len(entry[1]) >> 2 for entry in entries], dtype=np.int64)
    offsets = np.cumsum(sizes) - sizes

    def moved(data: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        lengths = np.array([len(d) >> 2 for d in data], dtype=np.int64)
        return ids[_ints(data) + np.repeat(offsets, lengths)], lengths

    title_ids, _ = moved([entry[2] or b"" for entry in entries])
    sim_ids, sim_lengths = moved([entry[3] for entry in entries])
    chain = itertools.chain.from_iterable
    return _Block(
        "\n".join(distinct),
        ids.tobytes(),
        sizes.astype(np.int32).tobytes(),
        b"".join([entry[1] for entry in entries]),
        title_ids.tobytes(),
        sim_ids.tobytes(),
        sim_lengths.astype(np.int32).tobytes(),
        b"".join([entry[4] for entry in entries]),
        tuple(entry[5] for entry in entries),
        dict(Counter(chain(entry[6] for entry in entries))),
        dict(Counter(chain(entry[7] for entry in entries))),
        frozenset(chain(entry[8] for entry in entries)),
    )


def _counted_texts(
    texts: Sequence[tuple[str, str]], with_entries: bool
) -> tuple[_Block, list[_Entry] | None]:
    """The block of texts (what ``_block_of_entries`` of their ``paper_entry`` gives),
    counted for the whole block at once: every phrase key use of the block is numbered in
    one C-level pass, and each paper's distinct keys, counts, similarity terms and most
    used phrase come from sorted arrays of those numbers. With
    ``with_entries``, also each text's ``paper_entry``, cut from those same arrays (a cold
    build notes them in its memo) rather than counted again text by text."""
    numbers: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    uses: list[str] = []  # every key use: per paper its title's, then its abstract's
    sizes = array("q")  # per paper, how many uses its title has, then its abstract
    definitions: Counter[tuple[str, str]] = Counter()
    capitals: Counter[str] = Counter()
    ics: set[str] = set()
    marks_of: list[tuple[list[tuple[str, str]], list[str], list[str]]] = []
    defined_of: list[list[tuple[str, str]]] = []  # per text, its acronym definitions
    for title, abstract in texts:
        in_title = phrase_keys(title) if title else []
        in_abstract = phrase_keys(abstract)
        uses += in_title
        uses += in_abstract
        sizes.append(len(in_title))
        sizes.append(len(in_abstract))
        defined = _definitions(title, abstract)
        definitions.update(defined)
        if with_entries:
            defined_of.append(defined)
    block_marks = _block_marks(texts)
    for capitals_of, ics_of in block_marks:
        capitals.update(capitals_of)
        ics.update(ics_of)
    if with_entries:
        marks_of = [(d, *m) for d, m in zip(defined_of, block_marks, strict=True)]
    n = len(texts)
    ids = np.fromiter(map(numbers.__getitem__, uses), np.int64, len(uses))
    keys = list(numbers)
    width = max(1, len(keys))
    # Each (paper, key) pair once, in order of first use (a paper's title keys first).
    size = np.frombuffer(sizes, dtype=np.int64) if n else np.zeros(0, np.int64)
    title_use = np.repeat(np.tile(np.array([1, 0], dtype=np.int64), n), size)
    pair_code = np.repeat(np.arange(n, dtype=np.int64), size[0::2] + size[1::2])
    pair_code = pair_code * width + ids
    codes, first, inverse = np.unique(pair_code, return_index=True, return_inverse=True)
    title_uses = np.bincount(inverse, weights=title_use, minlength=len(codes)).astype(np.int64)
    all_uses = np.bincount(inverse, minlength=len(codes))
    order = np.argsort(first, kind="stable")
    codes, title_uses = codes[order], title_uses[order]
    abstract_uses = all_uses[order] - title_uses
    pair_paper, pair_key = np.divmod(codes, width)
    # As ``paper_entry`` counts: a title use of a key adds the title's weight once...
    total = abstract_uses + TITLE_WEIGHT * (title_uses > 0)
    # ... and similarity terms and a lone paper's phrase count each title use double.
    weighted = abstract_uses + TITLE_WEIGHT * title_uses
    known = list(map(_USES.get, keys))  # each key's ``_key_uses``, looked up in one pass
    if None in known:
        known = [_key_uses(k) if f is None else f for k, f in zip(keys, known, strict=True)]
    flags = np.array(known, dtype=np.int64)[pair_key]
    is_sim = (flags & 1) != 0
    lone = _lone_per_paper(n, keys, pair_paper, pair_key, weighted, (flags & 2) != 0)
    lengths = np.bincount(pair_paper, minlength=n)
    sim_lengths = np.bincount(pair_paper[is_sim], minlength=n)
    counts = total.astype(np.int32).tobytes()
    sim_counts = weighted[is_sim].astype(np.int32).tobytes()
    block = _Block(
        "\n".join(keys),
        pair_key.astype(np.int32).tobytes(),
        lengths.astype(np.int32).tobytes(),
        counts,
        pair_key[title_uses > 0].astype(np.int32).tobytes(),
        pair_key[is_sim].astype(np.int32).tobytes(),
        sim_lengths.astype(np.int32).tobytes(),
        sim_counts,
        lone,
        dict(definitions),
        dict(capitals),
        frozenset(ics),
    )
    if not with_entries:
        return block, None
    # Per pair: its position among its paper's keys (pairs run paper by paper).
    starts = np.cumsum(lengths) - lengths
    position = np.arange(len(pair_key), dtype=np.int64) - starts[pair_paper]
    parts = _EntryParts(
        keys,
        pair_key.tolist(),
        lengths.tolist(),
        counts,
        np.bincount(pair_paper[title_uses > 0], minlength=n).tolist(),
        position[is_sim].astype(np.int32).tobytes(),
        sim_lengths.tolist(),
        sim_counts,
    )
    return block, _cut_entries(texts, parts, lone, marks_of)


@dataclass(frozen=True)
class _EntryParts:
    """A block's arrays, paper after paper, that its texts' entries are cut from."""

    keys: list[str]  # the block's distinct keys
    pair_keys: list[int]  # each paper's keys (block numbers), in its order of first use
    lengths: list[int]  # per paper, how many keys
    counts: bytes  # each key's count (array "i"), as ``pair_keys``
    title_lengths: list[int]  # per paper, how many of its first keys are its title's
    sim_positions: bytes  # similarity terms' positions among their paper's keys (array "i")
    sim_lengths: list[int]  # per paper, how many similarity terms
    sim_counts: bytes  # the similarity terms' counts (array "i")


def _cut_entries(
    texts: Sequence[tuple[str, str]],
    parts: _EntryParts,
    lone: Sequence[tuple[str, int] | None],
    marks_of: Sequence[tuple[list[tuple[str, str]], list[str], list[str]]],
) -> list[_Entry]:
    """Each text's ``paper_entry``, cut from its block's arrays."""
    name = parts.keys.__getitem__
    pair_keys, counts, sim_positions, sim_counts = (
        parts.pair_keys,
        parts.counts,
        parts.sim_positions,
        parts.sim_counts,
    )
    ranges = array("i", range(max(parts.title_lengths, default=0))).tobytes()
    entries: list[_Entry] = []
    at = sim_at = 0
    for (title, _), size, n_title, n_sim, best, marks in zip(
        texts,
        parts.lengths,
        parts.title_lengths,
        parts.sim_lengths,
        lone,
        marks_of,
        strict=True,
    ):
        end, sim_end = at + size, sim_at + n_sim
        entries.append(
            (
                "\n".join(map(name, pair_keys[at:end])),
                counts[4 * at : 4 * end],
                ranges[: 4 * n_title] if title else None,
                sim_positions[4 * sim_at : 4 * sim_end],
                sim_counts[4 * sim_at : 4 * sim_end],
                best,
                tuple(marks[0]),
                tuple(marks[1]),
                tuple(marks[2]),
            )
        )
        at, sim_at = end, sim_end
    return entries


def _lone_per_paper(
    n: int,
    keys: Sequence[str],
    pair_paper: np.ndarray,
    pair_key: np.ndarray,
    weighted: np.ndarray,
    possible: np.ndarray,
) -> tuple[tuple[str, int] | None, ...]:
    """Each paper's ``_best_use`` of its possible subjects: the most used (at least twice),
    then the longest, then the first by key."""
    paper, key, value = pair_paper[possible], pair_key[possible], weighted[possible]
    top = np.zeros(n, dtype=np.int64)
    np.maximum.at(top, paper, value)
    best = (value == top[paper]) & (value >= 2)
    found: list[tuple[str, int] | None] = [None] * n
    for row, k, v in zip(
        paper[best].tolist(), key[best].tolist(), value[best].tolist(), strict=True
    ):
        held = found[row]
        if held is None or (-keys[k].count(" "), keys[k]) < (-held[0].count(" "), held[0]):
            found[row] = (keys[k], v)
    return tuple(found)


# What counting a block's texts gives: its block (None when not asked for) and, when asked
# for (to note in a memo), each text's entry.
_Counted = tuple[_Block | None, list[_Entry] | None]


def _count_texts(
    texts: Sequence[tuple[str, str]], want_block: bool, want_entries: bool
) -> _Counted:
    """Count texts into a block, or into entries, or both: one count of the whole block
    (``_counted_texts``), the entries (``paper_entry``'s) cut from its arrays."""
    block, entries = _counted_texts(texts, want_entries)
    return (block if want_block or not want_entries else None), entries


_COUNT_TEXTS: list[list[tuple[str, str]]] = []  # set before forking; read by _count_shared
COUNT_BLOCK = 500  # texts per block on average: a changed text recounts its block from entries


def _count_shared(task: tuple[list[int], bool, bool]) -> _Counted:
    rows, want_block, want_entries = task
    texts = _COUNT_TEXTS[-1]
    return _count_texts([texts[i] for i in rows], want_block, want_entries)


def _all_blocks(texts: list[tuple[str, str]], workers: int, memo: Memo | None) -> Iterator[_Block]:
    """The blocks of consecutive texts: entries from the memo where it has them, the others
    counted (in forked workers when asked and worth it) and noted in the memo. With a memo,
    each block is noted in it too, keyed by its texts' keys: a block whose texts all
    stayed the same (a rebuild after a few records changed, were added or removed) is
    taken whole from it."""
    keys = [text_key(*t) for t in texts] if memo is not None else None
    bounds = _block_bounds(len(texts), keys)
    known: list[dict[int, _Entry]] = []
    whole: list[_Block | None] = []
    tasks: list[tuple[list[int], bool, bool]] = []
    for lo, hi in bounds:
        hits: dict[int, _Entry] = {}
        block = None
        if keys is not None and memo is not None:
            for i in range(lo, hi):
                found = memo.get(keys[i])  # read even when the block is known: kept noted
                if found is not None:
                    hits[i] = found
            if len(hits) == hi - lo:
                stored = memo.get(block_key(keys[lo:hi]))
                block = stored if isinstance(stored, _Block) else None
        known.append(hits)
        whole.append(block)
        # A block with memo hits is made from all its entries, here.
        rows = [] if block is not None else [i for i in range(lo, hi) if i not in hits]
        tasks.append((rows, not hits, memo is not None))
    fork = "fork" in mp.get_all_start_methods()
    made: Iterator[_Counted]
    pool: Any = None
    if workers > 1 and sum(1 for t in tasks if t[0]) > 1 and fork:
        _COUNT_TEXTS.append(texts)
        pool = mp.get_context("fork").Pool(min(workers, len(bounds)))
        made = pool.imap(_count_shared, [t for t, b in zip(tasks, whole, strict=True) if b is None])
    else:
        made = (
            _count_texts([texts[i] for i in t[0]], t[1], t[2])
            for t, b in zip(tasks, whole, strict=True)
            if b is None
        )
    try:
        for (lo, hi), hits, task, block in zip(bounds, known, tasks, whole, strict=True):
            if block is None:
                block = _fill(lo, hi, hits, task[0], next(made), keys, memo)
                if keys is not None and memo is not None:
                    memo[block_key(keys[lo:hi])] = block
            yield block
    finally:
        if pool is not None:
            pool.terminate()
            _COUNT_TEXTS.pop()


def _block_bounds(n: int, keys: Sequence[str] | None) -> list[tuple[int, int]]:
    """The blocks of ``n`` texts, ``COUNT_BLOCK`` each. With their memo keys the blocks
    are cut where the content says (after a text whose key's hash is 0 modulo half of
    ``COUNT_BLOCK``, once the block has half of it; at most twice it), ``COUNT_BLOCK``
    texts on average: a text added or removed changes only the bounds near it, and the
    other blocks are found in the memo again."""
    if keys is None:
        return [(lo, min(n, lo + COUNT_BLOCK)) for lo in range(0, n, COUNT_BLOCK)]
    half = max(1, COUNT_BLOCK // 2)
    bounds: list[tuple[int, int]] = []
    lo = 0
    for i, key in enumerate(keys):
        size = i + 1 - lo
        if (size >= half and int(key[-8:], 16) % half == 0) or size >= 2 * COUNT_BLOCK:
            bounds.append((lo, i + 1))
            lo = i + 1
    if lo < n:
        bounds.append((lo, n))
    return bounds


def block_key(keys: Sequence[str]) -> str:
    """Memo key of the block of texts with these ``text_key`` keys, in order."""
    h = hashlib.blake2b(digest_size=16, person=b"papersite-block")
    h.update("\n".join(keys).encode("ascii"))
    return f"{MEMO_VERSION}:block:{h.hexdigest()}"


def _fill(
    lo: int,
    hi: int,
    hits: dict[int, _Entry],
    rows: list[int],
    made: _Counted,
    keys: list[str] | None,
    memo: Memo | None,
) -> _Block:
    """A block's counts, the entries counted noted in the memo."""
    block, entries = made
    if entries is not None:
        for i, entry in zip(rows, entries, strict=True):
            hits[i] = entry
            if memo is not None and keys is not None:
                memo[keys[i]] = entry
    if block is not None:
        return block
    return _block_of_entries([hits[i] for i in range(lo, hi)])


def _ints(data: Sequence[bytes]) -> np.ndarray:
    joined = b"".join(data)
    return np.frombuffer(joined, dtype=np.int32) if joined else np.zeros(0, np.int32)


def _number(keys: list[str], vocab: dict[str, int], names: list[str] | None = None) -> np.ndarray:
    """Vocabulary ids of keys, a new key numbered next in order of first use (what
    ``[vocab.setdefault(k, len(vocab)) for k in keys]`` gives, in C-level passes); new
    keys are appended to ``names`` when given."""
    new = list(itertools.filterfalse(vocab.__contains__, dict.fromkeys(keys)))
    vocab.update(zip(new, itertools.count(len(vocab)), strict=False))
    if names is not None:
        names.extend(new)
    return np.fromiter(map(vocab.__getitem__, keys), dtype=np.int32, count=len(keys))


@dataclass(frozen=True, eq=False)
class SimilarityTerms:
    """The similarity terms of texts as counted (ids of ``TERMS``' vocabulary, and their
    counts), texts in order: each text's ``lengths[i]`` terms follow the texts before it."""

    texts: list[tuple[str, str]]
    lengths: np.ndarray  # per text, how many terms (int32)
    ids: np.ndarray  # int32
    counts: np.ndarray  # int32


_COUNTED: list[SimilarityTerms] = []  # what the last ``_count`` of this process noted


def counted_terms(texts: Sequence[tuple[str, str]]) -> SimilarityTerms | None:
    """The similarity terms of exactly these texts, in this order, when the last count of
    topics in this process was of them (similar papers then read them whole)."""
    found = _COUNTED[-1] if _COUNTED else None
    return found if found is not None and found.texts == texts else None


def _count(papers: Sequence[Paper], workers: int = 1, memo: Memo | None = None) -> _Stats:
    # key -> vocabulary id: a new key is numbered next when first looked up
    vocab: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    definitions: Counter[tuple[str, str]] = Counter()
    capitals: Counter[str] = Counter()
    ics: set[str] = set()
    texts = [paper_text(p) for p in papers]
    if len(_LONE) > 400_000:
        _LONE.clear()
    all_ids: list[np.ndarray] = []
    all_counts: list[np.ndarray] = []
    all_lengths: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    all_title_ids: list[np.ndarray] = []
    names: list[str] = []  # vocabulary id -> key
    term_of = np.zeros(0, dtype=np.int32)  # vocabulary id -> term cache id, -1 unknown yet
    sim_ids: list[np.ndarray] = []
    sim_counts: list[np.ndarray] = []
    sim_lengths: list[np.ndarray] = []
    done = 0
    for block in _all_blocks(texts, workers, memo):
        # Keys to vocabulary ids, numbered in order of first use: the block's distinct keys
        # come in the order of their first use, so numbering them numbers every use.
        block_keys = block.keys.split("\n") if block.keys else []
        to_vocab = np.fromiter(map(vocab.__getitem__, block_keys), np.int32, len(block_keys))
        added = len(vocab) - len(names)  # new keys: the last ones numbered, read from the end
        names.extend(reversed(list(itertools.islice(reversed(vocab), added))))
        all_ids.append(to_vocab[_ints([block.ids])])
        all_counts.append(_ints([block.counts]).astype(np.float32))
        all_lengths.append(_ints([block.lengths]).astype(np.int64))
        all_title_ids.append(to_vocab[_ints([block.title_ids])])
        # Similarity terms to the term cache's ids (its own vocabulary).
        if len(term_of) < len(names):
            term_of = np.concatenate(
                (term_of, np.full(len(names) - len(term_of), -1, dtype=np.int32))
            )
        sim_vocab = to_vocab[_ints([block.sim_ids])]
        unmapped = np.unique(sim_vocab[term_of[sim_vocab] < 0])
        term_of[unmapped] = _number([names[i] for i in unmapped.tolist()], TERMS.vocab)
        sim_ids.append(term_of[sim_vocab])
        sim_counts.append(_ints([block.sim_counts]))
        sim_lengths.append(_ints([block.sim_lengths]))
        _LONE.update(zip(texts[done : done + len(block.lone)], block.lone, strict=True))
        definitions.update(block.definitions)
        capitals.update(block.capitals)
        ics.update(block.ics)
        done += len(block.lone)
    joined = (
        np.concatenate(part) if part else np.zeros(0, np.int32)
        for part in (sim_lengths, sim_ids, sim_counts)
    )
    _COUNTED[:] = [SimilarityTerms(texts, *joined)]
    indices = np.concatenate(all_ids) if all_ids else np.zeros(0, np.int32)
    data = np.concatenate(all_counts) if all_counts else np.zeros(0, np.float32)
    indptr = np.cumsum(np.concatenate(all_lengths))
    title_ids = np.concatenate(all_title_ids) if all_title_ids else np.zeros(0, np.int32)
    keys = list(vocab)
    # Columns of one merge key share the first column's id.
    # (Merge keys of all keys at once: keys hold no "\n".)
    merged = "\n".join(keys).replace(" ", "").replace("-", "").split("\n") if keys else []
    # Each merge key -> its first key (later pairs overwrite: reversed, the first wins).
    first = dict(zip(reversed(merged), range(len(merged) - 1, -1, -1), strict=True))
    canon = np.fromiter(map(first.__getitem__, merged), dtype=np.int32, count=len(merged))
    # The column is named by its plainest variant ("functionality", not "functi-onality"):
    # fewest parts, then first used.
    shared = np.flatnonzero(canon != np.arange(len(keys), dtype=np.int32))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in shared.tolist():
        groups[int(canon[i])].append(i)
    for head, rest in groups.items():
        members = [head, *rest]
        plainest = min(members, key=lambda i: (len(key_parts(keys[i])), i))
        if plainest != head:
            first[merged[head]] = plainest
            canon[members] = plainest
    # An acronym joins the long form it is defined as most often.
    acronyms: dict[int, str] = {}
    best: dict[str, tuple[int, str]] = {}
    for (acr, spaced), n in sorted(definitions.items()):
        if n > best.get(acr, (0, ""))[0]:
            best[acr] = (n, spaced)
    for acr, (_, spaced) in sorted(best.items()):
        long_col = first.get(merge_key(spaced))
        acr_col = first.get(acr)
        if long_col is None or acr_col is None or acr_col == long_col:
            continue
        canon[acr_col] = long_col
        acronyms[long_col] = acr
    # Resolve chains (a merged column pointing to a column itself merged).
    canon = canon[canon]
    n_papers = len(papers)
    counts = sp.csr_matrix(
        (data, canon[indices], indptr),
        shape=(n_papers, max(1, len(keys))),
    )
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    title_df = np.bincount(canon[title_ids], minlength=counts.shape[1])
    named = {first[w]: n for w, n in capitals.items() if w in first}
    ics_cols = {first[w] for w in ics if w in first}
    return _Stats(keys, counts, df, first, acronyms, named, ics_cols, title_df, canon)


def _unigram_ok(key: str, named: bool, ics: bool) -> bool:
    parts = key_parts(key)
    if merge_key(key) in GENERIC_UNIGRAMS or parts[0] in STOP_WORDS or len(merge_key(key)) < 3:
        return False
    return named or ics or nounish_alone(parts[-1])


def _generic(part: str) -> bool:
    return part in GENERIC_UNIGRAMS or part in GENERIC_NOUNS


def _fragment(words: Sequence[str], parts: Sequence[str], stats: _Stats, df: int) -> bool:
    """A phrase no one would name a topic: "representations of word" (a general noun
    "of" something), "teacher BERTBASE" (a role word before a name)."""
    if "of" in parts and _generic(parts[0]):
        return True
    if len(words) >= 2 and _generic(words[0]):
        rest = stats.column.get(merge_key(" ".join(words[1:])))
        return rest is not None and stats.named.get(rest, 0) * 2 >= stats.df[rest]
    return False


def _candidates(
    stats: _Stats, n_papers: int, blocked: set[str], *, strict: bool = True
) -> tuple[dict[int, float], dict[int, int]]:
    """Column -> quality score for every phrase fit to be a topic, and absorbed columns
    (a fragment -> the phrase that takes its papers)."""
    min_df = max(2, math.ceil(n_papers / 5000))
    max_df = MAX_SHARE * n_papers
    df = stats.df
    cols = np.nonzero((df >= min_df) & (df <= max_df))[0]
    burst = np.asarray(stats.counts.sum(axis=0)).ravel() / np.maximum(df, 1)
    out: dict[int, float] = {}
    for col in cols.tolist():
        key = stats.keys[col]
        if merge_key(key) in blocked or merge_key(key) in BOILERPLATE_PHRASES:
            continue
        words = key.split(" ")
        parts = key_parts(key)
        if parts[0] in STOP_WORDS or parts[-1] in STOP_WORDS:
            continue
        if len(words) == 1 and "of" not in parts:
            named = stats.named.get(col, 0) * 2 >= df[col]
            if not _unigram_ok(key, named, col in stats.ics):
                continue
            field = col in stats.ics or field_noun(key)
            # A plain word is a topic only when papers name their subject with it: in the
            # titles of two of its papers (one, for a field's name like "photonics").
            if (
                not named
                and strict
                and (merge_key(key) in GENERIC_NOUNS or stats.title_df[col] < (1 if field else 2))
            ):
                continue
            # A subject word recurs within the papers that use it; a common word does not.
            if burst[col] < (1.5 if named else 2.0):
                continue
            cohesion = 1.0
            shape = 1.0 if field else 0.5
        else:
            if not nounish_end(parts[-1]) and stats.named.get(col, 0) * 2 < df[col]:
                continue
            content = [p for p in parts if p not in CONNECTORS]
            if _fragment(words, parts, stats, df[col]):
                continue
            shape = 0.6 if all(p in GENERIC_UNIGRAMS for p in content) else 1.0
            if len(words) > 3:
                shape *= 0.85
            part_df = [int(df[stats.column[p]]) for p in content if p in stats.column]
            rarest = min(part_df) if part_df else int(df[col])
            cohesion = min(1.0, float(df[col]) / max(rarest, 1))
            if cohesion < MIN_COHESION:
                continue
        d = float(df[col])
        out[col] = (
            shape
            * math.sqrt(cohesion * min(burst[col], 2.0))
            * math.sqrt(d)
            * math.log(n_papers / d + 1.0)
        )
    # Nested phrases ("distillation" in "knowledge distillation", "theorem proving" in
    # "automated theorem proving") used in mostly the same papers are one topic.
    absorbed: dict[int, int] = {}
    dropped: set[int] = set()
    for col in sorted(out, key=lambda c: (-len(stats.keys[c]), c)):
        if col in dropped:
            continue
        words = stats.keys[col].split(" ")
        for size in range(len(words) - 1, 0, -1):
            for start in range(0, len(words) - size + 1):
                sub = words[start : start + size]
                sub_col = stats.column.get(merge_key(" ".join(sub)))
                if sub_col is None or sub_col not in out or sub_col in dropped:
                    continue
                ratio = df[col] / df[sub_col]
                if size == 1 and len(key_parts(sub[0])) == 1 and ratio >= 0.7:
                    dropped.add(sub_col)  # a bare word inside its usual phrase
                    absorbed[sub_col] = col
                elif (
                    size >= 2
                    and start + size == len(words)
                    and 0.5 <= ratio < 1.0
                    and not all(_generic(p) for p in key_parts(" ".join(sub)) if p != "of")
                ):
                    # The same head used by more papers names the topic: "theorem proving"
                    # takes "automated theorem proving" (never "language processing").
                    dropped.add(col)
                    absorbed[col] = sub_col
                    break
                elif ratio >= 0.8:
                    dropped.add(sub_col)  # a fragment of the phrase
                    absorbed[sub_col] = col
                elif ratio >= 0.5:
                    dropped.add(col if out[sub_col] >= out[col] else sub_col)
    # "ATP benchmarks", "MD simulation": a topic plus a general head word is that topic.
    for col in sorted(out, key=lambda c: (-len(stats.keys[c]), c)):
        words = stats.keys[col].split(" ")
        if col in dropped or len(words) < 2 or not _generic(key_parts(words[-1])[-1]):
            continue
        head = stats.column.get(merge_key(" ".join(words[:-1])))
        if head is None:
            continue
        head = int(stats.canon[head])
        while head in absorbed and head in dropped:
            head = absorbed[head]
        if (
            head in out
            and head not in dropped
            and head != col
            and not all(_generic(p) for p in key_parts(stats.keys[head]) if p != "of")
        ):
            dropped.add(col)
            absorbed[col] = head
    for col in dropped:
        out.pop(col, None)
    resolved: dict[int, int] = {}
    for a, b in absorbed.items():
        seen = {a}
        while b not in out and b in absorbed and b not in seen:
            seen.add(b)
            b = absorbed[b]
        if b in out:
            resolved[a] = b
    return out, resolved


def _content_parts(key: str, stats: _Stats) -> frozenset[str]:
    """The words a topic is made of, for telling nested topics apart (acronyms expanded)."""
    expand = {acr: stats.keys[col] for col, acr in stats.acronyms.items()}
    parts: list[str] = []
    for p in key_parts(key):
        parts.extend(key_parts(expand[p]) if p in expand else [p])
    content = frozenset(p for p in parts if p not in CONNECTORS and p not in GENERIC_UNIGRAMS)
    return content or frozenset(parts)


def _absorb(stats: _Stats, absorbed: Mapping[int, int]) -> sp.csr_matrix:
    """Papers that use a dropped fragment at least twice join the phrase that absorbed it."""
    if not absorbed:
        return stats.counts
    csc = stats.counts.tocsc()
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for src, dst in sorted(absorbed.items()):
        lo, hi = csc.indptr[src], csc.indptr[src + 1]
        r = csc.indices[lo:hi][csc.data[lo:hi] >= 2]
        rows.append(r)
        cols.append(np.full(len(r), dst, dtype=np.int64))
    r_all = np.concatenate(rows)
    extra = sp.csr_matrix(
        (np.ones(len(r_all), dtype=np.float32), (r_all, np.concatenate(cols))),
        shape=stats.counts.shape,
    )
    return (stats.counts + extra).tocsr()


@dataclass(frozen=True)
class _Choosing:
    """What choosing papers' topics reads: the (paper, candidate topic) pairs as arrays, each
    paper's pairs at ``[bounds[row]:bounds[row + 1]]`` in both of its orders."""

    cols: np.ndarray  # local column -> topic column
    by_score: np.ndarray  # per pair, its local column; each paper's by how good a topic overall
    ranked: np.ndarray  # each paper's pairs by weight in the paper, as positions in by_score
    bounds: np.ndarray  # paper row -> where its pairs begin (and, at row + 1, end)
    masks: np.ndarray  # per pair of by_score, its topic's content words as bits (uint64 rows)
    wide: np.ndarray  # per paper: too many words among its candidates for ``WORD_BITS``
    parts: list[frozenset[str]]  # local column -> its content words
    room: np.ndarray  # per paper, how many topics it can take


WORD_BITS = 256  # at most this many of a paper's words numbered within it, as bits
WORD_ROWS = 16384  # papers whose words are numbered at once


def _word_bits(
    rows: np.ndarray, local: np.ndarray, parts: Sequence[frozenset[str]], n_papers: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per (paper, candidate) pair (pairs in paper order), its topic's content words as
    bits: each paper's words (of all its candidates) numbered 0, 1, ... in one order, a
    word's bit its number, in as many uint64 as the paper with the most words needs (at
    most ``WORD_BITS`` bits). And per paper, whether it has more words than that (its pairs'
    bits are then not used). Made for ``WORD_ROWS`` papers at a time (bounded memory)."""
    number: dict[str, int] = {}
    col_words = [[number.setdefault(w, len(number)) for w in sorted(p)] for p in parts]
    sizes = np.fromiter(map(len, col_words), dtype=np.int64, count=len(col_words))
    flat = np.fromiter(itertools.chain.from_iterable(col_words), dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    width = max(1, len(number))
    wide = np.zeros(n_papers, dtype=bool)
    parts_of: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    most = 0
    cuts = np.searchsorted(rows, np.arange(0, n_papers + WORD_ROWS, WORD_ROWS)).tolist()
    for lo, hi in itertools.pairwise(cuts):
        if lo == hi:
            continue
        per = sizes[local[lo:hi]]  # words of each pair
        pair = np.repeat(np.arange(hi - lo, dtype=np.int64), per)
        within = np.arange(len(pair), dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
        word = flat[starts[local[lo:hi]][pair] + within]
        codes, inverse = np.unique(rows[lo:hi][pair] * width + word, return_inverse=True)
        del within, word
        code_row = codes // width
        bit = np.arange(len(codes), dtype=np.int64) - np.searchsorted(code_row, code_row)
        wide[code_row[bit >= WORD_BITS]] = True
        most = max(most, int(bit.max(initial=0)) + 1)
        pair_bit = bit[inverse]
        fits = pair_bit < WORD_BITS
        kept = pair_bit[fits]
        parts_of.append(
            (
                lo,
                pair[fits].astype(np.int32),
                (kept // 64).astype(np.uint8),
                (kept % 64).astype(np.uint8),
            )
        )
    words = min(max(1, -(-most // 64)), WORD_BITS // 64)
    masks = np.zeros((len(local), words), dtype=np.uint64)
    for lo, pair, word_of, bit_of in parts_of:
        np.bitwise_or.at(
            masks,
            (pair.astype(np.int64) + lo, word_of),
            np.left_shift(np.uint64(1), bit_of.astype(np.uint64)),
        )
    return masks, wide


def _pick_rows(
    job: _Choosing,
    active: np.ndarray,
    rows: np.ndarray,
    allowed: np.ndarray | None = None,
    taken: np.ndarray | None = None,
) -> list[list[int]]:
    """The topic columns each paper of ``rows`` gets, of the ``active`` ones (a bool per
    local column). ``allowed`` and ``taken`` (a bool per pair of ``job.by_score``), when
    given, are set for the pairs of ``rows``: whether the paper allows the pair's topic
    (below), and whether it gets it (``taken``: set for papers with few words only).

    Of two topics sharing a word, a paper keeps the one that is better overall, so nested
    topics do not split their papers between them: going down its candidates by score, it
    allows each whose words none allowed before it has; then its allowed topics by weight
    in the paper, as many as it has room for. All papers go down their candidates together,
    one place at a time, their words used so far as bits."""
    wide = job.wide[rows]
    if allowed is None:
        allowed = np.zeros(len(job.by_score), dtype=bool)
    out: list[list[int]] = [[] for _ in range(len(rows))]
    for i in np.flatnonzero(wide).tolist():
        out[i] = _pick_wide(job, active, int(rows[i]), allowed)
    narrow = rows[~wide]
    begin = job.bounds[narrow]
    sizes = job.bounds[narrow + 1] - begin
    longest = np.argsort(-sizes, kind="stable")  # papers with more than j pairs: a prefix
    first, size = begin[longest], sizes[longest]
    used = np.zeros((len(narrow), job.masks.shape[1]), dtype=np.uint64)
    depth = int(size[0]) if len(size) else 0
    still = np.searchsorted(-size, -np.arange(depth), side="left").tolist()
    for j, k in enumerate(still):
        at = first[:k] + j
        bits = job.masks[at]
        ok = active[job.by_score[at]] & ~(used[:k] & bits).any(axis=1)
        used[:k] |= np.where(ok[:, None], bits, np.uint64(0))
        allowed[at] = ok
    # Each paper's allowed topics by weight in the paper, at most its room.
    total = int(sizes.sum())
    paper = np.repeat(np.arange(len(narrow), dtype=np.int64), sizes)
    offsets = np.cumsum(sizes) - sizes
    at = job.ranked[np.repeat(begin, sizes) + np.arange(total, dtype=np.int64) - offsets[paper]]
    ok = allowed[at]
    seen = np.cumsum(ok)
    before = np.concatenate(([0], seen))[offsets]  # allowed ones of the papers before
    keep = ok & (seen - before[paper] <= job.room[narrow][paper])
    if taken is not None:
        taken[at] = keep
    kept = job.cols[job.by_score[at[keep]]].tolist()
    ends = np.cumsum(np.bincount(paper[keep], minlength=len(narrow))).tolist()
    start = 0
    for i, end in zip(np.flatnonzero(~wide).tolist(), ends, strict=True):
        out[i] = kept[start:end]
        start = end
    return out


def _pick_wide(job: _Choosing, active: np.ndarray, row: int, flags: np.ndarray) -> list[int]:
    """``_pick_rows`` of one paper, with its words as sets (a paper with many words);
    ``flags``: its ``allowed``."""
    lo, hi = int(job.bounds[row]), int(job.bounds[row + 1])
    allowed: set[int] = set()
    used: set[str] = set()
    for col in job.by_score[lo:hi].tolist():
        if active[col] and job.parts[col].isdisjoint(used):
            allowed.add(col)
            used |= job.parts[col]
    flags[lo:hi] = [col in allowed for col in job.by_score[lo:hi].tolist()]
    ranked = job.by_score[job.ranked[lo:hi]].tolist()
    return [int(job.cols[c]) for c in ranked if c in allowed][: int(job.room[row])]


def _order_in_rows(rows: np.ndarray, first: np.ndarray, then: np.ndarray, span: int) -> np.ndarray:
    """The order of (row, first, then) triples of non-negative integers (``then`` below
    ``span``), rows ascending: ``np.lexsort((then, first, rows))``, as one sort of int64
    keys when they fit."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    firsts = int(first.max()) + 1
    if (int(rows.max()) + 1) * firsts * span < 2**62:
        return np.argsort((rows * firsts + first) * span + then, kind="stable")
    return np.lexsort((then, first, rows))


def _assign(
    stats: _Stats,
    counts: sp.csr_matrix,
    scores: dict[int, float],
    n_papers: int,
    room: Sequence[int],
) -> list[list[int]]:
    """Per paper, the topic columns it gets (best first): each paper chooses
    (``_pick_rows``); then, while some topic has fewer than two papers, the emptiest are
    dropped and the papers that had one among their candidates choose again."""
    cols = np.array(sorted(scores), dtype=np.int64)
    if len(cols) == 0:
        return [[] for _ in range(n_papers)]
    sub = counts[:, cols].tocsr()
    score_arr = np.array([scores[c] for c in cols.tolist()], dtype=np.float64)
    parts = [_content_parts(stats.keys[c], stats) for c in cols.tolist()]
    # Each paper's candidate topics, by weight in the paper, then column...
    rows = np.repeat(np.arange(n_papers, dtype=np.int64), np.diff(sub.indptr))
    local = sub.indices.astype(np.int64)
    weight = (1.0 + 0.5 * np.log(np.maximum(sub.data, 1.0))) * score_arr[local]
    by_weight = _order_in_rows(rows, np.unique(-weight, return_inverse=True)[1], local, len(cols))
    # ... and by how good a topic each is overall (score, then column).
    order = sorted(range(len(cols)), key=lambda i: (-score_arr[i], i))
    place = np.zeros(len(cols), dtype=np.int64)
    place[order] = np.arange(len(order))
    by_score = _order_in_rows(rows, place[local], np.zeros_like(local), 1)
    position = np.empty(len(by_score), dtype=np.int64)  # pair -> its place in by_score
    position[by_score] = np.arange(len(by_score))
    masks, wide = _word_bits(rows, local[by_score], parts, n_papers)
    job = _Choosing(
        cols=cols,
        by_score=local[by_score],
        ranked=position[by_weight],
        bounds=sub.indptr.astype(np.int64),
        masks=masks,
        wide=wide,
        parts=parts,
        room=np.asarray(room, dtype=np.int64),
    )
    active = np.ones(len(cols), dtype=bool)
    allowed = np.zeros(len(job.by_score), dtype=bool)  # per pair: its paper allows it
    taken = np.zeros(len(job.by_score), dtype=bool)  # per pair: its paper gets it
    chosen = _pick_rows(job, active, np.arange(n_papers, dtype=np.int64), allowed, taken)
    pair_row = np.repeat(np.arange(n_papers, dtype=np.int64), np.diff(job.bounds))
    load: Counter[int] = Counter(itertools.chain.from_iterable(chosen))
    local_of = {c: i for i, c in enumerate(cols.tolist())}
    for step in range(10):
        dropped = {c for c in local_of if active[local_of[c]] and load[c] < 2}
        if not dropped or step == 9:
            break
        # Drop the emptiest first: a topic that loses papers may free room for another.
        # Only the papers whose choice may change choose again (``_choose_again``).
        worst = min(load[c] for c in dropped)
        gone = [local_of[c] for c in dropped if load[c] == worst]
        active[gone] = False
        again = _choose_again(job, active, allowed, taken, pair_row)
        load.subtract(Counter(itertools.chain.from_iterable(chosen[r] for r in again.tolist())))
        picks = _pick_rows(job, active, again, allowed, taken)
        for row, picked in zip(again.tolist(), picks, strict=True):
            chosen[row] = picked
        load.update(itertools.chain.from_iterable(chosen[r] for r in again.tolist()))
    return chosen


def _choose_again(
    job: _Choosing,
    active: np.ndarray,
    allowed: np.ndarray,
    taken: np.ndarray,
    pair_row: np.ndarray,
) -> np.ndarray:
    """The papers (ascending) whose topics may change now that the topics not ``active``
    are dropped; the others keep theirs, and their dropped topics are no longer allowed.

    Going down its candidates by score, a paper that did not allow a dropped topic skipped
    it, its words not used, and skips it again: every step stays the same. One that allowed
    it but did not get it now leaves its words free; the steps after it change only if a
    candidate after it was refused for a word of it. So a paper chooses again when it got
    a dropped topic, or a candidate after an allowed dropped one shares a word with it and
    was refused, or its words are too many for bits (then it is not known)."""
    lost = np.flatnonzero(allowed & ~active[job.by_score])  # pairs: allowed, now dropped
    rows = pair_row[lost]
    again = job.wide[rows] | taken[lost]
    # each lost pair against the candidates after it in its paper's order by score, for
    # about ``AGAIN_PAIRS`` such (lost, later) pairs at a time (bounded memory)
    after = job.bounds[rows + 1] - lost - 1
    cuts = np.searchsorted(np.cumsum(after), np.arange(0, int(after.sum()), AGAIN_PAIRS))
    for lo, hi in itertools.pairwise([*cuts.tolist(), len(lost)]):
        part = after[lo:hi]
        which = np.repeat(np.arange(lo, hi, dtype=np.int64), part)
        later = lost[which] + 1 + np.arange(len(which), dtype=np.int64)
        later -= np.repeat(np.cumsum(part) - part, part)
        refused = ~allowed[later] & (job.masks[later] & job.masks[lost[which]]).any(axis=1)
        again[which[refused]] = True
    allowed[lost[~again]] = False
    return np.unique(rows[again])


AGAIN_PAIRS = 1 << 20  # (lost, later) pairs compared at once by ``_choose_again``


def _fallback(
    stats: _Stats,
    counts: sp.csr_matrix,
    scores: dict[int, float],
    chosen: list[list[int]],
    room: Sequence[int],
    cat_of: Sequence[tuple[str, str] | None],
    good_cats: set[str],
    blocked: set[str],
) -> None:
    """A paper left without any topic takes the best general word it shares with another
    paper ("interaction"): a weak topic, but every paper gets one. Others that use the word
    and have room join it."""
    bare = [
        row
        for row, cols in enumerate(chosen)
        if not cols and (cat_of[row] or ("", ""))[0] not in good_cats and room[row] > 0
    ]
    if not bare:
        return
    relaxed, _ = _candidates(stats, len(chosen), blocked, strict=False)
    extra = {c: v for c, v in relaxed.items() if c not in scores}
    if not extra:
        return
    csc = counts.tocsc()
    taken: dict[int, list[int]] = {}
    for row in bare:
        lo, hi = counts.indptr[row], counts.indptr[row + 1]
        cands = sorted(
            (c for c in counts.indices[lo:hi].tolist() if c in extra),
            key=lambda c: (-extra[c], c),
        )
        for col in cands:
            if col not in taken:
                a, b = csc.indptr[col], csc.indptr[col + 1]
                rows = csc.indices[a:b].tolist()
                taken[col] = [r for r in rows if r != row and len(chosen[r]) < room[r]]
            if taken[col] or any(col in chosen[r] for r in bare if r != row):
                chosen[row].append(col)
                break
    for col, rows in taken.items():
        if any(col in chosen[r] for r in bare):
            for r in rows:
                if col not in chosen[r] and len(chosen[r]) < room[r]:
                    chosen[r].append(col)
    scores.update({c: extra[c] for c in taken})


def _display_names(
    papers: Sequence[Paper],
    stats: _Stats,
    chosen: Sequence[Sequence[int]],
    wanted: set[int],
    memo: Memo | None = None,
) -> dict[int, str]:
    """Most used spelling of each topic column, from a sample of its papers. ``memo``: the
    spellings found in each sampled text are noted, under the topics' merge keys (not their
    columns: a new phrase renumbers the columns after it), so a rebuild with the same topics
    reads only the sampled texts it has not read before."""
    targets = {merge_key(stats.keys[c]): c for c in wanted}
    prefixes: set[str] | None = None
    known: dict[str, tuple[tuple[str, str], ...]] = {}  # text key -> (merge key, spelling)s
    seen: dict[str, tuple[tuple[str, str], ...]] = {}
    key = ""
    if memo is not None:
        h = hashlib.blake2b(digest_size=16, person=b"papersite-names")
        h.update("\n".join(sorted(targets)).encode("utf-8", "surrogatepass"))
        key = f"{MEMO_VERSION}:spellings:{h.hexdigest()}"
        stored = memo.get(key)
        known = stored if isinstance(stored, dict) else {}
    spellings: dict[int, Counter[str]] = defaultdict(Counter)
    cased: dict[str, str] = {}
    for row in _sample_rows(chosen, wanted):
        title, abstract = paper_text(papers[row])
        tkey = text_key(title, abstract) if memo is not None else ""
        found = known.get(tkey) if memo is not None else None
        if found is None:
            if prefixes is None:
                prefixes = {t[:m] for t in targets for m in range(1, len(t) + 1)}
            spelled: list[tuple[str, str]] = []
            for text in (title, abstract):
                for mk, surface in target_surfaces(text, targets, prefixes):
                    name = cased.get(surface)
                    if name is None:
                        name = cased[surface] = _case(surface)
                    spelled.append((mk, name))
            found = tuple(spelled)
        seen[tkey] = found
        for mk, name in found:
            spellings[targets[mk]][name] += 1
    if memo is not None:
        memo[key] = known if seen == known else seen  # the same object: not written again
    names: dict[int, str] = {}
    for col in wanted:
        counted = spellings.get(col)
        if counted:
            ranked = sorted(counted.items(), key=lambda kv: (-kv[1], "-" in kv[0], kv[0]))
            ics_form = [s for s, _ in ranked if " " not in s and s.endswith("ics")]
            names[col] = ics_form[0] if ics_form else ranked[0][0]
        else:
            names[col] = stats.keys[col]
    return names


def _sample_rows(chosen: Sequence[Sequence[int]], wanted: AbstractSet[int]) -> list[int]:
    """The papers whose spellings name the topics: in paper order, each paper holding a
    wanted topic not yet held by three papers read before it (its topics then count as
    held once more). A paper holding a topic has it below three only while every earlier
    paper holding it was read, so these are the papers among the first three holding some
    wanted topic: found with one sort of the (paper, topic) pairs."""
    flat = np.fromiter(itertools.chain.from_iterable(chosen), dtype=np.int64)
    rows = np.repeat(np.arange(len(chosen), dtype=np.int64), [len(c) for c in chosen])
    keep = np.isin(flat, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
    flat, rows = flat[keep], rows[keep]
    by_topic = np.argsort(flat, kind="stable")  # each topic's pairs in paper order
    topic = flat[by_topic]
    starts = np.searchsorted(topic, topic)  # where each pair's topic begins
    early = rows[by_topic][np.arange(len(topic)) - starts < 3]
    found: list[int] = np.unique(early).tolist()
    return found


def _case(surface: str) -> str:
    """Lower-case except acronyms and inner capitals (BERT, MoE, LAMOST); 'x-of-y' spaced."""
    words = []
    for word in surface.split(" "):
        parts = []
        for part in word.split("-"):
            parts.append(part if any(ch.isupper() for ch in part[1:]) else part.lower())
        if any(p.lower() in CONNECTORS for p in parts[1:-1]):
            words.append(" ".join(parts))
        else:
            words.append("-".join(parts))
    return " ".join(words)


def _category_topic(code: str | None) -> tuple[str, str] | None:
    if not code:
        return None
    full = full_category(code) or code
    name = CATEGORY_NAMES.get(full)
    return (f"{name} ({full})" if name else full), full


def assign_topics(
    papers: Sequence[Paper],
    config: TopicConfig | None = None,
    *,
    workers: int = 1,
    memo: Memo | None = None,
) -> TopicResult:
    """Topics of a set of papers: derived phrases and arXiv categories, config applied.

    ``workers`` > 1 counts the phrases of blocks of papers in that many forked processes
    (same result: each paper's counts are its own; they are merged in paper order).
    ``memo``: per-paper work (phrases, counts, similarity terms) keyed by ``text_key`` of
    the title and abstract it reads; entries found are reused, the others computed and
    added. Pass the same mapping between builds: the result is the same as without it."""
    config = config or TopicConfig()
    n = len(papers)
    if n == 0:
        return TopicResult((), {})
    blocked = {key_of_name(b) for b in config.block}
    # Categories first: they take one of each paper's five places when they qualify.
    cat_of: list[tuple[str, str] | None] = [_category_topic(p.category) for p in papers]
    cat_count = Counter(c[0] for c in cat_of if c)
    good_cats = {
        name
        for name, k in cat_count.items()
        if k >= 2 and k <= MAX_SHARE * n and key_of_name(name) not in blocked
    }
    pins = {pid: tuple(names) for pid, names in config.pin.items()}
    room = [
        MAX_TOPICS - (1 if c and c[0] in good_cats else 0) - len(pins.get(p.id, ()))
        for p, c in zip(papers, cat_of, strict=True)
    ]
    room = [max(r, 0) for r in room]
    stats = _count(papers, workers, memo)
    scores, absorbed = _candidates(stats, n, blocked)
    counts = _absorb(stats, absorbed)
    chosen = _assign(stats, counts, scores, n, room)
    _fallback(stats, counts, scores, chosen, room, cat_of, good_cats, blocked)
    used = {c for cols in chosen for c in cols}
    names = _display_names(papers, stats, chosen, used, memo)

    # name -> (kind, paper rows, acronym, category code)
    topic_rows: dict[str, list[int]] = defaultdict(list)
    kinds: dict[str, str] = {}
    extra: dict[str, str] = {}
    per_paper: list[list[str]] = [[] for _ in papers]
    for row, cols in enumerate(chosen):
        cat = cat_of[row]
        if cat and cat[0] in good_cats:
            per_paper[row].append(cat[0])
            kinds[cat[0]] = "category"
            extra[cat[0]] = cat[1]
        for col in cols:
            name = names[col]
            per_paper[row].append(name)
            kinds.setdefault(name, "phrase")
            if col in stats.acronyms:
                extra[name] = stats.acronyms[col].upper()
    per_paper = _apply_config(papers, per_paper, kinds, config)
    for row, names_row in enumerate(per_paper):
        for name in names_row:
            topic_rows[name].append(row)
    return _finish(papers, per_paper, topic_rows, kinds, extra, config)


def _lookup(name: str, known: Mapping[str, str]) -> str | None:
    """The topic (by name) a config entry refers to: same name, ignoring case and plural."""
    return known.get(key_of_name(name))


def _apply_config(
    papers: Sequence[Paper],
    per_paper: list[list[str]],
    kinds: dict[str, str],
    config: TopicConfig,
) -> list[list[str]]:
    known = {key_of_name(name): name for name in kinds}
    merge: dict[str, str] = {}
    for src, dst in config.merge.items():
        s = _lookup(src, known)
        if s is None:
            continue
        target = _lookup(dst, known) or dst
        if target != s:
            merge[s] = target
            kinds.setdefault(target, kinds[s])
    rows: list[list[str]] = []
    if not merge and not config.pin:  # nothing to add or replace
        rows = [list(dict.fromkeys(names))[:MAX_TOPICS] for names in per_paper]
    else:
        for paper, names in zip(papers, per_paper, strict=True):
            out: list[str] = []
            for pin in config.pin.get(paper.id, ()):
                name = _lookup(pin, known) or pin
                kinds.setdefault(name, "phrase")
                out.append(name)
            for name in names:
                name = merge.get(name, name)
                out.append(name)
            rows.append(list(dict.fromkeys(out))[:MAX_TOPICS])
    rename = {}
    for old, new in config.rename.items():
        o = _lookup(old, known) or _lookup(old, {key_of_name(k): k for k in kinds})
        if o is not None:
            rename[o] = new
            kinds[new] = kinds[o]
    return [[rename.get(n, n) for n in row] for row in rows] if rename else rows


def _finish(
    papers: Sequence[Paper],
    per_paper: list[list[str]],
    topic_rows: Mapping[str, list[int]],
    kinds: Mapping[str, str],
    extra: Mapping[str, str],
    config: TopicConfig,
) -> TopicResult:
    renamed_from = {new: old for old, new in config.rename.items()}
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(topic_rows, key=lambda s: (slugify(s), s)):
        base = slugify(name)
        slug, k = base, 1
        while slug in taken:
            k += 1
            slug = f"{base}-{k}"
        taken.add(slug)
        ids[name] = slug
    related_of = _related(per_paper, topic_rows)
    paper_ids = [p.id for p in papers]
    topics: list[Topic] = []
    for name in sorted(topic_rows, key=lambda s: (-len(topic_rows[s]), ids[s])):
        rows = sorted(set(topic_rows[name]))
        related = related_of.get(name, [])
        kind: Literal["category", "phrase"] = (
            "category" if kinds.get(name) == "category" else "phrase"
        )
        topics.append(
            Topic(
                id=ids[name],
                name=name,
                kind=kind,
                definition=_definition(
                    name,
                    kind,
                    extra.get(name) or extra.get(renamed_from.get(name, "")),
                    related[:2],
                    len(rows),
                ),
                paper_ids=tuple(map(paper_ids.__getitem__, rows)),
                related=tuple(ids[b] for b in related),
            )
        )
    paper_topics = {
        p.id: tuple(map(ids.__getitem__, names)) for p, names in zip(papers, per_paper, strict=True)
    }
    return TopicResult(tuple(topics), paper_topics)


def _related(
    per_paper: Sequence[Sequence[str]], topic_rows: Mapping[str, Sequence[int]]
) -> dict[str, list[str]]:
    """For each topic name, the six names it shares most papers with (then the smaller
    topic, then by name): how many times a paper holds both counted for each pair of a
    paper's names, as a loop over its pairs would (one sparse product of the papers x
    names counts), and ranked for all names at once."""
    number: dict[str, int] = {}
    indices = [number.setdefault(name, len(number)) for names in per_paper for name in names]
    if not indices:
        return {}
    held = sp.csr_matrix(
        (
            np.ones(len(indices), dtype=np.int64),
            np.array(indices, dtype=np.int64),
            np.cumsum([0, *map(len, per_paper)]),
        ),
        shape=(len(per_paper), len(number)),
    )
    pairs = sp.coo_matrix(held.T @ held)
    names = list(number)
    size = np.array([len(topic_rows[name]) for name in names], dtype=np.int64)
    by_name = np.empty(len(names), dtype=np.int64)
    by_name[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    a, b, n = pairs.row.astype(np.int64), pairs.col.astype(np.int64), pairs.data
    other = (a != b) & (n != 0)
    a, b, n = a[other], b[other], n[other]
    order = np.lexsort((by_name[b], size[b], -n, a))
    a, b = a[order], b[order]
    first = (np.arange(len(a)) - np.searchsorted(a, a)) < 6
    out: dict[str, list[str]] = {}
    for x, y in zip(a[first].tolist(), b[first].tolist(), strict=True):
        out.setdefault(names[x], []).append(names[y])
    return out


def _definition(name: str, kind: str, extra: str | None, related: Sequence[str], n: int) -> str:
    if kind == "category":
        code = extra or name
        return f"Papers whose primary arXiv category is {code} ({name.split(' (')[0]})."
    also = f" (also written {extra})" if extra else ""
    papers = "paper" if n == 1 else "papers"
    with_ = f", most often together with {' and '.join(related)}" if related else ""
    return f"The {n} {papers} whose title or abstract is about {name}{also}{with_}."


def category_name(code: str | None) -> str | None:
    """A category as topics name it: "Computation and Language (cs.CL)"."""
    found = _category_topic(code)
    return found[0] if found else None


def paper_phrase(paper: Paper) -> str | None:
    """The phrase a paper's own title and abstract name most (used at least twice, title
    uses counting double): what a reader would call a lone paper's subject."""
    return _text_phrase(*paper_text(paper))


_PHRASE_OK: dict[str, bool] = {}


def _phrase_ok(key: str) -> bool:
    """Whether a phrase key can name a lone paper's subject (two words or more, a noun at
    the end, not only general words)."""
    found = _PHRASE_OK.get(key)
    if found is None:
        found = lone_subject_ok(key)
        if len(_PHRASE_OK) > 1_000_000:
            _PHRASE_OK.clear()
        _PHRASE_OK[key] = found
    return found


# (title, abstract) -> the phrase its text names most and how often (None: no phrase used
# twice), noted while topics count the phrases so a lone paper's label needs no recount.
_LONE: dict[tuple[str, str], tuple[str, int] | None] = {}


def _best_use(uses: Mapping[str, int]) -> tuple[str, int] | None:
    """The most used phrase (used at least twice), then the longest, then the first by
    key."""
    top = max(uses.values(), default=0)
    if top < 2:
        return None
    key = min((k for k, n in uses.items() if n == top), key=lambda k: (-k.count(" "), k))
    return key, top


def _lone_of(in_title: Mapping[str, int], in_abstract: Mapping[str, int]) -> tuple[str, int] | None:
    """A text's most used phrase of two or three words (``phrase_keys(text, 3)`` are the
    four-word keys with at most two spaces), title uses counting double."""
    uses: dict[str, int] = {}
    ok = _PHRASE_OK
    for weight, counts in ((TITLE_WEIGHT, in_title), (1, in_abstract)):
        for key, n in counts.items():
            if " " in key and key.count(" ") < 3:
                good = ok.get(key)
                if good is None:
                    good = _phrase_ok(key)
                if good:
                    uses[key] = uses.get(key, 0) + weight * n
    return _best_use(uses)


@lru_cache(maxsize=1 << 16)
def _text_phrase(title: str, abstract: str) -> str | None:
    surfaces: list[str] = []
    if (title, abstract) in _LONE:
        # Noted while topics counted: only the phrase's spellings are left to find.
        best = _LONE[(title, abstract)]
        if best is None:
            return None
        target = merge_key(best[0])
        for text in (title, abstract):
            surfaces.extend(surfaces_of(text, target))
    else:
        uses: Counter[str] = Counter()
        text_chunks = (list(chunks(title)), list(chunks(abstract)))
        for weight, parsed in zip((TITLE_WEIGHT, 1), text_chunks, strict=True):
            for key in chunk_phrase_keys(parsed, 3):
                if _phrase_ok(key):
                    uses[key] += weight
        best = _best_use(uses)
        if best is None:
            return None
        target = merge_key(best[0])
        for parsed in text_chunks:
            surfaces.extend(chunk_surfaces(parsed, target))
    spelled = Counter(_case(surface) for surface in surfaces)
    if not spelled:
        return best[0]
    return sorted(spelled.items(), key=lambda kv: (-kv[1], "-" in kv[0], kv[0]))[0][0]
