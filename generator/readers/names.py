"""Where a listing's title ends and its author list begins.

A listing writes the title glued to the authors: ``...on Ascend NPUsYichun Yin, Wenyong Huang``.
The split lies at a *glue point*: a capital letter (or a lower-case name particle such as
``van``) directly after a non-space character (after a capital only when a lower-case letter
or a full stop follows it, so not inside ``ATLAS``). Every glue point before the true split leaves a
glued word such as ``NPUsYichun``, ``DFAShaobo`` or ``4Chengwu`` in the first "name", which no
name grammar accepts; glue points after it fall inside names (``LeCun``, ``Jean-Pierre``) and
would drop part of the first author. So each glue point where every following name parses is
scored by how unusual its first name is, and the earliest point scoring within one penalty
point of the best wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Final, final

from generator.readers.common import CAPITAL, LOWER_CLASS, UPPER

INF: Final = float("inf")

_PARTICLE_WORDS = (
    "al bin binti da dal das de degli dei del della den der des di do dos du e el la le "
    "ibn op san st te ten ter van vande vanden vander von y zu zum zur"
)
PARTICLES: Final = frozenset(_PARTICLE_WORDS.split())
SUFFIXES: Final = frozenset({"Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"})
_CAMEL_PREFIXES = r"(?:Mc|Mac|Le|La|De|Di|Da|Du|Van|Von|Fitz|Del|Della|Des|Ten|Ter|Lo|Dos)"

_U, _L = f"[{UPPER}]", LOWER_CLASS
_SEG_AFTER = rf"(?:{_U}?{_L}+|{_CAMEL_PREFIXES}{_U}{_L}+|{_U}{{2,}})"
# (name, pattern, penalty): one alternation, the first alternative that fits wins
_TOKEN_KINDS: tuple[tuple[str, str, float], ...] = (
    # Yichun, Jean-Pierre, O'Brien, d'Alembert, Wen-tau
    ("plain", rf"(?:{_U}{_L}+|{_U}['’]{_U}{_L}+|[dl]['’]{_U}{_L}+)(?:[-'’]{_SEG_AFTER})*", 0.0),
    ("initials", rf"(?:{_U}\.)+(?:-{_U}\.)*", 0.0),  # J., J.R., J.-P.
    ("prefixed", rf"{_CAMEL_PREFIXES}{_U}{_L}+(?:[-'’]{_SEG_AFTER})*", 0.5),  # LeCun, McDonald
    ("abbrev", rf"{_U}{_L}{{1,2}}\.", 0.5),  # Th., Ch., Yu.
    ("initial", _U, 0.5),  # a bare initial
    ("caps2", rf"{_U}{{2}}", 1.0),  # JJ, LI
    ("caps", rf"{_U}{{3,}}(?:-{_U}+)*", 2.0),  # all capitals
    # JiaJun: inner capitals with no known prefix. Allowed (at a cost) only after the first
    # name, since a glued title word and given name ("DistillationJiaxin") looks the same.
    ("camel", rf"{_U}{_L}+(?:{_U}{_L}+)+", 1.5),
)
_TOKEN_RE: Final = re.compile(
    "|".join(f"(?P<{name}>{pattern})" for name, pattern, _ in _TOKEN_KINDS)
)
_TOKEN_PENALTY: Final = {name: penalty for name, _, penalty in _TOKEN_KINDS}
_ET_AL_RE: Final = re.compile(r"\s*,?\s+et\.? al\.?$")
_DOT_RE: Final = re.compile(" · ")

# glue points: a capital after a non-space, or a name particle glued to the title's last word
_GLUED_PARTICLE = r"(?:van|von|de|da|dos|das|du|del|della|di|ter|ten|bin|al|el)"
_CAPITAL_RE: Final = re.compile(rf"(?<!\s){_U}")  # a capital after a non-space (\s is str.isspace)
_ASTRAL = "\U00010000-\U0010ffff"
_GLUE_RE: Final = re.compile(
    rf"(?<![\s{CAPITAL}{_ASTRAL}]){_U}"  # after a non-space that is not a capital
    rf"|(?<=[{CAPITAL}]){_U}(?=[.]|{_L})"  # after a capital: a capitalised word or initial
    rf"|(?P<astral>(?<=[{_ASTRAL}]){_U}|(?<=[{CAPITAL}]){_U}(?=[{_ASTRAL}]))"  # decided in Python
)
_PARTICLE_GLUE_RE: Final = re.compile(rf"(?<={_L}){_GLUED_PARTICLE} (?={_U})")
# the same without the letter before: a pattern that starts with a word is searched quickly
_PARTICLE_NEAR_RE: Final = re.compile(rf"{_GLUED_PARTICLE} {_U}")
# a glued particle that ends a word (``_PARTICLE_GLUE_RE`` within one word)
_PARTICLE_END_RE: Final = re.compile(rf"(?<={_L}){_GLUED_PARTICLE}\Z")
_U_RE: Final = re.compile(_U)


@lru_cache(maxsize=1 << 16)
def token_penalty(token: str, first: bool, last: bool, camel: bool = False) -> float:
    """How unusual a word is as part of a person's name (INF: not a name word at all)."""
    if token in PARTICLES:
        return INF if last else (0.5 if first else 0.0)
    if token in SUFFIXES:
        return INF if first else 0.0
    m = _TOKEN_RE.fullmatch(token)
    if m is None:
        return INF
    kind = m.lastgroup or ""
    if kind == "camel" and not camel:
        return INF
    return _TOKEN_PENALTY[kind]


