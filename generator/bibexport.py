"""Papers -> BibTeX in arXiv's export style (the citation block and ``papers.bib``).

    @misc{su2021erniet,
          title={ERNIE-Tiny : A Progressive Distillation Framework for ...},
          author={Weiyue Su and Xuyi Chen and ...},
          year={2021},
          eprint={2106.02241},
          archivePrefix={arXiv},
          primaryClass={cs.CL},
          url={https://arxiv.org/abs/2106.02241},
    }

Keys follow arXiv's rule: the first author's surname, the year, and the first word of the title
(a hyphenated word gives its first part and the initial of the next: "ERNIE-Tiny" -> "erniet").
Values are braced, with BibTeX's special characters escaped so that any BibTeX parser reads
back exactly what was written; ``$...$`` math is kept as LaTeX.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts

from generator.model import Paper

_MATH_RE = re.compile(r"(\$\$.+?\$\$|\$.+?\$|\\\(.+?\\\))", re.DOTALL)
_COMMAND_RE = re.compile(r"\\(?:[A-Za-z]+|[&%$#_{}~^\\'\"`.=,;!: -])")
_PLAIN_RE = re.compile(r"^[^\\&%#_$^{}]*$")
_VERBATIM_RE = re.compile(r"^[^\s{}\\]+$")
_SKIP_WORDS = frozenset({"a", "an", "the"})
_GROUP_NAME_RE = re.compile(
    r"\b(?:collaboration|consortium|team|group|project|survey|committee|initiative|"
    r"network|society|association|organization|organisation|institute|laboratory|program)\b",
    re.IGNORECASE,
)
_ESCAPES = {
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}
_TOKEN_RE = re.compile(r"\\(?:[A-Za-z]+|[^A-Za-z\s])?|[&%#_$^{}]")


_NOT_ALNUM_RE = re.compile(r"[^a-z0-9]")
_WORD_BREAK_RE = re.compile(r"[\s:;,.!?()\[\]{}\"'/]+")


@lru_cache(maxsize=1 << 16)
def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALNUM_RE.sub("", folded.lower())


@lru_cache(maxsize=1 << 16)
def _surname(name: str) -> str:
    try:
        parts = parse_single_name_into_parts(name.replace("{", "").replace("}", ""))
        last = " ".join(parts.last) or name
    except InvalidNameError:
        last = name
    return _ascii_word(last)


def _first_title_word(title: str) -> str:
    """The title's first word that is not "a", "an" or "the" (unless it is the only word),
    as ``_ascii_word``; a hyphenated word adds the initial of its second part. Words with
    no ASCII letter or digit do not count. The words are folded one at a time, up to the
    one taken and the next (whether it exists decides a lone "The"): folding every word of
    every title cost a paper page more than the rest of its BibTeX."""
    text = _MATH_RE.sub(" ", title)
    text = _COMMAND_RE.sub(" ", text)
    words = (w for w in _WORD_BREAK_RE.split(text) if _ascii_word(w))
    word = next(words, None)
    alone = True  # no word before this one
    while word is not None:
        following = next(words, None)
        pieces = [p for p in word.split("-") if _ascii_word(p)]
        if pieces:
            first = _ascii_word(pieces[0])
            if first not in _SKIP_WORDS or (alone and following is None):
                return first + (_ascii_word(pieces[1])[:1] if len(pieces) > 1 else "")
        alone = False
        word = following
    return ""


def citation_key(paper: Paper) -> str:
    """arXiv's key: surname + year + first title word, lower-case ASCII ("su2021erniet")."""
    surname = _surname(paper.authors[0]) if paper.authors else ""
    year = str(paper.year) if paper.year is not None else ""
    key = (surname or "anon") + year + _first_title_word(paper.title)
    return key or "paper"


def citation_keys(
    papers: Sequence[Paper], base_key: Callable[[Paper], str] | None = None
) -> dict[str, str]:
    """paper id -> key, unique over ``papers``: later papers sharing a key get a, b, c ...
    ``base_key`` gives ``citation_key(paper)`` when the caller has it cached."""
    keys: dict[str, str] = {}
    taken: set[str] = set()
    make = base_key or citation_key
    for paper in papers:
        base = make(paper)
        key, n = base, 0
        while key in taken:
            key = base + _suffix(n)
            n += 1
        taken.add(key)
        keys[paper.id] = key
    return keys


def _suffix(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("a") + r) + letters
    return letters


