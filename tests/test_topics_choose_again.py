"""After topics with too few papers are dropped, only the papers whose choice may change
choose again (``generator.topics._choose_again``): the topics are those of choosing again
every paper holding a dropped topic among its candidates, and the papers left out are
exactly the ones the rule proves unchanged (a weaker rule gives other topics)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import generator.topics as topics_module
from generator.bibtex import read_bib_paths
from generator.model import Paper
from generator.papers import build_papers
from generator.readers import read_seed_paths
from generator.topics import TopicConfig, TopicResult, assign_topics

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    files, _ = read_seed_paths([ROOT / "seeds"], today=date(2026, 11, 22))
    entries, _ = read_bib_paths([ROOT / "seeds"])
    built, _ = build_papers([r for f in files for r in f.records], entries)
    return list(built)


def _every_holder(job: Any, active: Any, allowed: Any, taken: Any, pair_row: Any) -> Any:
    """Every paper with a dropped topic among its candidates (what choosing again used to
    take): choosing again is a pure function of the active topics, so this is right."""
    return np.unique(pair_row[~active[job.by_score]])


def _taken_only(job: Any, active: Any, allowed: Any, taken: Any, pair_row: Any) -> Any:
    """A rule too weak: only the papers that got a dropped topic (a dropped topic a paper
    allowed but did not get may have kept a later candidate out)."""
    lost = np.flatnonzero(allowed & ~active[job.by_score])
    again = job.wide[pair_row[lost]] | taken[lost]
    allowed[lost[~again]] = False
    return np.unique(pair_row[lost][again])


def _topics(papers: list[Paper], room_cut: int) -> TopicResult:
    config = TopicConfig(pin={p.id: ("pinned",) * room_cut for p in papers[::3]})
    return assign_topics(papers, config)


@pytest.mark.parametrize("room_cut", [0, 2])
def test_choosing_again_fewer_papers_gives_the_same_topics(
    monkeypatch: pytest.MonkeyPatch, papers: list[Paper], room_cut: int
) -> None:
    calls: list[tuple[int, int]] = []  # (papers holding a dropped topic, papers chosen again)
    real = topics_module._choose_again

    def counted(job: Any, active: Any, allowed: Any, taken: Any, pair_row: Any) -> Any:
        holders = len(_every_holder(job, active, allowed, taken, pair_row))
        again = real(job, active, allowed, taken, pair_row)
        calls.append((holders, len(again)))
        return again

    monkeypatch.setattr(topics_module, "_choose_again", counted)
    fast = _topics(papers, room_cut)
    assert calls and sum(a for _, a in calls) < sum(h for h, _ in calls)  # some were skipped
    monkeypatch.setattr(topics_module, "_choose_again", _every_holder)
    assert _topics(papers, room_cut) == fast


@pytest.mark.parametrize("seed, at_once", [(1, 1 << 20), (2, 1 << 20), (1, 7)])
def test_on_a_generated_corpus_and_a_weaker_rule_gives_other_topics(
    monkeypatch: pytest.MonkeyPatch, seed: int, at_once: int
) -> None:
    """On the benchmark's generated corpus (500 papers): the same topics as choosing again
    every holder (also when the pairs are compared a few at a time), and the
    refused-for-a-word clause is exercised (without it, topics differ)."""
    from bench.bench_topics import corpus

    papers = corpus(500, seed)
    monkeypatch.setattr(topics_module, "AGAIN_PAIRS", at_once)
    fast = assign_topics(papers, TopicConfig())
    monkeypatch.setattr(topics_module, "_choose_again", _every_holder)
    assert assign_topics(papers, TopicConfig()) == fast
    monkeypatch.setattr(topics_module, "_choose_again", _taken_only)
    assert assign_topics(papers, TopicConfig()) != fast
