"""generator.headline.derive_headline on real seed abstracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.headline import MAX_CHARS, derive_headline

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_abstracts() -> list[str]:
    lines = [
        line
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    return [line for line in lines if len(line) > 300]


def abstract_containing(needle: str) -> str:
    return next(a for a in seed_abstracts() if needle in a)


CASES = [
    (
        "propose a four-stage progressive distillation framework ERNIE-Tiny",
        "ERNIE-Tiny: a four-stage progressive distillation framework to compress PLM",
    ),
    (
        "we propose Contrastive Distillation on Intermediate Representations (CoDIR)",
        "Contrastive Distillation on Intermediate Representations (CoDIR): a principled knowledge "
        "distillation…",
    ),
    (
        "In this work, we propose TRIGO",
        "TRIGO: an ATP benchmark that not only requires a model to reduce a trigonometric "
        "expression with…",
    ),
    (
        "called Retrieval-based Knowledge Transfer (RetriKT)",
        "Retrieval-based Knowledge Transfer (RetriKT): a novel compression paradigm",
    ),
    (
        "we propose Cluster-Former",
        "Cluster-Former: a novel clustering-based sparse Transformer to perform attention across "
        "chunked sequences",
    ),
    ("RankCSE", "RankCSE: a novel approach for unsupervised sentence representation learning"),
    (  # no named contribution: what it proposes, as a phrase
        "we introduce a new mechanism to improve adapter capacity",
        "A new mechanism to improve adapter capacity without increasing parameters or "
        "computational cost by two key…",
    ),
    (  # nothing proposed: the first sentence, shortened at a word boundary
        "Radial velocity (RV) is among the most fundamental",
        "Radial velocity (RV) is among the most fundamental physical quantities obtainable from "
        "stellar spectra and…",
    ),
]


@pytest.mark.parametrize(("needle", "expected"), CASES)
def test_seed_headlines(needle: str, expected: str) -> None:
    assert derive_headline(abstract_containing(needle)) == expected


def test_structured_abstract_label_is_skipped() -> None:
    abstract = next((a for a in seed_abstracts() if a.startswith("Aims")), None)
    if abstract is None:
        pytest.skip("no structured abstract in the seeds")
    headline = derive_headline(abstract)
    assert headline != "Aims" and len(headline.split()) >= 4


def test_every_seed_headline_is_short_plain_text() -> None:
    abstracts = seed_abstracts()
    assert len(abstracts) >= 60
    for abstract in abstracts:
        headline = derive_headline(abstract)
        print(headline)  # `pytest -s` shows them all, to read
        assert 10 <= len(headline) <= MAX_CHARS, headline
        assert "$" not in headline and "\\" not in headline and "{" not in headline, headline
        assert not headline.endswith((".", ",", " ")), headline
        assert "…" not in headline[:-1], headline


def test_latex_becomes_unicode_and_short_input() -> None:
    assert derive_headline(r"We present \textit{SiN-Lab}, a platform for Si$_3$N$_4$ chips.") == (
        "SiN-Lab: a platform for Si₃N₄ chips"
    )
    assert derive_headline("") == ""
    assert derive_headline("Short.") == "Short"
    long = "word " * 60
    headline = derive_headline(long)
    assert headline.endswith("…") and len(headline) <= MAX_CHARS
