"""Determinism of the search indexes: two builds of the seeds write byte-identical
``pagefind/`` and ``search-index/`` trees (Pagefind's own filter files come out in a random
order; ``generator.search.canonicalise_pagefind`` puts them in one)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import cbor2
from conftest import ROOT, SEEDS, build_site

from generator.search import PF_HEADER, canonicalise_pagefind, pagefind_hash


def tree(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder``."""
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


def read_pf(path: Path) -> object:
    raw = gzip.decompress(path.read_bytes())
    assert raw.startswith(PF_HEADER)
    return cbor2.loads(raw[len(PF_HEADER) :])


def test_two_builds_of_the_seeds_write_identical_search_indexes(
    seed_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert build_site(SEEDS, out) in (0, 1)
    finally:
        os.chdir(cwd)
    for sub in ("pagefind", "search-index"):
        first, second = tree(seed_site / sub), tree(out / sub)
        assert first, f"{sub}/ is empty"
        changed = sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
        assert changed == [], f"{sub}/ differs between two builds: {changed[:10]}"


def test_canonical_files_are_named_by_their_content(seed_site: Path) -> None:
    bundle = seed_site / "pagefind"
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    meta_hash = entry["languages"]["en"]["hash"]
    meta_raw = gzip.decompress((bundle / f"pagefind.{meta_hash}.pf_meta").read_bytes())
    assert meta_hash == "en_" + pagefind_hash(meta_raw[len(PF_HEADER) :])[:10]
    meta = cbor2.loads(meta_raw[len(PF_HEADER) :])
    names = [f[0] for f in meta[3]]
    assert names == sorted(names) and set(names) >= {"kind", "topic", "year", "listing"}
    for name, file_hash in meta[3]:
        path = bundle / "filter" / f"{file_hash}.pf_filter"
        index = read_pf(path)
        assert isinstance(index, list) and index[0] == name
        values = [v[0] for v in index[1]]
        assert values == sorted(values)
        raw = gzip.decompress(path.read_bytes())[len(PF_HEADER) :]
        assert file_hash == "en_" + pagefind_hash(raw)[:7]
    listed = {f"{h}.pf_filter" for _, h in meta[3]}
    assert {p.name for p in (bundle / "filter").iterdir()} == listed


def test_any_order_of_filter_values_canonicalises_to_the_same_bundle(
    seed_site: Path, tmp_path: Path
) -> None:
    """Shuffle every filter file's values and the metadata's filter list (what a different
    hash seed inside Pagefind does), rename by content: the canonical bundle comes back."""
    bundle = tmp_path / "pagefind"
    shutil.copytree(seed_site / "pagefind", bundle)
    rng = random.Random(7)
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    meta_path = bundle / f"pagefind.{entry['languages']['en']['hash']}.pf_meta"
    meta = read_pf(meta_path)
    assert isinstance(meta, list)
    for f in meta[3]:
        path = bundle / "filter" / f"{f[1]}.pf_filter"
        index = read_pf(path)
        assert isinstance(index, list)
        while len(index[1]) > 1 and [v[0] for v in index[1]] == sorted(v[0] for v in index[1]):
            rng.shuffle(index[1])
        data = cbor2.dumps(index)
        path.unlink()
        f[1] = "en_" + pagefind_hash(data)[:7]
        (bundle / "filter" / f"{f[1]}.pf_filter").write_bytes(gzip.compress(PF_HEADER + data))
    meta[3].reverse()
    data = cbor2.dumps(meta)
    meta_path.unlink()
    entry["languages"]["en"]["hash"] = "en_" + pagefind_hash(data)[:10]
    (bundle / f"pagefind.{entry['languages']['en']['hash']}.pf_meta").write_bytes(
        gzip.compress(PF_HEADER + data)
    )
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
    assert tree(bundle) != tree(seed_site / "pagefind")
    canonicalise_pagefind(bundle)
    assert tree(bundle) == tree(seed_site / "pagefind")
