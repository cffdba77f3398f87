"""write_site: atomic swap, refusal of unsafe paths, the previous site kept on failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.model import OutputFile
from generator.write import WriteError, file_digests, recover, write_site

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


# -- in place: a small change with the previous site's digests --------------------------------

SMALL = [
    OutputFile("index.html", b"old index"),
    OutputFile("papers.json", b"[]"),
    OutputFile("papers/a.html", b"changed a"),
    OutputFile("topics/t/new.html", b"in a new folder"),
]  # gone.html removed, papers.json and index.html unchanged


def folders(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir())


def test_small_change_is_written_in_place_and_equals_a_fresh_write(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = write_site([*OLD, OutputFile("old/only.html", b"a folder only in old")], out)
    kept = (out / "papers.json").stat().st_ino
    stats = write_site(SMALL, out, previous=first.digests)
    assert (stats.mode, stats.changed, stats.removed) == ("update", 2, 2)
    assert stats.bytes == len(b"changed a") + len(b"in a new folder")
    fresh = tmp_path / "fresh" / "site"
    write_site(SMALL, fresh)
    assert snapshot(out) == snapshot(fresh) == {f.path: f.data for f in SMALL}
    assert folders(out) == folders(fresh)  # "old" is gone, "topics/t" made
    assert (out / "papers.json").stat().st_ino == kept  # an unchanged file is not touched
    assert stats.digests == file_digests(SMALL)
    assert siblings(out) == ["fresh", "site"]  # no staging folder left behind


def test_nothing_changed_in_place_touches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = write_site(NEW, out)
    mtime = out.stat().st_mtime_ns
    stats = write_site(NEW, out, previous=first.digests)
    assert (stats.mode, stats.changed, stats.removed, stats.bytes) == ("update", 0, 0, 0)
    assert out.stat().st_mtime_ns == mtime


def test_many_changes_or_a_before_swap_step_stage_the_whole_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = write_site(OLD, out)
    many = [OutputFile(f"p/{i}.html", b"x") for i in range(200)]
    stats = write_site([*NEW, *many], out, previous=first.digests)
    assert stats.mode == "swap"
    again = write_site(NEW, out, previous=stats.digests, before_swap=lambda staging: None)
    assert again.mode == "swap" and snapshot(out) == {f.path: f.data for f in NEW}


def test_failure_while_replacing_in_place_undoes_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    first = write_site(OLD, out)
    before, before_folders = snapshot(out), folders(out)
    real_replace = os.replace
    calls = []

    def failing_replace(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:  # the journal, papers/a.html, then topics/t/new.html fails
            raise OSError(28, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        write_site(SMALL, out, previous=first.digests)
    monkeypatch.undo()
    assert str(calls[1]).endswith("site/papers/a.html")  # replaced before the failure
    assert snapshot(out) == before and folders(out) == before_folders
    assert siblings(out) == ["site"]


@pytest.mark.parametrize("done", range(8))
def test_update_killed_after_any_step_is_undone_by_the_next_write(
    tmp_path: Path, done: int
) -> None:
    """SIGKILL while the files are renamed into place (a forked child dies after ``done``
    steps): the next write_site on the folder first puts the previous site back."""
    import generator.write as write

    out = tmp_path / "site"
    first = write_site([*OLD, OutputFile("old/only.html", b"x")], out)
    before, before_folders = snapshot(out), folders(out)
    pid = os.fork()
    if pid == 0:  # the child: apply ``done`` steps, then die without cleaning up
        count = [0]
        real = write._apply

        def dying_apply(*args: object) -> None:
            if count[0] == done:
                os._exit(9)
            count[0] += 1
            real(*args)  # type: ignore[arg-type]

        write._apply = dying_apply  # type: ignore[assignment]
        try:
            write_site(SMALL, out, previous=first.digests)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    died = os.waitstatus_to_exitcode(status) == 9  # else all steps ran before ``done``
    leftovers = [n for n in siblings(out) if n != "site"]
    if died:
        assert len(leftovers) == 1 and leftovers[0].startswith(".site.new-")
        assert (out.parent / leftovers[0] / "journal.json").is_file()
    recover(out)
    assert siblings(out) == ["site"]
    if died:
        assert snapshot(out) == before and folders(out) == before_folders
    else:
        assert snapshot(out) == {f.path: f.data for f in SMALL}


# -- streamed: files put one by one into a staging folder, then swapped in ------------------


def test_staged_files_swapped_in_equal_a_whole_write(tmp_path: Path, old_site: Path) -> None:
    from generator.write import open_staging

    fresh = tmp_path / "fresh"
    write_site(NEW, fresh)
    staging = open_staging(old_site)
    puts = {f.path: staging.put(f.path, f.data) for f in NEW}
    assert snapshot(old_site) == {f.path: f.data for f in OLD}  # nothing swapped in yet
    digests = {p: d for p, (d, _) in puts.items()}
    assert digests == file_digests(NEW)
    staging.finish(digests)
    assert snapshot(old_site) == snapshot(fresh)
    assert siblings(old_site) == ["fresh", "site"]


def test_staged_unchanged_files_are_links_to_the_previous_site(tmp_path: Path) -> None:
    from generator.write import open_staging

    out = tmp_path / "site"
    write_site(OLD, out)
    inode = (out / "papers.json").stat().st_ino
    for previous in (None, file_digests(OLD)):  # compared by reading, or known from digests
        staging = open_staging(out, previous)
        digest, linked = staging.put("papers.json", b"[]")
        assert linked and digest == file_digests(OLD)["papers.json"]
        assert staging.put("index.html", b"changed")[1] is False
        assert staging.has("papers/a.html", file_digests(OLD)["papers/a.html"])
        assert not staging.has("papers/a.html", file_digests(NEW)["papers/a.html"])
        staging.keep("papers/a.html")
        staging.abort()
    assert (out / "papers.json").stat().st_ino == inode
    assert snapshot(out) == {f.path: f.data for f in OLD}
    assert siblings(out) == ["site"]


def test_staging_refuses_unsafe_and_twice_written_paths(old_site: Path) -> None:
    from generator.write import open_staging

    staging = open_staging(old_site)
    with pytest.raises(WriteError, match="outside the site folder"):
        staging.put("../evil.html", b"x")
    staging.put("a.html", b"x")
    with pytest.raises(WriteError, match="same path: a.html"):
        staging.put("a.html", b"y")
    staging.abort()
    assert snapshot(old_site) == {f.path: f.data for f in OLD}
    assert siblings(old_site) == ["site"]


def test_a_staging_folder_left_by_a_kill_changes_nothing(tmp_path: Path, old_site: Path) -> None:
    """A build killed while pages stream into the staging folder leaves the previous site
    and at worst that hidden folder; the next write ignores it and works."""
    from generator.write import open_staging

    staging = open_staging(old_site)
    staging.put("index.html", b"half a build")  # then killed: never finished, never aborted
    assert snapshot(old_site) == {f.path: f.data for f in OLD}
    recover(old_site)
    assert snapshot(old_site) == {f.path: f.data for f in OLD}
    write_site(NEW, old_site)
    assert snapshot(old_site) == {f.path: f.data for f in NEW}
    leftover = [n for n in siblings(old_site) if n != "site"]
    assert leftover == [staging.folder.name]


def test_kept_files_are_linked_not_given(tmp_path: Path) -> None:
    """write_site(kept=...): files the previous site holds are named by digest only."""
    out = tmp_path / "site"
    write_site(OLD, out)
    previous = file_digests(OLD)
    kept = {"papers/a.html": previous["papers/a.html"]}
    rest = [f for f in OLD if f.path not in kept and f.path != "gone.html"]
    rest.append(OutputFile("index.html", b"new index"))
    rest = [f for f in rest if not (f.path == "index.html" and f.data == b"old index")]
    stats = write_site(rest, out, previous=previous, kept=kept)
    assert stats.mode == "update" and stats.files == 3
    assert snapshot(out) == {
        "index.html": b"new index",
        "papers.json": b"[]",
        "papers/a.html": b"old a",
    }
    with pytest.raises(WriteError, match="kept files"):
        write_site(rest, out, previous=previous, kept={"papers/a.html": b"wrong"})
