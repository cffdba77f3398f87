"""Encodings and line endings (issue 7): UTF-8 with and without a byte-order mark, CRLF and CR
build the same site as the clean files, byte for byte; UTF-16, UTF-32 and Latin-1 are either read
correctly with a note or rejected with a message naming the file and the encoding problem."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SEEDS, TODAY
from tests.hardening_support import build_in_process, diff_trees, tree_digest

VARIANTS = {
    "bom": lambda b: b"\xef\xbb\xbf" + b,
    "crlf": lambda b: b.replace(b"\n", b"\r\n"),
    "cr": lambda b: b.replace(b"\n", b"\r"),
    "bom+crlf": lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"),
}
ACCENTED = "Large-scalé"  # one non-ASCII character so Latin-1 differs from UTF-8


@pytest.fixture(scope="module")
def clean_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("enc")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    for f in seeds.iterdir():
        f.chmod(0o644)
    built = build_in_process(seeds, root / "site")
    assert built.code == 0, built.output
    return seeds, tree_digest(root / "site")


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_line_endings_and_bom_build_the_same_site(
    variant: str, clean_site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    clean_seeds, clean_tree = clean_site
    # Rewritten in place: the seed paths show on listing pages, so they must not change.
    seeds = clean_seeds
    for f in sorted(SEEDS.iterdir()):
        (seeds / f.name).write_bytes(VARIANTS[variant](f.read_bytes()))
    try:
        built = build_in_process(seeds, tmp_path / "site")
    finally:
        for f in sorted(SEEDS.iterdir()):
            (seeds / f.name).write_bytes(f.read_bytes())
    assert built.code == 0, built.output
    assert built.result.diagnostics == ()  # type: ignore[attr-defined]
    assert diff_trees(clean_tree, tree_digest(tmp_path / "site")) == []


def _read(data: bytes) -> tuple[object, tuple[object, ...]]:
    from generator.readers import read_seed_bytes

    return read_seed_bytes("seeds/004.txt", data, date.fromisoformat(TODAY))


def _clean_text() -> str:
    text = next(SEEDS.glob("004_*.txt")).read_text(encoding="utf-8")
    assert "Large-scale" in text
    return text.replace("Large-scale", ACCENTED, 1)


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-16-le", "utf-16-be", "latin-1"])
def test_wide_and_legacy_encodings_are_read_or_named(codec: str) -> None:
    clean, clean_diags = _read(_clean_text().encode("utf-8"))
    assert clean_diags == ()
    seed, diags = _read(_clean_text().encode(codec))
    messages = [str(d) for d in diags]
    if seed.records == clean.records:  # type: ignore[attr-defined]
        # read correctly: a note says how
        assert any(
            d.severity == "note" and "seeds/004.txt" in str(d) and "UTF-" in d.message  # type: ignore[attr-defined]
            for d in diags
        ), messages
        return
    errors = [d for d in diags if d.severity == "error"]  # type: ignore[attr-defined]
    assert errors, f"{codec}: records differ from the UTF-8 file and no error says why"
    assert any(
        d.file == "seeds/004.txt" and ("UTF-8" in d.message or "encoding" in d.message)  # type: ignore[attr-defined]
        for d in errors
    ), messages
    if codec.startswith("utf-16"):
        # a UTF-16 file without a byte-order mark: the message names the likely encoding
        assert any("UTF-16" in m for m in messages), messages


def test_ascii_only_utf16_without_bom_is_named_not_just_unreadable() -> None:
    """Pure ASCII in UTF-16 decodes as 'valid' UTF-8 full of NULs: say what it is."""
    ascii_text = next(SEEDS.glob("004_*.txt")).read_text(encoding="utf-8")
    assert ascii_text.isascii()
    seed, diags = _read(ascii_text.encode("utf-16-le"))
    assert seed.records == ()  # type: ignore[attr-defined]
    assert any("UTF-16" in str(d) and d.severity == "error" for d in diags), diags  # type: ignore[attr-defined]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le"])
def test_utf16_bibtex_is_read_or_named(codec: str, tmp_path: Path) -> None:
    from generator.bibtex import read_bib_paths

    text = (SEEDS / "seeds.bib").read_text(encoding="utf-8")
    ascii_only = "".join(c for c in text if c.isascii())
    (tmp_path / "x.bib").write_bytes(ascii_only.encode(codec))
    entries, diags = read_bib_paths([tmp_path])
    clean, _ = read_bib_paths([SEEDS])
    if len(entries) == len(clean):
        assert any(d.severity == "note" and "UTF-16" in d.message for d in diags)
    else:
        assert any(d.severity == "error" and "UTF-16" in d.message for d in diags), diags


def test_latin1_bibtex_lines_are_named(tmp_path: Path) -> None:
    from generator.bibtex import read_bib_paths

    text = (SEEDS / "seeds.bib").read_text(encoding="utf-8")
    (tmp_path / "x.bib").write_bytes(text.encode("latin-1", "replace"))
    entries, diags = read_bib_paths([tmp_path])
    clean, _ = read_bib_paths([SEEDS])
    assert len(entries) == len(clean)
    bad_lines = [n for n, line in enumerate(text.split("\n"), 1) if not line.isascii()]
    named = {d.line for d in diags if d.severity == "error" and "UTF-8" in d.message}
    assert named == set(bad_lines)


def test_encoding_problem_reaches_the_build_output(tmp_path: Path) -> None:
    """End to end: the CLI prints the file and the encoding problem, exits 1, and still builds."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_bytes(_clean_text().encode("utf-8"))
    (seeds / "b.txt").write_bytes(_clean_text().replace("arXiv:", "arXiv:9").encode("utf-16-le"))
    built = build_in_process(seeds, tmp_path / "site")
    assert built.code == 1
    assert f"{seeds / 'b.txt'}:1: error:" in built.output
    assert "UTF-16" in built.output
    assert (tmp_path / "site" / "index.html").is_file()
