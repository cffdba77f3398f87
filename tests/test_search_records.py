"""Pagefind over record pages (a large site): staged in a memory-backed folder when there is
one with room, else beside the site; two runs are byte-identical either way; canonical order
of word variants (decoding only the index chunks that can hold them); more Pagefind parts at
once when the script-loaded index is done."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import cbor2
import pytest
from test_search_index import _docs

import generator.search as search
from generator.offline_index import Doc
from generator.search import (
    MULTI_VARIANT,
    PF_HEADER,
    SearchIndexError,
    canonicalise_pagefind,
    pagefind_bundles,
    pagefind_hash,
    pagefind_workers,
    record_page,
    record_stage,
    run_pagefind,
)


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


def _page_urls(bundle: Path) -> list[str]:
    """The URLs of a bundle's pages, by page number."""
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    meta_hash = entry["languages"]["en"]["hash"]
    raw = gzip.decompress((bundle / f"pagefind.{meta_hash}.pf_meta").read_bytes())
    meta = cbor2.loads(raw[len(PF_HEADER) :])
    urls = []
    for page_hash, _words in meta[1]:
        fragment = gzip.decompress((bundle / "fragment" / f"{page_hash}.pf_fragment").read_bytes())
        urls.append(json.loads(fragment[len(PF_HEADER) :])["url"])
    return urls


def _two_runs(tmp_path: Path) -> list[dict[str, str]]:
    docs = _docs()
    trees = []
    for run in ("a", "b"):
        site = tmp_path / run
        site.mkdir()
        assert run_pagefind(site, records=docs, part_pages=2, workers=2) == len(docs)
        assert [path for path, _ in pagefind_bundles(site)] == [
            "pagefind/",
            "pagefind/part-1/",
            "pagefind/part-2/",
        ]
        assert not list(site.glob(".pagefind-*")) and not (site / "papers").exists()
        trees.append(_tree(site / "pagefind"))
    return trees


def test_record_pages_staged_in_memory_give_identical_bundles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = tmp_path / "shm"
    memory.mkdir()
    monkeypatch.setattr(search, "MEMORY_STAGE", memory)
    assert record_stage(3, 3) == memory
    first, second = _two_runs(tmp_path)
    assert first and first == second
    assert not list(memory.iterdir())  # every staged part is gone


def test_without_a_memory_folder_record_pages_are_staged_beside_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MEMORY_STAGE", tmp_path / "nowhere")
    assert record_stage(3, 3) is None
    first, second = _two_runs(tmp_path)
    assert first and first == second


def test_a_memory_folder_too_small_is_not_used(tmp_path: Path) -> None:
    assert record_stage(10**12, 3) is None  # no tmpfs holds 24 PB


def test_staged_record_pages_are_the_record_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _docs()
    search._stage_records(tmp_path, docs)
    for doc in docs:
        assert (tmp_path / doc.url).read_bytes() == record_page(doc)
    unsafe = Doc("../x.html", "paper", "x", "", "", "", "", "", "", ())
    with pytest.raises(SearchIndexError, match="outside the site"):
        search._stage_records(tmp_path, [unsafe])


@pytest.mark.usefixtures("failing_pagefind")
def test_a_failing_pagefind_over_records_is_one_readable_error(tmp_path: Path) -> None:
    with pytest.raises(SearchIndexError, match=r"Pagefind failed \(exit 3\): Error: disk full"):
        run_pagefind(tmp_path / "site", records=_docs())
    assert not list((tmp_path / "site").glob(".pagefind-*"))


def _variant_docs() -> list[Doc]:
    """Three papers whose authors spell one name three ways: Pagefind keeps "muller" with
    the two accented spellings as its variants."""
    spellings = ("Jana Müller", "Jana Mûller", "Jana Muller")
    return [
        Doc(f"papers/v{n}.html", "paper", f"Paper {n}", name, "2020", f"2020-01-0{n + 1}",
            f"Paper {n}", name, "", (("kind", "paper"),), all_authors=name)
        for n, name in enumerate(spellings)
    ]  # fmt: skip


def _chunks(bundle: Path) -> list[bytes]:
    return [
        gzip.decompress(f.read_bytes())[len(PF_HEADER) :]
        for f in sorted((bundle / "index").iterdir())
    ]


def test_the_variant_pattern_finds_every_word_with_two_variants() -> None:
    pages = [[3, [-121, 10], [-1, 1]], [7, [5], []]]
    one = [["muller", pages, [["müller", pages]]], ["ab", pages, []]]
    two = [["muller", pages, [["müller", pages], ["mûller", pages]]]]
    many = [["x", [], [[f"x{'é' * n}", pages] for n in range(1, 30)]]]
    assert not MULTI_VARIANT.search(cbor2.dumps([one]))
    assert MULTI_VARIANT.search(cbor2.dumps([two]))
    assert MULTI_VARIANT.search(cbor2.dumps([many]))  # 24+ variants: a two-byte array header


def test_variants_are_put_in_one_order_whatever_order_pagefind_gave(tmp_path: Path) -> None:
    docs = _variant_docs()
    assert run_pagefind(tmp_path, records=docs) == 3
    bundle = tmp_path / "pagefind"
    chunks = [cbor2.loads(raw) for raw in _chunks(bundle) if MULTI_VARIANT.search(raw)]
    words = {w[0]: w for chunk in chunks for w in chunk[0]}
    assert [v[0] for v in words["muller"][2]] == ["mûller", "müller"]  # by code point
    before = _tree(bundle)
    # the other order, as another run of Pagefind may write it, under its content's name
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    meta_path = bundle / f"pagefind.{entry['languages']['en']['hash']}.pf_meta"
    meta = cbor2.loads(gzip.decompress(meta_path.read_bytes())[len(PF_HEADER) :])
    for chunk in meta[2]:
        path = bundle / "index" / f"{chunk[2]}.pf_index"
        index = cbor2.loads(gzip.decompress(path.read_bytes())[len(PF_HEADER) :])
        for word in index[0]:
            word[2].reverse()
        data = cbor2.dumps(index)
        path.unlink()
        chunk[2] = "en_" + pagefind_hash(data)[:7]
        (bundle / "index" / f"{chunk[2]}.pf_index").write_bytes(gzip.compress(PF_HEADER + data))
    data = cbor2.dumps(meta)
    meta_path.unlink()
    entry["languages"]["en"]["hash"] = "en_" + pagefind_hash(data)[:10]
    (bundle / f"pagefind.{entry['languages']['en']['hash']}.pf_meta").write_bytes(
        gzip.compress(PF_HEADER + data)
    )
    (bundle / "pagefind-entry.json").write_text(
        json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    assert _tree(bundle) != before
    canonicalise_pagefind(bundle)
    assert _tree(bundle) == before


@pytest.mark.parametrize("cores, during, after", [(1, 1, 1), (2, 1, 2), (8, 2, 2)])
def test_pagefind_takes_the_script_index_core_once_it_is_free(
    monkeypatch: pytest.MonkeyPatch, cores: int, during: int, after: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert pagefind_workers() == during
    assert pagefind_workers(script_index_done=True) == after
