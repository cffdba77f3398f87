"""The search indexes as files: the file:// index's shards, documents and filters, and the
Pagefind run (including a missing or failing binary)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.model import Author, Catalog, Listing, Paper, Topic
from generator.offline_index import (
    INDEX_DIR,
    REGISTER,
    SHARD_LIMIT,
    STOP_WORDS,
    Doc,
    build_offline_index,
    catalog_docs,
    engine_file,
    shard_file_key,
    words,
)
from generator.search import (
    ENGINE_ENV,
    HOSTED_MAX_PAPERS,
    SearchIndexError,
    build_search_index,
    hosted_engine,
    pagefind_bundles,
    record_page,
    run_pagefind,
)


def _paper(
    pid: str, title: str, date: str | None, abstract: str, authors: tuple[str, ...]
) -> Paper:
    return Paper(
        id=pid,
        arxiv_id=pid,
        title=title,
        title_source="seed",
        authors=authors,
        authors_truncated=False,
        date=date,
        date_precision="day" if date else None,
        year=int(date[:4]) if date else None,
        category="cs.CL",
        abstract=abstract,
        listings=("l1",),
    )


CATALOG = Catalog(
    papers=(
        _paper(
            "2106.02241",
            "ERNIE-Tiny",
            "2021-06-04",
            "Progressive distillation of BERT.",
            ("Wei Liu",),
        ),
        _paper(
            "1909.10351",
            "TinyBERT",
            "2019-09-23",
            "We distil BERT into a tiny model.",
            ("Xiaoqi Jiao",),
        ),
        _paper(
            "x-undated",
            "Undated <script>",
            None,
            "The distilled \u00e9t\u00e9 model.",
            ("Zoë Ünal",),
        ),
    ),
    authors=(Author("xiaoqi-jiao", "Xiaoqi Jiao", ("1909.10351",), topics=("kd",)),),
    topics=(
        Topic(
            "kd", "knowledge distillation", "phrase", "Distillation.", ("2106.02241", "1909.10351")
        ),
    ),
    listings=(
        Listing("l1", "seeds/l1.txt", "Listing One", ("2106.02241", "1909.10351", "x-undated")),
    ),
    paper_topics={"2106.02241": ("kd",), "1909.10351": ("kd",)},
)


def _docs() -> list[Doc]:
    return catalog_docs(CATALOG, lambda t: t, lambda n: n.strip(), lambda c: f"Name ({c})")


def _load(data: bytes) -> tuple[str, object]:
    m = re.fullmatch(re.escape(REGISTER) + r'\("([^"]+)",(.*)\);\n', data.decode(), re.DOTALL)
    assert m, data[:80]
    return m.group(1), json.loads(m.group(2))


def _files() -> dict[str, object]:
    index = build_offline_index(_docs())
    out: dict[str, object] = {}
    for path, data in index.files:
        name, payload = _load(data)
        assert path == f"{INDEX_DIR}/{name}.js"
        out[name] = payload
    return out


def test_docs_order_papers_by_date_then_authors_and_topics() -> None:
    docs = _docs()
    assert [d.url for d in docs] == [
        "papers/2106.02241.html",
        "papers/1909.10351.html",
        "papers/x-undated.html",
        "authors/xiaoqi-jiao.html",
        "topics/kd.html",
    ]
    assert ("topic", "knowledge distillation") in docs[0].filters
    assert ("category", "Name (cs.CL)") in docs[0].filters
    assert ("listing", "Listing One") in docs[0].filters
    assert "knowledge distillation" in docs[3].body_text


def test_words_fold_case_and_accents_and_drop_punctuation() -> None:
    assert words("Zoë Ünal's ERNIE-Tiny, Si₃N₄") == ["zoe", "unal", "s", "ernie", "tiny", "si3n4"]


def test_shards_hold_stems_with_scores_and_no_stop_words() -> None:
    files = _files()
    manifest = files["manifest"]
    assert isinstance(manifest, dict)
    assert manifest["docs"] == 5 and manifest["dated"] == 2
    shard = files["s-di"]
    assert isinstance(shard, dict)
    w = shard["w"]
    # distillation, distil, distilled share one stem and one posting list
    assert w["distillation"] == w["distil"] == w["distilled"]
    flat = shard["p"][w["distil"]]
    docs, acc = [], 0
    for delta in flat[0::2]:
        acc += delta
        docs.append(acc)
    assert docs == [0, 1, 2, 3, 4]  # papers, the author (by topic name), the topic
    assert all(isinstance(s, int) and s > 0 for s in flat[1::2])
    all_words = {word for name, f in files.items() if name.startswith("s-") for word in f["w"]}  # type: ignore[index]
    assert not all_words & STOP_WORDS
    assert "tinybert" in all_words and "the" not in all_words


def test_title_weighs_more_than_abstract() -> None:
    files = _files()
    shard = files["s-ti"]
    assert isinstance(shard, dict)
    flat = shard["p"][shard["w"]["tinybert"]]
    title_score = flat[1]
    shard_mo = files["s-mo"]
    assert isinstance(shard_mo, dict)
    model = shard_mo["p"][shard_mo["w"]["model"]]
    assert title_score > max(model[1::2])


def test_filters_list_members_and_markup_stays_data() -> None:
    files = _files()
    manifest = files["manifest"]
    assert isinstance(manifest, dict)
    years = [v[0] for v in manifest["filters"]["year"]]
    assert years == ["2021", "2019"]
    topic = manifest["filters"]["topic"][0]
    assert topic[:2] == ["knowledge distillation", 2]
    assert files[topic[2]] == [0, 1]
    chunk = files["d-0"]
    assert isinstance(chunk, list)
    assert chunk[2][2] == "Undated <script>"  # JSON string data, shown with textContent


def test_large_prefix_is_split_into_bounded_shards() -> None:
    vocab = [f"ma{chr(97 + i)}{chr(97 + j)}word" for i in range(26) for j in range(26)]
    docs = [
        Doc(f"papers/p{n}.html", "paper", f"p{n}", "", "2020", "2020-01-01", "", "",
            " ".join(vocab[n % 7 :: 3]), (("kind", "paper"),))
        for n in range(400)
    ]  # fmt: skip
    index = build_offline_index(docs)
    shards = {p: d for p, d in index.files if "/s-" in p}
    assert len(shards) > 1 and any(p.endswith("/s-maa.js") for p in shards)
    assert max(len(d) for d in shards.values()) <= SHARD_LIMIT


def test_shard_file_key_is_file_name_safe() -> None:
    assert shard_file_key("ab") == "ab"
    assert shard_file_key("αβ") == "_3b1_3b2"


def test_output_is_deterministic() -> None:
    assert build_offline_index(_docs()).files == build_offline_index(_docs()).files


def _tiny_site(root: Path) -> Path:
    site = root / "site"
    (site / "papers").mkdir(parents=True)
    (site / "papers" / "a.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>a</title></head><body><main>'
        "<article data-pagefind-body><h1>Distillation</h1></article></main></body></html>"
    )
    return site


def test_pagefind_indexes_marked_pages(tmp_path: Path) -> None:
    site = _tiny_site(tmp_path)
    assert run_pagefind(site) == 1
    assert (site / "pagefind" / "pagefind.js").is_file()


def test_missing_pagefind_binary_is_one_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "nowhere" / "pagefind"))
    with pytest.raises(SearchIndexError, match=r"Pagefind binary not found.*nowhere"):
        build_search_index(_tiny_site(tmp_path), CATALOG, None)  # type: ignore[arg-type]


@pytest.mark.usefixtures("failing_pagefind")
def test_failing_pagefind_binary_is_one_readable_error(tmp_path: Path) -> None:
    with pytest.raises(SearchIndexError, match=r"Pagefind failed \(exit 3\): Error: disk full"):
        run_pagefind(_tiny_site(tmp_path))


def test_site_without_pages_fails(tmp_path: Path) -> None:
    site = tmp_path / "empty"
    site.mkdir()
    with pytest.raises(SearchIndexError, match="Pagefind"):
        run_pagefind(site)


def test_pagefind_in_parts_bounds_each_run_and_lists_the_bundles(tmp_path: Path) -> None:
    site = _tiny_site(tmp_path)
    for n in range(5):
        (site / "papers" / f"p{n}.html").write_text(
            '<!DOCTYPE html><html lang="en"><head><title>p</title></head><body><main>'
            f"<article data-pagefind-body><h1>Paper {n}</h1></article></main></body></html>"
        )
    (site / "index.html").write_text("<html><body>not indexed</body></html>")
    pages = ["papers/a.html", *(f"papers/p{n}.html" for n in range(5))]
    assert run_pagefind(site, pages, part_pages=4) == 6
    assert pagefind_bundles(site) == [("pagefind/", ()), ("pagefind/part-1/", ())]
    for bundle, count in (("pagefind", 4), ("pagefind/part-1", 2)):
        entry = json.loads((site / bundle / "pagefind-entry.json").read_text())
        assert entry["languages"]["en"]["page_count"] == count
    assert not list(site.glob(".pagefind-*"))  # staged parts and bundles are gone
    with pytest.raises(SearchIndexError, match="outside the site"):
        run_pagefind(site, ["../x.html"])


def test_record_pages_carry_the_pages_filters_sort_and_meta_as_data() -> None:
    docs = _docs()
    undated = record_page(docs[2]).decode()
    assert "<script>" not in undated and "Undated &lt;script&gt;" in undated
    assert "data-pagefind-sort" not in undated
    tiny = record_page(docs[1]).decode()
    assert 'data-pagefind-sort="date:2019-09-23"' in tiny
    for name, value in docs[1].filters:
        assert f'<span data-pagefind-filter="{name}">{value}</span>' in tiny
    assert '<span data-pagefind-meta="year">2019</span>' in tiny
    assert 'data-pagefind-meta="authors">Xiaoqi Jiao</p>' in tiny
    assert 'data-pagefind-meta="title">TinyBERT</h1>' in tiny
    assert "tiny model" not in tiny  # the abstract is the script-loaded index's
    author = record_page(docs[3]).decode()
    assert '<span data-pagefind-filter="kind">author</span>' in author
    assert "2 papers" not in author and "1 paper" in author


def test_pagefind_over_record_pages_in_parallel_parts(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    docs = _docs()  # three papers, newest first, one author, one topic
    assert run_pagefind(site, records=docs, part_pages=2, workers=2) == 5
    assert pagefind_bundles(site) == [
        ("pagefind/", ("date",)),
        ("pagefind/part-1/", ()),  # the undated paper and the author
        ("pagefind/part-2/", ()),
    ]
    assert not list(site.glob(".pagefind-*"))
    assert not (site / "papers").exists()  # record pages are only staged


def test_hosted_engine_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert hosted_engine(64) == "pagefind"
    assert hosted_engine(HOSTED_MAX_PAPERS) == "pagefind"
    assert hosted_engine(HOSTED_MAX_PAPERS + 1) == "index"
    monkeypatch.setenv(ENGINE_ENV, "10")
    assert hosted_engine(64) == "index"
    monkeypatch.setenv(ENGINE_ENV, "ten")
    with pytest.raises(SearchIndexError, match=ENGINE_ENV):
        hosted_engine(64)


def test_seed_build_names_its_engine(seed_site: Path) -> None:
    name, engine = _load((seed_site / INDEX_DIR / "engine.js").read_bytes())
    assert name == "engine"
    assert engine == {"http": "pagefind", "bundles": [{"path": "pagefind/", "sorts": ["date"]}]}
    assert engine_file("index", [("pagefind/", ())])[0] == f"{INDEX_DIR}/engine.js"
    with pytest.raises(ValueError):
        engine_file("lucene", [])


def test_a_site_with_nothing_to_search_gets_an_empty_index(tmp_path: Path) -> None:
    """Every record in error (or no seeds): the build still succeeds with search, and the
    search page answers from an empty script-loaded index instead of a missing bundle."""
    from tests.conftest import build_site

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "broken.txt").write_text("arXiv:2101.00001\nCreated: 2021-01-01\n", encoding="utf-8")
    out = tmp_path / "site"
    assert build_site(seeds, out) == 1  # the record is an error, the site is still written
    engine = (out / "search-index" / "engine.js").read_text(encoding="utf-8")
    assert '"http":"index"' in engine.replace(" ", "")
    assert not (out / "pagefind").exists()
