"""The arXiv category table and full_category (generator/categories.py)."""

from __future__ import annotations

import re

import pytest

from generator.categories import CATEGORY_NAMES, category_name, full_category


@pytest.mark.parametrize(
    ("code", "full"),
    [
        ("CL", "cs.CL"),
        ("cl", "cs.CL"),
        (" LG ", "cs.LG"),
        ("AI", "cs.AI"),
        ("cs.CL", "cs.CL"),
        ("CS.cl", "cs.CL"),
        ("SR", "astro-ph.SR"),
        ("astro-ph.SR", "astro-ph.SR"),
        ("physics.optics", "physics.optics"),
        ("hep-th", "hep-th"),
        ("quant-ph", "quant-ph"),
        ("gr-qc", "gr-qc"),
        ("cond-mat.str-el", "cond-mat.str-el"),
        ("ML", "stat.ML"),
        ("CO", "stat.CO"),  # shared by stat, math and astro-ph: stat comes first
        ("math.CO", "math.CO"),
        ("OC", "math.OC"),
        ("AS", "eess.AS"),
        ("EM", "econ.EM"),
        ("cmp-lg", "cmp-lg"),
        ("ZZ", None),
        ("", None),
        ("cs.ZZ", None),
    ],
)
def test_full_category(code: str, full: str | None) -> None:
    assert full_category(code) == full


def test_names() -> None:
    assert CATEGORY_NAMES["cs.CL"] == "Computation and Language"
    assert CATEGORY_NAMES["astro-ph.SR"] == "Solar and Stellar Astrophysics"
    assert CATEGORY_NAMES["physics.optics"] == "Optics"
    assert CATEGORY_NAMES["hep-th"] == "High Energy Physics - Theory"
    assert category_name("CL") == "Computation and Language"
    assert category_name("nope") is None


def test_table_is_complete_and_well_formed() -> None:
    archives = {code.split(".")[0] for code in CATEGORY_NAMES}
    for archive in ("cs", "math", "stat", "eess", "q-bio", "q-fin", "econ", "physics",
                    "astro-ph", "cond-mat", "nlin", "hep-ex", "hep-lat", "hep-ph", "hep-th",
                    "gr-qc", "quant-ph", "nucl-ex", "nucl-th", "math-ph"):  # fmt: skip
        assert archive in archives
    assert sum(1 for c in CATEGORY_NAMES if c.startswith("cs.")) == 40
    assert sum(1 for c in CATEGORY_NAMES if c.startswith("math.")) == 32
    assert len(CATEGORY_NAMES) >= 155
    for code, name in CATEGORY_NAMES.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)?(\.[A-Za-z]+(-[a-z]+)?)?", code), code
        assert name and name == name.strip()
        assert full_category(code) == code
    assert list(CATEGORY_NAMES) == sorted(CATEGORY_NAMES)
