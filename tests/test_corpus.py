"""bench/corpus.py: the benchmark corpus is deterministic and in the seed layouts."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


corpus = _corpus()
HEADER = re.compile(
    r"^(?:\d+\.\d)?[A-Z]{2}(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}"
    r"(?:, \d{4}(?:Code)?)?$"
)


def _write(tmp: Path, n: int = 300, **kw: object) -> dict[str, object]:
    opts = corpus.CorpusOptions(n=n, per_file=100, **kw)
    stats: dict[str, object] = corpus.write_corpus(tmp, opts, ROOT / "seeds")
    return stats


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    _write(tmp_path / "a")
    _write(tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    _write(tmp_path / "c", seed=2)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")


def test_listing_layout_records(tmp_path: Path) -> None:
    stats = _write(tmp_path)
    files = sorted((tmp_path / "seeds").glob("listing_*.txt"))
    assert [f.name for f in files][:2] == ["listing_0000.txt", "listing_0001.txt"]
    lines = [ln for f in files for ln in f.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3 * int(str(stats["listing_papers"]))
    headers, people, abstracts = lines[0::3], lines[1::3], lines[2::3]
    assert all(HEADER.match(h) for h in headers), [h for h in headers if not HEADER.match(h)]
    assert any(p.endswith(" et al.") for p in people)
    assert any("$" in a for a in abstracts)
    assert all(len(a) > 100 for a in abstracts)


def test_arxiv_block_records_and_bibtex(tmp_path: Path) -> None:
    stats = _write(tmp_path)
    text = "\n".join(
        f.read_text(encoding="utf-8") for f in sorted((tmp_path / "seeds").glob("arxiv_*.txt"))
    )
    ids = re.findall(r"^arXiv:(\d{4}\.\d{5})(?: - .+)?\nCreated: (\d{4}-\d{2}-\d{2})$", text, re.M)
    assert len(ids) == stats["arxiv_block_papers"]
    for aid, created in ids:  # the id's yymm matches the creation date
        assert aid[:4] == created[2:4] + created[5:7]
    bib = (tmp_path / "seeds" / "corpus.bib").read_text(encoding="utf-8")
    entries = re.findall(r"^@(?:misc|article)\{", bib, re.M)
    assert len(entries) == stats["bibtex_entries"]
    assert 0 < len(entries) < 300
    assert bib.count("eprint={") == len(entries)


def test_authors_are_skewed(tmp_path: Path) -> None:
    stats = _write(tmp_path, n=2000)
    assert int(str(stats["papers_per_author_max"])) > 20 * int(
        str(stats["papers_per_author_median"])
    )


def test_touch_one_record_changes_one_line(tmp_path: Path) -> None:
    _write(tmp_path)
    before = _tree(tmp_path / "seeds")
    changed = corpus.touch_one_record(tmp_path / "seeds")
    after = _tree(tmp_path / "seeds")
    diff = [k for k in before if before[k] != after[k]]
    assert diff == [changed.name]
    old, new = before[changed.name].split(b"\n"), after[changed.name].split(b"\n")
    assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [2]
