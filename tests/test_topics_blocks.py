"""Phrases counted a block of papers at a time (``topics._Block``: the block's distinct keys
numbered where they are counted, so the parent takes each once) give exactly what each
paper's ``paper_entry`` gives: the same block whichever way it is made, and the same
counts, vocabulary, similarity terms and lone-paper phrases in ``_count``."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import generator.topics as topics_module
from generator.model import Paper
from generator.phrases import TERMS
from generator.topics import TopicConfig, assign_topics, paper_entry, paper_text, text_key
from tests.test_topics_fastpaths import TEXTS
from tests.test_topics_planted import _corpus


def _texts() -> list[tuple[str, str]]:
    """Seed titles and abstracts paired every way a paper can have them: both, no title
    (derived), no abstract, nothing; odd texts included."""
    pairs = list(zip(TEXTS[::2], TEXTS[1::2], strict=False))
    pairs += [("", t) for t in TEXTS[:40]] + [(t, "") for t in TEXTS[:40]] + [("", "")]
    papers, _, _ = _corpus()
    pairs += [paper_text(p) for p in papers]
    pairs += pairs[:25]  # the same text twice
    random.Random(7).shuffle(pairs)
    return pairs


@pytest.mark.parametrize("size", [0, 1, 7, 200, 10_000])
def test_a_block_is_the_same_made_any_way(size: int) -> None:
    texts = _texts()
    for lo in range(0, max(1, len(texts)), max(1, size)):
        part = texts[lo : lo + size]
        from_entries = topics_module._block_of_entries([paper_entry(*t) for t in part])
        assert topics_module._counted_texts(part, False)[0] == from_entries
        # what a forked worker is asked for
        block, entries = topics_module._count_texts(part, True, True)
        assert block == from_entries
        assert entries == [paper_entry(*t) for t in part]
        assert topics_module._count_texts(part, True, False) == (from_entries, None)
        # a block with memo hits: its other texts' entries alone, cut from their own count
        assert topics_module._count_texts(part, False, True) == (None, entries)


def test_a_block_holds_each_papers_entry() -> None:
    """Read back paper by paper, a block gives each paper's keys, counts, title keys,
    similarity terms and most used phrase as its entry has them."""
    texts = _texts()[:300]
    block = topics_module._counted_texts(texts, False)[0]
    keys = block.keys.split("\n")
    assert len(keys) == len(set(keys))
    ids, counts = _ints(block.ids), _ints(block.counts)
    title_ids, sim_ids, sim_counts = (
        _ints(block.title_ids),
        _ints(block.sim_ids),
        _ints(block.sim_counts),
    )
    at = sim_at = title_at = 0
    for (title, abstract), n, n_sim, lone in zip(
        texts, _ints(block.lengths), _ints(block.sim_lengths), block.lone, strict=True
    ):
        entry = paper_entry(title, abstract)
        mine = [keys[i] for i in ids[at : at + n]]
        assert "\n".join(mine) == entry[0]
        assert counts[at : at + n] == _ints(entry[1])
        n_title = len(_ints(entry[2])) if entry[2] else 0
        assert [keys[i] for i in title_ids[title_at : title_at + n_title]] == mine[:n_title]
        assert [keys[i] for i in sim_ids[sim_at : sim_at + n_sim]] == [
            mine[p] for p in _ints(entry[3])
        ]
        assert sim_counts[sim_at : sim_at + n_sim] == _ints(entry[4])
        assert lone == entry[5]
        at, sim_at, title_at = at + n, sim_at + n_sim, title_at + n_title
    assert (at, sim_at, title_at) == (len(ids), len(sim_ids), len(title_ids))
    # numbered in order of first use
    assert keys == list(dict.fromkeys(keys[i] for i in ids))


def _ints(data: bytes) -> list[int]:
    return np.frombuffer(data, dtype=np.int32).tolist() if data else []


@pytest.mark.parametrize("seed", range(30))
def test_lone_per_paper_is_best_use(seed: int) -> None:
    rng = random.Random(seed)
    keys = [
        " ".join(rng.choice(["a", "b", "ab", "ba", "c"]) for _ in range(rng.randint(2, 3)))
        for _ in range(12)
    ]
    keys = list(dict.fromkeys(keys))
    n = rng.randint(1, 8)
    uses: list[dict[str, int]] = [{} for _ in range(n)]
    paper, key, value, possible = [], [], [], []
    for row in range(n):
        for k in rng.sample(range(len(keys)), rng.randint(0, len(keys))):
            v, ok = rng.randint(0, 4), rng.random() < 0.7
            paper.append(row)
            key.append(k)
            value.append(v)
            possible.append(ok)
            if ok:
                uses[row][keys[k]] = v
    got = topics_module._lone_per_paper(
        n,
        keys,
        np.array(paper, dtype=np.int64),
        np.array(key, dtype=np.int64),
        np.array(value, dtype=np.int64),
        np.array(possible, dtype=bool),
    )
    assert got == tuple(topics_module._best_use(u) for u in uses)


def _plain_counts(papers: list[Paper]) -> tuple[list[str], list[Counter[str]], list[set[str]]]:
    """The vocabulary in order of first use and each paper's key counts and title keys,
    read from each paper's entry alone."""
    vocab: dict[str, None] = {}
    rows: list[Counter[str]] = []
    titles: list[set[str]] = []
    for p in papers:
        entry = paper_entry(*paper_text(p))
        keys = entry[0].split("\n") if entry[0] else []
        vocab.update(dict.fromkeys(keys))
        rows.append(Counter(dict(zip(keys, _ints(entry[1]), strict=True))))
        titles.append({keys[i] for i in _ints(entry[2] or b"")})
    return list(vocab), rows, titles


