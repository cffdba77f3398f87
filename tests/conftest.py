"""Shared fixtures: the real seeds built once per test session (per xdist worker)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from generator.config import SiteConfig
    from generator.model import Paper, SeedFile
    from generator.topics import TopicResult

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TODAY = "2026-11-22"  # reference date for listing dates without a year (README: "Dates")


def seed_stages() -> tuple[
    tuple[SeedFile, ...],
    tuple[Paper, ...],
    TopicResult,
    dict[str, tuple[tuple[str, float], ...]],
    SiteConfig,
]:
    """The real seeds through the stages before the catalog (read, papers, topics, similar
    papers), with the default config: the inputs of a catalog test."""
    from generator.config import SiteConfig
    from generator.papers import build_papers
    from generator.readers import read_seed_paths, reference_date
    from generator.similar import find_similar
    from generator.topics import assign_topics

    files, _ = read_seed_paths([SEEDS], today=reference_date(TODAY))
    papers, _ = build_papers([r for f in files for r in f.records], [])
    config = SiteConfig()
    topics = assign_topics(papers, config.topics)
    similar = dict(find_similar(papers, topics.paper_topics))
    return tuple(files), tuple(papers), topics, similar, config


def build_site(seeds: Path, out: Path, *extra: str) -> int:
    """Run the real CLI build in-process; return its exit code."""
    from generator.cli import main

    return main(["build", "--seeds", str(seeds), "--out", str(out), "--today", TODAY, "-q", *extra])


@pytest.fixture(scope="session")
def seed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from seeds/ with its search indexes (read-only: copy before changing)."""
    out = tmp_path_factory.mktemp("seed-site") / "site"
    cwd = os.getcwd()
    os.chdir(ROOT)  # papersite.toml, templates/ and static/ resolve from the project
    try:
        code = build_site(SEEDS, out)
    finally:
        os.chdir(cwd)
    assert code in (0, 1), f"build exited {code}"
    assert (out / "index.html").is_file()
    return out


@pytest.fixture()
def failing_pagefind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Pagefind stand-in that prints "Error: disk full" and exits 3, put where the build
    looks for Pagefind (``PAGEFIND_BINARY_PATH``)."""
    fake = tmp_path / "pagefind"
    fake.write_text("#!/bin/sh\necho 'Error: disk full' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    return fake


@pytest.fixture()
def seeds_copy(tmp_path: Path) -> Path:
    """A writable copy of seeds/."""
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The one headless chromium of this test process, shared by every browser test (Playwright's
    sync API allows one instance per process, so no test module may start its own)."""
    from tests.browser_support import launch_browser

    with launch_browser() as b:
        yield b


def bare_paper(paper_id: str = "") -> Paper:
    """A paper with nothing but an id (and one author "A", title "t", abstract "a"): tests
    make the papers they need from it with ``dataclasses.replace``."""
    from generator.model import Paper

    return Paper(
        id=paper_id,
        arxiv_id=None,
        title="t",
        title_source="seed",
        authors=("A",),
        authors_truncated=False,
        date=None,
        date_precision=None,
        year=None,
        category=None,
        abstract="a",
    )
