"""The per-paper memo of topics and similar papers: a rebuild after one paper changed
recomputes only that paper's per-paper work and gives what a fresh run gives."""

from __future__ import annotations

import pickle
from dataclasses import replace
from typing import Any

import pytest

import generator.topics as topics_module
from generator.model import Paper
from generator.phrases import TERMS
from generator.similar import find_similar
from generator.topics import TopicConfig, TopicResult, assign_topics, paper_text, text_key
from tests.test_topics_planted import _corpus

Similar = dict[str, tuple[tuple[str, float], ...]]


def _forget() -> None:
    """Drop what this process remembers of texts, as a new build process would start."""
    TERMS.texts.clear()
    topics_module._LONE.clear()
    topics_module._COUNTED.clear()
    topics_module._text_phrase.cache_clear()


def _run(
    papers: list[Paper], memo: dict[str, Any] | None, workers: int = 1
) -> tuple[TopicResult, Similar]:
    _forget()
    result = assign_topics(papers, TopicConfig(), workers=workers, memo=memo)
    return result, find_similar(papers, result.paper_topics, workers=workers, memo=memo)


def _count_entries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many texts get their entry counted: one by one (``paper_entry``) or a block's
    at once (``_counted_texts`` with entries)."""
    made = [0]
    real = topics_module.paper_entry
    real_block = topics_module._counted_texts

    def counting(title: str, abstract: str) -> topics_module._Entry:
        made[0] += 1
        return real(title, abstract)

    def counting_block(texts: Any, with_entries: bool) -> Any:
        made[0] += len(texts) if with_entries else 0
        return real_block(texts, with_entries)

    monkeypatch.setattr(topics_module, "paper_entry", counting)
    monkeypatch.setattr(topics_module, "_counted_texts", counting_block)
    return made


def _entry_keys(memo: dict[str, Any]) -> set[str]:
    """The memo's per-paper keys (not those of the blocks and names it also notes)."""
    return {k for k in memo if k.count(":") == 1}


def test_memo_rebuild_after_one_change_equals_a_fresh_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers, _, _ = _corpus()
    memo: dict[str, Any] = {}
    made = _count_entries(monkeypatch)
    first = _run(papers, memo)
    assert made[0] == len({paper_text(p) for p in papers})
    assert first == _run(papers, None)
    assert _entry_keys(memo) == {text_key(*paper_text(p)) for p in papers}

    # Persisted between builds: the memo goes through pickle.
    memo = pickle.loads(pickle.dumps(memo))
    changed = list(papers)
    changed[7] = replace(
        papers[7], abstract=papers[7].abstract + " We also study sparse mixture-of-experts models."
    )
    made[0] = 0
    again = _run(changed, memo)
    assert made[0] == 1  # only the changed paper's text was counted again
    fresh = _run(changed, None)
    assert again == fresh
    assert again != first  # the change reached the result
    assert text_key(*paper_text(changed[7])) in memo


def test_memo_from_forked_workers_and_similar_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    papers, _, _ = _corpus()
    monkeypatch.setattr(topics_module, "COUNT_BLOCK", 45)
    memo: dict[str, Any] = {}
    plain = _run(papers, None)
    assert _run(papers, memo, workers=2) == plain
    # find_similar with a warm memo and nothing counted in this process.
    made = _count_entries(monkeypatch)
    _forget()
    assert find_similar(papers, plain[0].paper_topics, memo=memo) == plain[1]
    assert made[0] == 0
    # ... and with a cold one: it fills the memo with the same entries topics would.
    cold: dict[str, Any] = {}
    _forget()
    assert find_similar(papers, plain[0].paper_topics, memo=cold) == plain[1]
    # (topics also noted its blocks; similar papers the people matrix, in both)
    assert {k: cold[k] for k in _entry_keys(cold)} == {k: memo[k] for k in _entry_keys(memo)}
    people = [k for k in cold if ":people:" in k]
    assert len(people) == 1 and people[0] in memo


def test_text_key_reads_title_and_abstract_only() -> None:
    papers, _, _ = _corpus()
    p = papers[0]
    assert text_key(*paper_text(p)) == text_key(*paper_text(replace(p, id="other", authors=())))
    assert text_key(*paper_text(p)) != text_key(*paper_text(replace(p, title=p.title + "s")))
    assert text_key("ab", "c") != text_key("a", "bc")
