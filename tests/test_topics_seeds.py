"""Topics, similar papers and grouping on the real seeds, through the real pipeline."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from generator.bibtex import read_bib_paths
from generator.groups import group_papers
from generator.model import Paper, SeedFile
from generator.papers import build_papers
from generator.people import split_author_groups
from generator.readers import read_seed_paths
from generator.similar import find_similar
from generator.topics import TopicConfig, TopicResult, assign_topics

ROOT = Path(__file__).resolve().parent.parent

DISTILLATION = {
    "1909.10351",  # TinyBERT
    "2106.02241",  # ERNIE-Tiny
    "2009.14167",  # CoDIR
    "2201.12507",  # AutoDistil
    "2103.06418",  # LightMBERT
    "2104.11928",  # Extract then Distill
    "2012.06153",  # layer-mapping search
    "2009.12812",  # TernaryBERT
}
THEOREM_PROVING = {"2310.10180", "2309.04295", "2604.15839", "2506.04592"}  # TRIGO FIMO DAP Safe
ERNIE = {"2106.02241", "2012.15674", "2012.15688"}
ASTRONOMY = {"2105.11624", "2103.10154", "2102.00731", "2101.02540", "2005.08198", "2005.08197"}
LAMOST = {"2105.11624", "2103.10154", "2102.00731", "2101.02540"}
PHOTONICS = {"2104.02990", "2104.01158", "2103.00471"}
MOE = {"2606.04438", "2605.06665", "2505.04519"}  # LoopMoE, UniPool, Pangu Ultra MoE


@pytest.fixture(scope="module")
def seeds() -> tuple[tuple[SeedFile, ...], tuple[Paper, ...]]:
    files, _ = read_seed_paths([ROOT / "seeds"], today=date(2026, 11, 22))
    entries, _ = read_bib_paths([ROOT / "seeds"])
    papers, _ = build_papers([r for f in files for r in f.records], entries)
    return files, papers


@pytest.fixture(scope="module")
def topics(seeds: tuple[tuple[SeedFile, ...], tuple[Paper, ...]]) -> TopicResult:
    return assign_topics(seeds[1], TopicConfig())


def _shared(result: TopicResult, ids: set[str]) -> list[str]:
    """Names of topics holding every paper of ids."""
    return [t.name for t in result.topics if ids <= set(t.paper_ids)]


def test_topic_rules(
    seeds: tuple[tuple[SeedFile, ...], tuple[Paper, ...]], topics: TopicResult
) -> None:
    papers = seeds[1]
    assert len(papers) == 64
    for p in papers:
        assert 1 <= len(topics.paper_topics[p.id]) <= 5, p.id
    ids = [t.id for t in topics.topics]
    assert len(ids) == len(set(ids))
    order = {p.id: i for i, p in enumerate(papers)}
    for t in topics.topics:
        assert 2 <= len(t.paper_ids) <= 0.4 * len(papers), t.name
        assert list(t.paper_ids) == sorted(t.paper_ids, key=order.__getitem__)
        assert t.definition.count(".") >= 1 and t.definition.endswith(".")
        assert set(t.related) <= set(ids)
    for pid, tids in topics.paper_topics.items():
        assert set(tids) <= set(ids), pid


def test_expected_topics(topics: TopicResult) -> None:
    assert "knowledge distillation" in _shared(topics, DISTILLATION)
    assert "theorem proving" in _shared(topics, THEOREM_PROVING)
    assert _shared(topics, MOE) == ["mixture of experts"]
    assert "LAMOST" in _shared(topics, LAMOST)
    assert "ERNIE" in _shared(topics, ERNIE)
    names = {t.name for t in topics.topics}
    # Named as a person names them, never boilerplate fragments.
    for bad in ("distillation framework", "we propose", "in this paper", "state of the art"):
        assert bad not in names
    assert all(not n.endswith((" to", " of", " the")) for n in names)


def test_similar_papers(
    seeds: tuple[tuple[SeedFile, ...], tuple[Paper, ...]], topics: TopicResult
) -> None:
    papers = seeds[1]
    similar = find_similar(papers, topics.paper_topics)
    assert similar == find_similar(papers, topics.paper_topics)
    for pid, lst in similar.items():
        assert len(lst) <= 5
        assert all(0.0 < s <= 1.0 for _, s in lst)
        assert [s for _, s in lst] == sorted((s for _, s in lst), reverse=True)
        assert pid not in {o for o, _ in lst}
    for pid in ERNIE:
        assert {o for o, _ in similar[pid]} & (ERNIE - {pid}), pid
    language = {t.name: set(t.paper_ids) for t in topics.topics}
    lm = (
        language["pre-trained language models"]
        | language["knowledge distillation"]
        | (language["large language models"])
    )
    for pid in lm:
        assert not {o for o, _ in similar[pid]} & ASTRONOMY, pid
    for pid in PHOTONICS:
        assert {o for o, _ in similar[pid]} <= PHOTONICS | {"2202.01097"}, pid


@pytest.mark.parametrize("use_similar", [False, True])
def test_listing_groups(
    seeds: tuple[tuple[SeedFile, ...], tuple[Paper, ...]],
    topics: TopicResult,
    use_similar: bool,
) -> None:
    files, papers = seeds
    similar = find_similar(papers, topics.paper_topics) if use_similar else None
    result = {}
    for f in files:
        stem = Path(f.path).stem
        subset = [p for p in papers if stem in p.listings]
        groups, mixed = group_papers(subset, topics.paper_topics, topics.topics, similar=similar)
        assert sorted(i for g in groups for i in g.paper_ids) == sorted(p.id for p in subset)
        assert all(g.label and not g.label.isdigit() for g in groups)
        assert len({g.label for g in groups}) == len(groups)
        result[stem[:3]] = (groups, mixed)
    assert not result["003"][1] and len(result["003"][0]) == 1
    for stem in ("000", "001", "002", "004"):
        assert result[stem][1], stem
    hao_tian = {frozenset(g.paper_ids) for g in result["000"][0]}
    assert frozenset(LAMOST) in hao_tian and frozenset(PHOTONICS) in hao_tian
    assert frozenset(ERNIE) in hao_tian


def test_author_split(
    seeds: tuple[tuple[SeedFile, ...], tuple[Paper, ...]], topics: TopicResult
) -> None:
    papers = seeds[1]
    hao = [p for p in papers if any(a == "Hao Tian" for a in p.authors)]
    groups, mixed = split_author_groups("Hao Tian", hao, topics.paper_topics, topics.topics)
    assert mixed and len(groups) >= 3
    yin = [p for p in papers if any(a == "Yichun Yin" for a in p.authors)]
    groups, mixed = split_author_groups("Yichun Yin", yin, topics.paper_topics, topics.topics)
    assert not mixed and len(groups) == 1


# Single words a reader would not call a topic (they need a word saying what of).
VAGUE = {
    "interaction",
    "transfer",
    "dynamics",
    "members",
    "precision",
    "mapping",
    "selection",
    "segment",
    "expressions",
    "functionalities",
    "encoding",
    "extraction",
    "matching",
}
NLP_001 = {
    "2205.12410",
    "2205.10178",
    "2204.06644",
    "2203.03466",
    "2202.08772",
    "2202.02664",
    "2201.12507",
}
OTHERS_001 = {"2205.01946", "2204.01040", "2202.01097"}  # wall heat flux, lunar dust, VLC


def test_topic_names_are_specific(topics: TopicResult) -> None:
    by_id = {t.id: t for t in topics.topics}
    for t in topics.topics:
        assert "teacher" not in t.name.split() and " of word" not in t.name, t.name
        if t.name in VAGUE:
            # Only as the last resort of a paper that shares nothing more specific.
            holders = [tids for tids in topics.paper_topics.values() if t.id in tids]
            assert any(len(tids) == 1 for tids in holders), t.name
    for pid, tids in topics.paper_topics.items():
        # Never a paper's main topic when it has a specific one.
        assert len(tids) == 1 or by_id[tids[0]].name not in VAGUE, pid
    assert _shared(topics, PHOTONICS), "the photonics papers share no topic"
    names = {t.name for t in topics.topics}
    for expected in ("large language models", "question answering", "mathematical reasoning"):
        assert expected in names


def test_groups_separate_unrelated_papers(
    seeds: tuple[tuple[SeedFile, ...], tuple[Paper, ...]], topics: TopicResult
) -> None:
    files, papers = seeds
    similar = find_similar(papers, topics.paper_topics)
    names = {t.name for t in topics.topics}
    by_topic = {t.name: set(t.paper_ids) for t in topics.topics}
    for use in (None, similar):
        for f in files:
            stem = Path(f.path).stem
            subset = [p for p in papers if stem in p.listings]
            groups, mixed = group_papers(subset, topics.paper_topics, topics.topics, similar=use)
            for g in groups:
                if g.label in names and len(g.paper_ids) > 1:
                    # A topic label is held by at least half of the group.
                    assert 2 * len(set(g.paper_ids) & by_topic[g.label]) >= len(g.paper_ids)
                assert g.label not in VAGUE, g.label
            if stem.startswith("001"):
                sets = [set(g.paper_ids) for g in groups]
                nlp = next(s for s in sets if s & NLP_001)
                assert not nlp & OTHERS_001
                for pid in OTHERS_001:
                    # Each unrelated paper stands apart: not in a group with the others.
                    assert next(s for s in sets if pid in s) == {pid}, pid
            if stem.startswith("002"):
                graph = next(g for g in groups if "2006.01975" in g.paper_ids)
                assert graph.paper_ids == ("2006.01975",)
