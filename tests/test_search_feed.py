"""The search documents handed to Pagefind while they are made (``DocFeed``): a part waits
for its documents only, a feed closed early fails instead of hanging, and a bundle indexed
from a feed filled by another thread is byte-identical to one indexed from a list."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from test_search_index import CATALOG, _docs

from generator.offline_index import catalog_doc_count, catalog_docs, iter_catalog_docs
from generator.search import DocFeed, SearchIndexError, run_pagefind

WAIT = 10.0  # seconds a test waits for a thread before calling it stuck


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


def test_the_documents_one_at_a_time_are_the_list_and_their_count_is_known() -> None:
    helpers = (lambda t: t, lambda n: n.strip(), lambda c: f"Name ({c})")
    docs = catalog_docs(CATALOG, *helpers)
    assert list(iter_catalog_docs(CATALOG, *helpers)) == docs
    assert catalog_doc_count(CATALOG) == len(docs) == 5


def test_a_slice_waits_for_its_documents_only() -> None:
    docs = _docs()
    feed = DocFeed(len(docs))
    got: dict[str, object] = {}
    first = threading.Thread(target=lambda: got.setdefault("first", feed[0:2]))
    last = threading.Thread(target=lambda: got.setdefault("last", feed[3:5]))
    first.start()
    last.start()
    feed.add(docs[:3])
    first.join(WAIT)
    assert got.get("first") == docs[0:2]
    last.join(0.2)
    assert last.is_alive() and "last" not in got  # documents 3 and 4 are not made yet
    feed.add(docs[3:])
    last.join(WAIT)
    assert got.get("last") == docs[3:5]
    assert feed[-1] == docs[-1] and list(feed) == docs and len(feed) == 5
    with pytest.raises(IndexError):
        feed[5]


def test_a_feed_closed_early_fails_its_readers_instead_of_hanging() -> None:
    docs = _docs()
    feed = DocFeed(len(docs))
    errors: list[BaseException] = []

    def read() -> None:
        try:
            feed[2:5]
        except SearchIndexError as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    feed.add(docs[:3])
    feed.close()
    reader.join(WAIT)
    assert not reader.is_alive()
    assert len(errors) == 1 and "not all made" in str(errors[0])
    assert feed[0:3] == docs[:3]  # what was made stays readable


def test_fill_checks_the_count_and_closes_on_an_error() -> None:
    docs = _docs()
    assert DocFeed(len(docs)).fill(iter(docs), batch=2) == docs
    with pytest.raises(SearchIndexError, match="4 search documents for 5 pages"):
        DocFeed(len(docs)).fill(iter(docs[:4]))
    with pytest.raises(SearchIndexError, match="more search documents"):
        DocFeed(len(docs) - 1).fill(iter(docs), batch=2)

    def broken() -> object:
        yield docs[0]
        raise ValueError("bad record")

    feed = DocFeed(len(docs))
    with pytest.raises(ValueError, match="bad record"):
        feed.fill(broken())  # type: ignore[arg-type]
    with pytest.raises(SearchIndexError, match="not all made"):
        feed[0:2]  # closed: a reader does not wait for ever


def test_a_bundle_from_a_feed_filled_meanwhile_is_the_bundle_from_a_list(
    tmp_path: Path,
) -> None:
    docs = _docs()
    listed = tmp_path / "list"
    listed.mkdir()
    assert run_pagefind(listed, records=docs, part_pages=2, workers=2) == len(docs)

    fed = tmp_path / "feed"
    fed.mkdir()
    feed = DocFeed(len(docs))
    result: list[int] = []
    indexing = threading.Thread(
        target=lambda: result.append(run_pagefind(fed, records=feed, part_pages=2, workers=2))
    )
    indexing.start()  # the parts wait for their documents
    feed.fill(iter(docs), batch=1)
    indexing.join(120)
    assert result == [len(docs)]
    assert _tree(fed / "pagefind") == _tree(listed / "pagefind")
