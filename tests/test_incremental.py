"""Incremental builds: a rebuild with nothing changed writes nothing, a rebuild after a change
equals a cold build of the changed input byte for byte, and a tampered site is rebuilt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hardening_support import build_in_process, diff_trees, tree_digest, two_seed_listings

SEEDS = ROOT / "seeds"


def _seeds(where: Path) -> Path:
    shutil.copytree(SEEDS, where)
    return where


def _edit_one_abstract(seeds: Path) -> None:
    path = sorted(seeds.glob("003_*.txt"))[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2] + " We also report an ablation."
    path.write_text("\n".join(lines), encoding="utf-8")


def _inodes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*") if p.is_file()}


def test_unchanged_rebuild_writes_nothing(tmp_path: Path) -> None:
    seeds = _seeds(tmp_path / "seeds")
    out = tmp_path / "site"
    first = build_in_process(seeds, out)
    assert first.code == 0, first.output
    before, inodes = tree_digest(out), _inodes(out)
    again = build_in_process(seeds, out)
    assert again.code == 0, again.output
    assert "up to date, nothing written" in again.output
    assert tree_digest(out) == before
    assert _inodes(out) == inodes  # not even rewritten with the same bytes


def _assert_rebuild_equals_a_cold_build(seeds: Path, warm: Path, cold: Path) -> None:
    """Rebuild ``warm`` (with its cache) and build ``cold`` without one: the same bytes."""
    rebuilt = build_in_process(seeds, warm)
    assert rebuilt.code == 0, rebuilt.output
    assert "up to date" not in rebuilt.output
    assert build_in_process(seeds, cold, cache=False).code == 0
    assert diff_trees(tree_digest(cold), tree_digest(warm)) == []


def test_warm_rebuild_after_a_change_equals_a_cold_build(tmp_path: Path) -> None:
    seeds = _seeds(tmp_path / "seeds")
    warm = tmp_path / "warm"
    assert build_in_process(seeds, warm).code == 0
    _edit_one_abstract(seeds)
    _assert_rebuild_equals_a_cold_build(seeds, warm, tmp_path / "cold")


def test_template_change_rebuilds_with_cached_stages(tmp_path: Path) -> None:
    """A changed input other than the seeds (here: the config) is not a no-op."""
    seeds = _seeds(tmp_path / "seeds")
    out = tmp_path / "site"
    assert build_in_process(seeds, out).code == 0
    config = tmp_path / "papersite.toml"
    config.write_text('title = "Another title"\n', encoding="utf-8")
    rebuilt = build_in_process(seeds, out, config=config)
    assert rebuilt.code == 0, rebuilt.output
    assert "up to date" not in rebuilt.output
    assert "Another title" in (out / "index.html").read_text(encoding="utf-8")


def test_a_tampered_site_is_rebuilt(tmp_path: Path) -> None:
    seeds = _seeds(tmp_path / "seeds")
    out = tmp_path / "site"
    assert build_in_process(seeds, out).code == 0
    before = tree_digest(out)
    page = out / "index.html"
    page.write_text("defaced", encoding="utf-8")
    (out / "papers.bib").unlink()
    (out / "stray.html").write_text("x", encoding="utf-8")
    rebuilt = build_in_process(seeds, out)
    assert rebuilt.code == 0, rebuilt.output
    assert "up to date" not in rebuilt.output
    assert tree_digest(out) == before


def test_the_cache_is_not_in_or_beside_the_site(tmp_path: Path) -> None:
    seeds = _seeds(tmp_path / "seeds")
    out = tmp_path / "out" / "site"
    assert build_in_process(seeds, out).code == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]
    assert not any(".papersite-cache" in p.as_posix() for p in out.rglob("*"))


def _cache_folder(out: Path) -> Path:
    from generator.cache import CACHE_DIR, BuildCache

    return BuildCache(out, root=ROOT / CACHE_DIR).folder


@pytest.mark.parametrize("damage", ["deleted", "corrupted"])
def test_one_record_rebuild_equals_a_cold_build_whatever_the_memos(
    tmp_path: Path, damage: str
) -> None:
    """A rebuild after one record changed, with the memos and the site digests deleted or
    overwritten with garbage: byte for byte a cold build (as with them intact, above)."""
    seeds = two_seed_listings(tmp_path)
    warm = tmp_path / "warm"
    assert build_in_process(seeds, warm).code == 0
    _edit_one_abstract(seeds)
    cache = _cache_folder(warm)
    damaged = [*cache.glob("memo/*.pickle"), *cache.glob("site/*.pickle")]
    assert any(p.parent.name == "memo" for p in damaged) and damaged
    for path in damaged:
        if damage == "deleted":
            path.unlink()
        elif damage == "corrupted":
            path.write_bytes(b"\x80\x05garbage" + path.read_bytes()[:100])
    _assert_rebuild_equals_a_cold_build(seeds, warm, tmp_path / "cold")


def test_one_record_rebuild_rewrites_only_what_changed(tmp_path: Path) -> None:
    """The site is updated in place: files whose bytes did not change keep their inode."""
    seeds = _seeds(tmp_path / "seeds")
    out = tmp_path / "site"
    assert build_in_process(seeds, out).code == 0
    before = _inodes(out)
    _edit_one_abstract(seeds)
    assert build_in_process(seeds, out).code == 0
    after = _inodes(out)
    rewritten = sorted(p for p in after if before.get(p) != after[p])
    assert 0 < len(rewritten) < len(after) // 10, rewritten
    assert "papers.json" in rewritten and any(p.startswith("papers/") for p in rewritten)
    assert sorted(p.name for p in out.parent.iterdir()) == ["seeds", "site"]


def test_a_memo_rewrites_only_the_shards_a_build_changed(tmp_path: Path) -> None:
    from generator.cache import MEMO_SHARDS, BuildCache, shard_of

    cache = BuildCache(tmp_path / "site", root=tmp_path / "cache")
    memo = cache.load_memo("m", "code-1")
    for i in range(500):
        memo[f"k{i}"] = i
    cache.store_memo("m", "code-1", memo)
    folder = cache.folder / "memo"
    inodes = {p.name: p.stat().st_ino for p in folder.glob("m-*.pickle")}
    assert len(inodes) == MEMO_SHARDS

    again = cache.load_memo("m", "code-1")
    assert sorted(again) == sorted(f"k{i}" for i in range(500))  # iterating uses nothing
    for i in range(500):
        if i != 7:  # k7 unused this time: dropped
            assert again[f"k{i}"] == i
    again["k3"] = 33
    again["k5"] = again["k5"]  # the same object: no change
    cache.store_memo("m", "code-1", again)
    rewritten = {p.name for p in folder.glob("m-*.pickle") if p.stat().st_ino != inodes[p.name]}
    assert rewritten == {f"m-{shard_of(k):02d}.pickle" for k in ("k3", "k7")}
    third = cache.load_memo("m", "code-1")
    assert third["k3"] == 33 and "k7" not in third and len(third) == 499
    assert len(cache.load_memo("m", "code-2")) == 0  # other generator source: not used