@lru_cache(maxsize=1 << 16)
def name_penalty(name: str, camel: bool = False) -> float:
    words = name.split()
    n = len(words)
    if n == 0 or n > 6:
        return INF
    total = 1.0 if n == 1 else 0.0
    last = n - 1
    for k, word in enumerate(words):
        total += token_penalty(word.rstrip(","), k == 0, k == last, camel)
        if total == INF:
            return INF
    if n >= 4 and sum(1 for w in words if w not in PARTICLES and w not in SUFFIXES) >= 4:
        total += 1.0  # four or more given and family names are rare
    return total


def split_names(authors: str) -> list[str]:
    """Names of a comma-separated author list ("Martin Luther King, Jr." stays one name)."""
    names: list[str] = []
    for part in authors.split(","):
        part = part.strip()
        if part in SUFFIXES and names:
            names[-1] = f"{names[-1]}, {part}"
            continue
        names.append(part)
    return names


def authors_penalty(authors: str) -> float:
    """How unusual the first name of an author list is; INF if any name is no name at all.

    Mostly the first name counts: the names after it are the same for every split point that
    leaves them whole. A later name that parses only with unexplained inner capitals
    ("JiaJun", but also a glued "TensorFlowJohn") adds to the score.
    """
    comma = authors.find(",")
    if comma < 0:
        return name_penalty(authors)
    first, rest = authors[:comma], authors[comma + 1 :]
    after = rest.find(",")
    piece = (rest if after < 0 else rest[:after]).strip()
    if piece in SUFFIXES:  # "Martin Luther King, Jr., ..."
        first, rest = f"{first}, {piece}", ("" if after < 0 else rest[after + 1 :])
        if after < 0:
            return name_penalty(first)
    penalty = name_penalty(first)
    if penalty == INF:
        return INF
    return penalty + _tail_penalty(rest)


@lru_cache(maxsize=1 << 12)
def _tail_penalty(rest: str) -> float:
    """0 if every name after the first parses, 1 per name that needs inner capitals."""
    total = 0.0
    for name in split_names(rest):
        if name_penalty(name) == INF:
            total += 1.0 if name_penalty(name, camel=True) < INF else INF
    return total


def title_penalty(title: str) -> float:
    """2 when the title would end in ", <a name>": the split then lies inside the author list."""
    k = title.rfind(", ")
    return 2.0 if k >= 0 and name_penalty(title[k + 2 :].strip()) < INF else 0.0


def _is_capital(c: str) -> bool:
    return c.isupper() or c.istitle()


def glue_points(text: str) -> list[int]:
    """Positions where an author list may start (see the module docstring)."""
    points = []
    for m in _CAPITAL_RE.finditer(text, 1):
        i = m.start()
        prev = text[i - 1]
        if _is_capital(prev):
            nxt = text[i + 1 : i + 2]
            if not nxt or not (nxt == "." or (nxt.isalpha() and not _is_capital(nxt))):
                continue  # inside a run of capitals such as ATLAS
        points.append(i)
    if _PARTICLE_GLUE_RE.search(text):
        points.extend(m.start() for m in _PARTICLE_GLUE_RE.finditer(text))
        points.sort()
    return points


def _glue_points_from(text: str, start: int) -> Iterator[int]:
    """``glue_points(text)`` from ``start`` (0 or the start of a word) on, found lazily.

    One pattern decides most points; a point next to a character outside the Basic
    Multilingual Plane (which the character classes do not cover) is decided as
    ``glue_points`` decides it.
    """
    glued = (
        [m.start() for m in _PARTICLE_GLUE_RE.finditer(text, start)]
        if _PARTICLE_NEAR_RE.search(text, start)
        else []
    )
    for m in _GLUE_RE.finditer(text, max(start, 1)):
        i = m.start()
        if m.lastgroup == "astral":
            prev = text[i - 1]
            if _is_capital(prev):
                nxt = text[i + 1 : i + 2]
                if not nxt or not (nxt == "." or (nxt.isalpha() and not _is_capital(nxt))):
                    continue
        while glued and glued[0] < i:
            yield glued.pop(0)
        yield i
    yield from glued


