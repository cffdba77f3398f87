"""Phrase extraction, variant merging and name normalisation on small texts."""

from __future__ import annotations

import pytest

from generator.model import Paper
from generator.people import canonical_names, name_key, normalise_name
from generator.phrases import (
    acronym_definitions,
    key_of_name,
    merge_key,
    phrase_keys,
    singular,
)
from generator.topics import TopicConfig, assign_topics


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("velocities", "velocity"),
        ("losses", "loss"),
        ("models", "model"),
        ("approaches", "approach"),
        ("analysis", "analysis"),
        ("news", "news"),
        ("gas", "gas"),
        ("corpus", "corpus"),
        ("experts", "expert"),
    ],
)
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected


@pytest.mark.parametrize(
    "variants",
    [
        ("Mixture-of-Experts", "mixture of experts", "Mixture of Expert"),
        ("pre-trained language models", "Pretrained Language Model", "pre trained language model"),
        ("Radial Velocities", "radial velocity", "radial-velocity"),
        ("theorem-proving", "Theorem Proving"),
    ],
)
def test_variants_share_one_key(variants: tuple[str, ...]) -> None:
    assert len({key_of_name(v) for v in variants}) == 1


def test_phrases_stop_at_function_words_and_boilerplate() -> None:
    keys = set(
        phrase_keys(
            "In this paper, we propose a novel knowledge distillation framework to compress BERT."
        )
    )
    assert "knowledge distillation" in keys
    assert "bert" in keys
    # Never a phrase across "we propose", "novel", "framework" or "to".
    assert not any(k.startswith(("paper", "propose", "novel")) for k in keys)
    assert not any("framework" in k.split() for k in keys)
    assert "distillation framework to" not in keys


def test_phrases_keep_connector_inside_only() -> None:
    keys = set(phrase_keys("Sparse mixture of experts models scale well."))
    assert "sparse mixture of expert model" in keys or "mixture of expert model" in keys
    assert "mixture of expert" in keys
    assert not any(k.endswith(" of") or k.startswith("of ") for k in keys)


def test_math_and_urls_break_phrases() -> None:
    keys = set(phrase_keys("resolution $R\\sim7\\,500$ spectra at https://example.org/x survey"))
    assert "resolution" in keys
    assert not any("sim" in k or "example" in k for k in keys)


def test_hyphen_compound_prefix_of_a_name() -> None:
    keys = set(phrase_keys("ERNIE-Tiny and ERNIE-Doc"))
    assert "ernie" in keys
    assert merge_key("ernie-tiny") in {merge_key(k) for k in keys}


@pytest.mark.parametrize(
    ("text", "acronym", "long_form"),
    [
        ("Radial velocity (RV) is a quantity.", "rv", "radial velocity"),
        ("Sparse Mixture-of-Experts (MoE) layers", "moe", "mixture-of-expert"),
        ("pre-trained language models (PLMs) are big", "plm", "pre-trained language model"),
        ("high signal-to-noise ratio (SNR) spectra", "snr", "signal-to-noise ratio"),
        ("Automated theorem proving (ATP) has become", "atp", "automated theorem proving"),
    ],
)
def test_acronym_definitions(text: str, acronym: str, long_form: str) -> None:
    found = {(a, merge_key(k)) for a, k in acronym_definitions(text)}
    assert (acronym, merge_key(long_form)) in found


def test_no_acronym_when_initials_do_not_match() -> None:
    assert list(acronym_definitions("the LAMOST survey (DR7) contains")) == []


def _paper(pid: str, abstract: str, title: str = "", category: str | None = None) -> Paper:
    return Paper(
        id=pid,
        arxiv_id=None,
        title=title or pid,
        title_source="seed" if title else "derived",
        authors=(),
        authors_truncated=False,
        date=None,
        date_precision=None,
        year=None,
        category=category,
        abstract=abstract,
    )


