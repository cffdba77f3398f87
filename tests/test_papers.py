"""build_papers: dedupe, matching, merging and conflicts, on small inline records and .bib texts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from generator.bibtex import parse_bib_text
from generator.diagnostics import Diagnostic
from generator.headline import derive_headline
from generator.model import BibEntry, Paper, Record
from generator.papers import build_papers, code_url_in, same_person, title_key
from tests.conftest import ROOT

ABSTRACT = "We propose a method. It works well on every benchmark we tried."


def rec(file: str = "seeds/000_a.txt", line: int = 1, index: int = 0, **fields: object) -> Record:
    layout = fields.pop("layout", "arxiv-blocks")
    fields.setdefault("abstract", ABSTRACT)
    return Record(file=file, line=line, index=index, layout=layout, **fields)  # type: ignore[arg-type]


def bib(text: str, name: str = "refs.bib") -> tuple[BibEntry, ...]:
    entries, diags = parse_bib_text(name, text)
    assert diags == ()
    return entries


def build(
    records: list[Record], bib_text: str = ""
) -> tuple[dict[str, Paper], tuple[Diagnostic, ...]]:
    papers, diags = build_papers(records, bib(bib_text) if bib_text else ())
    return {p.id: p for p in papers}, diags


def sources(p: Paper) -> dict[str, str]:
    return dict(p.field_sources)


LISTING = rec(
    "seeds/003_b.txt",
    4,
    1,
    layout="listing",
    title="TRIGO: Benchmarking Formal {M}athematical Proof Reduction",
    authors=("Jing Xiong", "J. Shen", "Ye Yuan"),
    authors_truncated=True,
    date="2023-10-16",
    date_text="Oct 16, 2023",
    category="CL",
    has_code=True,
)
TRIGO_BIB = """
@misc{xiong2023trigo,
      title={TRIGO: Benchmarking Formal Mathematical Proof Reduction},
      author={Xiong, Jing and Shen, Jianhao and Yuan, Ye and Yin, Yichun},
      year={2023},
      eprint={2310.10180v2},
      archivePrefix={arXiv},
      primaryClass={cs.LG},
      note={EMNLP 2023},
      url={https://arxiv.org/abs/2310.10180},
}
"""


# --- matching -------------------------------------------------------------------------------


def test_listing_record_matched_by_title_gets_id_and_full_authors() -> None:
    papers, diags = build([LISTING], TRIGO_BIB)
    assert diags == ()
    p = papers["2310.10180"]
    assert p.arxiv_id == "2310.10180"
    assert p.title == "TRIGO: Benchmarking Formal {M}athematical Proof Reduction"  # seed wins
    assert p.title_source == "seed"
    assert p.authors == ("Jing Xiong", "Jianhao Shen", "Ye Yuan", "Yichun Yin")
    assert not p.authors_truncated
    assert (p.date, p.date_precision, p.year) == ("2023-10-16", "day", 2023)
    assert p.category == "cs.CL"  # the seed's category wins over primaryClass
    assert p.venue == "EMNLP 2023"
    assert p.url == "https://arxiv.org/abs/2310.10180"
    assert p.has_code and p.code_url is None
    assert p.listings == ("003_b",)
    assert [(o.kind, o.file, o.line) for o in p.origins] == [
        ("seed", "seeds/003_b.txt", 4),
        ("bibtex", "refs.bib", 2),
    ]
    assert sources(p) == {
        "arxiv_id": "bibtex", "title": "seed", "authors": "bibtex", "date": "seed",
        "category": "seed", "abstract": "seed", "venue": "bibtex", "url": "bibtex",
        "has_code": "seed",
    }  # fmt: skip


def test_match_by_arxiv_id_ignores_versions() -> None:
    papers, diags = build([rec(arxiv_id="2310.10180v1", date="2023-10-16")], TRIGO_BIB)
    assert diags == ()
    p = papers["2310.10180"]
    assert p.arxiv_id == "2310.10180v1"  # as the seed writes it
    assert p.title_source == "bibtex"
    assert p.category == "cs.LG"
    assert len(papers) == 1


@pytest.mark.parametrize(
    "field", ["eprint={arXiv:2310.10180}", "url={https://arxiv.org/abs/2310.10180v3}",
              "note={arXiv:2310.10180}"],
)  # fmt: skip
def test_match_by_any_arxiv_form(field: str) -> None:
    papers, diags = build([rec(arxiv_id="2310.10180")], f"@misc{{k, title={{Other}}, {field}}}")
    assert diags == ()
    assert list(papers) == ["2310.10180"]
    assert papers["2310.10180"].origins[-1].kind == "bibtex"


def test_match_by_doi_case_insensitive() -> None:
    r = rec(arxiv_id="2101.00001", doi="10.1000/ABC", dois=("10.1000/ABC",))
    papers, diags = build([r], "@article{k, title={Found}, doi={https://doi.org/10.1000/abc}}")
    assert diags == ()
    assert papers["2101.00001"].title == "Found"
    assert papers["2101.00001"].doi == "10.1000/ABC"
    assert sources(papers["2101.00001"])["doi"] == "seed"


def test_match_by_title_folds_case_punctuation_braces_and_accents() -> None:
    r = rec(layout="listing", title="Über-Fast BERT: a STUDY", authors=("A. B",))
    papers, diags = build(
        [r], r"@misc{k, title={{\"U}ber fast {BERT} -- A Study}, eprint={2001.00002}}"
    )
    assert diags == ()
    assert list(papers) == ["2001.00002"]
    assert title_key('{\\"U}ber-Fast BERT: a STUDY!') == title_key("uber fast bert a study")


def test_entry_with_a_different_arxiv_id_does_not_match_by_title() -> None:
    r = rec(arxiv_id="2001.00001", title="Same Title")
    papers, diags = build([r], "@misc{k, title={Same Title}, eprint={2001.99999}}")
    assert sorted(papers) == ["2001.00001", "2001.99999"]
    assert len(diags) == 1
    assert diags[0].file == "refs.bib" and diags[0].line == 1
    assert "different arXiv id" in diags[0].message
    assert "seeds/000_a.txt:1" in diags[0].message


def test_ambiguous_entry_warns_and_merges_nowhere() -> None:
    a = rec("seeds/003_b.txt", 1, 0, layout="listing", title="Twin Title", authors=("X Y",))
    b = rec("seeds/004_c.txt", 7, 2, layout="listing", title="Twin title", authors=("X Y",))
    papers, diags = build([a, b], "@misc{twin, title={Twin Title}, eprint={2001.00003}}")
    assert [str(d) for d in diags] == [
        "refs.bib:1: warning: BibTeX entry twin matches 2 papers by title: 'Twin Title' "
        "(seeds/003_b.txt:1), 'Twin title' (seeds/004_c.txt:7); not merged into any "
        "(give the entry an eprint or doi to choose)"
    ]
    assert all(p.arxiv_id is None for p in papers.values())
    assert sorted(papers) == ["x-twin-title", "x-twin-title-2"]


def test_second_entry_for_the_same_paper_is_ignored_with_a_warning() -> None:
    text = (
        "@misc{one, title={T1}, eprint={2001.00001}}\n@misc{two, title={T2}, eprint={2001.00001}}"
    )
    papers, diags = build([rec(arxiv_id="2001.00001")], text)
    assert papers["2001.00001"].title == "T1"
    assert len(diags) == 1 and diags[0].line == 2
    assert "already matched" in diags[0].message and "one (refs.bib:1)" in diags[0].message


def test_unmatched_entry_with_title_is_a_paper_of_its_own() -> None:
    papers, diags = build(
        [],
        "@article{k, title={Only in {B}ib{T}e{X}}, author={Doe, Jane and others}, year={2019},"
        " month={jul}, journal={Nature}, doi={10.1/x}}",
    )
    assert diags == ()
    (p,) = papers.values()
    assert p.id == "x-only-in-bibtex"
    assert (p.title, p.title_source, p.abstract) == ("Only in BibTeX", "bibtex", "")
    assert (p.authors, p.authors_truncated) == (("Jane Doe",), True)
    assert (p.date, p.date_precision, p.year) == ("2019-07", "month", 2019)
    assert (p.venue, p.doi, p.listings) == ("Nature", "10.1/x", ())
    assert sources(p)["date"] == "bibtex"


def test_unmatched_entry_without_title_is_a_warning() -> None:
    papers, diags = build([], "% c\n@misc{notitle,\n  year={2021},\n  eprint={2103.10154},\n}")
    assert papers == {}
    assert [str(d) for d in diags] == [
        "refs.bib:2: warning: BibTeX entry notitle has no title and matches no paper in the "
        "seeds (by arXiv id, DOI or title); ignored"
    ]


def test_untitled_entry_matching_a_record_is_fine() -> None:
    papers, diags = build(
        [rec(arxiv_id="2103.10154")], "@misc{u, eprint={2103.10154}, year={2021}}"
    )
    assert diags == ()
    p = papers["2103.10154"]
    assert (p.title, p.title_source) == (derive_headline(ABSTRACT), "derived")


# --- conflicts ------------------------------------------------------------------------------


def test_title_conflict_warns_with_both_places_and_values() -> None:
    r = rec("seeds/000_a.txt", 12, 3, arxiv_id="2001.00001", title="Seed Title")
    papers, diags = build([r], "\n\n@misc{k, title={BibTeX Title}, eprint={2001.00001}}")
    assert papers["2001.00001"].title == "Seed Title"
    assert [str(d) for d in diags] == [
        "seeds/000_a.txt:12: warning: title differs between the seed and BibTeX entry k: "
        "'Seed Title' (seeds/000_a.txt:12) vs 'BibTeX Title' (refs.bib:3); the seed's is used"
    ]


def test_first_author_conflict_keeps_seed_authors() -> None:
    r = rec(arxiv_id="2001.00001", authors=("Alice Smith", "Bob Jones"), authors_truncated=True)
    papers, diags = build(
        [r], "@misc{k, author={Jones, Bob and Smith, Alice and Roe, C.}, eprint={2001.00001}}"
    )
    p = papers["2001.00001"]
    assert p.authors == ("Alice Smith", "Bob Jones") and p.authors_truncated
    assert [str(d) for d in diags] == [
        "seeds/000_a.txt:1: warning: first author differs between the seed and BibTeX entry k: "
        "'Alice Smith' (seeds/000_a.txt:1) vs 'Bob Jones' (refs.bib:1); the seed's is used"
    ]


def test_doi_conflict_warns() -> None:
    r = rec(arxiv_id="2001.00001", doi="10.1/seed", dois=("10.1/seed", "10.1/other"))
    papers, diags = build([r], "@misc{k, doi={10.1/bib}, eprint={2001.00001}}")
    assert papers["2001.00001"].doi == "10.1/seed"
    assert [str(d) for d in diags] == [
        "seeds/000_a.txt:1: warning: DOI differs between the seed and BibTeX entry k: "
        "'10.1/seed' (seeds/000_a.txt:1) vs '10.1/bib' (refs.bib:1); the seed's is used"
    ]


def test_any_seed_doi_agrees() -> None:
    r = rec(arxiv_id="2001.00001", doi="10.1/seed", dois=("10.1/seed", "10.1/Other"))
    _, diags = build([r], "@misc{k, doi={10.1/other}, eprint={2001.00001}}")
    assert diags == ()


def test_complete_seed_authors_are_kept() -> None:
    r = rec(arxiv_id="2001.00001", authors=("Alice Smith",))
    papers, diags = build([r], "@misc{k, author={Smith, A. and Jones, B.}, eprint={2001.00001}}")
    assert diags == ()
    assert papers["2001.00001"].authors == ("Alice Smith",)


def test_truncated_bibtex_list_longer_than_seed_replaces_it() -> None:
    r = rec(arxiv_id="2001.00001", authors=("A. Smith",), authors_truncated=True)
    papers, _ = build(
        [r], "@misc{k, author={Smith, Alice and Jones, B. and others}, eprint={2001.00001}}"
    )
    p = papers["2001.00001"]
    assert (p.authors, p.authors_truncated) == (("Alice Smith", "B. Jones"), True)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Jianhao Shen", "J. Shen", True),
        ("Jian-Ping Xiong", "Jianping Xiong", True),
        ("J.-P. Xiong", "Jian-Ping Xiong", True),
        ("Terence Blésin", "terence blesin", True),
        ("Xiong Jing", "Jing Xiong", True),
        ("Weinan E", "E", True),
        ("Jing Xiong", "Jian Xiong", False),
        ("Jing Xiong", "Jing Shen", False),
        ("", "Jing Shen", False),
    ],
)
def test_same_person(a: str, b: str, same: bool) -> None:
    assert same_person(a, b) is same


# --- records --------------------------------------------------------------------------------


def test_duplicate_records_are_one_paper_with_both_listings() -> None:
    first = rec("seeds/002_b.txt", 1, 0, layout="arxiv-run-on", arxiv_id="2009.14167")
    second = rec(
        "seeds/000_a.txt", 9, 4, arxiv_id="2009.14167v2", date="2020-09-29", comments="EMNLP"
    )
    papers, diags = build([first, second])
    assert diags == ()
    (p,) = papers.values()
    assert p.listings == ("002_b", "000_a")
    assert (p.date, p.date_precision) == ("2020-09-29", "day")  # filled from the duplicate
    assert p.comments == "EMNLP"
    assert [o.file for o in p.origins] == ["seeds/002_b.txt", "seeds/000_a.txt"]


@pytest.mark.parametrize(
    ("arxiv_id", "date", "pid"),
    [
        ("2009.14167", "2020-09", "2009.14167"),
        ("0704.0001v1", "2007-04", "0704.0001"),
        ("hep-th/9901001", "1999-01", "hep-th-9901001"),
        ("math.AG/0601001v2", "2006-01", "math.AG-0601001"),
    ],
)
def test_run_on_record_date_from_arxiv_id(arxiv_id: str, date: str, pid: str) -> None:
    papers, _ = build([rec(layout="arxiv-run-on", arxiv_id=arxiv_id)])
    p = papers[pid]
    assert (p.date, p.date_precision, p.year) == (date, "month", int(date[:4]))
    assert sources(p)["date"] == "arxiv-id"


def test_derived_title_and_bibtex_replacing_it() -> None:
    papers, _ = build([rec(arxiv_id="2001.00001"), rec(index=1, arxiv_id="2001.00002")],
                      "@misc{k, title={Real Title}, eprint={2001.00002}}")  # fmt: skip
    assert (papers["2001.00001"].title, papers["2001.00001"].title_source) == (
        derive_headline(ABSTRACT), "derived",
    )  # fmt: skip
    assert (papers["2001.00002"].title, papers["2001.00002"].title_source) == (
        "Real Title",
        "bibtex",
    )


def test_unknown_category_is_a_warning() -> None:
    papers, diags = build([rec(layout="listing", title="T", category="ZZ")])
    assert next(iter(papers.values())).category is None
    assert len(diags) == 1 and "'ZZ' is not an arXiv category" in diags[0].message


def test_names_are_nfc_normalised() -> None:
    papers, _ = build([rec(arxiv_id="2001.00001", authors=("Terence Ble\u0301sin",))])
    assert papers["2001.00001"].authors == ("Terence Blésin",)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("Code: https://github.com/a/b.", "https://github.com/a/b"),
        ("(see https://github.com/a/b)", "https://github.com/a/b"),
        ("at http://gitlab.com/g/p/-/tree/main, and", "http://gitlab.com/g/p/-/tree/main"),
        ("model https://huggingface.co/org/model;", "https://huggingface.co/org/model"),
        (r"\url{https://bitbucket.org/u/r}", "https://bitbucket.org/u/r"),
        ("https://github.com/a/b_(c)", "https://github.com/a/b_(c)"),
        ("github.com/a/b without a scheme", None),
        ("javascript:https://github.com/a", None),
        ("ftp://github.com/a/b", None),
        ("https://example.com/a/b", None),
        ("https://github.com/", None),
    ],
)
def test_code_url_in(text: str, url: str | None) -> None:
    assert code_url_in(text) == url


def test_code_url_from_comments_sets_has_code() -> None:
    papers, _ = build([rec(arxiv_id="2001.00001", comments="Code at https://github.com/x/y")])
    p = papers["2001.00001"]
    assert (p.code_url, p.has_code) == ("https://github.com/x/y", True)
    assert sources(p)["code_url"] == "seed"


def test_order_ids_and_collisions() -> None:
    records = [
        rec(index=0, arxiv_id="2001.00002", date="2020-01-05"),
        rec(index=1, arxiv_id="2001.00001", date="2020-01-05"),
        rec(index=2, layout="listing", title="Same", authors=("A B",), date="2021-01-01"),
        rec(index=3, layout="listing", title="Same!", authors=("C D",)),
        rec(index=4, layout="arxiv-run-on", arxiv_id="2001.00003"),
    ]
    papers, _ = build_papers(records, ())
    assert [(p.id, p.date) for p in papers] == [
        ("x-same", "2021-01-01"),
        ("2001.00001", "2020-01-05"),
        ("2001.00002", "2020-01-05"),
        ("2001.00003", "2020-01"),
        ("x-same-2", None),
    ]


def test_long_title_slug_is_cut_at_60() -> None:
    papers, _ = build([rec(layout="listing", title="word " * 40, authors=("A B",))])
    (pid,) = papers
    assert pid.startswith("x-word-word") and len(pid) <= 62 and not pid.endswith("-")


def test_deterministic() -> None:
    records = [LISTING, rec(index=1, arxiv_id="2001.00001")]
    assert build_papers(records, bib(TRIGO_BIB)) == build_papers(records, bib(TRIGO_BIB))


def test_a_memo_gives_the_same_papers_cold_warm_and_after_changes(tmp_path: Path) -> None:
    """A generated corpus (arXiv and id-less papers, colliding title slugs, BibTeX matched by
    id, DOI and title): build_papers with a memo, cold then warm, then after one record
    changed and one was removed, equals build_papers without one, diagnostics included."""
    from bench.corpus import CorpusOptions, write_corpus
    from generator.bibtex import read_bib_paths
    from generator.readers import read_seed_paths

    write_corpus(tmp_path / "c", CorpusOptions(n=400, seed=3, per_file=100), ROOT / "seeds")
    seeds = tmp_path / "c" / "seeds"
    files, _ = read_seed_paths([seeds], date(2026, 11, 22))
    records = [r for f in files for r in f.records]
    entries, _ = read_bib_paths([seeds])
    assert any(r.arxiv_id is None for r in records) and entries
    memo: dict[object, object] = {}
    for _ in range(2):  # cold, then every paper from the memo
        assert build_papers(records, entries, memo) == build_papers(records, entries)
    mid = len(records) // 2  # past the first id-less paper: memo entries must stay aligned
    changed = [
        *records[:mid],
        replace(records[mid], abstract=(records[mid].abstract or "") + " Also $x^2$."),
        *records[mid + 2 : -1],
    ]
    assert build_papers(changed, entries, memo) == build_papers(changed, entries)


def test_a_paper_given_its_id_equals_dataclasses_replace() -> None:
    """``_with_id`` builds the paper from its row of fields: the same paper ``replace`` gives,
    every other field kept, and the paper itself when the id is already right."""
    from dataclasses import fields

    from generator.model import Origin
    from generator.papers import _with_id

    assert fields(Paper)[0].name == "id"  # the row's first field is the one replaced
    paper = Paper(
        id="", arxiv_id=None, title="T <b>", title_source="seed", authors=("Ann Lee",),
        authors_truncated=True, date="2024-02", date_precision="month", year=2024,
        category="cs.CL", abstract="A $x$.", comments="c", journal_ref="j", venue="v",
        doi="10.1/x", url="https://e.org", code_url="https://github.com/a/b", has_code=True,
        affiliation="U", score=0.5, listings=("l1", "l2"),
        origins=(Origin("seed", "s.txt", 3, 1),), field_sources=(("title", "seed"),),
    )  # fmt: skip
    given = _with_id(paper, "x-t-b")
    assert given == replace(paper, id="x-t-b")
    assert given.id == "x-t-b" and paper.id == ""
    assert _with_id(given, "x-t-b") is given