def split_title_authors(text: str) -> tuple[str, tuple[str, ...]] | None:
    """Split "TitleFirst Author, Second Author" into the title and the author names.

    ``text`` has no " et al." and no affiliation. None when no glue point leaves a plausible
    author list.
    """
    quick = _split_before_comma(text)
    if quick is not None:
        return quick
    scored: list[tuple[int, float]] = []
    best = INF
    lead = len(text) - len(text.lstrip())
    for i in _glue_points_from(text, _first_candidate(text)):
        if i <= lead:
            continue
        penalty = authors_penalty(text[i:])
        if penalty < INF:
            penalty += title_penalty(text[:i])
            if not scored and penalty <= 1.0:
                # every penalty is >= 0, so no later point can beat the first one by more
                # than a point: it wins whatever follows
                return _split_at(text, i)
            scored.append((i, penalty))
            best = min(best, penalty)
    if not scored:
        return None
    for i, penalty in scored:
        if penalty <= best + 1.0:
            return _split_at(text, i)
    return None  # unreachable: the best candidate always qualifies


# the caches of the first-name scan: plain dicts (cheaper to consult than lru_cache), emptied
# when full so that memory stays bounded
_CACHE_LIMIT: Final = 1 << 16


@final
class _Word:
    """What the first-name scan needs of one word: its token penalty as a later word of a
    name (not last, last), the glue points inside it (``glue_points`` of the word alone: the
    character before a point is in the word, and one after the word is never a lower-case
    letter or a full stop), and where a glued name particle ends the word (-1: none; a glue
    point when a space and a capital follow the word)."""

    __slots__ = ("later", "last", "points", "particle")

    def __init__(self, later: float, last: float, points: tuple[int, ...], particle: int) -> None:
        self.later = later
        self.last = last
        self.points = points
        self.particle = particle


_WORDS: Final[dict[str, _Word]] = {}


def _word_info(word: str) -> _Word:
    info = _WORDS.get(word)
    if info is None:
        if len(_WORDS) >= _CACHE_LIMIT:
            _WORDS.clear()
        particle = _PARTICLE_END_RE.search(word)
        info = _WORDS[word] = _Word(
            token_penalty(word, False, False),
            token_penalty(word, False, True),
            tuple(glue_points(word)),
            particle.start() if particle else -1,
        )
    return info


# token_penalty(word, True, False) and token_penalty(word, True, True)
_FIRST_WORDS: Final[dict[str, float]] = {}
_FIRST_LAST_WORDS: Final[dict[str, float]] = {}


def _first_token_penalty(word: str, last: bool) -> float:
    cache = _FIRST_LAST_WORDS if last else _FIRST_WORDS
    penalty = cache.get(word)
    if penalty is None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        penalty = cache[word] = token_penalty(word, True, last)
    return penalty


@final
class _Tail:
    """The names after an author list's first comma: ``_tail_penalty`` of them and the
    names as ``_split_at`` gives them."""

    __slots__ = ("penalty", "names")

    def __init__(self, penalty: float, names: tuple[str, ...]) -> None:
        self.penalty = penalty
        self.names = names


_TAILS: Final[dict[str, _Tail]] = {}
_TAILS_LIMIT: Final = 1 << 12  # its keys are whole author lists, which may be long


def _tail(rest: str) -> _Tail:
    tail = _TAILS.get(rest)
    if tail is None:
        if len(_TAILS) >= _TAILS_LIMIT:
            _TAILS.clear()
        penalty = _tail_penalty(rest)
        names = tuple(map(_one_space, split_names(rest))) if penalty < INF else ()
        tail = _TAILS[rest] = _Tail(penalty, names)
    return tail


