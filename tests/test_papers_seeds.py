"""build_papers on today's seeds plus seeds/seeds.bib (issue 4's acceptance checks)."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from bibtexparser.entrypoint import parse_string

from generator.bibexport import site_bibtex
from generator.bibtex import parse_bib_text, read_bib_paths
from generator.diagnostics import Diagnostic
from generator.model import Paper, Record
from generator.papers import build_papers
from generator.readers import read_seed_paths

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TODAY = date(2026, 11, 22)  # the reference date the other seed tests use
LISTING = "003_816f5c052e9d377f"
SHARED_NAMES = {
    "000_54f5ae323de093de": "Hao Tian",
    "001_d80bf2fad57e498a": "Xiaodong Liu",
    "002_dd1475da19ea4763": "Yu Cheng",
    "003_816f5c052e9d377f": "Yichun Yin",
    "004_82251fcf09454cb4": "Jiduan Liu",
}


def build(seeds: Path) -> tuple[tuple[Record, ...], tuple[Paper, ...], tuple[Diagnostic, ...]]:
    seed_files, read_diags = read_seed_paths([seeds], TODAY)
    assert [d for d in read_diags if d.severity == "error"] == []
    records = tuple(r for f in seed_files for r in f.records)
    entries, bib_diags = read_bib_paths([seeds])
    papers, diags = build_papers(records, entries)
    return records, papers, (*bib_diags, *diags)


@pytest.fixture(scope="module")
def seeded() -> tuple[tuple[Record, ...], tuple[Paper, ...], tuple[Diagnostic, ...]]:
    return build(SEEDS)


def expected_ids() -> dict[tuple[str, int], str]:
    """(seed file, record index) -> eprint, from the "% FILE #N" comments of seeds.bib."""
    text = (SEEDS / "seeds.bib").read_text(encoding="utf-8")
    found = re.findall(r"^% (\S+)\.txt #(\d+)\n@\w+\{[^@]*?eprint=\{([^}]+)\}", text, re.M)
    return {(stem, int(n)): eprint for stem, n, eprint in found}


def test_sixty_four_papers_without_warnings(
    seeded: tuple[object, tuple[Paper, ...], tuple[Diagnostic, ...]],
) -> None:
    _, papers, diags = seeded
    assert len(papers) == 64
    assert diags == ()
    assert len({p.id for p in papers}) == 64


def test_every_listing_record_gets_its_arxiv_id_from_bibtex(
    seeded: tuple[tuple[Record, ...], tuple[Paper, ...], object],
) -> None:
    records, papers, _ = seeded
    listing = [r for r in records if Path(r.file).stem == LISTING]
    assert len(listing) == 29 and all(r.arxiv_id is None for r in listing)
    expected = expected_ids()
    by_origin = {(o.file, o.index): p for p in papers for o in p.origins if o.kind == "seed"}
    for r in listing:
        p = by_origin[(r.file, r.index)]
        assert p.arxiv_id == expected[(LISTING, r.index)], r
        assert dict(p.field_sources)["arxiv_id"] == "bibtex"
        assert p.id == p.arxiv_id
        assert (p.date, p.date_precision) == (r.date, "day")  # the listing's own date


def test_at_least_sixty_papers_have_a_real_title(
    seeded: tuple[object, tuple[Paper, ...], object],
) -> None:
    _, papers, _ = seeded
    titled = [p for p in papers if p.title_source in ("seed", "bibtex")]
    assert len(titled) >= 60
    assert [p.id for p in papers if p.title_source == "derived"] == ["2103.10154"]


def test_listing_authors_are_completed(seeded: tuple[object, tuple[Paper, ...], object]) -> None:
    _, papers, _ = seeded
    listing = [p for p in papers if LISTING in p.listings]
    kept = [p.arxiv_id for p in listing if dict(p.field_sources)["authors"] == "seed"]
    # PoD lists all three of its authors; LoopMoE's BibTeX is no longer than its listing
    assert sorted(kept) == ["1911.03785", "2606.04438"]
    loop = next(p for p in listing if p.arxiv_id == "2606.04438")  # "and others" in BibTeX too
    assert loop.authors == ("Wenkai Chen", "Tianshu Li", "Wenyong Huang") and loop.authors_truncated
    pangu = next(p for p in listing if p.arxiv_id == "2505.04519")
    assert len(pangu.authors) == 74 and not pangu.authors_truncated


@pytest.mark.parametrize(("stem", "name"), sorted(SHARED_NAMES.items()))
def test_shared_name_is_an_author_on_most_papers_of_its_listing(
    seeded: tuple[object, tuple[Paper, ...], object], stem: str, name: str
) -> None:
    _, papers, _ = seeded
    listed = [p for p in papers if stem in p.listings]
    assert sum(1 for p in listed if name in p.authors) * 2 > len(listed)


def test_dates_categories_and_venues(seeded: tuple[object, tuple[Paper, ...], object]) -> None:
    _, papers, _ = seeded
    by_id = {p.id: p for p in papers}
    assert (by_id["2009.14167"].date, by_id["2009.14167"].date_precision) == ("2020-09", "month")
    assert (by_id["2106.02241"].date, by_id["2106.02241"].date_precision) == ("2021-06-04", "day")
    assert by_id["2105.11624"].category == "astro-ph.SR"
    assert by_id["2104.01158"].category == "physics.optics"
    assert by_id["2310.10180"].category == "cs.CL"
    assert by_id["2012.15674"].venue == "EMNLP 2021 (main)"
    assert [p.date for p in papers] == sorted((p.date for p in papers), reverse=True)


def test_papers_bib_round_trips(seeded: tuple[object, tuple[Paper, ...], object]) -> None:
    _, papers, _ = seeded
    text = site_bibtex(papers)
    library = parse_string(text)
    assert library.failed_blocks == []
    assert len(library.entries) == 64
    assert len({e.key for e in library.entries}) == 64
    entries, diags = parse_bib_text("papers.bib", text)
    assert diags == ()
    for p, e in zip(papers, entries, strict=True):
        assert e.title == p.title.replace("{", "").replace("}", "")
        assert (e.authors, e.authors_truncated) == (p.authors, p.authors_truncated)
        assert (e.arxiv_id, e.year, e.doi, e.primary_class) == (
            p.id, p.year, p.doi, p.category,
        )  # fmt: skip


def test_conflicts_in_a_changed_bib_are_warned(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    bib = seeds / "seeds.bib"
    text = bib.read_text(encoding="utf-8")
    text = text.replace("doi={10.1145/3295500.3356144}", "doi={10.1145/0000000}")
    text = text.replace(
        "author={Xiong, Jing and Shen, Jianhao", "author={Shen, Jianhao and Xiong, Jing"
    )
    bib.write_text(text, encoding="utf-8")
    _, papers, diags = build(seeds)
    messages = [str(d) for d in diags]
    assert len(messages) == 2
    assert messages[0].startswith(f"{seeds}/003_816f5c052e9d377f.txt:1: warning: first author")
    assert "'Jing Xiong'" in messages[0] and "'Jianhao Shen'" in messages[0]
    assert f"({bib}:" in messages[0]
    assert messages[1].startswith(f"{seeds}/004_82251fcf09454cb4.txt:")
    assert "DOI differs" in messages[1]
    assert "'10.1145/3295500.3356144'" in messages[1] and "'10.1145/0000000'" in messages[1]
    trigo = next(p for p in papers if p.arxiv_id == "2310.10180")
    assert trigo.authors == ("Jing Xiong", "Jianhao Shen", "Ye Yuan") and trigo.authors_truncated


def test_broken_bib_keeps_other_entries(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    bib = seeds / "seeds.bib"
    text = bib.read_text(encoding="utf-8")
    bib.write_text(text.replace("title={ERNIE-Tiny :", "title={{ERNIE-Tiny :", 1), encoding="utf-8")
    _, papers, diags = build(seeds)
    assert [(d.severity, d.line) for d in diags] == [("error", 2)]
    assert "su2021erniet" in diags[0].message
    by_id = {p.id: p for p in papers}
    assert by_id["2106.02241"].title_source == "derived"  # its entry was lost ...
    assert by_id["2105.11624"].title_source == "bibtex"  # ... the next one was not
    assert sum(1 for p in papers if p.title_source != "derived") == 62
