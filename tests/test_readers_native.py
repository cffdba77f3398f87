"""The compiled modules (generator/native.py: the seed readers and generator.phrases): used
only for the sources they were compiled from, and giving exactly what the plain modules give."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import generator
import generator.phrases as phrases
import generator.readers as readers_package
from generator import native
from generator.readers import native as readers_native

ROOT = Path(__file__).resolve().parents[1]
SOURCES = native.MODULES + native.IMPORTED
NOT_BUILT = "native modules not built for these sources (make builds them)"


def _build_dir() -> Path | None:
    """The build for the current sources, whether or not plain Python is forced here (the
    subprocesses below choose for themselves)."""
    folder = native.NATIVE / native.source_key()
    return folder if (folder / "complete").is_file() else None


def _copy_sources(tmp_path: Path) -> Path:
    for module in SOURCES:
        (tmp_path / native.source_path(module)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / native.source_path(module), tmp_path / native.source_path(module))
    return tmp_path


def test_the_key_changes_with_any_compiled_or_imported_source(tmp_path: Path) -> None:
    root = _copy_sources(tmp_path)
    key = native.source_key(root)
    assert key == native.source_key(ROOT)
    assert "generator.phrases" in native.MODULES
    for module in SOURCES:
        path = root / native.source_path(module)
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert native.source_key(root) != key, module
        path.write_bytes(original)
    assert native.source_key(root) == key


def _generator_imports(module: str) -> set[str]:
    """The generator modules a module's source imports (at its top or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / native.source_path(module)).read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(
            n
            for n in names
            if n.startswith("generator") and (ROOT / native.source_path(n)).is_file()
        )
    return found


def test_the_key_covers_every_generator_module_the_compiled_ones_import() -> None:
    seen: set[str] = set()
    todo = list(native.MODULES)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(_generator_imports(module))
    assert seen == set(SOURCES)
    assert "generator.diagnostics" in _generator_imports("generator.textio")  # the walk reads


def test_a_build_for_other_sources_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in native.PURE_ENVS:
        monkeypatch.delenv(name, raising=False)
    stale = tmp_path / "native" / ("0" * 24)
    (stale / "generator").mkdir(parents=True)
    (stale / "complete").write_text("0" * 24 + "\n")
    monkeypatch.setattr(native, "NATIVE", tmp_path / "native")
    assert native.compiled_dir() is None
    current = tmp_path / "native" / native.source_key()
    (current / "generator").mkdir(parents=True)
    assert native.compiled_dir() is None  # not complete: a build stopped half-way
    (current / "complete").write_text(native.source_key() + "\n")
    assert native.compiled_dir() == current
    for name in (native.PURE_ENV, "PAPERSITE_PURE_READERS"):
        monkeypatch.setenv(name, "1")
        assert native.compiled_dir() is None
        monkeypatch.delenv(name)
    assert native.compiled_dir() == current


def test_the_readers_first_name_is_the_same_build() -> None:
    assert readers_native.build is native.build
    assert readers_native.compiled_dir is native.compiled_dir
    assert readers_native.MODULES == native.MODULES


def _loaders(root: Path, pure: str | None = None) -> dict[str, str]:
    """The loader of each compiled module in a fresh process run in ``root`` (a checkout)."""
    env = {k: v for k, v in os.environ.items() if k not in native.PURE_ENVS}
    if pure:
        env[pure] = "1"
    code = (
        "import generator.readers as r; r.readers(); import generator.phrases, sys\n"
        f"for m in {native.MODULES!r}:\n"
        "    print(m, type(sys.modules[m].__loader__).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return dict(line.split() for line in done.stdout.splitlines())


def test_the_modules_load_compiled_exactly_when_built_for_these_sources() -> None:
    plain = dict.fromkeys(native.MODULES, "SourceFileLoader")
    for name in native.PURE_ENVS:
        assert _loaders(ROOT, pure=name) == plain
    assert native.compiled_dir() == (None if native.pure_forced() else _build_dir())
    built = _build_dir() is not None
    expected = dict.fromkeys(native.MODULES, "ExtensionFileLoader") if built else plain
    assert _loaders(ROOT) == expected
    loader = type(phrases.__loader__).__name__  # this process: compiled when it found the build
    assert loader == ("SourceFileLoader" if native.loaded_dir() is None else "ExtensionFileLoader")
    assert readers_package.__path__[-1] == str(ROOT / "generator" / "readers")
    assert generator.__path__[-1] == str(ROOT / "generator")


@pytest.mark.skipif(_build_dir() is None, reason=NOT_BUILT)
def test_an_edited_phrases_module_is_never_shadowed_by_its_build(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(
        ROOT / "generator", checkout / "generator", ignore=shutil.ignore_patterns("__pycache__")
    )
    build = _build_dir()
    assert build is not None
    shutil.copytree(build, checkout / "build" / "native" / build.name)
    assert _loaders(checkout) == dict.fromkeys(native.MODULES, "ExtensionFileLoader")
    phrases = checkout / "generator" / "phrases.py"
    phrases.write_text(phrases.read_text() + "\n# edited\n")
    assert _loaders(checkout) == dict.fromkeys(native.MODULES, "SourceFileLoader")


def _run(args: list[str], pure: bool) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in native.PURE_ENVS}
    env["SOURCE_DATE_EPOCH"] = "1795305600"
    if pure:
        env[native.PURE_ENV] = "1"
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )  # fmt: skip
    return done.stdout, done.stderr


