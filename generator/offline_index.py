"""The search index for pages opened from disk (file://), where Pagefind cannot run.

Browsers block ES modules and ``fetch`` for file:// pages, but they still run classic
``<script src>`` files. So the index is a set of small scripts under ``search-index/`` that
each hand their data to one global function, the way rustdoc's and Sphinx's indexes load::

    window.__papersiteSearch.register("s-di", {...})

``static/search.js`` loads ``manifest.js`` first, then only the shards a query needs:

- ``s-<prefix>.js``  words starting with the prefix -> (stem posting). Postings are
  delta-encoded document numbers, each with a quantised BM25 score (title x10, authors x5,
  abstract x1, like the Pagefind weights). Prefixes are two characters, split to three and
  four when a shard would be too large, so every shard stays bounded.
- ``d-<n>.js``       title, authors, year, URL and excerpt text of ``DOC_CHUNK`` documents.
- ``f-<n>.js``       the document numbers of one filter value (topic, year, listing, ...).
- ``engine.js``      which index answers over http(s) (Pagefind, or this one for sites too
                     large for Pagefind to answer in time) and the Pagefind bundles to merge.

Documents are numbered papers first, in catalog order (newest first), so sorting by date is
sorting by number; authors and topics follow (they have no date, and, as with Pagefind, a
date sort leaves them out). Stop words are not indexed. Words are stemmed with the Snowball
English stemmer (the one Pagefind uses); a query word also matches longer words it starts.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import snowballstemmer  # type: ignore[import-untyped]
from numpy.typing import NDArray

from generator.model import Catalog, Paper
from generator.urls import author_path, paper_path, topic_path

INDEX_DIR = "search-index"
REGISTER = "window.__papersiteSearch.register"
DOC_CHUNK = 8  # documents per d-<n>.js file: a page of 20 results loads at most 20 of them
BLOCK_DOCS = 4096  # documents turned into (stem, document) pairs at a time (bounds memory)
SHARD_LIMIT = 200_000  # bytes: a prefix shard larger than this is split by a longer prefix
MAX_PREFIX = 4
MAX_AUTHORS_SHOWN = 12  # a 5,000-author paper shows the first ones and "et al."
WEIGHT_TITLE, WEIGHT_AUTHORS, WEIGHT_BODY = 10, 5, 1
BM25_K1, BM25_B = 1.2, 0.75
SCORE_SCALE = 100  # scores are stored as integers: round(bm25 * SCORE_SCALE)

# Common English words that carry no meaning for a search; kept out of the index so the
# biggest posting lists (and the shards holding them) never exist. The client drops them too.
STOP_WORDS: frozenset[str] = frozenset(
    {
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "via",
        "thus",
        "however",
        "therefore",
    }
)

_WORD = re.compile(r"[^\W_]+")
# ASCII text: every character but a letter or digit separates words (what _WORD finds)
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
_STEMMER = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lower case without accents: the form both sides compare (search.js does the same)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@functools.lru_cache(maxsize=1 << 17)
def _fold_token(token: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(token)))


def words(text: str) -> list[str]:
    """The searchable words of a text, folded (``\\p{L}\\p{N}`` runs, as search.js splits).

    ASCII text is lower-cased and split at once (separators to spaces: three times faster
    than the regular expression); otherwise split first, then fold each distinct token once
    (cached): folding is the costly part."""
    if text.isascii():
        return text.lower().translate(_ASCII_SEPARATORS).split()
    out: list[str] = []
    for token in _WORD.findall(text):
        if token.isascii():
            out.append(token.lower())
        else:
            out.extend(_fold_token(token))
    return out


@dataclass(frozen=True, slots=True)
class Doc:
    """One search result: a paper, an author or a topic page."""

    url: str  # site path, e.g. papers/2106.02241.html
    kind: str  # "paper" | "author" | "topic"
    title: str
    authors: str  # shown under the title (papers); "" otherwise
    year: str
    date: str  # ISO date the page sorts by ("" when unknown)
    title_text: str  # indexed with WEIGHT_TITLE
    author_text: str  # indexed with WEIGHT_AUTHORS
    body_text: str  # indexed with WEIGHT_BODY and shown as the excerpt
    filters: tuple[tuple[str, str], ...]  # (filter name, value)
    all_authors: str = ""  # every author, as the paper page lists them (Pagefind records)


@dataclass(frozen=True, slots=True)
class OfflineIndex:
    files: tuple[tuple[str, bytes], ...]  # (path under the site root, content)
    docs: int
    words: int
    shards: int

    @property
    def size(self) -> int:
        return sum(len(data) for _, data in self.files)


def padded_date(date: str) -> str:
    """The date a paper page sorts by (YYYY-MM-DD; a month or year pads with 01, as the page)."""
    return "-".join((date.split("-") + ["01", "01"])[:3])


def _sort_key(paper: Paper) -> str:
    return padded_date(paper.date or "")


def papers_by_date(catalog: Catalog) -> list[Paper]:
    """Newest first, undated last: the order of a date sort (catalog order breaks ties)."""
    dated = sorted((p for p in catalog.papers if p.date), key=_sort_key, reverse=True)
    return [*dated, *(p for p in catalog.papers if not p.date)]


def catalog_docs(
    catalog: Catalog,
    text_of: Callable[[str], str],
    name_of: Callable[[str], str],
    category_of: Callable[[str], str | None],
) -> list[Doc]:
    """Papers (newest first), then authors, then topics, with the text the pages show.

    ``text_of`` turns seed text with LaTeX into plain readable text (``latex.plain_text``);
    ``name_of`` cleans a name as the pages show it, ``category_of`` names a category code.
    Filter values are exactly the ones the pages give Pagefind, so one URL works on both paths.
    """
    return list(iter_catalog_docs(catalog, text_of, name_of, category_of))


def catalog_doc_count(catalog: Catalog) -> int:
    """How many documents ``catalog_docs`` gives: one per paper, author and topic."""
    return len(catalog.papers) + len(catalog.authors) + len(catalog.topics)


def iter_catalog_docs(
    catalog: Catalog,
    text_of: Callable[[str], str],
    name_of: Callable[[str], str],
    category_of: Callable[[str], str | None],
) -> Iterator[Doc]:
    """``catalog_docs`` one document at a time (the first ones can be used while the others
    are made)."""
    topic_names = {t.id: name_of(t.name) for t in catalog.topics}
    listing_names = {lst.id: name_of(lst.name) or lst.id for lst in catalog.listings}
    for p in papers_by_date(catalog):
        filters = [("kind", "paper")]
        filters += [("topic", topic_names[t]) for t in catalog.paper_topics.get(p.id, ())]
        if p.year is not None:
            filters.append(("year", str(p.year)))
        filters += [("listing", listing_names.get(lid, lid)) for lid in p.listings]
        category = category_of(p.category) if p.category else None
        if category:
            filters.append(("category", category))
        names = [name_of(a) for a in p.authors]
        title = text_of(p.title)
        shown = names[:MAX_AUTHORS_SHOWN]
        if len(p.authors) > MAX_AUTHORS_SHOWN or p.authors_truncated:
            shown.append("et al.")
        yield Doc(
            url=paper_path(p.id),
            kind="paper",
            title=name_of(title),
            authors=", ".join(shown),
            year="" if p.year is None else str(p.year),
            date=p.date or "",
            title_text=title,
            author_text=" ".join(p.authors),
            body_text=text_of(p.abstract),
            filters=tuple(filters),
            all_authors=", ".join(names),
        )
    papers = {p.id: p for p in catalog.papers}
    for a in catalog.authors:
        years = sorted(y for pid in a.paper_ids if (y := papers[pid].year) is not None)
        span = f"{years[0]}–{years[-1]}" if years and years[0] != years[-1] else ""
        span = span or (str(years[0]) if years else "")
        count = f"{len(a.paper_ids)} paper{'s' if len(a.paper_ids) != 1 else ''}"
        topics = ", ".join(topic_names[t] for t in a.topics if t in topic_names)
        body = count + (f" · active {span}" if span else "") + "."
        if topics:
            body += f" Topics: {topics}."
        yield Doc(
            url=author_path(a.id),
            kind="author",
            title=name_of(a.name),
            authors="",
            year="",
            date="",
            title_text=a.name,
            author_text="",
            body_text=body,
            filters=(("kind", "author"),),
        )
    for t in catalog.topics:
        count = f"{len(t.paper_ids)} paper{'s' if len(t.paper_ids) != 1 else ''}"
        yield Doc(
            url=topic_path(t.id),
            kind="topic",
            title=topic_names[t.id],
            authors="",
            year="",
            date="",
            title_text=t.name,
            author_text="",
            body_text=f"{t.definition} {count}.".strip(),
            filters=(("kind", "topic"),),
        )


def _script(name: str, data: object) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return f'{REGISTER}("{name}",{payload});\n'.encode()


def shard_file_key(prefix: str) -> str:
    """A file-name-safe spelling of a word prefix: ASCII letters and digits as they are,
    anything else as ``_`` and its code point in hex (search.js computes the same)."""
    return "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}" for c in prefix)


def _delta(ids: Sequence[int]) -> list[int]:
    out: list[int] = []
    last = 0
    for i in ids:
        out.append(i - last)
        last = i
    return out


class _Postings:
    """stem -> (document number delta, integer score) pairs, documents ascending.

    Held as two flat arrays ordered by stem number, then document, and where each stem's
    run starts and ends."""

    def __init__(
        self, stems: Sequence[str], pair_stem: NDArray[np.int32], pair_doc: NDArray[np.int32],
        scores: NDArray[np.int32],
    ) -> None:  # fmt: skip
        starts = np.flatnonzero(np.r_[True, pair_stem[1:] != pair_stem[:-1]])
        if not len(pair_stem):
            starts = starts[:0]
        self.deltas = np.diff(pair_doc, prepend=0)  # a stem's first document counts from 0
        self.deltas[starts] = pair_doc[starts]
        self.scores = scores
        ends = [*(int(i) for i in starts[1:]), len(pair_stem)][: len(starts)]
        self.span = {stems[pair_stem[i]]: (int(i), e) for i, e in zip(starts, ends, strict=True)}

    def encoded(self, stem: str) -> list[int]:
        lo, hi = self.span[stem]
        out = np.empty(2 * (hi - lo), dtype=np.int64)
        out[0::2] = self.deltas[lo:hi]
        out[1::2] = self.scores[lo:hi]
        return out.tolist()

    def encoded_json(self, stems: Sequence[str]) -> str:
        """The compact JSON text of ``[self.encoded(s) for s in stems]``, made at once."""
        if not stems:
            return "[]"
        spans = np.array([self.span[s] for s in stems], dtype=np.int64)
        counts = spans[:, 1] - spans[:, 0]
        before = np.cumsum(counts) - counts  # pairs of the stems before each one
        pair = np.repeat(spans[:, 0] - before, counts) + np.arange(int(counts.sum()))
        values = np.empty(2 * len(pair), dtype=np.int64)
        values[0::2] = self.deltas[pair]
        values[1::2] = self.scores[pair]
        return int_lists_json(values, 2 * counts)


_POWERS = 10 ** np.arange(1, 19, dtype=np.int64)  # 10 .. 10**18


def int_lists_json(values: NDArray[np.int64], lengths: NDArray[np.int64]) -> str:
    """``json.dumps`` (compact) of the non-empty lists ``values`` is cut into (``lengths``
    values each, in order) of non-negative integers, with every digit placed by numpy:
    several times faster than the encoder on millions of integers."""
    if len(lengths) == 0:
        return "[]"
    if len(values) and int(values.min()) < 0:
        raise ValueError("only non-negative integers")
    digits = 1 + np.searchsorted(_POWERS, values, side="right")
    tail = np.ones(len(values), dtype=np.int64)  # "," after a value within its list
    tail[np.cumsum(lengths) - 1] = 3  # "],[" after a list's last value
    tail[-1] = 0  # "]]" after the last one (added below)
    width = digits + tail
    end = np.cumsum(width) - tail  # one past each value's last digit
    out = np.empty(int(width.sum()), dtype=np.uint8)
    rest = values.copy()
    for k in range(int(digits.max())):  # the k-th digit from the right of every value
        has = digits > k
        out[end[has] - 1 - k] = (rest[has] % 10 + 48).astype(np.uint8)
        rest //= 10
    comma, bracket = end[tail == 1], end[tail == 3]
    out[comma] = ord(",")
    out[bracket] = ord("]")
    out[bracket + 1] = ord(",")
    out[bracket + 2] = ord("[")
    return "[[" + out.tobytes().decode("ascii") + "]]"


def _block_pairs(
    tokens: array[int], runs: array[int], first: int
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.int64]]:
    """The (stem, document, weighted term frequency) pairs of a block of documents, stem-major
    then by document, and each document's length (words that are not stop words).

    ``tokens`` holds the stem number of every word (-1: a stop word), ``runs`` the number of
    words of each (document, field), three fields a document, documents from ``first`` on."""
    count = len(runs) // 3
    run_len = np.frombuffer(runs, dtype=np.int64)
    tok = np.frombuffer(tokens, dtype=np.int32)
    weights = np.tile(np.array([WEIGHT_TITLE, WEIGHT_AUTHORS, WEIGHT_BODY]), count)
    kept = tok >= 0
    local = np.repeat(np.arange(3 * count, dtype=np.int64) // 3, run_len)[kept]
    weight = np.repeat(weights, run_len)[kept]
    lengths = np.bincount(local, minlength=count)
    pairs, inverse = np.unique(tok[kept].astype(np.int64) * count + local, return_inverse=True)
    wtf = np.bincount(inverse.ravel(), weights=weight, minlength=len(pairs))
    return (
        (pairs // count).astype(np.int32),
        (pairs % count + first).astype(np.int32),
        wtf.astype(np.int32),
        lengths,
    )


def _index_docs(docs: Sequence[Doc]) -> tuple[_Postings, dict[str, str]]:
    """Score every (stem, doc) pair with field-weighted BM25; return postings and word -> stem.

    One pass turns each field of each document into stem numbers (a word is folded, stemmed
    and numbered once; stop words are -1) and, every BLOCK_DOCS documents, into (stem,
    document, weighted term frequency) pairs; the scores of all pairs are then computed at
    once, with the same float64 arithmetic and round-half-even as ``round`` on each pair."""
    stem_of: dict[str, str] = {}
    stem_id: dict[str, int] = {}
    word_id: dict[str, int] = {}  # folded word -> stem number (-1: a stop word)
    stemmer = _STEMMER.stemWord
    blocks: list[tuple[NDArray[np.int32], ...]] = []
    lengths: list[NDArray[np.int64]] = []
    for first in range(0, len(docs), BLOCK_DOCS):
        tokens = array("i")  # stem number of every word of every field, in order
        runs = array("q")  # words per (document, field)
        for doc in docs[first : first + BLOCK_DOCS]:
            for text in (doc.title_text, doc.author_text, doc.body_text):
                ws = words(text)
                for w in set(ws).difference(word_id):
                    if w in STOP_WORDS:
                        word_id[w] = -1
                    else:
                        s = stem_of[w] = stemmer(w)
                        word_id[w] = stem_id.setdefault(s, len(stem_id))
                tokens.extend(map(word_id.__getitem__, ws))
                runs.append(len(ws))
        *pairs, block_lengths = _block_pairs(tokens, runs, first)
        blocks.append(tuple(pairs))
        lengths.append(block_lengths)
    doc_length = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    avg = (int(doc_length.sum()) / len(docs)) if docs else 1.0
    norm = BM25_K1 * (1 - BM25_B + BM25_B * doc_length / max(avg, 1.0))
    for n, (block_stem, block_doc, block_tf) in enumerate(blocks):  # scores a block at a time
        wtf = block_tf.astype(np.float64)
        score = wtf * (BM25_K1 + 1) / (wtf + norm[block_doc])
        scores = np.maximum(1, np.rint(score * SCORE_SCALE)).astype(np.int32)
        blocks[n] = (block_stem, block_doc, scores)
    empty = np.zeros(0, np.int32)
    pair_stem, pair_doc, scores = (
        np.concatenate([b[i] for b in blocks]) if blocks else empty for i in range(3)
    )
    del blocks
    order = np.argsort(pair_stem, kind="stable")  # blocks are in document order
    stems = sorted(stem_id, key=stem_id.__getitem__)
    return _Postings(stems, pair_stem[order], pair_doc[order], scores[order]), stem_of


def _shards(stem_of: Mapping[str, str], postings: _Postings) -> dict[str, bytes]:
    """Group words by prefix; split a prefix that would exceed SHARD_LIMIT by a longer one."""
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for w in sorted(stem_of):
        by_prefix[w[:2]].append(w)
    out: dict[str, bytes] = {}
    pending = sorted(by_prefix.items())
    while pending:
        prefix, ws = pending.pop(0)
        stems = sorted({stem_of[w] for w in ws})
        index = {s: i for i, s in enumerate(stems)}
        name = "s-" + shard_file_key(prefix)
        # _script(name, {"w": {word: stem number}, "p": [posting per stem]}), the postings'
        # millions of integers formatted by numpy
        ids = json.dumps(
            {w: index[stem_of[w]] for w in ws}, ensure_ascii=False, separators=(",", ":")
        )
        payload = f'{{"w":{ids},"p":{postings.encoded_json(stems)}}}'
        data = f'{REGISTER}("{name}",{payload});\n'.encode()
        longer = [w for w in ws if len(w) > len(prefix)]
        if len(data) > SHARD_LIMIT and len(prefix) < MAX_PREFIX and len(longer) > 1:
            groups: dict[str, list[str]] = defaultdict(list)
            for w in ws:
                groups[w[: len(prefix) + 1]].append(w)
            if len(groups) > 1:
                pending = sorted([*pending, *groups.items()])
                continue
        out[prefix] = data
    return out


def build_offline_index(docs: Sequence[Doc]) -> OfflineIndex:
    """Every file of ``search-index/``: manifest, prefix shards, document chunks, filters."""
    postings, stem_of = _index_docs(docs)
    shards = _shards(stem_of, postings)
    files: list[tuple[str, bytes]] = []
    for prefix, data in sorted(shards.items()):
        files.append((f"{INDEX_DIR}/s-{shard_file_key(prefix)}.js", data))

    for start in range(0, len(docs), DOC_CHUNK):
        chunk = [
            [d.url, d.kind, d.title, d.authors, d.year, d.body_text]
            for d in docs[start : start + DOC_CHUNK]
        ]
        name = f"d-{start // DOC_CHUNK}"
        files.append((f"{INDEX_DIR}/{name}.js", _script(name, chunk)))

    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, d in enumerate(docs):
        for key in sorted(set(d.filters)):
            members[key].append(n)
    filters: dict[str, list[list[object]]] = {}
    for number, ((fname, value), ids) in enumerate(sorted(members.items())):
        name = f"f-{number}"
        files.append((f"{INDEX_DIR}/{name}.js", _script(name, _delta(ids))))
        filters.setdefault(fname, []).append([value, len(ids), name])
    for fname, values in filters.items():
        if fname == "year":
            values.sort(key=lambda v: str(v[0]), reverse=True)

    dated = sum(1 for d in docs if d.kind == "paper" and d.date)
    manifest = {
        "version": 1,
        "docs": len(docs),
        "chunk": DOC_CHUNK,
        "dated": dated,
        "scale": SCORE_SCALE,
        "shards": sorted(shards),
        "filters": filters,
        "stop": sorted(STOP_WORDS),
    }
    files.insert(0, (f"{INDEX_DIR}/manifest.js", _script("manifest", manifest)))
    return OfflineIndex(tuple(files), len(docs), len(stem_of), len(shards))


def engine_file(
    http_engine: str, bundles: Sequence[tuple[str, Sequence[str]]]
) -> tuple[str, bytes]:
    """``search-index/engine.js``: which index search.js answers from over http(s)
    (``"pagefind"`` or ``"index"``, this script-loaded one), and the Pagefind bundles to
    merge, each as (site path, the sorts it has: a bundle of authors has no "date")."""
    if http_engine not in ("pagefind", "index"):
        raise ValueError(f"unknown search engine: {http_engine}")
    listed = [{"path": path, "sorts": list(sorts)} for path, sorts in bundles]
    return f"{INDEX_DIR}/engine.js", _script("engine", {"http": http_engine, "bundles": listed})


def stem_word(word: str) -> str:
    """The Snowball English stem of one folded word (for tests and tools)."""
    return str(_STEMMER.stemWord(word))


def idf(total: int, df: int) -> float:
    """BM25 inverse document frequency, as search.js computes it."""
    return math.log(1 + (total - df + 0.5) / (df + 0.5))
