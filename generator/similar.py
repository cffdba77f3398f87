"""Similar papers: text similarity (BM25-weighted words and phrases, cosine) plus shared authors.

Each paper becomes a sparse vector over its content words, two-word phrases and topics,
weighted BM25-style (saturating term frequency, length-normalised, rarer terms heavier) and
scaled to unit length; only its strongest terms are kept. Candidates come from an inverted
index (a sparse matrix product, done in blocks of rows) whose posting lists keep only the
papers where a term weighs most, so no N x N matrix is ever built. Shared authors add a
little to a pair that is already similar in text, never on their own: a name shared by two
different researchers must not make an astronomy paper "similar" to a language-model paper.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import multiprocessing as mp
import pickle
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sparse_dot_topn import sp_matmul_topn  # type: ignore[import-untyped]

from generator.forked import fork_call
from generator.model import Paper
from generator.people import name_key
from generator.phrases import TERMS, similarity_terms
from generator.topics import (
    MEMO_VERSION,
    Memo,
    counted_terms,
    entry_terms,
    memo_entry,
    paper_text,
)

K1 = 1.2
B = 0.75
TERMS_PER_PAPER = 48  # strongest terms kept per paper vector
POSTINGS_PER_TERM = 400  # papers kept per term in the candidate index
MIN_SCORE = 0.07  # below this a paper is not shown as similar
AUTHOR_BONUS = 0.04  # per shared author, for pairs already similar in text
MAX_AUTHOR_BONUS = 0.08
BLOCK = 1024  # rows per candidate product: bounds its memory, not its result
TOPIC_TERM_WEIGHT = 4  # a topic counts like a phrase used four times


def paper_terms(paper: Paper, topics: Sequence[str] = ()) -> Counter[str]:
    """Term counts of a paper: content words, two-word phrases, topics; title counted twice."""
    title, abstract = paper_text(paper)
    terms: Counter[str] = Counter()
    for weight, text in ((2, title), (1, abstract)):
        if not text:
            continue
        for term in similarity_terms(text):
            terms[term] += weight
    for t in topics:
        terms["\x00" + t] += TOPIC_TERM_WEIGHT
    return terms


def paper_vectors(
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    terms_per_paper: int = TERMS_PER_PAPER,
    *,
    own_terms_count: bool = True,
    memo: Memo | None = None,
) -> sp.csr_matrix:
    """Unit-length BM25 vectors of the papers (rows), strongest terms only.

    ``own_terms_count``: a paper's terms used by no other paper count in its length, so two
    papers sharing two common words and nothing else are not alike. ``memo``: as for
    ``find_similar``."""
    texts = [paper_text(p) for p in papers]
    n_docs = len(papers)
    counted = counted_terms(texts)  # counted for the topics of these papers: read whole
    if counted is not None:
        from_text = counted.lengths.astype(np.int64)
        term_ids, term_counts = counted.ids, counted.counts
    else:
        known = TERMS.texts
        text_ids: list[array[int]] = []
        text_counts: list[array[int]] = []
        for text in texts:
            found = known.get(text)
            if found is not None:
                ids, counts = found
            elif memo is not None:
                ids, counts = TERMS.store(*text, *entry_terms(memo_entry(*text, memo)))
            else:
                ids, counts = TERMS.terms(*text)
            text_ids.append(ids)
            text_counts.append(counts)
        from_text = np.fromiter(map(len, text_ids), dtype=np.int64, count=n_docs)
        term_ids, term_counts = _ints(text_ids), _ints(text_counts)
    # Each paper's terms: its text's, then its topics' (numbered in order of first use).
    per_paper = [paper_topics.get(p.id, ()) for p in papers]
    topics = list(itertools.chain.from_iterable(per_paper))
    topic_id = {t: TERMS.term_id("\x00" + t) for t in dict.fromkeys(topics)}
    from_topics = np.fromiter(map(len, per_paper), dtype=np.int64, count=n_docs)
    indptr = np.concatenate(([0], np.cumsum(from_text + from_topics))).astype(np.int64)
    global_ids = np.zeros(int(indptr[-1]), dtype=np.int32)
    data = np.full(int(indptr[-1]), TOPIC_TERM_WEIGHT, dtype=np.float64)
    at_text = _spread(indptr[:-1], from_text)
    global_ids[at_text] = term_ids
    data[at_text] = term_counts
    global_ids[_spread(indptr[:-1] + from_text, from_topics)] = np.fromiter(
        map(topic_id.__getitem__, topics), dtype=np.int32, count=len(topics)
    )
    # Columns numbered in order of first use, as a vocabulary built for these papers would.
    local, vocab_size = _first_use_numbers(global_ids)
    tf = sp.csr_matrix((data, local, indptr), shape=(n_docs, max(1, vocab_size)))
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float64)
    idf = np.log((n_docs - df + 0.5) / (df + 0.5) + 1.0)
    lengths = np.diff(tf.indptr).astype(np.float64)
    avg = max(float(lengths.mean()) if n_docs else 1.0, 1.0)
    row_of = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
    norm = K1 * (1 - B + B * lengths[row_of] / avg)
    tf.data = tf.data * (K1 + 1) / (tf.data + norm) * idf[tf.indices]
    full = np.sqrt(np.asarray(tf.multiply(tf).sum(axis=1)).ravel())
    tf.data[df[tf.indices] < 2] = 0.0  # a term of one paper cannot make two papers similar
    tf.eliminate_zeros()
    tf = _top_per_row(tf, terms_per_paper)
    norms = full if own_terms_count else np.sqrt(np.asarray(tf.multiply(tf).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ tf)


def _spread(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] + j`` for ``j < sizes[i]``, row after row."""
    total = int(sizes.sum())
    first = np.cumsum(sizes) - sizes
    return np.repeat(starts - first, sizes) + np.arange(total, dtype=np.int64)


