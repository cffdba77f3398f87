"""A rebuild never reuses stale work: after one record's title, authors, abstract or date
changes, the rebuilt site equals a cold build byte for byte, and the catalog's kept
structure (who wrote what, listings, co-authors, counts) is reused only when nothing it
reads changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import generator.catalog as catalog_module
from generator.catalog import build_catalog
from generator.config import SiteConfig
from generator.model import Paper, SeedFile
from generator.papers import build_papers
from generator.readers import read_seed_paths, reference_date
from generator.similar import find_similar
from generator.topics import TopicResult, assign_topics
from tests.conftest import ROOT, TODAY
from tests.hardening_support import build_in_process, diff_trees, tree_digest, two_seed_listings

SEEDS = ROOT / "seeds"


def _edit_line(seeds: Path, line: int, edit: Callable[[str], str]) -> None:
    path = sorted(seeds.glob("003_*.txt"))[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    changed = edit(lines[line])
    assert changed != lines[line]
    lines[line] = changed
    path.write_text("\n".join(lines), encoding="utf-8")


EDITS: dict[str, tuple[int, Callable[[str], str]]] = {
    # the first record: its date line, its title-and-authors line, its abstract
    "title": (1, lambda s: "Revised " + s),
    "authors": (1, lambda s: s.replace("Jing Xiong", "Ada Lovelace", 1)),
    "abstract": (2, lambda s: s + " We also report an ablation."),
    "date": (0, lambda s: s.replace("2023", "2021", 1)),
}


@pytest.mark.parametrize("what", sorted(EDITS))
def test_rebuild_after_an_edit_equals_a_cold_build(tmp_path: Path, what: str) -> None:
    seeds = two_seed_listings(tmp_path)
    warm = tmp_path / "warm"
    assert build_in_process(seeds, warm).code == 0
    before = tree_digest(warm)
    _edit_line(seeds, *EDITS[what])
    rebuilt = build_in_process(seeds, warm)
    assert rebuilt.code == 0, rebuilt.output
    assert "up to date" not in rebuilt.output
    cold = tmp_path / "cold"
    assert build_in_process(seeds, cold, cache=False).code == 0
    assert diff_trees(tree_digest(cold), tree_digest(warm)) == []
    assert tree_digest(warm) != before  # the edit shows


Inputs = tuple[tuple[Paper, ...], tuple[SeedFile, ...], TopicResult, Any, SiteConfig]


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    files, _ = read_seed_paths([SEEDS], today=reference_date(TODAY))
    papers, _ = build_papers([r for f in files for r in f.records], [])
    config = SiteConfig()
    topics = assign_topics(papers, config.topics)
    similar = find_similar(papers, topics.paper_topics)
    return tuple(papers), tuple(files), topics, similar, config


def _catalog(inputs: Inputs, papers: tuple[Paper, ...], memo: dict[str, Any] | None) -> Any:
    _, files, topics, similar, config = inputs
    return build_catalog(papers, files, topics, similar, config, memo=memo)


def _structures(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the structures made (not taken from the memo)."""
    made: list[int] = []
    real = catalog_module._begin_structure

    def counting(*args: Any) -> Any:
        made.append(1)
        return real(*args)

    monkeypatch.setattr(catalog_module, "_begin_structure", counting)
    return made


def test_kept_structure_is_reused_for_an_abstract_edit(
    inputs: Inputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    papers = inputs[0]
    memo: dict[str, Any] = {}
    made = _structures(monkeypatch)
    assert _catalog(inputs, papers, memo) == _catalog(inputs, papers, None)
    assert any(k.startswith("structure\x00") for k in memo) and len(made) == 2
    edited = (replace(papers[0], abstract=papers[0].abstract + " More."), *papers[1:])
    made.clear()
    assert _catalog(inputs, edited, memo) == _catalog(inputs, edited, None)
    assert len(made) == 1  # only the build without a memo made it


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: replace(p, authors=("Ada Lovelace", *p.authors[1:])),
        lambda p: replace(p, authors=(*p.authors, "Grace Hopper")),
        lambda p: replace(p, authors=tuple(reversed(p.authors))),
        lambda p: replace(p, year=(p.year or 2000) - 3),
        lambda p: replace(p, listings=()),
    ],
    ids=["author-renamed", "author-added", "authors-reordered", "year", "listings"],
)
def test_kept_structure_is_not_reused_when_what_it_reads_changed(
    inputs: Inputs, monkeypatch: pytest.MonkeyPatch, edit: Callable[[Paper], Paper]
) -> None:
    papers = inputs[0]
    memo: dict[str, Any] = {}
    _catalog(inputs, papers, memo)
    made = _structures(monkeypatch)
    at = next(i for i, p in enumerate(papers) if len(p.authors) > 1)
    edited = (*papers[:at], edit(papers[at]), *papers[at + 1 :])
    assert _catalog(inputs, edited, memo) == _catalog(inputs, edited, None)
    assert len(made) == 2  # made again with the memo too


def test_kept_structure_follows_the_config(inputs: Inputs) -> None:
    papers, files, topics, similar, config = inputs
    memo: dict[str, Any] = {}
    build_catalog(papers, files, topics, similar, config, memo=memo)
    name = next(a for p in papers for a in p.authors)
    aliased = replace(config, author_aliases={name: "Someone Else"})
    got = build_catalog(papers, files, topics, similar, aliased, memo=memo)
    assert got == build_catalog(papers, files, topics, similar, aliased)
    assert "Someone Else" in {a.name for a in got[0].authors}
