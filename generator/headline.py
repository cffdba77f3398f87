"""A headline for a paper whose seed gives no title, derived from its abstract.

When the abstract says what it proposes, presents or introduces, the headline is that
contribution, named first when it has a name ("ERNIE-Tiny: a four-stage progressive
distillation framework to compress PLM"); otherwise it is the abstract's first sentence. Either
is shortened at a word boundary to about `MAX_CHARS`, ending with "…" when shortened.
"""

from __future__ import annotations

import re

from generator.latex import plain_text

__all__ = ["MAX_CHARS", "derive_headline"]

MAX_CHARS = 110

_ABBREVIATIONS = r"(?<!\be\.g)(?<!\bi\.e)(?<!\bet al)(?<!\bvs)(?<!\bcf)(?<!\bFig)(?<!\bEq)"
_SENTENCE_END = re.compile(_ABBREVIATIONS + r"(?<=[.!?])\s+(?=[A-Z0-9(\"“])")
_VERBS = (
    r"propose|present|introduce|develop|design|build|construct|release|create|devise|"
    r"contribute|describe|formulate|offer|put forward"
)
_CONTRIBUTION = re.compile(
    r"\b(?:[Ww]e|[Tt]his (?:paper|work|study|article|letter))"
    r"(?:\s*,\s*[a-z]+\s*,)?(?:\s+(?:also|further|first|then|therefore|thus|hence|here))?"
    rf"\s+(?:{_VERBS})(?:s|d|ed)?\s+(?P<object>.+)"
)
_CLAUSE_END = re.compile(
    r"\s*(?:,\s+(?:which|where|whereby|that|and|in which|thereby|so that|allowing|enabling)\b"
    r"|;|:\s|\.\s|\.$)"
)
_NAME_TOKEN = r"(?:[A-Z][A-Za-z0-9]*[A-Z0-9][\w-]*|[A-Z][a-z]+-[A-Z][\w-]*|[A-Z]{2,}[\w-]*)"
# "TRIGO, an ATP benchmark ..." / "Contrastive Distillation ... (CoDIR), a principled ..."
_NAME_FIRST = re.compile(
    rf"^(?P<name>{_NAME_TOKEN}(?:\s+\([^()]{{1,60}}\))?|(?:[A-Z][\w-]*\s+)(?:(?:[A-Z][\w-]*|of|on|for|and|with|in|to|via|the)\s+)*"
    r"[A-Z][\w-]*(?:\s+\([^()]{1,60}\))?|[A-Z][\w-]*\s+\([^()]{1,60}\))"
    r"\s*(?:,|:|\s[-–—]\s)\s*(?P<desc>(?:a|an|the|our)\s.+)$"
)
# "a novel approach, RankCSE, for unsupervised sentence representation learning"
_NAME_APPOSITION = re.compile(
    rf"^(?P<desc>(?:a|an|the|our)\s[^,]{{3,60}}),\s+(?P<name>{_NAME_TOKEN}),\s*(?P<rest>.*)$"
)
# "a novel compression paradigm called Retrieval-based Knowledge Transfer (RetriKT), which ..."
_NAME_CALLED = re.compile(
    r"^(?P<desc>(?:a|an|the|our)\s.+?),?\s+(?:called|named|dubbed|termed|coined)\s+"
    r"(?P<name>[^,;]+?)(?=,|;|\.\s|\.$|$)"
)
# "a four-stage progressive distillation framework ERNIE-Tiny to compress PLM"
_NAME_INSIDE = re.compile(
    r"^(?P<desc>(?:a|an|the|our)\s(?:[a-z0-9][\w-]*,?\s){0,7}[a-z0-9][\w-]*(?<!\bof)(?<!\bfor)"
    r"(?<!\bin)(?<!\bon)(?<!\bto)(?<!\bwith)(?<!\bby)(?<!\bfrom)(?<!\band)(?<!\bthe)\s)"
    rf"(?P<name>{_NAME_TOKEN}(?:\s+\([^()]{{1,30}}\))?)(?P<rest>(?:\s.*)?)$"
)


def derive_headline(abstract: str) -> str:
    """A plain-text headline for `abstract` (empty when the abstract is empty)."""
    text = plain_text(abstract).replace("\n\n", " ").strip()
    if not text:
        return ""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    for sentence in sentences:
        m = _CONTRIBUTION.search(sentence)
        if m:
            headline = _contribution(m.group("object"))
            if headline:
                return _shorten(headline)
    first = sentences[0]
    for sentence in sentences[1:]:
        if len(first.split()) >= MIN_SENTENCE_WORDS:
            break
        first = sentence
    return _shorten(first)


_NOT_A_THING = frozenset({"to", "that", "how", "whether", "what", "why", "here", "in"})
MIN_SENTENCE_WORDS = 4  # "Aims." opening a structured abstract is not a headline


def _clause(text: str) -> str:
    m = _CLAUSE_END.search(text)
    return (text[: m.start()] if m else text).strip().rstrip(".,;:")


def _contribution(obj: str) -> str:
    obj = obj.strip()
    m = _NAME_FIRST.match(obj)
    if m:
        return f"{m.group('name').strip()}: {_clause(m.group('desc'))}"
    m = _NAME_CALLED.match(obj)
    if m:
        return f"{m.group('name').strip()}: {_clause(m.group('desc'))}"
    m = _NAME_APPOSITION.match(obj)
    if m:
        return f"{m.group('name')}: {_clause(m.group('desc') + ' ' + m.group('rest'))}"
    m = _NAME_INSIDE.match(_clause(obj))
    if m:
        desc = (m.group("desc") + m.group("rest").strip()).strip()
        return f"{m.group('name')}: {desc}"
    phrase = _clause(obj)
    if len(phrase.split()) < 3 or phrase.split()[0] in _NOT_A_THING:
        return ""
    return phrase[0].upper() + phrase[1:]


def _shorten(text: str) -> str:
    text = text.strip().rstrip(".")
    if len(text) <= MAX_CHARS:
        return text
    cut = text[: MAX_CHARS - 1]
    space = cut.rfind(" ")
    if space > MAX_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—(") + "…"
