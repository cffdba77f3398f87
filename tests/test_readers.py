"""Seed readers: the five seeds field by field, table-driven cases per layout, bad input, CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.diagnostics import Diagnostic
from generator.model import Record
from generator.readers import (
    detect_layout,
    find_duplicates,
    read_seed_bytes,
    read_seed_paths,
    read_seed_text,
    reference_date,
    split_arxiv_id,
)
from generator.readers.common import parse_reference

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = ROOT / "tests" / "fixtures" / "readers"
TODAY = date(2026, 11, 22)
LAYOUT_OF_CASES = {
    "arxiv_blocks": "arxiv-blocks",
    "arxiv_run_on": "arxiv-run-on",
    "listing": "listing",
}


# --- the five seeds ------------------------------------------------------------------------


def _seed_records() -> tuple[list[Record], tuple[Diagnostic, ...]]:
    files, diags = read_seed_paths([SEEDS], today=TODAY)
    return [r for f in files for r in f.records], diags


def test_seed_counts_and_layouts() -> None:
    files, diags = read_seed_paths([SEEDS], today=TODAY)
    assert diags == ()
    summary = [(Path(f.path).name[:3], f.layout, len(f.records)) for f in files]
    assert summary == [
        ("000", "arxiv-blocks", 10),
        ("001", "arxiv-blocks", 10),
        ("002", "arxiv-run-on", 10),
        ("003", "listing", 29),
        ("004", "arxiv-blocks", 5),
    ]


def test_seed_records_match_expected_fixture() -> None:
    """Every field of every seed record (the fixture was checked against the seed text)."""
    expected = json.loads((FIXTURES / "seeds_expected.json").read_text(encoding="utf-8"))
    records, _ = _seed_records()
    got: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        data = rec.to_json()
        got.setdefault(Path(data.pop("file")).name, []).append(data)
    assert list(got) == list(expected)
    for name, recs in expected.items():
        assert len(got[name]) == len(recs), name
        for want, have in zip(recs, got[name], strict=True):
            assert have == want, (name, want["line"])


def test_seed_spot_checks() -> None:
    """A few values written out by hand from the seed text."""
    by_id = {r.arxiv_id: r for r in _seed_records()[0] if r.arxiv_id}
    r = by_id["2204.01040"]
    assert r.doi == "10.1051/0004-6361/202140810"
    assert r.journal_ref == "Astronomy & Astrophysics, 2022, 659: A120"
    assert r.date == "2022-04-03" and r.comments is None
    r = by_id["2006.14744"]
    assert r.layout == "arxiv-run-on" and r.journal_ref == "ICML 2020" and r.date is None
    assert r.abstract is not None and r.abstract.startswith("Cross-domain alignment")
    r = by_id["2006.11918"]
    assert r.abstract is not None and r.abstract.startswith("Adaptive gradient methods")
    r = by_id["2005.08197"]
    assert r.journal_ref == "The Astrophysical Journal, Volume 894, 2020, Number 2, Page 87"
    assert r.comments == "26 pages, 17 figures, accepted by ApJ"
    assert by_id["2005.07310"].abstract.startswith("Recent Transformer-based")  # type: ignore[union-attr]
    assert by_id["2004.11658"].doi == "10.1145/3295500.3356144"
    assert by_id["2004.11658"].journal_ref is None
    listing = [r for r in _seed_records()[0] if r.layout == "listing"]
    assert listing[1].score == 86.1 and isinstance(listing[1].score, float)
    assert listing[1].date == "2026-06-03" and listing[1].date_inferred
    assert listing[2].affiliation == "tsinghua"
    assert listing[0].has_code and listing[0].category == "CL"
    assert listing[25].authors == ("Yichun Yin", "Chenguang Wang", "Ming Zhang")
    assert not listing[25].authors_truncated
    assert listing[19].title == "Integrating Regular Expressions with Neural Networks via DFA"
    assert listing[19].authors[0] == "Shaobo Li"


# --- table-driven cases ----------------------------------------------------------------------


def _load_cases(path: Path) -> list[tuple[str, str, date, list[dict[str, Any]], list[str]]]:
    cases = []
    text = path.read_text(encoding="utf-8")
    for chunk in re.split(r"^=== ", text, flags=re.M)[1:]:
        header, _, rest = chunk.partition("\n--- text\n")
        name, *opts = header.strip().split("\n")
        today = TODAY
        for opt in opts:
            if opt.startswith("today:"):
                today = date.fromisoformat(opt.split(":", 1)[1].strip())
        seed, _, rest = rest.partition("--- records\n")
        recs, _, diag_text = rest.partition("--- diagnostics\n")
        records = [json.loads(line) for line in recs.splitlines() if line.strip()]
        diags = [line for line in diag_text.splitlines() if line.strip()]
        cases.append((name, seed, today, records, diags))
    return cases


CASES = [
    pytest.param(stem, *case, id=f"{stem}: {case[0]}")
    for stem in LAYOUT_OF_CASES
    for case in _load_cases(FIXTURES / "cases" / f"{stem}.txt")
]
DEFAULTS = {
    f.name: f.default for f in fields(Record) if f.name not in ("file", "line", "index", "layout")
}


def _expected(stem: str, index: int, spec: dict[str, Any]) -> Record:
    values = dict(spec)
    for key in ("authors", "dois"):
        if key in values:
            values[key] = tuple(values[key])
    return Record(file="case.txt", index=index, layout=LAYOUT_OF_CASES[stem], **values)  # type: ignore[arg-type]


def _check_diags(diags: tuple[Diagnostic, ...], expected: list[str]) -> None:
    got = sorted(diags)
    assert len(got) == len(expected), [str(d) for d in got]
    for d, spec in zip(got, expected, strict=True):
        line, severity, message = spec.split(": ", 2)
        assert (d.file, d.line, d.severity) == ("case.txt", int(line), severity), str(d)
        assert message in d.message, str(d)


@pytest.mark.parametrize(("stem", "name", "seed", "today", "records", "diags"), CASES)
def test_case(
    stem: str, name: str, seed: str, today: date, records: list[dict[str, Any]], diags: list[str]
) -> None:
    want = [_expected(stem, i, spec) for i, spec in enumerate(records)]
    # as written, without the final newline, with CRLF, with a byte-order mark, with CR only
    variants = {
        "as written": seed.encode(),
        "no final newline": seed.rstrip("\n").encode(),
        "CRLF": seed.replace("\n", "\r\n").encode(),
        "BOM": b"\xef\xbb\xbf" + seed.encode(),
        "CR": seed.replace("\n", "\r").encode(),
    }
    for variant, data in variants.items():
        seed_file, got_diags = read_seed_bytes("case.txt", data, today)
        assert seed_file.layout == LAYOUT_OF_CASES[stem], variant
        assert list(seed_file.records) == want, variant
        _check_diags(got_diags, diags)
    # records in = records out + records named in errors
    assert len(seed_file.records) + sum(
        1
        for d in got_diags
        if d.severity == "error" and "record" in d.message and "not read" in d.message
    ) >= len(want)


# --- detection, decoding, helpers --------------------------------------------------------------


def test_layout_detected_from_text_not_name(tmp_path: Path) -> None:
    blocks = (SEEDS / "000_54f5ae323de093de.txt").read_bytes()
    (tmp_path / "listing.txt").write_bytes(blocks)
    files, diags = read_seed_paths([tmp_path / "listing.txt"], today=TODAY)
    assert files[0].layout == "arxiv-blocks" and len(files[0].records) == 10 and diags == ()
    assert detect_layout(["CLOct 4, 2023Code", "TitleAnn Lee", "Abstract"]) == "listing"
    assert detect_layout(["Abstract", "arXiv:2101.00001"]) == "arxiv-run-on"
    assert detect_layout(["Abstract", "", "arXiv:2101.00001", "Created: 2021-01-01"]) == (
        "arxiv-blocks"
    )


def test_file_in_no_layout_names_the_layouts() -> None:
    seed, diags = read_seed_text("x.txt", "\nJust some prose.\nMore prose.\n", TODAY)
    assert seed.records == () and seed.layout is None
    assert len(diags) == 1 and diags[0].severity == "error" and diags[0].line == 2
    for layout in ("arxiv-blocks", "arxiv-run-on", "listing"):
        assert layout in diags[0].message
    empty, diags = read_seed_text("e.txt", "\n\n", TODAY)
    assert empty.records == () and [d.severity for d in diags] == ["warning"]


def test_undecodable_bytes_are_an_error_naming_the_line() -> None:
    data = b"First abstract.\n\narXiv:2101.00001\nCreated: 2021-01-01\n\nBad \xff\xfe byte.\n\n"
    data += b"arXiv:2101.00002\nCreated: 2021-01-02\n"
    seed, diags = read_seed_bytes("bad.txt", data, TODAY)
    assert [r.arxiv_id for r in seed.records] == ["2101.00001", "2101.00002"]
    assert seed.records[1].abstract == "Bad \ufffd\ufffd byte."
    assert [str(d) for d in diags] == [
        "bad.txt:6: error: expected UTF-8 text, found undecodable byte(s) b'\\xff' "
        "at column 5; they are shown as U+FFFD"
    ]


def test_duplicates_are_reported_with_both_locations() -> None:
    text = "One.\n\narXiv:2101.00001v1\nCreated: 2021-01-01\n\nOne again.\n\narXiv:2101.00001v2\n"
    text += "Created: 2021-01-01\n"
    seed, _ = read_seed_text("d.txt", text, TODAY)
    other, _ = read_seed_text("e.txt", "Three.\narXiv:2101.00001\n", TODAY)
    diags = find_duplicates([*seed.records, *other.records])
    assert [str(d) for d in diags] == [
        "d.txt:6: warning: arXiv 2101.00001 read twice: first at d.txt:1, again at d.txt:6; "
        "the two are one paper (fields that differ: arxiv_id, abstract)",
        "e.txt:1: warning: arXiv 2101.00001 read twice: first at d.txt:1, again at e.txt:1; "
        "the two are one paper (fields that differ: arxiv_id, abstract)",
    ]


def test_split_arxiv_id() -> None:
    assert split_arxiv_id("2106.02241v2") == ("2106.02241", "v2")
    assert split_arxiv_id("2106.02241") == ("2106.02241", None)
    assert split_arxiv_id("hep-th/9901001v3") == ("hep-th/9901001", "v3")
    assert split_arxiv_id("math.AG/0601001") == ("math.AG/0601001", None)
    with pytest.raises(ValueError, match="not an arXiv id"):
        split_arxiv_id("arXiv:nonsense")


def test_parse_reference() -> None:
    assert parse_reference("doi: 10.1000/a 10.2000/b Journal 1, 2 (2020)") == (
        ("10.1000/a", "10.2000/b"), "Journal 1, 2 (2020)")  # fmt: skip
    assert parse_reference("doi: 10.1145/3295500.3356144") == (("10.1145/3295500.3356144",), None)
    assert parse_reference("ICML 2020") == ((), "ICML 2020")
    assert parse_reference("doi: not a doi") == ((), "doi: not a doi")


def test_reference_date(monkeypatch: pytest.MonkeyPatch) -> None:
    assert reference_date("2026-11-22") == date(2026, 11, 22)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert reference_date(None) == date(2023, 11, 14)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        reference_date(None)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert reference_date(None) == date.today()
    with pytest.raises(ValueError, match="expected a date YYYY-MM-DD, found '22/11/2026'"):
        reference_date("22/11/2026")


# --- command line -------------------------------------------------------------------------------


def test_cli_parse_seeds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["parse", "--today", "2026-11-22"]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 64
    assert rows[0]["file"] == str(Path("seeds") / "000_54f5ae323de093de.txt")
    assert set(rows[0]) >= {
        "file", "line", "index", "layout", "arxiv_id", "date", "date_text", "title", "authors",
        "authors_truncated", "affiliation", "category", "score", "has_code", "comments",
        "journal_ref", "doi", "abstract",
    }  # fmt: skip
    assert err.strip() == "64 records from 5 files; 0 errors, 0 warnings"


def test_cli_parse_errors_exit_1_after_printing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "Good.\n\narXiv:2101.00001\nCreated: 2021-01-01\n\nDangling.\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "parse", str(bad), "--today", "2026-11-22"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert [json.loads(line)["arxiv_id"] for line in proc.stdout.splitlines()] == ["2101.00001"]
    assert f"{bad}:6: error: record not read" in proc.stderr


def test_cli_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(tmp_path / "missing")]) == 2
    assert main(["parse", str(SEEDS), "--today", "yesterday"]) == 2
    assert main(["parse", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "expected a date YYYY-MM-DD" in err