def _forget() -> None:
    TERMS.texts.clear()
    topics_module._LONE.clear()
    topics_module._COUNTED.clear()


@pytest.mark.parametrize("block_size", [45, 2000])
def test_count_equals_the_counts_of_each_paper(
    monkeypatch: pytest.MonkeyPatch, block_size: int
) -> None:
    papers, _, _ = _corpus()
    papers = [*papers, replace(papers[3], id="dup"), replace(papers[4], id="untitled")]
    papers[-1] = replace(papers[-1], title_source="derived")
    monkeypatch.setattr(topics_module, "COUNT_BLOCK", block_size)
    _forget()
    stats = topics_module._count(papers, workers=2)
    vocab, rows, titles = _plain_counts(papers)
    assert stats.keys == vocab
    canon = stats.canon
    column = {k: int(canon[i]) for i, k in enumerate(vocab)}
    dense = stats.counts.toarray()
    expected = np.zeros_like(dense)
    title_df = np.zeros(dense.shape[1], dtype=np.int64)
    for r, counted in enumerate(rows):
        for k, n in counted.items():
            expected[r, column[k]] += n
        for k in titles[r]:  # each title key once (two variants of a column: twice)
            title_df[column[k]] += 1
    assert np.array_equal(dense, expected)
    assert np.array_equal(stats.df, (expected > 0).sum(axis=0))
    assert np.array_equal(stats.title_df, title_df)
    # What the similar papers read (for these texts, in order) and a lone paper's label.
    names = {i: t for t, i in TERMS.vocab.items()}
    counted = topics_module.counted_terms([paper_text(p) for p in papers])
    assert counted is not None
    assert topics_module.counted_terms([paper_text(p) for p in papers[1:]]) is None
    ends = np.cumsum(counted.lengths).tolist()
    assert len(ends) == len(papers) and ends[-1] == len(counted.ids) == len(counted.counts)
    for p, start, end in zip(papers, [0, *ends], ends, strict=False):
        text = paper_text(p)
        entry = paper_entry(*text)
        terms, term_counts = topics_module.entry_terms(entry)
        assert [names[i] for i in counted.ids[start:end].tolist()] == terms
        assert counted.counts[start:end].tolist() == list(term_counts)
        assert topics_module._LONE[text] == entry[5]


def test_counted_with_or_without_memo_in_any_mix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks made from memo entries (all or some of a block's papers), from counting
    with entries kept for the memo, and from counting alone give the same topics."""
    papers, _, _ = _corpus()
    monkeypatch.setattr(topics_module, "COUNT_BLOCK", 45)
    _forget()
    plain = assign_topics(papers, TopicConfig())
    half: dict[str, Any] = {}
    for p in papers[::2]:
        half[text_key(*paper_text(p))] = paper_entry(*paper_text(p))
    for workers in (1, 2):
        for memo in (None, {}, dict(half)):
            _forget()
            assert assign_topics(papers, TopicConfig(), workers=workers, memo=memo) == plain
            if memo is not None:
                texts = {k for k in memo if k.count(":") == 1}  # not blocks, names
                assert texts == {text_key(*paper_text(p)) for p in papers}
