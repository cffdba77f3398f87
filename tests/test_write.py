"""write_site: atomic swap, refusal of unsafe paths, the previous site kept on failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.model import OutputFile
from generator.write import WriteError, write_site

OLD = [
    OutputFile("index.html", b"old index"),
    OutputFile("papers.json", b"[]"),
    OutputFile("papers/a.html", b"old a"),
    OutputFile("gone.html", b"only in old"),
]
NEW = [
    OutputFile("index.html", b"new index"),
    OutputFile("papers.json", b"[1]"),
    OutputFile("papers/a.html", b"new a"),
    OutputFile("papers/b.html", b"new b"),
]


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


@pytest.fixture()
def old_site(tmp_path: Path) -> Path:
    out = tmp_path / "site"
    write_site(OLD, out)
    return out


def test_writes_a_new_site(tmp_path: Path) -> None:
    stats = write_site(NEW, tmp_path / "site")
    assert snapshot(tmp_path / "site") == {f.path: f.data for f in NEW}
    assert stats.files == 4 and stats.bytes == sum(len(f.data) for f in NEW)
    assert siblings(tmp_path / "site") == ["site"]


def test_replaces_the_previous_site_whole(old_site: Path) -> None:
    write_site(NEW, old_site)
    assert snapshot(old_site) == {f.path: f.data for f in NEW}  # gone.html is gone
    assert siblings(old_site) == ["site"]  # no staging or old folder left behind


def test_failure_half_way_keeps_the_previous_site(old_site: Path) -> None:
    before = snapshot(old_site)
    broken = [*NEW[:2], OutputFile("papers/c.html", "not bytes"), *NEW[2:]]  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        write_site(broken, old_site)
    assert snapshot(old_site) == before
    assert siblings(old_site) == ["site"]


def test_failing_before_swap_step_keeps_the_previous_site(old_site: Path) -> None:
    before = snapshot(old_site)
    seen: list[Path] = []

    def indexer(staging: Path) -> None:
        seen.append(staging)
        assert (staging / "papers" / "b.html").read_bytes() == b"new b"  # all written first
        raise OSError("pagefind failed")

    with pytest.raises(OSError, match="pagefind failed"):
        write_site(NEW, old_site, before_swap=indexer)
    assert seen and not seen[0].exists()
    assert snapshot(old_site) == before


def test_before_swap_output_is_swapped_in(tmp_path: Path) -> None:
    def indexer(staging: Path) -> None:
        (staging / "pagefind").mkdir()
        (staging / "pagefind" / "x.js").write_bytes(b"index")

    write_site(NEW, tmp_path / "site", before_swap=indexer)
    assert (tmp_path / "site" / "pagefind" / "x.js").read_bytes() == b"index"


@pytest.mark.parametrize(
    "path",
    [
        "../x.html",
        "/etc/passwd",
        "a/../../b.html",
        "",
        "a//b.html",
        "./a.html",
        "a\\..\\b.html",
        "papers/..",
        "a\x00b",
    ],
)
def test_unsafe_paths_are_refused_before_writing(old_site: Path, path: str) -> None:
    before = snapshot(old_site)
    with pytest.raises(WriteError, match="refusing to write outside the site folder"):
        write_site([*NEW, OutputFile(path, b"x")], old_site)
    assert snapshot(old_site) == before
    assert siblings(old_site) == ["site"]


def test_duplicate_and_file_folder_clash_refused(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="same path: papers/a.html"):
        write_site([*NEW, OutputFile("papers/a.html", b"again")], tmp_path / "site")
    with pytest.raises(WriteError, match="both a file and a folder: papers/a.html"):
        write_site([*NEW, OutputFile("papers/a.html/x", b"x")], tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_refuses_to_replace_a_folder_that_is_not_a_site(tmp_path: Path) -> None:
    home = tmp_path / "documents"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    with pytest.raises(WriteError, match="does not look like a site built by papersite"):
        write_site(NEW, home)
    assert (home / "thesis.tex").read_text() == "precious"
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(WriteError, match="not a folder"):
        write_site(NEW, target)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_parent_keeps_the_previous_site(old_site: Path) -> None:
    before = snapshot(old_site)
    old_site.parent.chmod(0o555)
    try:
        with pytest.raises(OSError):
            write_site(NEW, old_site)
    finally:
        old_site.parent.chmod(0o755)
    assert snapshot(old_site) == before
