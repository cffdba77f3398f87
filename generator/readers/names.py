"""Where a listing's title ends and its author list begins.

A listing writes the title glued to the authors: ``...on Ascend NPUsYichun Yin, Wenyong Huang``.
The split lies at a *glue point*: a capital letter (or a lower-case name particle such as
``van``) directly after a non-space character. Every glue point before the true split leaves a
glued word such as ``NPUsYichun``, ``DFAShaobo`` or ``4Chengwu`` in the first "name", which no
name grammar accepts; glue points after it fall inside names (``LeCun``, ``Jean-Pierre``) and
would drop part of the first author. So each glue point is scored by how name-like the rest of
the line is, and the earliest point scoring within one penalty point of the best wins.
"""

from __future__ import annotations

import re

from generator.readers.common import LOWER, UPPER

INF = float("inf")

_PARTICLE_WORDS = (
    "al bin binti da dal das de degli dei del della den der des di do dos du e el la le "
    "op san st te ten ter van vande vanden vander von y zu zum zur"
)
PARTICLES = frozenset(_PARTICLE_WORDS.split())
SUFFIXES = frozenset({"Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"})
_CAMEL_PREFIXES = r"(?:Mc|Mac|Le|La|De|Di|Da|Du|Van|Von|Fitz|Del|Della|Des|Ten|Ter|Lo|Dos)"

_U, _L = f"[{UPPER}]", f"[{LOWER}]"
_SEG_AFTER = rf"(?:{_U}?{_L}+|{_CAMEL_PREFIXES}{_U}{_L}+|{_U}{{2,}})"
# (pattern, penalty): checked in order, first full match wins
_TOKEN_KINDS: tuple[tuple[re.Pattern[str], float], ...] = (
    # Yichun, Jean-Pierre, O'Brien, d'Alembert, Wen-tau
    (re.compile(rf"(?:{_U}{_L}+|{_U}['’]{_U}{_L}+|[dl]['’]{_U}{_L}+)(?:[-'’]{_SEG_AFTER})*"), 0.0),
    (re.compile(rf"(?:{_U}\.)+(?:-{_U}\.)*"), 0.0),  # J., J.R., J.-P.
    (re.compile(rf"{_CAMEL_PREFIXES}{_U}{_L}+(?:[-'’]{_SEG_AFTER})*"), 0.5),  # LeCun, McDonald
    (re.compile(rf"{_U}{_L}{{1,2}}\."), 0.5),  # Th., Ch., Yu.
    (re.compile(_U), 0.5),  # a bare initial
    (re.compile(rf"{_U}{{2}}"), 1.0),  # JJ, LI
    (re.compile(rf"{_U}{{3,}}(?:-{_U}+)*"), 2.0),  # all capitals
)
_PLAIN_RE = _TOKEN_KINDS[0][0]
_AND_RE = re.compile(r"\s+(?:and|&)\s+")
_ET_AL_RE = re.compile(r"\s*,?\s+et\.? al\.?$")

# glue points: a capital after a non-space, or a name particle glued to the title's last word
_GLUED_PARTICLE = r"(?:van|von|de|da|dos|das|du|del|della|di|ter|ten|bin|al|el)"
_GLUE_RE = re.compile(rf"(?<=\S)(?={_U})|(?<={_L})(?={_GLUED_PARTICLE} {_U})")


def token_penalty(token: str, first: bool, last: bool) -> float:
    """How unusual a word is as part of a person's name (INF: not a name word at all)."""
    if _PLAIN_RE.fullmatch(token):
        return 0.0
    if token in PARTICLES:
        return INF if last else (0.5 if first else 0.0)
    if token in SUFFIXES:
        return INF if first else 0.0
    for pattern, penalty in _TOKEN_KINDS[1:]:
        if pattern.fullmatch(token):
            return penalty
    return INF


def name_penalty(name: str) -> float:
    words = name.split()
    n = len(words)
    if n == 0 or n > 6:
        return INF
    total = 1.0 if n == 1 else (1.0 if n >= 5 else 0.0)
    for k, word in enumerate(words):
        total += token_penalty(word, k == 0, k == n - 1)
        if total == INF:
            return INF
    return total


def split_names(authors: str) -> list[str]:
    """Names of an author list: "A B, C D and E F" -> ["A B", "C D", "E F"]."""
    names: list[str] = []
    for part in authors.split(","):
        names.extend(_AND_RE.split(part.strip()))
    return names


def authors_penalty(authors: str) -> float:
    total = 0.0
    for name in split_names(authors):
        total += name_penalty(name)
        if total == INF:
            return INF
    return total


def split_title_authors(text: str) -> tuple[str, tuple[str, ...]] | None:
    """Split "TitleFirst Author, Second Author" into the title and the author names.

    ``text`` has no " et al." and no affiliation. None when no glue point leaves a plausible
    author list.
    """
    scored: list[tuple[int, float]] = []
    best = INF
    for m in _GLUE_RE.finditer(text):
        i = m.start()
        if not text[:i].strip():
            continue
        penalty = authors_penalty(text[i:])
        if penalty < INF:
            scored.append((i, penalty))
            best = min(best, penalty)
    if not scored:
        return None
    for i, penalty in scored:
        if penalty <= best + 1.0:
            return text[:i].strip(), tuple(" ".join(n.split()) for n in split_names(text[i:]))
    return None  # unreachable: the best candidate always qualifies


def split_title_line(
    line: str,
) -> tuple[str, tuple[str, ...], bool, str | None] | None:
    """A listing's second line -> (title, authors, truncated, affiliation), or None.

    The author list may end in " et al." and be followed by " · affiliation"; a title that
    itself contains " · " is handled by trying each " · " in turn.
    """
    line = line.strip()
    cuts = [m.start() for m in re.finditer(" · ", line)]
    for cut in [*cuts, len(line)]:
        head = line[:cut].rstrip()
        affiliation = line[cut + 3 :].strip() if cut < len(line) else None
        truncated = False
        et_al = _ET_AL_RE.search(head)
        if et_al is not None:
            truncated = True
            head = head[: et_al.start()]
        split = split_title_authors(head)
        if split is not None:
            return split[0], split[1], truncated, affiliation or None
    return None
