"""Determinism (issue 7): two builds of the seeds, search indexes included, are byte-identical,
whatever the output folder is called and whichever folder the build runs from."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.hardening_support import build_in_process, diff_trees, tree_digest


@pytest.mark.slow
def test_two_builds_with_search_are_byte_identical(seed_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "other-name"
    built = build_in_process(SEEDS, out, search=True)
    assert built.code in (0, 1), built.output
    first, second = tree_digest(seed_site), tree_digest(out)
    assert any(k.startswith("pagefind/") for k in first)
    assert any(k.startswith("search-index/") for k in first)
    assert diff_trees(first, second) == []
