"""BibTeX export: arXiv's style, keys, escaping, and papers.bib read back by bibtexparser."""

from __future__ import annotations

from pathlib import Path

from bibtexparser.entrypoint import parse_string
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.bibexport import (
    bib_escape,
    citation_key,
    citation_keys,
    paper_bibtex,
    site_bibtex,
)
from generator.bibtex import parse_bib_text, read_bib_paths
from generator.model import Paper
from generator.papers import build_papers

ROOT = Path(__file__).resolve().parent.parent

ERNIE = Paper(
    id="2106.02241",
    arxiv_id="2106.02241",
    title=(
        "ERNIE-Tiny : A Progressive Distillation Framework for Pretrained Transformer Compression"
    ),
    title_source="bibtex",
    authors=("Weiyue Su", "Xuyi Chen", "Shikun Feng"),
    authors_truncated=False,
    date="2021-06-04",
    date_precision="day",
    year=2021,
    category="cs.CL",
    abstract="",
)


def paper(**fields: object) -> Paper:
    base: dict[str, object] = {
        "id": "x-t", "arxiv_id": None, "title": "T", "title_source": "bibtex", "authors": (),
        "authors_truncated": False, "date": None, "date_precision": None, "year": None,
        "category": None, "abstract": "",
    }  # fmt: skip
    base.update(fields)
    return Paper(**base)  # type: ignore[arg-type]


def test_arxiv_export_style() -> None:
    assert paper_bibtex(ERNIE) == (
        "@misc{su2021erniet,\n"
        "      title={ERNIE-Tiny : A Progressive Distillation Framework for Pretrained "
        "Transformer Compression},\n"
        "      author={Weiyue Su and Xuyi Chen and Shikun Feng},\n"
        "      year={2021},\n"
        "      eprint={2106.02241},\n"
        "      archivePrefix={arXiv},\n"
        "      primaryClass={cs.CL},\n"
        "      url={https://arxiv.org/abs/2106.02241},\n"
        "}\n"
    )


def test_journal_doi_and_others() -> None:
    p = paper(
        id="2001.00001", arxiv_id="2001.00001", year=2020, authors=("A. Smith",),
        authors_truncated=True, journal_ref="Phys. Rev. A 1, 2 (2020)", venue="ignored",
        doi="10.1103/X_Y",
    )  # fmt: skip
    text = paper_bibtex(p)
    assert "      author={A. Smith and others},\n" in text
    assert "      journal={Phys. Rev. A 1, 2 (2020)},\n" in text
    assert "      doi={10.1103/X_Y},\n" in text  # verbatim, as biblatex reads it
    assert "primaryClass" not in text  # no category known
    assert "journal={ignored}" not in text
    venue_only = paper_bibtex(paper(venue="EMNLP 2023"))
    assert "journal={EMNLP 2023}" in venue_only


def test_paper_without_arxiv_id() -> None:
    text = paper_bibtex(paper(title="Only Here", url="https://example.org/p?a=1#x", year=2019))
    assert "eprint" not in text and "archivePrefix" not in text
    assert "url={https://example.org/p?a=1#x}" in text
    assert paper_bibtex(paper(url="javascript:alert(1)")).count("url=") == 0


def test_keys_match_arxiv_for_every_seed_entry() -> None:
    entries, _ = read_bib_paths([ROOT / "seeds" / "seeds.bib"])
    papers, _ = build_papers([], entries)
    by_arxiv = {p.arxiv_id: p for p in papers}
    titled = [e for e in entries if e.title]
    assert len(titled) == 63
    assert [citation_key(by_arxiv[e.arxiv_id]) for e in titled] == [e.key for e in titled]


def test_key_edge_cases() -> None:
    assert citation_key(paper(authors=("Ludwig van Beethoven",), year=1999, title="The Ninth")) == (
        "beethoven1999ninth"
    )
    assert citation_key(paper(authors=("Jürgen Müller",), year=2020, title="Über-Fast $x$")) == (
        "muller2020uberf"
    )
    assert citation_key(paper(title="$x$ and y")) == "anonand"
    assert citation_key(paper(authors=("张三",), title="!!")) == "anon"


