"""Run-on arXiv blocks: no blank lines, no ``Created:`` line.

    <abstract>
    [<comments>]
    arXiv:ID[ - reference]<next record's abstract>
    [<comments>]
    arXiv:ID ...

The line ``arXiv:ID[ - reference]`` runs straight into the next abstract. A new-style id has
4 digits after the dot before 2015 (YYMM < 1501) and 5 from then on, so where the id ends is
known. Where a reference ends is found by scoring each *glue point* (a non-space character
followed directly by a capital, a digit, a quote, ``$``, or a lower-case letter after a digit
or bracket) by how much the left part looks like the end of a reference and the right part
like the start of an abstract. Glue points are scanned in order (within the first 600
characters) until one scores 0.5 or better; the earliest within half a point of the best wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from itertools import compress, islice, repeat
from typing import Final

from generator.diagnostics import Diagnostic, error
from generator.model import Layout, Record
from generator.readers.common import (
    LOWER_CLASS,
    OLD_ID,
    UPPER,
    clip,
    new_id_digits,
    new_record,
    parse_reference,
)

LAYOUT: Layout = "arxiv-run-on"
INF: Final = float("inf")
_THRESHOLD: Final = 2.5  # a boundary scoring worse than this is no boundary
_GOOD: Final = 0.5  # the scan stops at the first boundary scoring this well
_SCAN: Final = 600  # a reference is never longer than this

HEAD_RE: Final = re.compile(rf"arXiv:(?:(?P<yymm>\d{{4}})\.(?P<num>\d{{4,5}})|(?P<old>{OLD_ID}))")
_VERSION_RE: Final = re.compile(r"v\d+")
_REF_SEP_RE: Final = re.compile(r"\s+-(?:\s+|$)")

_U, _L = f"[{UPPER}]", LOWER_CLASS
_BAD_REF_END: Final = frozenset("/-&,:;([{\\+")
_BAD = r"/\-&,:;(\[{\\+"  # _BAD_REF_END as a character class body
_QUOTES = r"\"“‘`'$\\(\[{"
# The glue points, found one character at a time: the pattern consumes a character that a
# glue point can be (a capital, a digit 1-9, a quote or bracket) or that comes before one of
# the fourth kind (a lower-case letter after a digit or bracket), so the search skips the
# rest (lower-case words, spaces) quickly. Group "at": that character is a glue point; "dd":
# it is one, a digit after digits that ends no year ("101" in "D 101,"), which scores at
# least 1.5; "then": the character after it is one too; "next": only the one after it is.
# A glue point after one of _BAD_REF_END never ends a reference: the pattern skips it.
_YEAR_BEFORE = r"(?<!\d)(?:19|20)\d\d."  # as a look-behind after the consumed character
_NEXT_LOWER = rf"(?<=[\d).\]])(?={_L})"  # 2020we, (2020).we
_GLUE: Final = (
    rf"[{UPPER}\d).\]{_QUOTES}]"
    "(?:(?:(?:"
    rf"(?<=[^\s{UPPER}{_BAD}]{_U})"  # lower/digit/punctuation then a capital
    rf"|(?<={_U}{_U})(?={_L})"  # DFAShaobo: a capitalised word after capitals
    rf"|(?<=\d[1-9])(?<={_YEAR_BEFORE})(?=\d{{0,3}}(?!\d))"  # a year, then a number
    rf"|(?<=[^\s{_BAD}][{_QUOTES}])"  # quotes, math, LaTeX, brackets
    rf")(?P<at>)|(?<=\d[1-9])(?<!{_YEAR_BEFORE})(?=\d{{0,3}}(?!\d))(?P<dd>)"  # digits, number
    rf")(?:{_NEXT_LOWER}(?P<then>))?"
    rf"|{_NEXT_LOWER}(?P<next>))"
)
_COMPILED: dict[str, re.Pattern[str]] = {}


def _compiled(source: str) -> re.Pattern[str]:
    """``re.compile(source)`` on first use. The patterns that embed the character classes
    (``_GLUE``, ``_FIRST``, ``_GLUED_AHEAD``) take ~25 ms to compile, which a build that reads
    no run-on file (a listing edited) would pay at every start for nothing."""
    pattern = _COMPILED.get(source)
    if pattern is None:
        pattern = _COMPILED[source] = re.compile(source)
    return pattern


def glue_points(text: str, end: int = _SCAN) -> Iterator[tuple[int, bool]]:
    """The glue points in ``text[1:end]`` (the text read as if it ended at ``end``), each
    with whether it is a digit after digits that ends no year."""
    for m in _compiled(_GLUE).finditer(text, 0, end):
        i = m.start()
        kind = m.lastgroup
        if kind == "next":
            yield i + 1, False
            continue
        yield i, m.group("dd") is not None  # never at 0: the character before is looked at
        if kind == "then":
            yield i + 1, False


_WORD_RE: Final = re.compile(r"\S+")
_LEAD_RE: Final = re.compile(r"[\"“‘`'(\[{]+")
# the first word of an abstract, by kind (one pattern; the first alternative that fits wins)
_FIRST_KINDS: tuple[tuple[str, str, float], ...] = (
    ("cap", rf"{_U}{_L}+(?:[-'’/][\w-]+)*", 0.0),  # Transformer, Cross-domain
    ("ai", r"[AI]", 0.0),
    ("low", rf"{_L}+(?:[-'’/][\w-]+)*", 0.5),  # a lower-case word
    ("num", r"[1-9]\d{0,3}(?:\.\d+)?(?:[A-Za-z]{1,2}|%|-[\w-]+)?", 0.5),  # 3D, 12, 5G, 2-bit
    ("math", r"\$.*", 0.5),  # $k$-means
    ("acr", rf"[\w+-]*{_U}[\w+-]*{_U}[\w+-]*", 1.0),  # BERT, ViLBERT, V+L
    ("tex", r"\\[A-Za-z].*", 1.0),  # \textit{...}
)
_FIRST: Final = "|".join(f"(?P<{name}>{pattern})" for name, pattern, _ in _FIRST_KINDS)
_FIRST_PENALTY: Final = {name: penalty for name, _, penalty in _FIRST_KINDS}
_GLUED_AHEAD: Final = rf"\d{{2,}}{_U}|[\d)][\"“‘`$(\[]|\d{_L}{{2}}|{_L}{_U}{_L}{{2}}"
_YEAR_END_RE: Final = re.compile(r"(?<!\d)(?:19|20)\d\d$")  # searched in text[i - 5 : i]
_DIGIT_PAREN_RE: Final = re.compile(r"[\d)]")


def _glued(words: str) -> bool:
    """``_GLUED_AHEAD``'s search in ``words``; text with no capital, digit or ")" (the common case)
    cannot hold one, and ``str.islower`` tells there is no capital."""
    if words.islower() and _DIGIT_PAREN_RE.search(words) is None:
        return False
    return _compiled(_GLUED_AHEAD).search(words) is not None


def detect(lines: list[str], floor: int | None = None) -> int:
    """arXiv lines not followed by a ``Created:`` line (all counted, whatever ``floor``)."""
    score = 0
    n = len(lines)
    for k in compress(range(n), map(str.startswith, lines, repeat("arXiv:"))):
        followed = k + 1 < n and lines[k + 1].startswith("Created:")
        if not followed and HEAD_RE.match(lines[k]):
            score += 1
    return score


Ahead = dict[int, tuple[int, int, bool]]  # word end -> (end of the words after, lower, glued)


def abstract_penalty(text: str, i: int, cap: float = INF, ahead: Ahead | None = None) -> float:
    """How unlike an abstract's start ``text[i:]`` is (INF: cannot start one, or more than
    ``cap``: the costlier tests are left out once the penalty exceeds it). ``ahead`` keeps
    what was seen after a word for the next point in the same word."""
    end = text.find(" ", i, i + 80)
    first = text[i : end if end >= 0 else i + 80]
    lead = _LEAD_RE.match(first)
    if lead:
        first = first[lead.end() :]
    if not first:
        return INF
    list_like = first[0].isdigit() and first[-1] in ",:;"  # "1, 234": numbers, not a sentence
    first = first.rstrip("\"”’'),.;:!?") or first
    kind = _compiled(_FIRST).fullmatch(first)
    if kind is None:
        return INF
    penalty = _FIRST_PENALTY[kind.lastgroup or ""]
    if list_like:
        penalty += 1.5
    if first[0].isdigit() and not first.isdigit():
        digits = len(first) - len(first.lstrip("0123456789"))
        penalty += 1.0 * (digits - 1)  # "3D", "5G": one digit glued to letters
    if penalty > cap:
        return INF
    lower, glued = _look_ahead(text, i, ahead)
    if lower < 2:
        penalty += 2.0 if lower == 1 else 3.0
        if penalty > cap:
            return INF
    if glued:
        penalty += 1.0  # the true boundary lies further on
    return penalty


def _look_ahead(text: str, i: int, ahead: Ahead | None) -> tuple[int, bool]:
    """Of the five words after the one at ``i`` within ``text[i : i + 160]``: how many start
    in lower case, and whether the first three hold a glued boundary.

    The words after a word are the same for every point inside it, so with ``ahead`` they are
    looked at once per word, whenever they end within the 160 characters.
    """
    if ahead is not None:
        end = i + len(text[i : i + 160].split(None, 1)[0])
        seen = ahead.get(end)
        if seen is None:
            spans = [m.span() for m in islice(_WORD_RE.finditer(text, end), 5)]
            words = [text[a:b] for a, b in spans]
            seen = ahead[end] = (
                spans[-1][1] if spans else end,
                sum(1 for w in words if w[0].islower()),
                _glued(" ".join(words[:3])),
            )
        if seen[0] <= i + 160:
            return seen[1], seen[2]
    window = text[i : i + 160].split(None, 6)
    lower = sum(1 for w in window[1:6] if w[0].islower())
    return lower, _glued(" ".join(window[1:4]))


def boundary_penalty(text: str, i: int, cap: float = INF, ahead: Ahead | None = None) -> float:
    """Penalty of ending the reference at ``i`` and starting the abstract there (INF when
    above ``cap``)."""
    prev, cur = text[i - 1], text[i]  # every glue point follows a non-space character
    if prev in _BAD_REF_END:
        return INF
    if cur in "'’" and prev.isalpha():
        return INF  # an apostrophe inside a word
    extra = 0.0
    if prev.isdigit() and cur.isdigit():
        extra = 0.0 if _YEAR_END_RE.search(text, max(0, i - 5), i) else 1.0
    elif prev.islower() and cur.isupper() and i + 1 < len(text) and not text[i + 1].islower():
        extra = 3.0  # NeurIPS, ApJ: capitals inside a venue's name
    penalty = abstract_penalty(text, i, cap - extra, ahead)
    return INF if penalty == INF else penalty + extra


def split_reference(text: str) -> tuple[str, str | None]:
    """Split "ICML 2020Adaptive gradient..." -> ("ICML 2020", "Adaptive gradient...").

    With no plausible boundary the whole text is the reference and no abstract follows.
    """
    # The scan stops at the first point scoring _GOOD or better; the points before it all
    # score worse than that, so only those within half a point of it (<= _GOOD + 0.5) can be
    # chosen instead, and a cap at that score leaves their penalties exact (a digit after
    # digits that ends no year scores at least 1.5: it is not looked at). Only when no point
    # stops the scan are the points scored up to _THRESHOLD + 0.5.
    points: list[int] = []
    near: list[tuple[int, float]] = []
    for i, costly in glue_points(text):
        points.append(i)
        if costly:
            continue
        p = boundary_penalty(text, i, _GOOD + 0.5)
        if p <= _GOOD + 0.5:
            near.append((i, p))
            if p <= _GOOD:
                best = min(q for _, q in near)
                return next(_cut(text, j) for j, q in near if q <= best + 0.5)
    return _split_scored(text, points)


def _split_scored(text: str, points: list[int]) -> tuple[str, str | None]:
    """``split_reference`` when no point scores _GOOD or better: every point is scored (a
    point scoring worse than _THRESHOLD + 0.5 is never chosen and never the best one that a
    boundary is chosen against, so its costlier tests can be skipped)."""
    scored: list[tuple[int, float]] = []
    best = INF
    ahead: Ahead = {}
    for i in points:
        p = boundary_penalty(text, i, _THRESHOLD + 0.5, ahead)
        if p < INF:
            scored.append((i, p))
            best = min(best, p)
    if best > _THRESHOLD:
        return text.strip(), None
    return next(_cut(text, i) for i, p in scored if p <= best + 0.5)


def _cut(text: str, i: int) -> tuple[str, str]:
    return text[:i].strip(), text[i:].strip()


def split_head(line: str) -> tuple[str, str | None, str] | str:
    """Split "arXiv:ID[ - ref]abstract" -> (id, reference, abstract), or an error message."""
    m = HEAD_RE.match(line)
    if m is None:
        return f"expected 'arXiv:ID', found '{clip(line, 40)}'"
    if m.group("old"):
        base, pos = m.group("old"), m.end()
    else:
        yymm = m.group("yymm")
        digits = new_id_digits(yymm)
        start = m.start("num")
        num = line[start : start + digits]
        if len(num) < digits or not num.isdigit():
            return (
                f"expected an arXiv id with {digits} digits after '{yymm}.', "
                f"found '{clip(line[: start + digits], 40)}'"
            )
        base, pos = f"{yymm}.{num}", start + digits
    version = ""
    v = _VERSION_RE.match(line, pos)
    if v:
        version, pos = _best_version(line, v.start(), v.end())
    rest = line[pos:]
    sep = _REF_SEP_RE.match(rest)
    if sep:
        ref, abstract = split_reference(rest[sep.end() :])
        return base + version, ref or None, abstract or ""
    return base + version, None, rest.strip()


def _best_version(line: str, start: int, end: int) -> tuple[str, int]:
    """The version suffix, leaving a following abstract that starts with a digit intact."""
    best, best_end = INF, end
    for cut in range(end, start + 1, -1):
        if cut == len(line) or line[cut] == " " or line[cut : cut + 2] == " -":
            return line[start:cut], cut
        p = abstract_penalty(line, cut) + 0.5 * (end - cut)
        if p < best:
            best, best_end = p, cut
    return line[start:best_end], best_end


def read(name: str, lines: list[str], today: date) -> tuple[list[Record], list[Diagnostic]]:
    records: list[Record] = []
    diags: list[Diagnostic] = []
    abstract: str | None = None
    start = 0
    comments: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        if line.startswith("arXiv:") and HEAD_RE.match(line):
            head = split_head(line)
            if isinstance(head, str):
                if abstract is None:
                    diags.append(error(name, number, f"record not read: {head}"))
                else:
                    diags.append(
                        error(
                            name,
                            start,
                            f'record not read ("{clip(abstract)}"): {head} at line {number}; '
                            "the text after it on that line is not read either",
                        )
                    )
                abstract, comments = None, []
                continue
            arxiv_id, ref, next_abstract = head
            if abstract is None:
                diags.append(
                    error(
                        name,
                        number,
                        f"record arXiv:{arxiv_id} not read: expected an "
                        f"abstract before 'arXiv:{arxiv_id}', found none",
                    )
                )
            else:
                dois, journal_ref = parse_reference(ref) if ref else ((), None)
                records.append(
                    new_record(
                        name, start, len(records), LAYOUT,  # file, line, index, layout
                        arxiv_id, None, None, False,  # arxiv_id, date, date_text, inferred
                        None, (), False, None, None, None, False,  # title ... has_code
                        "\n".join(comments) or None, journal_ref,  # comments, journal_ref
                        dois[0] if dois else None, dois, abstract,  # doi, dois, abstract
                    )
                )  # fmt: skip
            abstract, comments, start = (next_abstract or None), [], number
            continue
        if abstract is None:
            abstract, start = line, number
        else:
            comments.append(line)
    if abstract is not None:
        diags.append(
            error(
                name,
                start,
                f'record not read ("{clip(abstract)}"): expected an '
                "'arXiv:ID' line after the abstract, found end of file",
            )
        )
    return records, diags
