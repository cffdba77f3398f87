"""Fuzzing the whole build (issue 7, "Bad input, end to end").

Seeded random mutation of the real seed files and of seeds.bib: deleted, duplicated and
shuffled lines, truncated records, random bytes, mixed layouts in one file, swapped encodings
and line endings. Every case asserts: no traceback, exit code 0 or 1, every record read (and
every BibTeX entry) is a paper of the written site or is named in a diagnostic, and the written
site passes the static link check.

``CASES`` cases run in-process with ``--no-search`` on small inputs (a window of one or two seed
files, sometimes with a slice of the BibTeX), spread over ``CHUNKS`` tests so ``pytest -n 2``
shares them; ``CLI_CASES`` more run through the real command line in a subprocess, some with
the search index. A failure prints the case number: ``mutate_case(n)`` rebuilds its input.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS, TODAY
from tests.hardening_support import build_in_process, site_link_problems, unaccounted_records

CASES = 1000
CHUNKS = 20
CLI_CASES = 16
SEED_TEXTS = {p.name: p.read_bytes() for p in sorted(SEEDS.glob("*.txt"))}
BIB = (SEEDS / "seeds.bib").read_bytes()

ENCODINGS = ("utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252", "utf-32")
NOISE = [
    "arXiv:", "arXiv:2101.00001v3", "arXiv:hep-th/9901001 - doi: 10.1/x Phys. Rev.", "Created: ",
    "Created: 2023-13-45", "CLOct 4, 2023Code", "90.7AIApr 17", "86.1LGFeb 30, 2024",
    " et al.", " · ", "$", "$$", "\\(", "\\url{", "{", "}", "@article{", "@string{a = ",
    "\u202e", "\u0000", "\ufeff", "\ud7ff", "e\u0301", "😀", "../../x", "<script>", "&amp;",
    "Comments: 12 pages", "doi: ", "et al.", ",", " - ", "\t", "\x0b", "\x0c", "\u2028",
]  # fmt: skip


def _window(data: bytes, rng: random.Random, lo: int, hi: int) -> list[bytes]:
    lines = data.split(b"\n")
    n = rng.randint(lo, min(hi, len(lines)))
    start = rng.randrange(0, max(1, len(lines) - n + 1))
    return lines[start : start + n]


def _mutate_lines(lines: list[bytes], rng: random.Random) -> list[bytes]:
    for _ in range(rng.randint(1, 4)):
        if not lines:
            lines = [b""]
        op = rng.randrange(9)
        i = rng.randrange(len(lines))
        if op == 0:  # delete a line
            del lines[i]
        elif op == 1:  # duplicate a line
            lines.insert(i, lines[i])
        elif op == 2:  # truncate a line (a record cut short)
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif op == 3:  # random bytes
            pos = rng.randrange(len(lines[i]) + 1)
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
            lines[i] = lines[i][:pos] + junk + lines[i][pos:]
        elif op == 4:  # a fragment of another layout's vocabulary
            pos = rng.randrange(len(lines[i]) + 1)
            lines[i] = (
                lines[i][:pos]
                + rng.choice(NOISE).encode("utf-8", "surrogatepass")
                + (lines[i][pos:])
            )
        elif op == 5:  # swap two lines
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 6:  # join a line to the next (a lost line break)
            if i + 1 < len(lines):
                lines[i : i + 2] = [lines[i] + lines[i + 1]]
        elif op == 7:  # blank line inserted
            lines.insert(i, b"")
        else:  # cut the whole text short
            del lines[i + 1 :]
    return lines


def _encode(data: bytes, rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.08:
        text = data.decode("utf-8", "replace")
        enc = rng.choice(ENCODINGS)
        return text.encode(enc, "replace")
    if roll < 0.14:
        return data.replace(b"\n", b"\r\n")
    if roll < 0.18:
        return data.replace(b"\n", b"\r")
    if roll < 0.22:
        return b"\xef\xbb\xbf" + data
    return data


def mutate_case(case: int) -> dict[str, bytes]:
    """The seed folder of fuzz case ``case``: file name -> bytes (deterministic)."""
    rng = random.Random(f"papersite-fuzz-{case}")
    names = sorted(SEED_TEXTS)
    files: dict[str, bytes] = {}
    main = rng.choice(names)
    lines = _window(SEED_TEXTS[main], rng, 3, 18)
    if rng.random() < 0.15:  # mixed layouts in one file
        other = rng.choice([n for n in names if n != main])
        extra = _window(SEED_TEXTS[other], rng, 3, 9)
        at = rng.randrange(len(lines) + 1)
        lines[at:at] = [b"", *extra, b""]
    lines = _mutate_lines(lines, rng)
    files[main] = _encode(b"\n".join(lines), rng)
    if rng.random() < 0.1:  # a second, clean file: duplicates across files
        second = rng.choice(names)
        files.setdefault(second, b"\n".join(_window(SEED_TEXTS[second], rng, 3, 9)))
    if rng.random() < 0.3:
        entries = BIB.split(b"\n@")
        k = rng.randint(1, 6)
        start = rng.randrange(0, max(1, len(entries) - k))
        chunk = b"\n@".join(entries[start : start + k])
        if start:
            chunk = b"@" + chunk
        bib_lines = chunk.split(b"\n")
        if rng.random() < 0.7:
            bib_lines = _mutate_lines(bib_lines, rng)
        files["seeds.bib"] = _encode(b"\n".join(bib_lines), rng)
    return files


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _check_case(case: int, seeds: Path, out: Path) -> None:
    _write(seeds, mutate_case(case))
    try:
        built = build_in_process(seeds, out)
    except BaseException as exc:  # noqa: BLE001 - any escape is a traceback for the user
        raise AssertionError(f"case {case}: the build raised {exc!r}") from exc
    result = built.result
    assert built.code in (0, 1), f"case {case}: exit {built.code}\n{built.output}"
    assert result.failure is None, f"case {case}: {result.failure}"  # type: ignore[attr-defined]
    assert "Traceback" not in built.output, f"case {case}: {built.output}"
    lost = unaccounted_records(seeds, out, result.diagnostics)  # type: ignore[attr-defined]
    assert lost == [], f"case {case}: read but neither a paper nor a diagnostic: {lost}"
    bad = site_link_problems(out, fast=True)
    assert bad == [], f"case {case}: broken links {bad[:5]}"


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzzed_builds_in_process(chunk: int, tmp_path: Path) -> None:
    for case in range(chunk, CASES, CHUNKS):
        _check_case(case, tmp_path / "seeds", tmp_path / "site")


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(2))
def test_fuzzed_builds_through_the_cli(chunk: int, tmp_path: Path) -> None:
    """The real ``python -m generator build`` in a subprocess, half of the cases with search."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for case in range(CASES + chunk, CASES + CLI_CASES, 2):
        seeds, out = tmp_path / f"seeds{case}", tmp_path / f"site{case}"
        _write(seeds, mutate_case(case))
        cmd = [sys.executable, "-m", "generator", "build", "--seeds", str(seeds)]
        cmd += ["--out", str(out), "--today", TODAY, "-q"]
        if case % 4 >= 2:
            cmd.append("--no-search")
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        text = proc.stdout + proc.stderr
        assert proc.returncode in (0, 1), f"case {case}: exit {proc.returncode}\n{text}"
        assert "Traceback" not in text, f"case {case}: {text}"
        assert "papersite: build failed" not in text, f"case {case}: {text}"
        assert (out / "index.html").is_file(), f"case {case}: no site written\n{text}"
        assert site_link_problems(out) == [], f"case {case}"
        if "--no-search" not in cmd:
            assert (out / "search-index" / "engine.js").is_file(), f"case {case}: no search index"
            if json.loads((out / "papers.json").read_text(encoding="utf-8")):
                # Pagefind runs when there is something to index (else an empty script index)
                assert (out / "pagefind" / "pagefind.js").is_file(), f"case {case}: no Pagefind"
