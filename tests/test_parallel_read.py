"""The read and papers stages' forked parts (issue 8): reading seed and BibTeX files and
merging papers in a second process gives exactly the serial result -- records, entries,
papers, diagnostics with file:line, in order -- and a bad file still gives its diagnostic."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pytest

from generator import build, forked, papers
from generator.cache import BuildCache
from generator.diagnostics import Diagnostic
from generator.model import Record
from generator.readers import find_duplicates
from tests.conftest import ROOT
from tests.hardening_support import build_in_process, diff_trees, tree_digest

TODAY = date(2026, 11, 22)
SEEDS = ROOT / "seeds"

BAD_BIB = """@article{good1,
  title = {A {G}ood {E}ntry},
  author = {Ada Lovelace and Charles Babbage},
  year = {2021},
}

@article{broken,
  title = {Missing the closing brace,
  author = {Nobody},

@article{good1,
  title = {Duplicate key},
}

@weird{odd, title = {Unknown type}, year = {2022}}
"""


@pytest.fixture
def always_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork for any amount of work, however small."""
    monkeypatch.setattr(build, "MIN_FORKED_SEED_BYTES", 0)
    monkeypatch.setattr(build, "MIN_FORKED_BIB_BYTES", 0)
    monkeypatch.setattr(papers, "MIN_FORKED_MERGES", 0)


def _seed_folder(where: Path) -> Path:
    """The project's seeds plus a second BibTeX file with errors, a seed file that is not
    UTF-8 and one in no layout."""
    folder = shutil.copytree(SEEDS, where)
    (folder / "zz_bad.bib").write_text(BAD_BIB, encoding="utf-8")
    first = sorted(folder.glob("*.txt"))[0].read_bytes()
    (folder / "005_latin1.txt").write_bytes(first.replace(b"the ", b"th\xe9 ", 3))
    (folder / "006_nothing.txt").write_text("no layout here\njust words\n", encoding="utf-8")
    return folder


def _keys_in_order(keys: build.InputKeys, items: Sequence[object]) -> list[tuple[str, str]]:
    return [keys[id(item)] for item in items] if keys else []


def test_fork_call_returns_the_result_and_runs_in_a_child() -> None:
    with forked.fork_call(os.getpid) as child:
        assert child.forked
        assert child.result() != os.getpid()
    with forked.fork_call(os.getpid, fork=False) as here:
        assert not here.forked
        assert here.result() == os.getpid()


def _fails_in_a_child(parent: int) -> str:
    if os.getpid() != parent:
        raise RuntimeError("only in the child")
    return "computed by the parent"


def _killed_in_a_child(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(3)  # ends without a result, as a child killed by the OOM killer would
    return "computed by the parent"


@pytest.mark.parametrize("fn", [_fails_in_a_child, _killed_in_a_child])
def test_a_child_without_a_result_is_computed_in_the_parent(fn: Callable[[int], str]) -> None:
    with forked.fork_call(fn, os.getpid()) as child:
        assert child.forked
        assert child.result() == "computed by the parent"


def _raises(message: str) -> None:
    raise ValueError(message)


def test_an_error_is_raised_in_the_parent_as_a_serial_call_raises_it() -> None:
    with forked.fork_call(_raises, "bad input") as child, pytest.raises(ValueError, match="bad"):
        child.result()


def test_cancel_ends_the_child() -> None:
    import time

    child = forked.fork_call(time.sleep, 60)
    pid = child._pid
    child.cancel()
    assert not child.forked
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped


@pytest.mark.parametrize("cached", [False, True])
def test_seed_files_read_in_two_processes_equal_the_serial_read(
    tmp_path: Path, always_fork: None, cached: bool
) -> None:
    folder = _seed_folder(tmp_path / "seeds")
    serial_cache = BuildCache(tmp_path / "a") if cached else None
    split_cache = BuildCache(tmp_path / "b") if cached else None
    serial = build._read_seeds(folder, TODAY, serial_cache, "code", 1)
    split = build._read_seeds(folder, TODAY, split_cache, "code", 2)
    assert split[:3] == serial[:3]
    diags = split[1]
    assert any(d.file.endswith("005_latin1.txt") and d.line > 0 for d in diags)
    assert any(d.file.endswith("006_nothing.txt") and d.severity == "error" for d in diags)
    records = [r for f in serial[0] for r in f.records]
    split_records = [r for f in split[0] for r in f.records]
    assert len(split[3]) == (len(records) if cached else 0)
    assert _keys_in_order(split[3], split_records) == _keys_in_order(serial[3], records)
    if cached:  # what the forked process parsed is cached as the serial read caches it
        again = build._read_seeds(folder, TODAY, split_cache, "code", 2)
        assert again[2] == 0  # nothing parsed again
        assert again[:2] == serial[:2]


def test_a_forked_seed_read_splits_the_work(
    tmp_path: Path, always_fork: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both processes parse: the later files (about half the bytes) in the child."""
    folder = _seed_folder(tmp_path / "seeds")
    started: list[tuple[int, bool]] = []
    real = forked.fork_call

    def fork_call(fn: object, items: list[object], *args: object, fork: bool) -> object:
        started.append((len(items), fork))
        return real(fn, items, *args, fork=fork)  # type: ignore[arg-type]

    monkeypatch.setattr(forked, "fork_call", fork_call)
    files = build._read_seeds(folder, TODAY, None, "code", 2)[0]
    count = len(list(folder.glob("*.txt")))
    assert len(started) == 1
    assert started[0][1] and 0 < started[0][0] < count
    assert [f.path for f in files] == sorted(str(p) for p in folder.glob("*.txt"))
    monkeypatch.setattr(build, "MIN_FORKED_SEED_BYTES", 1 << 40)
    build._read_seeds(folder, TODAY, None, "code", 2)
    assert started[1] == (0, False)  # too little to parse: no process


@pytest.mark.parametrize("cached", [False, True])
def test_bibtex_read_in_a_child_equals_the_serial_read(
    tmp_path: Path, always_fork: None, cached: bool
) -> None:
    folder = _seed_folder(tmp_path / "seeds")
    serial_cache = BuildCache(tmp_path / "a") if cached else None
    split_cache = BuildCache(tmp_path / "b") if cached else None
    serial = build._read_bibs(folder, serial_cache, "code", 1)
    with build._BibRead(folder, split_cache, "code", 2) as bibs:
        assert bibs.forked
        split = bibs.result()
    assert split[:2] == serial[:2]
    assert len(split[2]) == (len(serial[0]) if cached else 0)
    assert _keys_in_order(split[2], list(split[0])) == _keys_in_order(serial[2], list(serial[0]))
    bad = [d for d in split[1] if d.file.endswith("zz_bad.bib")]
    assert {d.line for d in bad if d.severity == "error"} >= {7, 11}  # broken, duplicate
    assert any("@weird" in d.message and d.line == 15 for d in bad)
    if cached:
        again = build._read_bibs(folder, split_cache, "code", 2)
        assert again[:2] == serial[:2]


def test_an_unreadable_file_is_still_reported_in_its_place(
    tmp_path: Path, always_fork: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _seed_folder(tmp_path / "seeds")
    (folder / "aa_dangling.bib").symlink_to(tmp_path / "missing")  # not a file: skipped
    shutil.copy(folder / "zz_bad.bib", folder / "ab_locked.bib")
    shutil.copy(sorted(folder.glob("*.txt"))[0], folder / "000_locked.txt")
    real = build._file_bytes

    def file_bytes(target: Path, what: str, diags: list[Diagnostic]) -> bytes | None:
        if "locked" in target.name:  # as a file without read permission does (root reads all)
            target = tmp_path / "no such file"
        return real(target, what, diags)

    monkeypatch.setattr(build, "_file_bytes", file_bytes)

    def bibs(jobs: int) -> tuple[Diagnostic, ...]:
        return build._read_bibs(folder, None, "code", jobs)[1]

    def seeds(jobs: int) -> tuple[Diagnostic, ...]:
        return build._read_seeds(folder, TODAY, None, "code", jobs)[1]

    read: Callable[[int], tuple[Diagnostic, ...]]
    for read in (bibs, seeds):
        serial, split = read(1), read(2)
        assert split == serial
        assert any("cannot read" in d.message for d in split)
        assert any(d.file.endswith(("zz_bad.bib", "006_nothing.txt")) for d in split)


def _records_and_entries(folder: Path) -> tuple[list[Record], tuple[object, ...]]:
    """The folder's records and entries, and records whose merge gives diagnostics."""
    files = build._read_seeds(folder, TODAY, None, "code", 1)[0]
    entries = build._read_bibs(folder, None, "code", 1)[0]
    odd = [
        Record("odd.txt", 1 + 4 * i, i, "listing", arxiv_id=f"2401.{i:05d}", category="ZZ")
        for i in range(30)
    ]
    return [*odd, *(r for f in files for r in f.records)], entries


def test_papers_merged_in_two_processes_equal_the_serial_merge(
    tmp_path: Path, always_fork: None
) -> None:
    records, entries = _records_and_entries(_seed_folder(tmp_path / "seeds"))
    serial = papers.build_papers(records, entries)  # type: ignore[arg-type]
    split = papers.build_papers(
        records,
        entries,  # type: ignore[arg-type]
        jobs=2,
        title_keys=papers.fold_titles(records),
    )
    assert split == serial
    assert len([d for d in serial[1] if d.file == "odd.txt"]) == 30  # compared in order
    assert [p.id for p in split[0]] == [p.id for p in serial[0]]


def test_papers_with_a_memo_in_two_processes_equal_the_serial_merge(
    tmp_path: Path, always_fork: None
) -> None:
    records, entries = _records_and_entries(_seed_folder(tmp_path / "seeds"))
    serial = papers.build_papers(records, entries)  # type: ignore[arg-type]
    memo: dict[object, object] = {}
    keys = papers.fold_titles(records, memo)
    cold = papers.build_papers(records, entries, memo, jobs=2, title_keys=keys)  # type: ignore[arg-type]
    assert cold == serial
    titled = next(r for r in records if r.title)
    assert ("title", titled.title) in memo  # folded ahead and kept for the next build
    warm = papers.build_papers(records[1:], entries, memo, jobs=2)  # type: ignore[arg-type]
    assert warm == papers.build_papers(records[1:], entries)  # type: ignore[arg-type]


def test_a_paper_without_an_arxiv_id_still_gets_its_id_after_the_merge() -> None:
    records = [
        Record("a.txt", 1, 0, "listing", title="Same Title"),
        Record("a.txt", 5, 1, "listing", title="Same Title", date="2024-01-02"),
        Record("a.txt", 9, 2, "listing", arxiv_id="hep-th/9901001v2", title="Old style"),
    ]
    found = {p.id for p in papers.build_papers(records, ())[0]}
    assert found == {"x-same-title", "x-same-title-2", "hep-th-9901001"}


def test_a_build_with_every_part_forked_equals_a_serial_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _seed_folder(tmp_path / "seeds")
    monkeypatch.setattr(build, "_workers", lambda: 1)
    serial = build_in_process(folder, tmp_path / "serial", cache=False)
    monkeypatch.setattr(build, "_workers", lambda: 2)
    monkeypatch.setattr(build, "MIN_FORKED_SEED_BYTES", 0)
    monkeypatch.setattr(build, "MIN_FORKED_BIB_BYTES", 0)
    monkeypatch.setattr(papers, "MIN_FORKED_MERGES", 0)
    split = build_in_process(folder, tmp_path / "split", cache=False)
    assert split.code == serial.code
    diags: tuple[Diagnostic, ...] = split.result.diagnostics  # type: ignore[attr-defined]
    assert diags == serial.result.diagnostics  # type: ignore[attr-defined]
    assert any(d.file.endswith("zz_bad.bib") for d in diags)
    assert diff_trees(tree_digest(tmp_path / "serial"), tree_digest(tmp_path / "split")) == []


def test_find_duplicates_sees_records_from_both_processes(
    tmp_path: Path, always_fork: None
) -> None:
    folder = _seed_folder(tmp_path / "seeds")
    shutil.copy(sorted(folder.glob("00[0-4]_*.txt"))[0], folder / "007_copy.txt")
    serial = build._read_seeds(folder, TODAY, None, "code", 1)[0]
    split = build._read_seeds(folder, TODAY, None, "code", 2)[0]
    dups = find_duplicates([r for f in split for r in f.records])
    assert dups and dups == find_duplicates([r for f in serial for r in f.records])
