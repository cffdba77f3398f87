"""Blocks of papers noted in the topics memo: a rebuild after a few records changed takes
every block whose texts all stayed the same whole from the memo, makes again only the
blocks holding a changed text, and gives what a fresh run gives."""

from __future__ import annotations

import pickle
import re
from dataclasses import replace
from typing import Any

import pytest

import generator.topics as topics_module
from generator.cache import Memo, shard_of
from generator.model import Paper
from generator.phrases import target_surfaces
from generator.topics import block_key, paper_text, text_key
from tests.test_topics_memo import _run
from tests.test_topics_planted import _corpus

BLOCK = 45


def _blocks_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the blocks made from entries (a block taken from the memo is not)."""
    made = [0]
    real = topics_module._block_of_entries

    def counting(entries: Any) -> topics_module._Block:
        made[0] += 1
        return real(entries)

    monkeypatch.setattr(topics_module, "_block_of_entries", counting)
    return made


def _edit(papers: list[Paper], rows: list[int]) -> list[Paper]:
    changed = list(papers)
    for i in rows:
        changed[i] = replace(
            papers[i], abstract=papers[i].abstract + " We also study sparse mixture-of-experts."
        )
    return changed


def _blocks_of(papers: list[Paper]) -> list[str]:
    """The memo keys of the blocks the papers' texts are cut into."""
    keys = [text_key(*paper_text(p)) for p in papers]
    return [block_key(keys[lo:hi]) for lo, hi in topics_module._block_bounds(len(keys), keys)]


@pytest.mark.parametrize("rows", [[7], [7, 3 * BLOCK + 1], [BLOCK - 1, BLOCK], []])
def test_only_blocks_with_a_changed_text_are_made_again(
    monkeypatch: pytest.MonkeyPatch, rows: list[int]
) -> None:
    papers, _, _ = _corpus()
    monkeypatch.setattr(topics_module, "COUNT_BLOCK", BLOCK)
    assert len(_blocks_of(papers)) >= 4
    memo: dict[str, Any] = {}
    first = _run(papers, memo)
    blocks = {k for k in memo if ":block:" in k}
    assert blocks == set(_blocks_of(papers))

    memo = pickle.loads(pickle.dumps(memo))  # as persisted between builds
    made = _blocks_made(monkeypatch)
    assert _run(papers, memo) == first  # nothing changed: every block from the memo
    assert made[0] == 0

    if rows:
        changed = _edit(papers, rows)
    else:  # a paper added, another removed
        extra = replace(papers[7], id="added", abstract="Sparse mixture-of-experts routing.")
        changed = [*papers[:20], extra, *papers[20:60], *papers[61:]]
    again = _run(changed, memo)
    new_blocks = set(_blocks_of(changed)) - blocks
    assert made[0] == len(new_blocks)
    assert 1 <= len(new_blocks) <= 3
    assert again == _run(changed, None)
    assert again != first  # the change reached the result
    # The new blocks are noted; the old ones stay until a build leaves them unused.
    assert {k for k in memo if ":block:" in k} == blocks | new_blocks


def test_a_reverted_change_takes_the_old_block_and_stale_blocks_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers, _, _ = _corpus()
    monkeypatch.setattr(topics_module, "COUNT_BLOCK", BLOCK)
    first_memo = Memo()
    first = _run(papers, first_memo)  # type: ignore[arg-type]
    stored = {k: v for shard in first_memo.shards().values() for k, v in shard.items()}

    changed = _edit(papers, [5])
    memo = Memo(dict(stored))
    made = _blocks_made(monkeypatch)
    assert _run(changed, memo) == _run(changed, None)  # type: ignore[arg-type]
    assert made[0] == 1
    written = memo.shards()
    kept = {k for k in stored if shard_of(k) not in written}
    kept.update(k for shard in written.values() for k in shard)
    # the block holding the old text of paper 5 was not used: it is not written back
    gone = {k for k in stored if ":block:" in k} - {k for k in kept if ":block:" in k}
    assert len(gone) == 1

    # Back to the first texts: the first memo's blocks give the first result, none made.
    made[0] = 0
    assert _run(papers, Memo(dict(stored))) == first  # type: ignore[arg-type]
    assert made[0] == 0


def test_display_names_read_only_the_sampled_texts_not_read_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers, _, _ = _corpus()
    n = len(papers)
    stats = topics_module._count(papers)
    scores, absorbed = topics_module._candidates(stats, n, set())
    counts = topics_module._absorb(stats, absorbed)
    chosen = topics_module._assign(stats, counts, scores, n, [topics_module.MAX_TOPICS] * n)
    used = {c for cols in chosen for c in cols}
    sample = topics_module._sample_rows(chosen, used)
    memo: dict[str, Any] = {}
    names = topics_module._display_names(papers, stats, chosen, used, memo)
    assert names == topics_module._display_names(papers, stats, chosen, used)
    noted = [k for k in memo if ":spellings:" in k]
    assert len(noted) == 1 and len(memo[noted[0]]) == len({papers[r].id for r in sample})

    read: list[str] = []
    real = target_surfaces

    def reading(text: str, *args: Any) -> Any:
        read.append(text)
        return real(text, *args)

    monkeypatch.setattr(topics_module, "target_surfaces", reading)
    assert topics_module._display_names(papers, stats, chosen, used, memo) == names
    assert read == []

    # The sampled papers write one topic in capitals: its name follows (not the memo).
    col = next(c for c in sorted(used) if " " in names[c])
    phrase = names[col]
    written = re.compile(re.escape(phrase), re.IGNORECASE)
    changed = list(papers)
    edited = set()
    for r in sample:
        p = changed[r]
        changed[r] = replace(
            p,
            title=written.sub(phrase.upper(), p.title),
            abstract=written.sub(phrase.upper(), p.abstract),
        )
        if changed[r] != p:
            edited.add(r)
    assert edited
    again = topics_module._display_names(changed, stats, chosen, used, memo)
    assert len(read) == 2 * len(edited)  # title and abstract of each edited text only
    assert again == topics_module._display_names(changed, stats, chosen, used)
    assert again[col] == phrase.upper()
    assert {c: v for c, v in again.items() if c != col} == {
        c: v for c, v in names.items() if c != col
    }
    # Other topics (another key under which spellings are noted): every text read again.
    read.clear()
    fewer = used - {col}
    assert topics_module._display_names(changed, stats, chosen, fewer, memo) == (
        topics_module._display_names(changed, stats, chosen, fewer)
    )
    assert len(read) > 2 * len(edited)


def test_display_names_noted_by_merge_key_survive_renumbered_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new phrase in the first paper renumbers every column after it; the topics and
    their sampled texts are the same, so no sampled text but the edited one is read."""
    papers, _, _ = _corpus()
    memo: dict[str, Any] = {}
    first = _run(papers, memo)
    changed = list(papers)
    changed[0] = replace(papers[0], abstract=papers[0].abstract + " Zorblax quantification.")
    before, after = topics_module._count(papers), topics_module._count(changed)
    assert any(after.column[k] != c for k, c in before.column.items())  # renumbered
    read: list[str] = []
    real = target_surfaces

    def reading(text: str, *args: Any) -> Any:
        read.append(text)
        return real(text, *args)

    monkeypatch.setattr(topics_module, "target_surfaces", reading)
    again = _run(changed, memo)
    assert set(read) <= {changed[0].title, changed[0].abstract}
    monkeypatch.setattr(topics_module, "target_surfaces", real)
    assert again == _run(changed, None)
    assert again[0] == first[0]  # the same topics