def bib_escape(text: str) -> str:
    """Text as the inside of a braced BibTeX value.

    The text is LaTeX-flavoured like the seeds (``$...$`` math, ``\\textit{...}``): math,
    commands and balanced braces are kept; ``& % # _``, a lone ``$``, ``^`` and a stray
    backslash are escaped. Braces that would leave the value unbalanced are dropped, since
    BibTeX counts every brace, escaped or not.
    """
    if _PLAIN_RE.match(text):
        return " ".join(text.split())
    out: list[str] = []
    for i, part in enumerate(_MATH_RE.split(text)):
        if i % 2:
            out.append(part)
            continue
        pos = 0
        for m in _TOKEN_RE.finditer(part):
            out.append(part[pos : m.start()])
            tok = m.group(0)
            if tok == "\\":
                out.append(_ESCAPES["\\"])
            elif tok.startswith("\\") or tok in "{}":
                out.append(tok)
            else:
                out.append(_ESCAPES[tok])
            pos = m.end()
        out.append(part[pos:])
    return " ".join(_balance("".join(out)).split())


def _balance(value: str) -> str:
    """Drop the braces that have no partner (BibTeX counts ``\\{`` as a brace too)."""
    if "{" not in value and "}" not in value:
        return value
    unmatched: set[int] = set()
    stack: list[int] = []
    for i, ch in enumerate(value):
        if ch == "{":
            stack.append(i)
        elif ch == "}":
            if stack:
                stack.pop()
            else:
                unmatched.add(i)
    unmatched.update(stack)
    unmatched.update({i - 1 for i in unmatched if i > 0 and value[i - 1] == "\\"})
    return "".join(ch for i, ch in enumerate(value) if i not in unmatched)


@lru_cache(maxsize=1 << 16)
def _bib_name(name: str) -> str:
    """A display name as BibTeX reads it back: "First Last" as is; an institution, or a name
    BibTeX would split wrongly (a comma, a lone " and "), braced whole. Memoised: an author's
    name is written for every paper of theirs, on its page and in ``papers.bib``."""
    value = bib_escape(name)
    if (
        _GROUP_NAME_RE.search(name)
        or "," in name
        or re.search(r"\s(?:and|others)\s|^others$", name, re.IGNORECASE)
    ):
        return "{" + value + "}"
    return value


def _fields(paper: Paper) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = [("title", bib_escape(paper.title))]
    if paper.authors:
        names = [_bib_name(a) for a in paper.authors]
        if paper.authors_truncated:
            names.append("others")
        fields.append(("author", " and ".join(names)))
    if paper.year is not None:
        fields.append(("year", str(paper.year)))
    if paper.arxiv_id:
        fields += [
            ("eprint", bib_escape(paper.arxiv_id)),
            ("archivePrefix", "arXiv"),
        ]
        if paper.category:
            fields.append(("primaryClass", bib_escape(paper.category)))
    journal = paper.journal_ref or paper.venue
    if journal:
        fields.append(("journal", bib_escape(journal)))
    # doi and url are verbatim fields (biblatex, the url package): written as they are.
    if paper.doi and _VERBATIM_RE.match(paper.doi):
        fields.append(("doi", paper.doi))
    url = f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else paper.url
    if url and re.match(r"^https?://", url, re.IGNORECASE) and _VERBATIM_RE.match(url):
        fields.append(("url", url))
    return fields


def entry_body(paper: Paper) -> str:
    """An entry's field lines and closing brace: everything but the key line."""
    lines = [f"      {name}={{{value}}}," for name, value in _fields(paper)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def paper_bibtex(paper: Paper, key: str | None = None, body: str | None = None) -> str:
    """One entry in arXiv's export style. ``key`` overrides ``citation_key(paper)`` (pass the
    one ``citation_keys`` gives so the page and ``papers.bib`` agree); ``body`` is
    ``entry_body(paper)`` when the caller already has it."""
    head = f"@misc{{{key or citation_key(paper)},\n"
    return head + (body if body is not None else entry_body(paper))


def site_bibtex(
    papers: Sequence[Paper],
    keys: Mapping[str, str] | None = None,
    body: Callable[[Paper], str] | None = None,
    base_key: Callable[[Paper], str] | None = None,
) -> str:
    """The whole ``papers.bib``: every paper, in the order given, keys unique. ``body``
    gives a paper's ``entry_body`` and ``base_key`` its ``citation_key`` (caches)."""
    chosen = dict(keys) if keys is not None else citation_keys(papers, base_key)
    make = body or entry_body
    return "\n".join(paper_bibtex(p, chosen.get(p.id), make(p)) for p in papers)
