"""Extremes (issue 7): an empty seed folder, an empty file, a 1 MB abstract, a paper with 5,000
authors, ids and names that would make paths such as ``../../x``: clear messages, a site that
links, and nothing ever written outside the output folder.

The 200 MB file of valid records is ``bench/bench_extremes.py`` (too heavy for CI); CI builds a
scaled case here (a 0.5 MB file of valid records, about 440 papers).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.hardening_support import (
    build_in_process,
    diff_trees,
    site_link_problems,
    tree_digest,
    unaccounted_records,
)

ARXIV_BLOCK = "{abstract}\n\narXiv:{id}\nCreated: 2023-10-24\n"
LISTING = "CLOct 4, 2023\n{title}{authors}\n{abstract}\n"


def _build_checked(tmp_path: Path, seeds: Path) -> tuple[object, Path]:
    """Build ``seeds`` into tmp_path/out/site; assert nothing outside out/ changed."""
    out = tmp_path / "out" / "site"
    before = tree_digest(tmp_path)
    parent_before = sorted(p.name for p in tmp_path.parent.iterdir())
    built = build_in_process(seeds, out)
    after = {k: v for k, v in tree_digest(tmp_path).items() if not k.startswith("out/")}
    assert diff_trees(before, after) == [], "written outside the output folder"
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == parent_before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["site"], "staging left"
    assert "Traceback" not in built.output
    assert built.code in (0, 1), built.output
    assert built.result.failure is None, built.output  # type: ignore[attr-defined]
    assert site_link_problems(out) == []
    assert unaccounted_records(seeds, out, built.result.diagnostics) == []  # type: ignore[attr-defined]
    return built, out


def test_empty_seed_folder_builds_an_empty_site(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    built, out = _build_checked(tmp_path, seeds)
    assert "0 papers" in built.output  # type: ignore[attr-defined]
    assert (out / "index.html").is_file()


def test_empty_seed_folder_is_named_in_a_message(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    built, _ = _build_checked(tmp_path, seeds)
    assert any(str(seeds) in str(d) for d in built.result.diagnostics)  # type: ignore[attr-defined]


@pytest.mark.parametrize("content", [b"", b"\n\n\n", b"\xef\xbb\xbf", b"   \r\n\t\r\n"])
def test_empty_file_is_a_warning_naming_it(tmp_path: Path, content: bytes) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "empty.txt").write_bytes(content)
    built, _ = _build_checked(tmp_path, seeds)
    diags = built.result.diagnostics  # type: ignore[attr-defined]
    assert [d.severity for d in diags] == ["warning"], diags
    assert diags[0].file == str(seeds / "empty.txt")
    assert "no records" in diags[0].message


def test_empty_bibtex_file_is_fine(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(ARXIV_BLOCK.format(abstract="We study x.", id="2310.00001"))
    (seeds / "empty.bib").write_bytes(b"")
    built, out = _build_checked(tmp_path, seeds)
    assert (out / "papers" / "2310.00001.html").is_file()


def _words(n_bytes: int, rng: random.Random) -> str:
    pool = (SEEDS / "000_54f5ae323de093de.txt").read_text(encoding="utf-8").split()
    out: list[str] = []
    size = 0
    while size < n_bytes:
        w = rng.choice(pool)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


@pytest.mark.slow
def test_one_megabyte_abstract(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    abstract = _words(1_000_000, random.Random(7)).replace("$", "")
    (seeds / "big.txt").write_text(ARXIV_BLOCK.format(abstract=abstract, id="2310.00002"))
    built, out = _build_checked(tmp_path, seeds)
    page = (out / "papers" / "2310.00002.html").read_text(encoding="utf-8")
    tail = " ".join(abstract.split()[-6:])
    assert tail.split()[-1] in page  # the whole abstract is on the page
    assert len(page) < 4_000_000


def author_names(n: int) -> list[str]:
    """``n`` distinct author names (up to 7,500) that read as names."""
    given = [a + b for a in ("Ka", "Lo", "Mi", "Ta", "Ve") for b in ("ra", "den", "lin", "son")]
    family = [a + b + c for a in ("Bar", "Cor", "Dun", "Fel", "Gar") for b in ("an", "ell", "ov")
              for c in ("", "ski", "ton", "berg", "ez")]  # fmt: skip
    names = [f"{g} {f}" for g in given for f in family] + [f"{g} {f}-{h}" for g in given
             for f in family for h in ("Ash", "Birch", "Cedar", "Elm")]  # fmt: skip
    assert n <= len(names)
    return names[:n]


def _many_authors(seeds: Path, n: int) -> list[str]:
    names = author_names(n)
    (seeds / "many.txt").write_text(
        LISTING.format(
            title="A Paper With Very Many Authors",
            authors=", ".join(names),
            abstract="We present a collaboration.",
        )
    )
    return names


def test_paper_with_five_thousand_authors_is_read_whole(tmp_path: Path) -> None:
    """Reading and merging keep all 5,000 names (the full build is bench_extremes --authors)."""
    from datetime import date

    from generator.papers import build_papers
    from generator.readers import read_seed_paths

    names = _many_authors(tmp_path, 5000)
    files, diags = read_seed_paths([tmp_path], today=date(2026, 11, 22))
    assert diags == ()
    papers, _ = build_papers(files[0].records, ())
    assert len(papers) == 1
    assert list(papers[0].authors) == names


@pytest.mark.slow
def test_site_size_grows_linearly_with_the_authors_of_one_paper(tmp_path: Path) -> None:
    sizes = []
    for n in (100, 400):
        seeds = tmp_path / f"b{n}" / "seeds"
        seeds.mkdir(parents=True)
        _many_authors(seeds, n)
        built, out = _build_checked(tmp_path / f"b{n}", seeds)
        assert len(list((out / "authors").glob("*.html"))) == n
        sizes.append(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()))
    assert sizes[1] / sizes[0] < 6, f"4x the authors made the site {sizes[1] / sizes[0]:.1f}x"


HOSTILE_NAMES = ["../../x", "..", ".", "/etc/passwd", "..\\..\\x", "~root", "%2e%2e%2fx", "CON"]


def test_path_like_ids_and_names_stay_inside_the_site(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    blocks = [
        ARXIV_BLOCK.format(abstract="We study traversal.", id="../../x"),
        ARXIV_BLOCK.format(abstract="We study more traversal.", id="2310.00003/../../../x"),
        ARXIV_BLOCK.format(abstract="Old style ids.", id="hep-th/9901001"),
    ]
    (seeds / "a.txt").write_text("\n".join(blocks))
    listing = "".join(
        LISTING.format(title=name, authors=f"{name}, Jo {name}", abstract=f"About {name}.")
        for name in HOSTILE_NAMES
    )
    (seeds / "b.txt").write_text(listing)
    (seeds / "..txt").write_text(listing)  # stem "."
    (seeds / "...txt").write_text(listing)  # stem ".."
    bib = "".join(
        f"@misc{{k{n},\n  title={{{name}}},\n  author={{{name} and {name}, Jo}},\n"
        f"  eprint={{{name}}},\n  archivePrefix={{arXiv}},\n  doi={{{name}}},\n"
        f"  url={{{name}}},\n  year={{2023}},\n}}\n\n"
        for n, name in enumerate(HOSTILE_NAMES)
    )
    (seeds / "x.bib").write_text(bib)
    _, out = _build_checked(tmp_path, seeds)
    for p in out.rglob("*"):
        rel = p.relative_to(out).as_posix()
        assert ".." not in rel.split("/"), rel
        assert p.resolve().is_relative_to(out.resolve()), rel
        assert not p.is_symlink(), rel
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "out" / "x").exists()


@pytest.mark.slow
def test_scaled_large_file_of_valid_records(tmp_path: Path) -> None:
    """CI's stand-in for the 200 MB file (bench/bench_extremes.py builds that one)."""
    from bench.bench_extremes import write_big_seed

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    records = write_big_seed(seeds / "big.txt", 500_000)
    built, out = _build_checked(tmp_path, seeds)
    assert built.code == 0, built.output  # type: ignore[attr-defined]
    assert len(list((out / "papers").glob("*.html"))) == records
