"""LaTeX-flavoured text from seeds -> safe HTML (with MathML) or readable Unicode text.

Abstracts, titles and comments from arXiv listings are "LaTeX-ish" plain text: mostly prose, with
math in ``$..$``, a few text-mode commands (``\\textit{Gaia}``, ``{\\it ab initio}``, ``\\%``,
accents, ````quotes''``) and bare ``%``/``&`` that mean themselves. The text is untrusted, so
nothing from it ever reaches the output except as escaped text, our own tags
(``<p> <em> <strong> <code> <a>``) and MathML rebuilt from an allow-list.

The pipeline, per paragraph:

1. ``_scan`` walks the text once and replaces every math span, ``\\url{..}``, ``\\href`` target
   and bare http(s) URL with a placeholder (private-use characters + an index), turns a bare
   ``%`` into ``\\%`` (it is a percent sign in abstracts, not a comment) and a ``$`` that opens
   no math into ``\\$``.
2. ``_items`` splits the result into plain runs and small LaTeX "islands" (a command with its
   brace arguments, or a brace group). Plain runs need only whitespace, dashes and quotes;
   islands are parsed by pylatexenc's ``LatexWalker`` and converted with ``LatexNodes2Text``
   (accents, symbols, escapes). Parsing only the islands keeps the cost per abstract small:
   pylatexenc parses about 6 characters per microsecond, too slow for whole abstracts at scale.
3. The resulting items (text, emphasis, links, math) are serialised either as HTML or as text.
   Math goes through latex2mathml's element tree and our own allow-list serialiser.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element

import markupsafe
from markupsafe import Markup, escape
from pylatexenc import latex2text as _l2t
from pylatexenc import latexwalker as _lw
from pylatexenc import macrospec as _ms

__all__ = ["abstract_html", "inline_html", "plain_text"]

# pylatexenc logs a warning for every tolerated parse problem (a stray brace in an abstract);
# those are expected in untrusted text and would flood the build output.
logging.getLogger("pylatexenc").setLevel(logging.CRITICAL)

MAX_DOLLAR_TRIES = 20  # closing dollars tried per opening one (bounds the work on "$1 $2 ...")
MAX_MATH_CHARS = 2000  # a longer "math span" is almost surely two stray dollars; keep as text

# ---------------------------------------------------------------------------------------------
# Items: the intermediate form both serialisers read.


@dataclass(frozen=True, slots=True)
class _Tag:
    name: str  # "em" | "strong" | "code"
    children: tuple[_Item, ...]


@dataclass(frozen=True, slots=True)
class _Link:
    href: str  # already checked: http(s) only
    children: tuple[_Item, ...]


@dataclass(frozen=True, slots=True)
class _Math:
    source: str
    display: bool


@dataclass(frozen=True, slots=True)
class _Code:  # text shown verbatim in <code>: a \url{} that is not http(s)
    text: str


_Item = str | _Tag | _Link | _Math | _Code

# ---------------------------------------------------------------------------------------------
# Step 1: the scanner.

_PH_OPEN, _PH_CLOSE = "\ue000", "\ue001"
_PH_RE = re.compile("\ue000(\\d+)\ue001")
_PRIVATE_RE = re.compile("[\ue000\ue001]")
# Every token starts with one of the characters ``\\ $ % h H``; a pattern that opens with that
# character set lets the regex engine skip the prose between them in C (a pattern that opens
# with a lookahead is tried at every position, twice the cost). The lookbehinds then pick the
# token by its first character, in the order ``\\url{``, ``\\href{``, ``\\$``-like escapes,
# ``$$``, ``$``, ``%``, bare URL.
_SCAN_RE = re.compile(
    r"[\\$%hH](?:(?<=\\)(?:url\s*\{|href\s*\{|[\\$%()\[\]])|(?<=\$)\$?|(?<=%)|(?<=[hH])(?i:ttps?://))"
)
_URL_RE = re.compile(r"(?i:https?://)[^\s<>\"'{}\\|^`$\ue000\ue001]+")
_URL_OK_RE = re.compile(r"(?i:https?)://[A-Za-z0-9\[][^\s<>\"'`{}|\\^]*")
_DOLLAR_RE = re.compile(r"(?<!\\)\$")
_DOUBLE_DOLLAR_RE = re.compile(r"(?<!\\)\$\$")
_TRAILING = ".,;:!?*'\""


@dataclass(frozen=True, slots=True)
class _Target:  # an \href target, resolved when the \href command is converted
    url: str


@dataclass(frozen=True, slots=True)
class _UrlText:  # a \url{} argument as written
    url: str


_Held = _Math | _Link | _Target | _UrlText


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = (last == ")" and url.count("(") < url.count(")")) or (
            last == "]" and url.count("[") < url.count("]")
        )
        if last in _TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def _close_dollar(text: str, start: int) -> int:
    """Index of the `$` closing the inline math opened at `start`, or -1."""
    limit = min(len(text), start + 1 + MAX_MATH_CHARS + 1)
    money = text[start + 1 : start + 2].isdigit()
    for tries, m in enumerate(_DOLLAR_RE.finditer(text, start + 1, limit)):
        end = m.start()
        if money and (text[end - 1].isspace() or text[end + 1 : end + 2].isdigit()):
            if tries >= MAX_DOLLAR_TRIES:
                return -1
            continue  # "$5 and $6", "from $10 to $20": amounts of money, not math
        body = text[start + 1 : end]
        if not body.strip() or "\n\n" in body:
            return -1
        return end
    return -1


def _find_close(text: str, start: int, token: str) -> int:
    end = text.find(token, start, start + MAX_MATH_CHARS + len(token))
    if end < 0 or "\n\n" in text[start:end]:
        return -1
    return end


def _scan(text: str) -> tuple[str, list[_Held]]:
    held: list[_Held] = []
    out: list[str] = []

    def hold(item: _Held) -> str:
        held.append(item)
        return f"{_PH_OPEN}{len(held) - 1}{_PH_CLOSE}"

    pos = 0
    for m in _SCAN_RE.finditer(text):
        if m.start() < pos:
            continue  # inside something already consumed
        out.append(text[pos : m.start()])
        tok = m.group()
        pos = m.end()
        if tok in ("\\\\", "\\$", "\\%"):
            out.append(tok)
        elif tok in ("\\(", "\\["):
            close = "\\)" if tok == "\\(" else "\\]"
            end = _find_close(text, pos, close)
            if end < 0:
                out.append(tok[1])
            else:
                out.append(hold(_Math(text[pos:end], tok == "\\[")))
                pos = end + 2
        elif tok in ("\\)", "\\]"):
            out.append(tok[1])
        elif tok == "$$":
            found = _DOUBLE_DOLLAR_RE.search(text, pos, pos + MAX_MATH_CHARS + 2)
            body = text[pos : found.start()] if found else ""
            if found is None or not body.strip() or "\n\n" in body:
                out.append("\\$\\$")
            else:
                out.append(hold(_Math(body, True)))
                pos = found.end()
        elif tok == "$":
            end_i = _close_dollar(text, m.start())
            if end_i < 0:
                out.append("\\$")
            else:
                out.append(hold(_Math(text[pos:end_i], False)))
                pos = end_i + 1
        elif tok == "%":
            out.append("\\%")
        elif tok.startswith("\\url") or tok.startswith("\\href"):
            end = text.find("}", pos)
            if end < 0:
                out.append(tok)
                continue
            arg = text[pos:end]
            if tok.startswith("\\url"):
                out.append(hold(_UrlText(arg)))
            else:
                out.append("\\href{" + hold(_Target(arg)) + "}")
            pos = end + 1
        else:  # a bare URL
            um = _URL_RE.match(text, m.start())
            url = _trim_url(um.group()) if um else ""
            if _URL_OK_RE.fullmatch(url):
                out.append(hold(_Link(url, (url,))))
                pos = m.start() + len(url)
            else:
                out.append(tok)
    out.append(text[pos:])
    return "".join(out), held


# ---------------------------------------------------------------------------------------------
# Step 2: plain runs and LaTeX islands.

_ISLAND_START_RE = re.compile(r"[\\{}]")
_MACRO_NAME_RE = re.compile(r"\\([A-Za-z]+\*?|.)", re.S)
_WS_RE = re.compile(r"[ \t\n\r\f\v]{2,}|[\t\n\r\f\v]")  # ASCII only: keep no-break spaces
_SPACE_NBSP_RE = re.compile(r" ?([\u00a0\u202f]) ?")  # "14 \,kpc": one narrow space
_QUOTE_RULES = (  # (trigger, pattern, replacement): the trigger skips the regex when absent
    ("---", re.compile(r"---"), "\u2014"),
    ("--", re.compile(r"--"), "\u2013"),
    ("``", re.compile(r"``"), "\u201c"),
    ("''", re.compile(r"''"), "\u201d"),
    ("`", re.compile(r"`([^`'\n]{1,200})'"), "\u2018\\1\u2019"),
    ("`", re.compile(r"`"), "\u2018"),
    ("~", re.compile(r"~"), "\u00a0"),
)
_ACCENT_WORDS = frozenset("cvuHkrdbtG")  # letter-named accents: \c{c}, \v{s}, ...

# Formatting commands with one argument, and declarations that format the rest of their group.
_FORMAT_COMMANDS: dict[str, str | None] = {
    "textit": "em", "emph": "em", "textsl": "em", "mathit": "em",
    "textbf": "strong", "mathbf": "strong",
    "texttt": "code", "mathtt": "code",
    "textrm": None, "textsf": None, "textsc": None, "textup": None, "textnormal": None,
    "textmd": None, "mbox": None, "text": None, "hbox": None, "mathrm": None,
}  # fmt: skip
_DECLARATIONS: dict[str, str | None] = {
    "it": "em", "em": "em", "sl": "em", "itshape": "em", "slshape": "em",
    "bf": "strong", "bfseries": "strong",
    "tt": "code", "ttfamily": "code",
    "rm": None, "sf": None, "sc": None, "scshape": None, "upshape": None, "normalfont": None,
    "rmfamily": None, "sffamily": None, "mdseries": None,
}  # fmt: skip


def _latex_contexts() -> tuple[Any, Any]:
    walker_db = _lw.get_default_latex_context_db()
    walker_db.add_context_category(
        "papersite",
        prepend=True,
        macros=[
            _ms.MacroSpec("href", "{{"),
            _ms.MacroSpec("url", "{"),
            *(_ms.MacroSpec(name, "{") for name in _FORMAT_COMMANDS),
        ],
    )
    text_db = _l2t.get_default_latex_context_db()
    symbols = {
        "arcmin": "\u2032", "arcsec": "\u2033", "arcdeg": "\u00b0", "degr": "\u00b0",
        "sun": "\u2609", "earth": "\u2295", "farcs": "\u2033", "farcm": "\u2032",
        ",": "\u202f", "thinspace": "\u202f", ";": " ", ":": " ", "quad": " ", "qquad": " ",
        "cite": "", "citep": "", "citet": "", "ref": "", "eqref": "", "label": "",
    }  # fmt: skip
    text_db.add_context_category(
        "papersite",
        prepend=True,
        macros=[_l2t.MacroTextSpec(name, repl) for name, repl in symbols.items()],
    )
    return walker_db, text_db


_WALKER_DB, _TEXT_DB = _latex_contexts()
_L2T = _l2t.LatexNodes2Text(latex_context=_TEXT_DB, math_mode="verbatim")


def _island_end(text: str, start: int) -> int:
    """End of the LaTeX island starting at text[start] (a backslash or a brace)."""
    ch = text[start]
    if ch == "}":
        return start + 1
    if ch == "{":
        return _group_end(text, start, "{", "}")
    m = _MACRO_NAME_RE.match(text, start)
    if m is None:
        return start + 1
    name, pos = m.group(1), m.end()
    if name in _DECLARATIONS:
        return len(text)  # a top-level declaration formats the rest of the text
    if not name[0].isalpha():
        if name in "\"'^`~=.Hcvu" and pos < len(text):
            if text[pos] == "{":
                return _group_end(text, pos, "{", "}")
            return pos + 1 if text[pos].isalpha() else pos
        return pos
    while pos < len(text) and text[pos] in "{[":
        if text[pos] == "[":
            pos = _group_end(text, pos, "[", "]")
        else:
            pos = _group_end(text, pos, "{", "}")
    if pos == m.end() and name in _ACCENT_WORDS and text[pos : pos + 1] == " ":
        return min(pos + 2, len(text))  # "\c c"
    return pos


def _group_end(text: str, start: int, open_: str, close: str) -> int:
    depth = 0
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _plain(run: str, held: Sequence[_Held]) -> list[_Item]:
    """A run with no LaTeX commands: dashes, quotes, ~ and placeholders."""
    out: list[_Item] = []
    pos = 0
    for m in _PH_RE.finditer(run):
        if m.start() > pos:
            out.append(_typeset(run[pos : m.start()]))
        out.append(_resolve(held, int(m.group(1))))
        pos = m.end()
    if pos < len(run):
        out.append(_typeset(run[pos:]))
    return out


def _typeset(text: str) -> str:
    for trigger, pattern, repl in _QUOTE_RULES:
        if trigger in text:
            text = pattern.sub(repl, text)
    return _collapse(text)


def _collapse(text: str) -> str:
    """Runs of ASCII whitespace to one space (the check first: the regex is slow per char)."""
    if "  " in text or "\n" in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
        return _WS_RE.sub(" ", text)
    return text


def _resolve(held: Sequence[_Held], index: int) -> _Item:
    if index >= len(held):
        return ""
    item = held[index]
    if isinstance(item, _UrlText):
        url = _unescape_url(item.url)
        return _Link(url, (url,)) if _URL_OK_RE.fullmatch(url) else _Code(url)
    if isinstance(item, _Target):
        return _unescape_url(item.url)
    return item


def _unescape_url(url: str) -> str:
    return re.sub(r"\\([%_#&~$])", r"\1", url).strip()


def _items(text: str, held: Sequence[_Held]) -> list[_Item]:
    out: list[_Item] = []
    pos = 0
    while True:
        m = _ISLAND_START_RE.search(text, pos)
        if m is None:
            out.extend(_plain(text[pos:], held))
            return out
        if m.start() > pos:
            out.extend(_plain(text[pos : m.start()], held))
        end = _island_end(text, m.start())
        source = text[m.start() : end]
        out.extend(_island(source, tuple(held) if _PH_OPEN in source else ()))
        pos = end


@lru_cache(maxsize=8192)
def _island(source: str, held: tuple[_Held, ...]) -> tuple[_Item, ...]:
    try:
        nodes, _, _ = _lw.LatexWalker(
            source, latex_context=_WALKER_DB, tolerant_parsing=True
        ).get_latex_nodes()
        return tuple(_walk(nodes, held))
    except (RecursionError, _lw.LatexWalkerError, ValueError, IndexError, AttributeError):
        # A pathological island (thousands of nested braces): show its text, never fail.
        return (_typeset(re.sub(r"[\\{}]", "", source)),)


def _walk(nodes: Sequence[Any], held: Sequence[_Held]) -> list[_Item]:
    out: list[_Item] = []
    for k, node in enumerate(nodes):
        if node is None:
            continue
        if node.isNodeType(_lw.LatexMacroNode) and node.macroname in _DECLARATIONS:
            inner = _walk(nodes[k + 1 :], held)
            tag = _DECLARATIONS[node.macroname]
            out.extend([_Tag(tag, tuple(inner))] if tag else inner)
            break
        out.extend(_node(node, held))
    return out


def _arg(node: Any, i: int) -> Any:
    args = node.nodeargd.argnlist if node.nodeargd is not None else []
    return args[i] if i < len(args) else None


def _arg_items(node: Any, held: Sequence[_Held]) -> list[_Item]:
    if node is None:
        return []
    if node.isNodeType(_lw.LatexGroupNode):
        return _walk(node.nodelist, held)
    return _walk([node], held)


def _node(node: Any, held: Sequence[_Held]) -> list[_Item]:
    if node.isNodeType(_lw.LatexCharsNode):
        return _plain(node.chars, held)
    if node.isNodeType(_lw.LatexGroupNode):
        return _walk(node.nodelist, held)
    if node.isNodeType(_lw.LatexMacroNode):
        return _macro(node, held)
    if node.isNodeType(_lw.LatexSpecialsNode):
        if node.specials_chars == "&":
            return ["&"]
        return [_typeset(node.specials_chars)]
    if node.isNodeType(_lw.LatexEnvironmentNode):
        return _walk(node.nodelist, held)
    if node.isNodeType(_lw.LatexMathNode):  # only from a \begin{math}-like form we left alone
        source = "".join(n.latex_verbatim() for n in node.nodelist)
        return [_Math(source, node.displaytype != "inline")]
    return [_typeset(node.latex_verbatim())]  # comments cannot occur: % is escaped first


def _macro(node: Any, held: Sequence[_Held]) -> list[_Item]:
    name = node.macroname
    if name in _FORMAT_COMMANDS:
        inner = _arg_items(_arg(node, 0), held)
        tag = _FORMAT_COMMANDS[name]
        return [_Tag(tag, tuple(inner))] if tag else inner
    if name == "url":
        return _arg_items(_arg(node, 0), held)
    if name == "href":
        target = "".join(i for i in _arg_items(_arg(node, 0), held) if isinstance(i, str))
        label = tuple(_arg_items(_arg(node, 1), held))
        if _URL_OK_RE.fullmatch(target):
            return [_Link(target, label or (target,))]
        return list(label)
    text: str = _L2T.node_to_text(node)
    if name == "\\":
        return [" "]
    post = " " if node.macro_post_space and name.isalpha() and text else ""
    return [_typeset(text) + post] if text else []


# ---------------------------------------------------------------------------------------------
# Math: latex2mathml's element tree, re-serialised through an allow-list.

_MATH_ELEMENTS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mtext",
        "mspace",
        "msub",
        "msup",
        "msubsup",
        "mfrac",
        "msqrt",
        "mroot",
        "mover",
        "munder",
        "munderover",
        "mtable",
        "mtr",
        "mtd",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "mmultiscripts",
        "mprescripts",
        "none",
    ]
)
_LENGTH_RE = re.compile(r"-?\d{0,2}(\.\d{1,4})?(em|ex|pt|px|mm|mu|%)?")
_WORD_RE = re.compile(r"[a-z]{1,20}( [a-z]{1,20}){0,8}")
_LENGTH_ATTRS = frozenset(
    [
        "width",
        "height",
        "depth",
        "voffset",
        "lspace",
        "rspace",
        "minsize",
        "maxsize",
        "mathsize",
        "linethickness",
    ]
)
_WORD_ATTRS = frozenset(
    [
        "mathvariant",
        "stretchy",
        "fence",
        "separator",
        "form",
        "largeop",
        "movablelimits",
        "accent",
        "accentunder",
        "symmetric",
        "displaystyle",
        "notation",
        "columnalign",
        "rowalign",
        "columnlines",
        "rowlines",
        "frame",
    ]
)
_SPACING_ATTRS = frozenset({"columnspacing", "rowspacing"})
_SCRIPTLEVEL_RE = re.compile(r"[+-]?\d")
_CHAR_REF_RE = re.compile(r"&#x([0-9A-Fa-f]{1,6});")


def _decode(text: str | None) -> str:
    if not text:
        return ""

    def char(m: re.Match[str]) -> str:
        code = int(m.group(1), 16)
        if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            return "\ufffd"
        return chr(code)

    return _CHAR_REF_RE.sub(char, text)


def _attr_ok(tag: str, name: str, value: str) -> bool:
    if name in _LENGTH_ATTRS:
        return bool(value) and _LENGTH_RE.fullmatch(value) is not None
    if name in _WORD_ATTRS:
        return _WORD_RE.fullmatch(value) is not None
    if name in _SPACING_ATTRS:
        return all(_LENGTH_RE.fullmatch(v) for v in value.split()) and len(value) < 100
    if name == "scriptlevel":
        return _SCRIPTLEVEL_RE.fullmatch(value) is not None
    return name == "display" and tag == "math" and value in ("inline", "block")


def _mathml(el: Element, out: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    text = _decode(el.text)
    if tag == "mi" and text == "~":  # latex2mathml maps \sim to a tilde
        tag, text = "mo", "\u223c"
    if tag in _MATH_ELEMENTS:
        attrs = "".join(
            f' {k}="{escape(v)}"' for k, v in sorted(el.attrib.items()) if _attr_ok(tag, k, v)
        )
        out.append(f"<{tag}{attrs}>")
    out.append(str(escape(text)))
    for child in el:
        _mathml(child, out)
        out.append(str(escape(_decode(child.tail))))
    if tag in _MATH_ELEMENTS:
        out.append(f"</{tag}>")


_SUB = str.maketrans("0123456789+-=()aeoxhklmnpst\u2212", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ₋")
_SUP = str.maketrans("0123456789+-=()in\u2212\u2032", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ⁻\u2032")
_SUB_OK = frozenset("0123456789+-=()aeoxhklmnpst\u2212")
_SUP_OK = frozenset("0123456789+-=()in\u2212\u2032")


def _script(text: str, sub: bool) -> str:
    ok, table, mark = (_SUB_OK, _SUB, "_") if sub else (_SUP_OK, _SUP, "^")
    if text and set(text) <= ok:
        return text.translate(table)
    return mark + (text if len(text) == 1 else f"({text})")


def _math_text(el: Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    kids = [_math_text(c) for c in el]
    text = _decode(el.text)
    if tag == "mi" and text == "~":
        return "\u223c"
    if tag == "mspace":
        width = el.attrib.get("width", "")
        return "\u202f" if width in ("0.167em", "0.222em") else (" " if width else "")
    if tag in ("msub", "munder") and len(kids) == 2:
        return kids[0] + _script(kids[1], True)
    if tag in ("msup", "mover") and len(kids) == 2:
        return kids[0] + _script(kids[1], False)
    if tag in ("msubsup", "munderover") and len(kids) == 3:
        return kids[0] + _script(kids[1], True) + _script(kids[2], False)
    if tag == "mfrac" and len(kids) == 2:
        num, den = (k if len(k) == 1 else f"({k})" for k in kids)
        return f"{num}/{den}"
    if tag == "msqrt":
        inner = "".join(kids)
        return "\u221a" + (inner if len(inner) == 1 else f"({inner})")
    if tag == "mroot" and len(kids) == 2:
        return f"{kids[1]}\u221a({kids[0]})"
    if tag == "mtr":
        return " ".join(kids) + "; "
    return text + "".join(kids)


@lru_cache(maxsize=16384)
def _math(source: str, display: bool) -> tuple[str | None, str]:
    """(MathML markup or None when latex2mathml cannot convert it, Unicode text)."""
    # imported when first needed (~0.05 s): a rebuild that renders no math never needs it
    from latex2mathml.converter import convert_to_element

    try:
        el = convert_to_element(source, display="block" if display else "inline")
        out: list[str] = []
        _mathml(el, out)
        text = _WS_RE.sub(" ", _math_text(el)).strip()
    except Exception:  # noqa: BLE001 - any failure of the converter means "show the source"
        return None, _WS_RE.sub(" ", source).strip()
    return "".join(out), text


# ---------------------------------------------------------------------------------------------
# Step 3: serialisers.

_PARAGRAPH_RE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LINK_ATTRS = ' rel="nofollow noopener"'


def _html(items: Sequence[_Item], out: list[str], in_link: bool = False) -> None:
    for item in items:
        if isinstance(item, str):
            out.append(escape_text(item))
        elif isinstance(item, _Tag):
            out.append(f"<{item.name}>")
            _html(item.children, out, in_link)
            out.append(f"</{item.name}>")
        elif isinstance(item, _Link):
            if in_link:
                _html(item.children, out, True)
                continue
            out.append(f'<a href="{escape(_href(item.href))}"{_LINK_ATTRS}>')
            _html(item.children, out, True)
            out.append("</a>")
        elif isinstance(item, _Code):
            out.append(f"<code>{escape(item.text)}</code>")
        else:
            markup, _ = _math(item.source, item.display)
            if markup is None:
                source = _collapse(item.source).strip()
                out.append(f'<code class="tex">{escape(source)}</code>')
            else:
                out.append(markup)


_ESCAPE_INNER: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)


def escape_text(text: str) -> str:
    """``str(escape(text))`` for a plain ``str``: markupsafe's escaping function without
    the Markup object made and copied back to a ``str`` (items of a paragraph are plain
    ``str``, a dozen to an abstract; a feed entry escapes a dozen values too)."""
    if _ESCAPE_INNER is not None and type(text) is str:
        return _ESCAPE_INNER(text)
    return str(escape(text))


_BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _href(url: str) -> str:
    return _BAD_PERCENT_RE.sub("%25", url)


def _text(items: Sequence[_Item], out: list[str]) -> None:
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, _Tag | _Link):
            _text(item.children, out)
        elif isinstance(item, _Code):
            out.append(item.text)
        else:
            out.append(_math(item.source, item.display)[1])


@lru_cache(maxsize=1024)
def _paragraph_items(text: str) -> tuple[_Item, ...]:
    """A paragraph's items, parsed once: a page asks for the same abstract and title as
    HTML and as plain text (read-only: the serialisers never change them). Text with no
    character that starts a token or an island (``\\ $ % { }``) and no ``://`` (a bare
    URL's) is one plain run, typeset (``_plain`` of text with no placeholder): every title
    and half the abstracts, which skip the scan."""
    if "\ue000" in text or "\ue001" in text:
        text = _PRIVATE_RE.sub("", text)
    if not _may_hold_markup(text):
        return (_typeset(text),) if text else ()
    return _parsed_items(text)


def _may_hold_markup(text: str) -> bool:
    """Whether ``_scan`` or ``_items`` could find anything in ``text``: a backslash, dollar,
    percent sign or brace, or the ``://`` every bare URL has (substring searches, far
    cheaper than the scan's expression)."""
    return "\\" in text or "$" in text or "%" in text or "{" in text or "}" in text or "://" in text