def test_keys_are_deduplicated_in_order() -> None:
    ps = [paper(id=str(i), authors=("A Smith",), year=2020, title="Same") for i in range(3)]
    assert citation_keys(ps) == {"0": "smith2020same", "1": "smith2020samea", "2": "smith2020sameb"}
    text = site_bibtex(ps)
    assert [e.key for e in parse_string(text).entries] == [
        "smith2020same", "smith2020samea", "smith2020sameb",
    ]  # fmt: skip


def test_escaping() -> None:
    assert bib_escape("A & B: 50% of #1 in C_2") == r"A \& B: 50\% of \#1 in C\_2"
    assert bib_escape(r"Si$_3$N$_4$ at $R\sim7\,500$") == r"Si$_3$N$_4$ at $R\sim7\,500$"
    assert bib_escape(r"\textit{Gaia} view") == r"\textit{Gaia} view"
    assert bib_escape("costs $5") == r"costs \$5"
    assert bib_escape("a ^ b \\") == r"a \textasciicircum{} b \textbackslash{}"
    assert bib_escape("open { only") == "open only"
    assert bib_escape("close } only {x}") == "close only {x}"
    assert bib_escape("multi\n  line") == "multi line"


TRICKY = paper(
    id="2001.00001",
    arxiv_id="2001.00001",
    title=r"Über A & B: 50% of #1 in C_2 with Si$_3$N$_4$",
    authors=(
        "Jürgen Müller", "Ludwig van Beethoven", "ATLAS Collaboration", "Henry Ford, Jr.",
        "Weinan E", "O'Brien Smith-Jones",
    ),
    authors_truncated=True,
    year=2020,
    category="hep-th",
    doi="10.1/a_b",
    journal_ref="J. Phys. & Chem.",
)  # fmt: skip


def test_round_trip_through_bibtexparser_and_back_to_papers() -> None:
    papers = [ERNIE, TRICKY, paper(title="Plain {Braces} stay", year=2001)]
    text = site_bibtex(papers)
    library = parse_string(text)
    assert library.failed_blocks == []
    assert len(library.entries) == 3
    entries, diags = parse_bib_text("papers.bib", text)
    assert diags == ()
    for p, e in zip(papers, entries, strict=True):
        assert e.title == p.title.replace("{", "").replace("}", "")
        assert (e.authors, e.authors_truncated) == (p.authors, p.authors_truncated)
        assert (e.year, e.arxiv_id, e.primary_class, e.doi) == (
            p.year, p.arxiv_id, p.category, p.doi
        )  # fmt: skip
    assert entries[1].venue == "J. Phys. & Chem."


def test_site_bibtex_written_fields_read_back_identically() -> None:
    text = site_bibtex([ERNIE, TRICKY])
    lib = parse_string(text)
    again = parse_string(site_bibtex([ERNIE, TRICKY]))
    assert [(e.key, e.entry_type, e.items()) for e in lib.entries] == [
        (e.key, e.entry_type, e.items()) for e in again.entries
    ]
    written = {
        line.split("=", 1)[0].strip(): line.split("=", 1)[1].rstrip(",")[1:-1]
        for line in paper_bibtex(TRICKY).splitlines()[1:-1]
    }
    assert dict(lib.entries[1].items()) == {
        "ID": lib.entries[1].key,
        "ENTRYTYPE": "misc",
        **written,
    }


_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 -:,.'&%#_éüßÅ")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "" and "--" not in s and "''" not in s)
_NAME = st.from_regex(
    r"[A-Z][a-zéü]{1,8}( [A-Z][a-zéü]{1,8}(-[A-Z][a-z]{1,5})?){0,2}", fullmatch=True
)


@settings(max_examples=100, deadline=None)
@given(title=_TEXT, authors=st.lists(_NAME, min_size=0, max_size=4), truncated=st.booleans())
def test_round_trip_property(title: str, authors: list[str], truncated: bool) -> None:
    p = paper(title=" ".join(title.split()), authors=tuple(authors), authors_truncated=truncated)
    entries, diags = parse_bib_text("p.bib", paper_bibtex(p))
    assert diags == ()
    (e,) = entries
    # (LaTeX ligatures such as "--" and "''" are left out: they mean a dash and a quote)
    assert e.title == p.title
    assert e.authors == p.authors
    assert e.authors_truncated == (truncated and bool(authors))
