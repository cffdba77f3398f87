"""Reading BibTeX: seeds.bib, LaTeX decoding, names, arXiv ids, venues, and malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.bibtex import (
    arxiv_id_in_text,
    base_arxiv_id,
    clean_doi,
    decode_latex,
    decode_title,
    parse_bib_text,
    parse_names,
    read_bib_bytes,
    read_bib_paths,
)
from generator.model import BibEntry

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "bibtex"
SEEDS_BIB = ROOT / "seeds" / "seeds.bib"


def by_key(entries: tuple[BibEntry, ...]) -> dict[str, BibEntry]:
    return {e.key: e for e in entries}


def one(text: str) -> BibEntry:
    entries, diags = parse_bib_text("t.bib", text)
    assert diags == ()
    assert len(entries) == 1
    return entries[0]


# --- seeds.bib ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds_bib() -> dict[str, BibEntry]:
    entries, diags = read_bib_paths([SEEDS_BIB])
    assert diags == ()
    assert len(entries) == 64
    return by_key(entries)


def test_seeds_bib_every_entry_has_an_arxiv_id(seeds_bib: dict[str, BibEntry]) -> None:
    assert all(e.arxiv_id for e in seeds_bib.values())
    assert len({e.arxiv_id for e in seeds_bib.values()}) == 64


def test_seeds_bib_first_entry(seeds_bib: dict[str, BibEntry]) -> None:
    e = seeds_bib["su2021erniet"]
    assert e.file == str(SEEDS_BIB)
    assert e.line == 2
    assert e.entry_type == "misc"
    assert e.title == (
        "ERNIE-Tiny : A Progressive Distillation Framework for Pretrained Transformer Compression"
    )
    assert e.authors[:3] == ("Weiyue Su", "Xuyi Chen", "Shikun Feng")
    assert len(e.authors) == 9
    assert "Hao Tian" in e.authors
    assert (e.year, e.month, e.arxiv_id, e.primary_class) == (2021, None, "2106.02241", "cs.CL")
    assert e.url == "https://arxiv.org/abs/2106.02241"
    assert e.venue is None and e.doi is None and not e.authors_truncated


def test_seeds_bib_decoding(seeds_bib: dict[str, BibEntry]) -> None:
    assert seeds_bib["tian2021magneticf"].authors[4] == "Terence Blésin"
    assert seeds_bib["yang2022distribution"].venue == "Astronomy & Astrophysics"
    assert seeds_bib["shen2021generate"].title == (
        "Generate & Rank: A Multi-task Framework for Math Word Problems"
    )
    assert seeds_bib["jia2020pushing"].authors[6] == "Weinan E"
    assert seeds_bib["zhang2021selfc"].authors[-4:] == (
        "W. Zong",
        "C.-Q. Yang",
        "N. Liu",
        "Y.-H. Hou",
    )
    assert seeds_bib["yang2022distribution"].doi == "10.1051/0004-6361/202140810"


def test_seeds_bib_others_marks_truncation(seeds_bib: dict[str, BibEntry]) -> None:
    e = seeds_bib["chen2026loopmoe"]
    assert e.authors == ("Wenkai Chen", "Tianshu Li", "Wenyong Huang")
    assert e.authors_truncated
    assert [k for k, v in seeds_bib.items() if v.authors_truncated] == ["chen2026loopmoe"]


def test_seeds_bib_untitled_entry(seeds_bib: dict[str, BibEntry]) -> None:
    e = seeds_bib["unknown2021arxiv210310154"]
    assert e.title is None and e.authors == ()
    assert e.arxiv_id == "2103.10154"
    assert e.note == "Title and authors not found"
    assert e.venue is None


@pytest.mark.parametrize(
    ("key", "venue"),
    [
        ("ouyang2020erniem", "EMNLP 2021 (main)"),
        ("wang2022adamix", "EMNLP 2022"),  # "; Metadata partly unverified (...)" is not a venue
        ("yang2022tensor", "NeurIPS 2021"),  # "(as '<published title>')" dropped
        ("blesin2021quantum", "Phys. Rev. A"),  # journal before note
        ("ding2020ernied", "ACL-IJCNLP 2021 (long), pp. 2914-2927"),
        ("sun2022analysis", None),  # the note only says the metadata is unverified
        ("su2021erniet", None),
    ],
)
def test_seeds_bib_venues(seeds_bib: dict[str, BibEntry], key: str, venue: str | None) -> None:
    assert seeds_bib[key].venue == venue


def test_seeds_bib_primary_classes(seeds_bib: dict[str, BibEntry]) -> None:
    classes = {e.primary_class for e in seeds_bib.values()}
    assert classes == {
        None, "cs.CL", "cs.LG", "cs.AI", "cs.CV", "cs.IR", "astro-ph.SR", "astro-ph.GA",
        "astro-ph.EP", "physics.optics",
    }  # fmt: skip


# --- decoding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"M{\"u}ller", "Müller"),
        (r"{\'E}cole", "École"),
        (r"A \& B", "A & B"),
        (r"{BERT} and {T}ransformers", "BERT and Transformers"),
        (r"\c{c}a \ss{} \o", "ça ß ø"),
        ("50% more", "50% more"),  # a bare % is text in BibTeX, not a comment
        ("two\n   lines", "two lines"),
        ("no~break", "no break"),
        ("Blésin", "Blésin"),
    ],
)
def test_decode_latex(latex: str, text: str) -> None:
    assert decode_latex(latex) == text


def test_decode_title_keeps_math_verbatim() -> None:
    assert decode_title(r"Si$_3$N$_4$ at $R\sim7\,500$ in {\it situ}") == (
        r"Si$_3$N$_4$ at $R\sim7\,500$ in situ"
    )
    assert decode_title(r"A \(\mathrm{km\,s}^{-1}\) {F}low") == r"A \(\mathrm{km\,s}^{-1}\) Flow"


def test_decode_nfc() -> None:
    assert decode_latex("Ble\u0301sin") == "Blésin"


# --- names ----------------------------------------------------------------------------------


def test_parse_names_forms() -> None:
    names, truncated, problems = parse_names(
        r"M{\"u}ller, J{\"u}rgen and Ludwig van Beethoven and de la Fontaine, Jean and "
        r"Ford, Jr., Henry and {ATLAS Collaboration} and E, Weinan and Plato and others"
    )
    assert names == (
        "Jürgen Müller", "Ludwig van Beethoven", "Jean de la Fontaine", "Henry Ford Jr.",
        "ATLAS Collaboration", "Weinan E", "Plato",
    )  # fmt: skip
    assert truncated
    assert problems == []


def test_parse_names_first_last_kept() -> None:
    assert parse_names("Weiyue Su and Xuyi Chen")[:2] == (("Weiyue Su", "Xuyi Chen"), False)


def test_parse_names_bad_name_is_reported() -> None:
    names, _, problems = parse_names("Smith, Jr., John, Extra")
    assert len(problems) == 1 and "Smith, Jr., John, Extra" in problems[0]
    assert names == ("Smith, Jr., John, Extra",)


# --- ids, DOIs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eprint", "base"),
    [
        ("2106.02241", "2106.02241"),
        ("2106.02241v3", "2106.02241"),
        ("arXiv:1909.10351", "1909.10351"),
        ("0704.0001", "0704.0001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.AG/0601001v2", "math.AG/0601001"),
        ("not-an-id", None),
        ("2106.022", None),
    ],
)
def test_base_arxiv_id(eprint: str, base: str | None) -> None:
    assert base_arxiv_id(eprint) == base


def test_arxiv_id_in_text() -> None:
    assert arxiv_id_in_text("see https://arxiv.org/abs/2106.02241v2.") == "2106.02241"
    assert arxiv_id_in_text("Preprint, arXiv: 1912.00001v1") == "1912.00001"
    assert arxiv_id_in_text("ICML 2020, pp. 1234-5678") is None


def test_clean_doi() -> None:
    assert clean_doi("https://doi.org/10.1000/ABC.123") == "10.1000/ABC.123"
    assert clean_doi("doi: 10.1000/x") == "10.1000/x"
    assert clean_doi("n/a") is None


# --- fixtures: every way an entry is found and every malformation -------------------------


@pytest.fixture(scope="module")
def tricky() -> dict[str, BibEntry]:
    entries, diags = read_bib_paths([FIXTURES / "tricky.bib"])
    assert diags == ()
    return by_key(entries)


def test_tricky_decode(tricky: dict[str, BibEntry]) -> None:
    e = tricky["decode"]
    assert e.title == r"Über École & Café: Si$_3$N$_4$ at $R\sim7\,500$ – 50% of BERT"
    assert e.authors[0] == "Jürgen Müller"
    assert e.venue == "Proceedings of ACL 2020"  # @string macro and # concatenation
    assert (e.year, e.month) == (2020, 3)
    assert e.doi == "10.1000/ABC.123"
    assert e.entry_type == "inproceedings"
    assert ("booktitle", "Proceedings of ACL 2020") in e.raw_fields


@pytest.mark.parametrize(
    ("key", "arxiv_id", "venue"),
    [
        ("gscholar", "1706.03762", None),  # Google Scholar's "arXiv preprint arXiv:..." journal
        ("dblp", "2106.02241", None),  # dblp's CoRR + volume abs/...
        ("oldstyle", "hep-th/9901001", None),
        ("urlonly", "2301.01234", None),
        ("noteonly", "1912.00001", None),
        ("arxivdoi", "2204.12345", None),
        ("notevenue", None, "ICLR 2023"),
        ("notnotes", None, None),
    ],
)
def test_tricky_ids_and_venues(
    tricky: dict[str, BibEntry], key: str, arxiv_id: str | None, venue: str | None
) -> None:
    assert tricky[key].arxiv_id == arxiv_id
    assert tricky[key].venue == venue


def test_tricky_other_fields(tricky: dict[str, BibEntry]) -> None:
    assert tricky["oldstyle"].primary_class == "hep-th"
    assert (tricky["arxivdoi"].year, tricky["arxivdoi"].month) == (2022, 4)  # biblatex date
    assert tricky["urlonly"].url == "https://arxiv.org/pdf/2301.01234v2"
    assert tricky["notnotes"].url is None  # only http(s) URLs are kept


def test_malformed_file_reports_each_problem_and_keeps_good_entries() -> None:
    entries, diags = read_bib_paths([FIXTURES / "malformed.bib"])
    name = str(FIXTURES / "malformed.bib")
    assert [e.key for e in entries] == ["good1", "good2", "oddtype", "badfields"]
    assert by_key(entries)["good1"].title == "First Good Entry"  # the first of a duplicate key
    assert [str(d) for d in diags] == [
        f"{name}:9: error: could not read BibTeX @misc{{unbalanced: Unexpected block start: "
        "`@article`. Was still looking for field-value closing `}`; entry skipped",
        f"{name}:20: error: duplicate BibTeX key 'good1' (first used at {name}:2); "
        "this entry is ignored",
        f"{name}:25: warning: unknown BibTeX entry type @foobar for 'oddtype'; read as @misc",
        f"{name}:30: warning: badfields: year 'forthcoming' is not a year; ignored",
        f"{name}:30: warning: badfields: month 'Smarch' is not a month; ignored",
        f"{name}:30: warning: badfields: eprint 'not-an-id' is not an arXiv id",
    ]
    assert by_key(entries)["oddtype"].title == "Entry of an Unknown Type"


def test_non_utf8_lines_are_errors_and_read_as_latin1() -> None:
    entries, diags = read_bib_paths([FIXTURES / "latin1.bib"])
    name = str(FIXTURES / "latin1.bib")
    assert [str(d) for d in diags] == [
        f"{name}:2: error: expected UTF-8 text, found byte 0xE9 at column 13; line read as Latin-1",
        f"{name}:3: error: expected UTF-8 text, found byte 0xFC at column 12; line read as Latin-1",
    ]
    assert [(e.key, e.title, e.authors) for e in entries] == [
        ("latin", "Café Society", ("Jürgen Müller",)),
        ("utf8ok", "Fine Entry", ()),
    ]


def test_crlf_and_bom() -> None:
    entries, diags = read_bib_paths([FIXTURES / "crlf_bom.bib"])
    assert diags == ()
    (e,) = entries
    assert (e.key, e.line, e.title, e.authors, e.authors_truncated) == (
        "crlf", 1, "Windows Line Endings", ("A. Smith",), True,
    )  # fmt: skip


def test_folder_expands_to_sorted_bib_files(tmp_path: Path) -> None:
    (tmp_path / "b.bib").write_text("@misc{b, title={B}}\n", encoding="utf-8")
    (tmp_path / "a.bib").write_text("@misc{a, title={A}}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("@misc{c, title={C}}\n", encoding="utf-8")
    entries, diags = read_bib_paths([tmp_path])
    assert diags == ()
    assert [(Path(e.file).name, e.key) for e in entries] == [("a.bib", "a"), ("b.bib", "b")]


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    entries, diags = read_bib_paths([tmp_path / "absent.bib"])
    assert entries == ()
    assert len(diags) == 1 and diags[0].severity == "error"
    assert "cannot read BibTeX file" in diags[0].message


def test_truncated_file_keeps_earlier_entries() -> None:
    entries, diags = read_bib_bytes("cut.bib", b"@misc{a, title={A}}\n@misc{b, title={B")
    assert [e.key for e in entries] == ["a"]
    assert [(d.line, d.severity) for d in diags] == [(2, "error")]
    assert "@misc{b" in diags[0].message


def test_minimal_entry() -> None:
    e = one("@Misc{k,\n  Title = {T},\n  EPRINT = {2106.02241v2},\n  ArchivePrefix = {arXiv}}\n")
    assert (e.key, e.entry_type, e.title, e.arxiv_id) == ("k", "misc", "T", "2106.02241")
    assert e.raw_fields[0] == ("title", "T")


def test_non_arxiv_eprint_is_not_an_arxiv_id() -> None:
    e = one("@misc{k, title={T}, eprint={12345}, eprinttype={pubmed}}")
    assert e.arxiv_id is None