def _parsed_items(text: str) -> tuple[_Item, ...]:
    """A paragraph's items by the scanner and the island parser (``_paragraph_items``)."""
    scanned, held = _scan(text)
    return tuple(_items(scanned, held))


def _tidy(text: str) -> str:
    text = _collapse(text)
    if "\u00a0" in text or "\u202f" in text:
        text = _SPACE_NBSP_RE.sub(r"\1", text)
    return text.strip()


def _paragraphs(text: str) -> Iterator[str]:
    for para in _PARAGRAPH_RE.split(text):
        if para.strip():
            yield para


def abstract_html(text: str) -> Markup:
    """An abstract as HTML paragraphs: escaped text, <em>/<strong>/<code>/<a> and MathML."""
    parts = []
    for para in _paragraphs(text):
        out: list[str] = []
        _html(_paragraph_items(para), out)
        body = _tidy("".join(out))
        if body:
            parts.append(f"<p>{body}</p>")
    return Markup("\n".join(parts))


def inline_html(text: str) -> Markup:
    """Like `abstract_html` without paragraphs (titles, comments, journal references)."""
    out: list[str] = []
    _html(_paragraph_items(text), out)
    return Markup(_tidy("".join(out)))


def plain_text(text: str) -> str:
    """LaTeX-ish text as readable Unicode (math as Unicode); paragraphs joined by a blank line."""
    parts = []
    for para in _paragraphs(text):
        out: list[str] = []
        _text(_paragraph_items(para), out)
        body = _tidy("".join(out))
        if body:
            parts.append(body)
    return "\n\n".join(parts)
