"""The session-13 fast paths of the phrase counting give exactly what the plain computation
gives: a phrase key's uses (similarity term, lone paper's subject) from one compiled
function, and acronym definitions read from the last few pieces of text before the
parenthesis rather than from the whole 120-character window."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import generator.topics as topics_module
from generator.phrases import (
    _ACRONYM,
    _ACRONYM_SITE,
    _TOKEN,
    CONNECTORS,
    GENERIC_NOUNS,
    GENERIC_UNIGRAMS,
    _match_initials,
    acronym_definitions,
    clean_text,
    key_parts,
    key_uses,
    lone_subject_ok,
    nounish_end,
    phrase_keys,
    singular,
)
from generator.readers import read_seed_paths

ROOT = Path(__file__).resolve().parent.parent


def _seed_texts() -> list[str]:
    files, _ = read_seed_paths([ROOT / "seeds"], today=date(2026, 11, 22))
    return [x for f in files for r in f.records for x in (r.title or "", r.abstract or "")]


TEXTS = _seed_texts()


def _plain_phrase_ok(key: str) -> bool:
    """What a lone paper's subject was checked by before (topics' ``_phrase_ok``)."""
    parts = key_parts(key)
    content = [p for p in parts if p not in CONNECTORS]

    def generic(p: str) -> bool:
        return p in GENERIC_UNIGRAMS or p in GENERIC_NOUNS

    return not (
        len(key.split(" ")) < 2
        or not nounish_end(parts[-1])
        or all(generic(p) for p in content)
        or ("of" in parts and generic(parts[0]))
    )


def _plain_key_uses(key: str) -> int:
    spaces = key.count(" ")
    if spaces > 2:
        return 0
    found = 0
    if spaces < 2 and len(key) > 2 and key not in GENERIC_UNIGRAMS | GENERIC_NOUNS:
        found |= 1
    if spaces and _plain_phrase_ok(key):
        found |= 2
    return found


def _plain_acronyms(text: str) -> Iterator[tuple[str, str]]:
    """Acronym definitions the plain way: the whole window tokenised, every reading tried."""
    for site in _ACRONYM_SITE.finditer(text):
        acr = site.group(1)
        if not _ACRONYM.match(acr):
            continue
        letters = acr.replace("-", "").lower()
        if letters.endswith("s") and acr[-1] == "s" and len(letters) > 2:
            letters = letters[:-1]
        if not letters.isalpha():
            continue
        before = _TOKEN.findall(clean_text(text[max(0, site.start() - 120) : site.start()]))
        words: list[str] = []
        j = len(before) - 1
        while j >= 0 and len(words) < len(letters) + 2 and before[j][0].isalpha():
            words.insert(0, before[j])
            j -= 1
            expansion = _match_initials(words, letters)
            if expansion is not None:
                yield singular(letters), expansion
                break


ODD_KEYS = ["", " ", "of", "of of", "model of", "use of model", "a b c d", "x-ray", "of x-ray"]


def test_key_uses_equal_the_plain_checks() -> None:
    keys = {k for text in TEXTS for k in phrase_keys(text)} | set(ODD_KEYS)
    assert len(keys) > 1000
    seen = set()
    for key in keys:
        uses = key_uses(key)
        assert uses == _plain_key_uses(key), key
        assert lone_subject_ok(key) == _plain_phrase_ok(key), key
        seen.add(uses)
    assert seen == {0, 1, 2, 3}  # every kind of key is among them


def test_topics_note_the_compiled_uses() -> None:
    topics_module._USES.clear()
    for key in ("language model", "large language model", "model", "deep neural network model"):
        assert topics_module._key_uses(key) == _plain_key_uses(key)
        assert topics_module._USES[key] == _plain_key_uses(key)
        assert topics_module._phrase_ok(key) == _plain_phrase_ok(key)


ACRONYM_TEXTS = [
    "We train large language models (LLMs) and pre-trained language models (PLMs).",
    "signal-to-noise ratio (SNR); Mixture\u2010of\u2010Experts (MoE); Mixture-of-Experts (MoE)",
    "the $x$ value of \\emph{graph neural networks} (GNNs) and {deep} reinforcement~learning (DRL)",
    "see https://x.org/a convolutional neural network (CNN) www.b.com recurrent network (RN)",
    "(ABC) at the start, a\u00a0b\u2028c (AB), of the art (SOTA), state of the art (SOTA)",
    "x" * 130 + " very long word before (VLWB) and internet of things (IoT)",
    "word " * 40 + "natural language processing (NLP)",
    "a-b-c-d-e-f (ABCDEF) and a-b (AB) and A\u0130 b (AB) and \u0130 b (IB)",
]


def test_acronyms_from_the_last_pieces_equal_the_whole_window() -> None:
    texts = TEXTS + ACRONYM_TEXTS
    found = 0
    for text in texts:
        got = list(acronym_definitions(text))
        assert got == list(_plain_acronyms(text)), text
        found += len(got)
    assert found > 10  # the texts do define acronyms


_WORDS = [
    "large", "language", "model", "of", "the", "a", "neural", "network", "x-ray", "pre-trained",
    "Mixture-of-Experts", "signal-to-noise", "ratio", "$x$", "\\emph{a}", "{b}", "c~d", "1.5",
    "www.x.org", "https://y.org", ",", ";", "\u0130", "\u00e9t\u00e9", "MoE", "LLMs", "and",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=40), st.integers(0, 2**32 - 1))
def test_acronyms_on_any_text(words: list[str], seed: int) -> None:
    rng = random.Random(seed)
    pieces: list[str] = []
    for w in words:
        pieces.append(w)
        if rng.random() < 0.3:  # an acronym made of the initials of the last few words
            initials = "".join(p[0] for p in pieces[-rng.randint(1, 4) :] if p[:1].isalpha())
            pieces.append(f"({initials.upper() or 'AB'}{rng.choice(['', 's'])})")
    text = rng.choice([" ", "  ", "\n"]).join(pieces)
    assert list(acronym_definitions(text)) == list(_plain_acronyms(text))