def _ints(arrays: Sequence[array[int]]) -> np.ndarray:
    """Arrays of "i" joined, as int32."""
    joined = b"".join(arrays)
    return np.frombuffer(joined, dtype=np.int32) if joined else np.zeros(0, np.int32)


def _first_use_numbers(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Each id renumbered 0, 1, ... in order of first use, and how many distinct ids (what
    ``np.unique`` with ``return_index``/``return_inverse`` gives, without sorting all ids)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int32), 0
    first = np.full(int(ids.max()) + 1, len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
    used = np.flatnonzero(first < len(ids))
    number = np.zeros(len(first), dtype=np.int32)
    number[used[np.argsort(first[used], kind="stable")]] = np.arange(len(used), dtype=np.int32)
    return number[ids], len(used)


def _top_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each row (of equal values, the first stored).

    A row longer than k finds its k-th largest value (``np.partition``, the rows of one
    length at once); it keeps the entries above it and, in stored order, as many equal to
    it as there is room for."""
    m = sp.csr_matrix(m)
    counts = np.diff(m.indptr)
    if counts.size == 0 or counts.max(initial=0) <= k:
        return m
    data = m.data
    rows = np.repeat(np.arange(m.shape[0]), counts)
    cut = np.full(m.shape[0], -np.inf)
    long = np.flatnonzero(counts > k)
    for size in np.unique(counts[long]).tolist():
        same = long[counts[long] == size]
        values = data[m.indptr[same][:, None] + np.arange(size)]
        cut[same] = -np.partition(-values, k - 1, axis=1)[:, k - 1]
    row_cut = cut[rows]
    above = data > row_cut
    equal = data == row_cut
    room = k - np.bincount(rows[above], minlength=m.shape[0])
    seen = np.cumsum(equal)
    before = np.concatenate(([0], seen))[m.indptr[:-1]]  # equal entries before each row
    keep = above | (equal & (seen - before[rows] <= room[rows]))
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows[keep], minlength=m.shape[0]))))
    out = sp.csr_matrix((data[keep], m.indices[keep], indptr), shape=m.shape)
    out.sort_indices()  # as a matrix built from (row, column) pairs has them
    return out


def _pruned_index(x: sp.csr_matrix, per_term: int) -> sp.csr_matrix:
    """Terms x papers, each term keeping only the papers where it weighs most."""
    return _top_per_row(sp.csr_matrix(x.T), per_term)


@dataclass(frozen=True)
class _Ranking:
    """What ranking a block of rows needs (inherited by forked processes, never pickled)."""

    x: sp.csr_matrix
    index: sp.csr_matrix
    ids: list[str]
    people: sp.csr_matrix  # papers x telling author keys (1 where the paper has the name)
    topic_sets: list[frozenset[str]]
    id_rank: np.ndarray  # row -> position of its id in sorted order (ties go to the lower id)
    k: int
    min_score: float


_Ranked = list[tuple[str, tuple[tuple[str, float], ...]]]


class _Claims:
    """The blocks of rows handed out one at a time, in order, to this process and the
    processes forked from it (a counter in shared memory, under a lock)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._next = mp.get_context("fork").Value("l", 0)

    def take(self) -> int | None:
        with self._next.get_lock():
            at = int(self._next.value)
            if at >= self.count:
                return None
            self._next.value = at + 1
        return at


def _rank_claimed(
    job: _Ranking, bounds: Sequence[tuple[int, int]], claims: _Claims
) -> list[tuple[int, _Ranked]]:
    """Rank the blocks this process claims, until none is left: (block number, its lists)."""
    done: list[tuple[int, _Ranked]] = []
    while (at := claims.take()) is not None:
        done.append((at, _rank_rows(job, *bounds[at])))
    return done


def _rank_blocks(
    job: _Ranking, bounds: Sequence[tuple[int, int]], workers: int, *, here: bool = True
) -> list[_Ranked]:
    """Every block's lists, in block order, ranked by ``workers`` processes claiming the
    blocks one by one: this one and ``workers - 1`` forked ones, or with ``here`` false
    ``workers`` forked ones while this one waits (no pool: the children get the job by
    inheritance and send back only their lists). A block whose process ended without
    sending it is ranked here."""
    claims = _Claims(len(bounds))
    with contextlib.ExitStack() as stack:
        children = [
            stack.enter_context(fork_call(_rank_claimed, job, bounds, claims))
            for _ in range(workers - 1 if here else workers)
        ]
        found = dict(_rank_claimed(job, bounds, claims)) if here else {}
        for child in children:
            found.update(child.result())
    return [found[i] if i in found else _rank_rows(job, *b) for i, b in enumerate(bounds)]


def _rank_rows(job: _Ranking, lo: int, hi: int) -> _Ranked:
    """The similar lists of rows lo..hi (one block of the candidate product), ranked for
    the whole block at once: each row keeps its ``4 k`` strongest candidates, shared
    people add to a pair alike in text or sharing a topic, then the k best by score
    (rounded to 4 places) and id."""
    ids, topic_sets = job.ids, job.topic_sets
    min_score, k = job.min_score, job.k
    near = min_score * 0.85
    r_arr, c_arr, raw = _strongest(job, lo, hi)
    # Shared people add to a pair alike in text or sharing a topic, never alone.
    people = job.people
    shared = np.asarray(people[r_arr].multiply(people[c_arr]).sum(axis=1)).ravel()
    helped = shared > 0
    for i in np.flatnonzero(helped & (raw < near)).tolist():
        helped[i] = not topic_sets[int(r_arr[i])].isdisjoint(topic_sets[int(c_arr[i])])
    bonus = np.where(helped, np.minimum(MAX_AUTHOR_BONUS, AUTHOR_BONUS * shared), 0.0)
    total = raw + bonus
    shown = total >= min_score
    r_arr, c_arr, kept = r_arr[shown], c_arr[shown], _round4(np.minimum(total[shown], 1.0))
    order = np.lexsort((job.id_rank[c_arr], -kept, r_arr))
    r_arr, c_arr, kept = r_arr[order], c_arr[order], kept[order]
    place = np.arange(len(r_arr))
    run_start = np.maximum.accumulate(np.where(np.diff(r_arr, prepend=-1) != 0, place, 0))
    best = place - run_start < k
    r_arr, c_arr, kept = r_arr[best], c_arr[best], kept[best]
    found: _Ranked = []
    bounds = np.flatnonzero(np.diff(r_arr, prepend=-1, append=-1)).tolist()
    c_list, s_list = c_arr.tolist(), kept.tolist()
    for a, b in itertools.pairwise(bounds):
        pairs = zip([ids[c] for c in c_list[a:b]], s_list[a:b], strict=True)
        found.append((ids[int(r_arr[a])], tuple(pairs)))
    return found


def _strongest(job: _Ranking, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's strongest ``4 k`` candidates of at least half the minimum score, the
    paper itself left out: (rows, columns, raw scores), in no particular order.

    One pass of ``sparse_dot_topn`` keeps each row's ``4 k + 2`` best products (the same
    sums, added in the same order as scipy's product). Where that leaves the ``4 k``-th
    and the next candidate equal, which of the tied ones are kept is scipy's product's
    choice (``_strongest_exact``), so those few rows are recomputed that way."""
    floor = job.min_score * 0.5
    most = 4 * job.k
    best = sp_matmul_topn(
        job.x[lo:hi],
        job.index,
        top_n=most + 2,
        threshold=float(np.nextafter(floor, -np.inf)),  # keeps exactly the sums >= floor
    )
    rows = np.repeat(np.arange(lo, hi), np.diff(best.indptr))
    cols, vals = best.indices.astype(np.int64), best.data
    other = cols != rows
    rows, cols, vals = rows[other], cols[other], vals[other]
    order = np.lexsort((-vals, rows))  # each row's candidates, strongest first
    rows, cols, vals = rows[order], cols[order], vals[order]
    counts = np.bincount(rows - lo, minlength=hi - lo)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    place = np.arange(len(rows)) - starts[rows - lo]
    keep = place < most
    # A row with more than 4 k candidates whose 4 k-th equals the next: ties at the cut.
    full = np.flatnonzero(counts > most)
    tied = full[vals[starts[full] + most - 1] == vals[starts[full] + most]] + lo
    if len(tied) == 0:
        return rows[keep], cols[keep], vals[keep]
    keep &= ~np.isin(rows, tied)
    parts = [(rows[keep], cols[keep], vals[keep])]
    parts += [_strongest_exact(job, row, row + 1) for row in tied.tolist()]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def _strongest_exact(job: _Ranking, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_strongest`` from scipy's full product of rows lo..hi: of tied candidates at a
    row's cut, ``np.argpartition`` keeps some in the product's stored order."""
    floor = job.min_score * 0.5
    most = 4 * job.k
    scores = sp.csr_matrix(job.x[lo:hi] @ job.index)
    # Drop weak candidates, then the paper itself (entries stay in stored order).
    strong = np.flatnonzero(scores.data >= floor)
    rows = np.repeat(np.arange(lo, hi), np.diff(scores.indptr))[strong]
    cols, vals = scores.indices[strong], scores.data[strong]
    del scores, strong
    other = cols != rows
    rows, cols, vals = rows[other], cols[other], vals[other]
    # The strongest 4 k of each row (rows are contiguous, in order); a row with no more
    # keeps them all.
    counts = np.bincount(rows - lo, minlength=hi - lo)
    ptr = np.concatenate(([0], np.cumsum(counts))).tolist()
    picks: list[np.ndarray] = [np.flatnonzero(counts[rows - lo] <= most)]
    for row in np.flatnonzero(counts > most).tolist():
        s = ptr[row]
        picks.append(s + np.argpartition(-vals[s : ptr[row + 1]], most)[:most])
    top = np.concatenate(picks)
    return rows[top], cols[top].astype(np.int64), vals[top]


def _round4(values: np.ndarray) -> np.ndarray:
    """``round(v, 4)`` of each value: k / 10000 with k the nearest integer to v * 10000
    (both give the float nearest k / 10^4); a value within 1e-6 of a half-way point is
    rounded by ``round`` itself, on its exact value."""
    scaled = values * 1e4
    out = np.rint(scaled) / 1e4
    for i in np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6).tolist():
        out[i] = round(float(values[i]), 4)
    return out


def _people(names: list[list[str]]) -> sp.csr_matrix:
    """Papers x names, 1 where a paper has the name (each paper's names are distinct)."""
    number: dict[str, int] = {}
    indices = [number.setdefault(a, len(number)) for row in names for a in row]
    indptr = np.cumsum([0, *map(len, names)])
    data = np.ones(len(indices), dtype=np.int32)
    return sp.csr_matrix(
        (data, np.asarray(indices, dtype=np.int32), indptr), shape=(len(names), max(1, len(number)))
    )


def _people_of(papers: Sequence[Paper]) -> sp.csr_matrix:
    """Papers x telling author keys: an author key on very many papers (a common name)
    says little, and is left out."""
    # name_key once per distinct spelling (authors recur across papers)
    key_of: dict[str, str] = {}
    for p in papers:
        for a in p.authors:
            if a not in key_of:
                key_of[a] = name_key(a)
    authors = [frozenset(key_of[a] for a in p.authors if a.strip()) for p in papers]
    author_count = Counter(a for s in authors for a in s)
    crowded = max(50.0, math.sqrt(len(papers)) * 4)
    return _people([[a for a in s if author_count[a] < crowded] for s in authors])


PARALLEL_PEOPLE = 20_000  # papers worth a forked helper for the people matrix
# Above this many papers this process leaves the ranking to forked ones and waits: its
# heap, which the render's workers are forked from next, then holds only the lists.
RANK_HERE_MAX = 40_000


def _people_key(papers: Sequence[Paper]) -> str:
    """Memo key of the people matrix: a hash of every paper's authors, in order (all that
    ``_people_of`` reads)."""
    h = hashlib.blake2b(digest_size=16, person=b"papersite-people")
    h.update(pickle.dumps([p.authors for p in papers], protocol=5))
    return f"{MEMO_VERSION}:people:{len(papers)}:{h.hexdigest()}"


def _id_rank(ids: list[str]) -> np.ndarray:
    rank = np.empty(len(ids), dtype=np.int64)
    rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
    return rank


def find_similar(
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    k: int = 5,
    *,
    min_score: float = MIN_SCORE,
    workers: int = 1,
    block: int = BLOCK,
    memo: Memo | None = None,
) -> dict[str, tuple[tuple[str, float], ...]]:
    """Up to k similar papers per paper id, best first, each with its score (0..1].

    ``workers`` > 1 ranks blocks of rows in this process and ``workers - 1`` forked ones,
    or above ``RANK_HERE_MAX`` papers in ``workers`` forked ones (same result; each row's
    candidates are scored independently of the others).
    ``memo``: the mapping given to ``assign_topics`` (same keys and entries); a paper's
    terms come from it when this process has not counted them yet, and are added to it
    when missing; the people matrix is kept in it too, under a hash of every paper's
    authors."""
    n = len(papers)
    out: dict[str, tuple[tuple[str, float], ...]] = {p.id: () for p in papers}
    if n < 2:
        return out
    fork = "fork" in mp.get_all_start_methods()
    # The people matrix of the last build, when every paper's authors are the same.
    people_key = _people_key(papers) if memo is not None else ""
    stored = memo.get(people_key) if memo is not None else None
    known_people = stored if isinstance(stored, sp.csr_matrix) else None
    # Else it is made in a forked process while this one makes the vectors (when worth it).
    forked = known_people is None and workers > 1 and n >= PARALLEL_PEOPLE and fork
    with fork_call(_people_of, papers, fork=forked) as pending:
        x = paper_vectors(papers, paper_topics, memo=memo)
        index = _pruned_index(x, POSTINGS_PER_TERM)
        if known_people is not None:
            people = known_people
        else:
            people = pending.result()  # made here when not forked
            if memo is not None:
                memo[people_key] = people
    job = _Ranking(
        x=x,
        index=index,
        ids=[p.id for p in papers],
        people=people,
        topic_sets=[frozenset(paper_topics.get(p.id, ())) for p in papers],
        id_rank=_id_rank([p.id for p in papers]),
        k=k,
        min_score=min_score,
    )
    bounds = [(lo, min(n, lo + block)) for lo in range(0, n, block)]
    if workers > 1 and len(bounds) > 1 and fork:
        here = n <= RANK_HERE_MAX
        for part in _rank_blocks(job, bounds, min(workers, len(bounds)), here=here):
            out.update(part)
    else:
        for lo, hi in bounds:
            out.update(_rank_rows(job, lo, hi))
    return out