SMALL = [
    _paper(
        "a", "Knowledge distillation (KD) compresses BERT. KD uses a teacher.", "Distilling BERT"
    ),
    _paper("b", "We study knowledge distillation for BERT. Knowledge distillation helps."),
    _paper("c", "Knowledge-distillation of large models; distillation again with BERT."),
    _paper("d", "Radial velocities of stars from LAMOST spectra. Radial velocity zero points."),
    _paper("e", "We measure the radial velocity of LAMOST stars. Radial velocities vary."),
    _paper("f", "Mixture-of-Experts (MoE) layers route tokens. MoE models scale."),
    _paper("g", "A sparse mixture of experts with expert routing. Mixture of experts again."),
    _paper("h", "Photonic integrated circuits in silicon nitride photonics."),
    _paper("i", "Silicon nitride photonics for integrated lasers and photonics chips."),
    _paper("j", "Dust around the Moon; lunar dust dynamics of the Moon."),
]


def test_small_corpus_topics_are_named_merged_and_bounded() -> None:
    result = assign_topics(SMALL, TopicConfig())
    names = {t.name: set(t.paper_ids) for t in result.topics}
    assert names.get("knowledge distillation") == {"a", "b", "c"}
    assert {"d", "e"} <= next(v for k, v in names.items() if key_of_name(k) == "radialvelocity")
    moe = next(v for k, v in names.items() if key_of_name(k) == "mixtureofexpert")
    assert moe == {"f", "g"}
    for t in result.topics:
        assert len(t.paper_ids) >= 2
        assert len(t.paper_ids) <= 0.4 * len(SMALL)
        assert t.definition.endswith(".") and t.name in t.definition
    for pid, ids in result.paper_topics.items():
        assert len(ids) <= 5, pid


def test_config_block_rename_merge_pin() -> None:
    config = TopicConfig(
        rename={"Knowledge Distillation": "KD"},
        merge={"radial velocities": "mixture of experts"},
        block=("silicon nitride",),
        pin={"j": ("Lunar dust",)},
    )
    result = assign_topics(SMALL, config)
    by_name = {t.name: t for t in result.topics}
    assert "KD" in by_name and by_name["KD"].id == "kd"
    assert "knowledge distillation" not in by_name
    assert not any(key_of_name(n) == "radialvelocity" for n in by_name)
    assert {"d", "e", "f", "g"} <= set(by_name["mixture of experts"].paper_ids)
    assert not any(key_of_name(n) == "siliconnitride" for n in by_name)
    assert "lunar-dust" in result.paper_topics["j"]


def test_category_topic_named_and_capped() -> None:
    papers = [
        *SMALL,
        _paper("k", "Lunar dust clouds.", category="astro-ph.EP"),
        _paper("l", "Moon dust.", category="astro-ph.EP"),
    ]
    result = assign_topics(papers, TopicConfig())
    cat = [t for t in result.topics if t.kind == "category"]
    assert [t.name for t in cat] == ["Earth and Planetary Astrophysics (astro-ph.EP)"]
    assert cat[0].paper_ids == ("k", "l")
    assert cat[0].id == "earth-and-planetary-astrophysics-astro-ph-ep"


def test_topics_are_deterministic() -> None:
    assert assign_topics(SMALL) == assign_topics(list(SMALL))


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("C. -Q. Yang", "C.-Q. Yang"),
        ("C.-Q.  Yang", "C.-Q. Yang"),
        ("  Jian-Ping   Xiong ", "Jian-Ping Xiong"),
        ("Terence Ble\u0301sin", "Terence Bl\u00e9sin"),
        ("C.Q. Yang", "C. Q. Yang"),
    ],
)
def test_normalise_name(raw: str, display: str) -> None:
    assert normalise_name(raw) == display


def test_name_key_folds_case_accents_and_punctuation() -> None:
    assert name_key("C. -Q. Yang") == name_key("C.-Q. Yang") == name_key("c.-q. yang")
    assert name_key("Terence Blésin") == name_key("Terence Blesin") == name_key("TERENCE BLESIN")
    assert name_key("C. Yang") != name_key("Chao Yang")


def test_canonical_names_with_aliases() -> None:
    names = ["Terence Blésin", "Terence Blesin", "Terence Blésin", "T. Blesin", "Hao Tian"]
    out = canonical_names(names, {"T. Blesin": "Terence Blésin"})
    assert {out[n] for n in names[:4]} == {"Terence Blésin"}
    assert out["Hao Tian"] == "Hao Tian"
