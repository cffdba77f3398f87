"""Pagefind over record pages through ``pagefind --service``: the pages go down a pipe, the
bundle numbers them in the records' order (not a folder listing's), two runs are
byte-identical, and a failing service is one readable error."""

from __future__ import annotations

import gzip
import hashlib
import json
import stat
import sys
import threading
import time
from pathlib import Path

import cbor2
import pytest
from test_search_index import _docs

from generator.offline_index import Doc
from generator.search import (
    MULTI_VARIANT,
    PF_HEADER,
    SearchIndexError,
    _wait_until_written,
    canonicalise_pagefind,
    pagefind_bundles,
    pagefind_hash,
    pagefind_workers,
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


def test_record_bundle_numbers_pages_in_the_records_order(tmp_path: Path) -> None:
    docs = _docs()
    assert run_pagefind(tmp_path, records=docs) == len(docs)
    assert _page_urls(tmp_path / "pagefind") == ["/" + d.url for d in docs]
    assert not list(tmp_path.glob(".pagefind-*"))
    assert not (tmp_path / "papers").exists()  # no page is written, not even staged


def test_two_runs_over_the_same_records_are_byte_identical(tmp_path: Path) -> None:
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
        trees.append(_tree(site / "pagefind"))
    assert trees[0] and trees[0] == trees[1]


def _fake(tmp_path: Path, body: str) -> Path:
    fake = tmp_path / "pagefind"
    fake.write_text(f"#!{sys.executable}\n{body}")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return fake


def test_a_service_that_dies_is_one_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _fake(tmp_path, "import sys\nprint('Error: disk full', file=sys.stderr)\nsys.exit(3)\n")
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    with pytest.raises(SearchIndexError, match="Error: disk full"):
        run_pagefind(tmp_path / "site", records=_docs())
    assert not list((tmp_path / "site").glob(".pagefind-*"))


def test_an_error_answer_is_one_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that makes the index, then answers the first page with an error."""
    fake = _fake(
        tmp_path,
        "import base64, json, sys\n"
        "def say(message):\n"
        "    sys.stdout.buffer.write(base64.b64encode(json.dumps(message).encode()) + b',')\n"
        "    sys.stdout.flush()\n"
        "data = b''\n"
        "while b',' not in data:\n"
        "    data += sys.stdin.buffer.read1(1)\n"
        "say({'message_id': 1, 'payload': {'type': 'NewIndex', 'index_id': 0}})\n"
        "say({'message_id': 2, 'payload': {'type': 'Error', 'message': 'page 2 is not HTML'}})\n"
        "sys.stdin.buffer.read()\n",
    )
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    with pytest.raises(SearchIndexError, match="page 2 is not HTML"):
        run_pagefind(tmp_path / "site", records=_docs())


def test_waits_until_the_service_has_written_every_file(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    late = tmp_path / "index" / "en_1.pf_index"
    late.write_bytes(b"")
    (tmp_path / "pagefind.js").write_bytes(b"x")
    timer = threading.Timer(0.2, lambda: late.write_bytes(b"data"))
    timer.start()
    started = time.monotonic()
    _wait_until_written(tmp_path)
    assert late.read_bytes() == b"data" and time.monotonic() - started >= 0.2
    timer.join()
    late.write_bytes(b"")
    with pytest.raises(SearchIndexError, match="did not finish writing"):
        _wait_until_written(tmp_path, timeout=0.1)


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
