"""What a build's start-up keeps for the next build: its compiled templates (Jinja's bytecode
cache in the build cache). It is only ever a faster way to the same pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.cache import CACHE_DIR, BuildCache
from tests.conftest import ROOT
from tests.hardening_support import build_in_process, diff_trees, tree_digest


def test_compiled_templates_are_reused_until_a_template_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import render

    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    monkeypatch.setattr(render, "TEMPLATES", templates)
    out = tmp_path / "site"
    render.environment.cache_clear()  # each build as in a new process
    try:
        assert build_in_process(seeds, out).code == 0
        compiled = BuildCache(out, root=ROOT / CACHE_DIR).folder / "jinja"
        assert len(list(compiled.glob("*.cache"))) >= len(list(templates.glob("*.html")))
        paper = templates / "paper.html"
        paper.write_text(
            paper.read_text().replace("{% block content %}", "{% block content %}<!--e-->", 1)
        )
        render.environment.cache_clear()
        built = build_in_process(seeds, out)
        assert built.code == 0, built.output
        assert any(b"<!--e-->" in p.read_bytes() for p in (out / "papers").rglob("*.html"))
        render.environment.cache_clear()
        assert build_in_process(seeds, tmp_path / "cold", cache=False).code == 0
        assert diff_trees(tree_digest(tmp_path / "cold"), tree_digest(out)) == []
    finally:
        render.environment.cache_clear()


def test_a_compiled_template_that_cannot_be_written_is_compiled_again(tmp_path: Path) -> None:
    import jinja2

    from generator.build import _template_cache_class

    folder = tmp_path / "jinja"  # not there (a cache folder removed meanwhile)
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"t.html": "{{ 1 + 1 }}"}),
        bytecode_cache=_template_cache_class()(str(folder)),
    )
    assert env.get_template("t.html").render() == "2"
    folder.mkdir()
    again = jinja2.Environment(
        loader=jinja2.DictLoader({"t.html": "{{ 1 + 1 }}"}),
        bytecode_cache=_template_cache_class()(str(folder)),
    )
    assert again.get_template("t.html").render() == "2"
    assert len(list(folder.iterdir())) == 1