@pytest.mark.skipif(_build_dir() is None, reason=NOT_BUILT)
def test_compiled_readers_read_what_the_plain_ones_read(tmp_path: Path) -> None:
    cases = []
    for case_file in sorted((ROOT / "tests" / "fixtures" / "readers" / "cases").glob("*.txt")):
        for k, block in enumerate(case_file.read_text(encoding="utf-8").split("\n=== ")[1:]):
            if "\n--- text\n" in block:
                text = block.split("\n--- text\n", 1)[1].split("\n--- ", 1)[0]
                cases.append(tmp_path / f"{case_file.stem}_{k:03d}.txt")
                cases[-1].write_text(text + "\n", encoding="utf-8")
    paths = sorted((ROOT / "seeds").glob("*.txt")) + cases
    args = ["-m", "generator", "parse", *map(str, paths)]
    compiled, plain = _run(args, pure=False), _run(args, pure=True)
    assert compiled[0].count("\n") > 80
    assert compiled == plain


# Every function of generator.phrases on each seed title and abstract, printed: one line a
# text and function. TermCache is filled in the seeds' order, so its ids are compared too.
_PHRASES_REPORT = """
import sys
from datetime import date
from pathlib import Path
import generator.phrases as ph
from bench.bench_topics import corpus
from generator.bibtex import read_bib_paths
from generator.papers import build_papers
from generator.readers import read_seed_paths

files, _ = read_seed_paths([Path("seeds")], date(2026, 11, 22))
records = [r for f in files for r in f.records]
papers = list(build_papers(records, read_bib_paths([Path("seeds")])[0])[0])
papers += corpus(int(sys.argv[1]), 1)  # the bench's papers: seed sentences, coined words
texts = [t for p in papers for t in (p.title, p.abstract)]
texts += ["", "Mixture-of-Experts (MoE) and ERNIE-Tiny; $x^2$ see https://a.b/c \\\\cite{k}"]
cache = ph.TermCache()
out = [type(ph.__loader__).__name__]
for n, text in enumerate(texts):
    keys = ph.phrase_keys(text)
    parsed = list(ph.chunks(text))
    surfaces = list(ph.surface_phrases(text))
    merged = sorted({k for k, _ in surfaces})
    targets, prefixes = set(merged[::3]), {k[:i] for k in merged[::3] for i in range(len(k) + 1)}
    words = sorted({w for k in keys for w in ph.key_parts(k)})
    title_keys = ph.phrase_keys(texts[n - 1]) if n % 2 else None
    ids, counts = cache.remember(texts[n - 1] if n % 2 else "", text, title_keys, keys)
    cache.store_ids("t", text, ids, counts)
    results = [
        keys, ph.phrase_keys(text, 2), ph.phrase_keys(text, 3), parsed, surfaces,
        ph.chunk_phrase_keys(parsed), ph.chunk_phrase_keys(parsed, 3),
        list(ph.target_surfaces(text, targets, prefixes)),
        [ph.surfaces_of(text, k) for k in merged[::8]],
        [ph.chunk_surfaces(parsed, k) for k in merged[::8]],
        sorted(ph.acronym_definitions(text)), ph.key_of_name(text), ph.clean_text(text),
        ph.similarity_terms(text), ph.similarity_terms_of(keys),
        ph.similarity_counts(text, {k: 1 for k in keys[:5]}, {k: 2 for k in keys}),
        [ph.merge_key(k) for k in keys], [ph.singular(w) for w in words],
        [(ph.nounish_end(w), ph.nounish_alone(w), ph.field_noun(w)) for w in words],
        ids.tolist(), counts.tolist(), cache.terms("", text)[0].tolist(),
        cache.store("s", text, ph.similarity_terms(text), counts)[0].tolist(),
        cache.term_id("\\x00" + text[:20]),
    ]
    out.extend(f"{n} {k} {r!r}" for k, r in enumerate(results))
out.append(repr(sorted(cache.vocab.items())))
sys.stdout.write("\\n".join(out) + "\\n")
"""


@pytest.mark.skipif(_build_dir() is None, reason=NOT_BUILT)
def test_compiled_phrases_give_what_the_plain_module_gives_on_the_seeds() -> None:
    compiled, plain = (
        _run(["-c", _PHRASES_REPORT, "200"], pure=False),
        _run(["-c", _PHRASES_REPORT, "200"], pure=True),
    )
    assert compiled[1] == plain[1] == ""
    compiled_lines, plain_lines = compiled[0].splitlines(), plain[0].splitlines()
    assert compiled_lines[0] == "ExtensionFileLoader"
    assert plain_lines[0] == "SourceFileLoader"
    assert len(compiled_lines) > 24 * 2 * (64 + 200)  # 64 seed papers, 200 of the bench
    assert "('moe', 'mixture of expert')" in compiled[0]
    differ = [(a, b) for a, b in zip(compiled_lines[1:], plain_lines[1:], strict=True) if a != b]
    assert differ == []