def _split_before_comma(text: str) -> tuple[str, tuple[str, ...]] | None:
    """``split_title_authors`` when its first candidate lies before the first comma and wins
    outright (scores at most 1); None when that is not so.

    The candidates before the first comma lie in the last six words before it (a point
    further back leaves a first name of seven words or more). The words after the first
    comma are the same for each of them, so that part of ``authors_penalty`` is looked up
    once, and each word's glue points and token penalties are kept per word.
    """
    comma = text.find(",")
    tail = 0.0
    tail_names: tuple[str, ...] = ()
    if comma >= 0:
        rest = text[comma + 1 :]
        after = rest.find(",")
        if (rest if after < 0 else rest[:after]).strip() in SUFFIXES:
            return None  # "Martin Luther King, Jr., ...": the suffix joins the first name
        found = _tail(rest)
        tail = found.penalty
        if tail == INF:
            return None
        tail_names = found.names
        head = text[:comma].rstrip()
    else:
        head = text.rstrip()
    words = head.rsplit(None, 6)
    if len(words) == 7:
        del words[0]
    last = len(words) - 1
    infos = [_word_info(word) for word in words]
    # the first candidates lie in the last word that is no later word of a name, or after it
    later = [0.0] * (last + 2)
    first = 0
    for k in range(last, -1, -1):
        later[k] = later[k + 1] + (infos[k].last if k == last else infos[k].later)
        if later[k] == INF:
            first = k
            break
    for k in range(first, last + 1):
        word = words[k]
        info = infos[k]
        points = info.points
        particle = info.particle
        if particle >= 0 and not (k < last and _next_is_capital(head, word, words, k)):
            particle = -1
        for p in sorted((*points, particle)) if particle >= 0 else points:
            n = last - k + 1
            piece = word[p:]
            total = (1.0 if n == 1 else 0.0) + _first_token_penalty(piece, k == last)
            if total == INF:
                continue
            total += later[k + 1]
            if n >= 4:
                named = [w for w in (piece, *words[k + 1 :]) if w not in PARTICLES]
                if sum(1 for w in named if w not in SUFFIXES) >= 4:
                    total += 1.0
            i = _word_start(head, words, k) + p
            total += tail + title_penalty(text[:i])
            if total > 1.0:
                return None
            # ``_split_at(text, i)``: the first name, then the names after the comma
            if comma < 0:
                return text[:i].strip(), (_one_space(text[i:].strip()),)
            return text[:i].strip(), (_one_space(text[i:comma].strip()), *tail_names)
    return None


def _word_start(head: str, words: list[str], k: int) -> int:
    """Where ``words[k]`` starts in ``head`` (``words`` are the last words of ``head``)."""
    end = len(head)
    for j in range(len(words) - 1, k, -1):
        end = len(head[: end - len(words[j])].rstrip())
    return end - len(words[k])


def _next_is_capital(head: str, word: str, words: list[str], k: int) -> bool:
    """Whether ``words[k]`` is followed by exactly one space and then a capital (the glued
    particle pattern's condition)."""
    end = _word_start(head, words, k) + len(word)
    return head[end : end + 1] == " " and _U_RE.match(head, end + 1) is not None


def _first_candidate(text: str) -> int:
    """Start of the last six words before the first comma: a glue point before it would leave
    a first name of seven or more words, which ``name_penalty`` never accepts."""
    comma = text.find(",")
    head = text if comma < 0 else text[:comma]
    words = head.rsplit(None, 6)
    if len(words) < 7:
        return 0
    rest = head[len(words[0]) :]
    return len(words[0]) + len(rest) - len(rest.lstrip())


def _split_at(text: str, i: int) -> tuple[str, tuple[str, ...]]:
    return text[:i].strip(), tuple(map(_one_space, split_names(text[i:])))


def _one_space(name: str) -> str:
    """``name`` (stripped) with each run of white space made one space."""
    # white space other than " " is not printable
    return name if "  " not in name and name.isprintable() else " ".join(name.split())


def _et_al(head: str) -> int:
    """Where ``_ET_AL_RE.search(head)`` starts (-1: no match), searching only the end of the
    line where it can.

    A line ending in " et al." after a character that is neither white space nor a comma
    matches from that space (an earlier start would run through that character, which only
    the pattern's white space and comma could match). Otherwise a match found in the last 16
    characters that does not start at their first one is the leftmost match, for the same
    reason."""
    if head.endswith(" et al.") and len(head) > 7:
        before = head[-8]
        if before != "," and not before.isspace():
            return len(head) - 7
    if not head.endswith(("al", "al.")):
        return -1
    pos = max(0, len(head) - 16)
    m = _ET_AL_RE.search(head, pos)
    if m is not None and pos and m.start() == pos:
        m = _ET_AL_RE.search(head)
    return -1 if m is None else m.start()


def split_title_line(
    line: str,
) -> tuple[str, tuple[str, ...], bool, str | None] | None:
    """A listing's second line -> (title, authors, truncated, affiliation), or None.

    The author list may end in " et al." and be followed by " · affiliation"; a title that
    itself contains " · " is handled by trying each " · " in turn.
    """
    line = line.strip()
    cuts = [m.start() for m in _DOT_RE.finditer(line)] if " · " in line else []
    for cut in [*cuts, len(line)]:
        head = line[:cut].rstrip()
        affiliation = line[cut + 3 :].strip() if cut < len(line) else None
        truncated = False
        et_al = _et_al(head)
        if et_al >= 0:
            truncated = True
            head = head[:et_al]
        split = split_title_authors(head)
        if split is not None:
            return split[0], split[1], truncated, affiliation or None
    return None
