"""generator.latex: LaTeX-ish seed text to safe HTML (with MathML) and to Unicode text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from generator.latex import abstract_html, inline_html, plain_text
from tests.xss import assert_inert_html, inert_html_problems, load_payloads

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
MATH_RE = re.compile(r"<math\b.*?</math>", re.S)


def outside_math(html: str) -> str:
    return MATH_RE.sub("", html)


def seed_texts() -> list[str]:
    """Every non-empty line of every seed listing, plus every BibTeX title and journal.

    Each abstract sits on one line in all three layouts, so this covers every abstract (the
    run-on layout glues an id to it, which only adds text around it)."""
    texts = []
    for path in sorted(SEEDS.glob("*.txt")):
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    bib = (SEEDS / "seeds.bib").read_text(encoding="utf-8")
    texts += re.findall(r"^\s*(?:title|journal)=\{(.*)\},?$", bib, re.M)
    return texts


# --- text-mode LaTeX ------------------------------------------------------------------------

INLINE_CASES = [
    (r"\textit{Gaia} DR2", "<em>Gaia</em> DR2"),
    (r"with {\it ab initio} accuracy", "with <em>ab initio</em> accuracy"),
    (r"{\em x} and \emph{y}", "<em>x</em> and <em>y</em>"),
    (r"[M] \textbf{lower} than", "[M] <strong>lower</strong> than"),
    (r"prep\textbf{a}res", "prep<strong>a</strong>res"),
    (r"\texttt{code}", "<code>code</code>"),
    (r"{\bf bold} rest", "<strong>bold</strong> rest"),
    (r"98.0\% and 1.0% score", "98.0% and 1.0% score"),
    (r"LAMOST \& Gaia", "LAMOST &amp; Gaia"),
    (r"a\_b \#1 \$5", "a_b #1 $5"),
    ("the ``target model'' here", "the \u201ctarget model\u201d here"),
    ("a `single' quote", "a \u2018single\u2019 quote"),
    ("pages 1--2 --- and", "pages 1\u20132 \u2014 and"),
    (r"5\,kpc a~b", "5\u202fkpc a\u00a0b"),
    (r"14 \,kpc", "14\u202fkpc"),
    (r"Bencz\'ur {\"u} \"o \c{c} \'{e}", "Bencz\u00far \u00fc \u00f6 \u00e7 \u00e9"),
    (r"an 6\arcmin $\times$ 6\arcmin region", None),  # checked below: primes and MathML
    (r"dataset \ts{NewsDialogues}, which", "dataset NewsDialogues, which"),
    ("model's output", "model&#39;s output"),
    ("US$5 and US$6 each", "US$5 and US$6 each"),
    ("costs $10 to $20", "costs $10 to $20"),
    ("a lone $ sign", "a lone $ sign"),
    ("<b>not bold</b> & co", "&lt;b&gt;not bold&lt;/b&gt; &amp; co"),
    ("  spaced \n  out\t text ", "spaced out text"),
]


@pytest.mark.parametrize(("source", "expected"), [c for c in INLINE_CASES if c[1] is not None])
def test_inline_constructs(source: str, expected: str) -> None:
    assert str(inline_html(source)) == expected


def test_arcmin_and_times() -> None:
    html = str(inline_html(r"an 6\arcmin $\times$ 6\arcmin region"))
    assert html.startswith("an 6\u2032 <math")
    assert "<mo>\u00d7</mo>" in html
    assert plain_text(r"an 6\arcmin $\times$ 6\arcmin region") == "an 6\u2032 \u00d7 6\u2032 region"


def test_result_is_markup() -> None:
    assert isinstance(abstract_html("x"), Markup)
    assert isinstance(inline_html("x"), Markup)
    assert str(escape(inline_html("<i>"))) == "&lt;i&gt;"  # Markup is not escaped twice


# --- math -----------------------------------------------------------------------------------


def test_seed_math_renders_to_mathml() -> None:
    html = str(inline_html(r"resolution $R\sim7\,500$ and $\sim 0.38\,\mathrm{km\,s}^{-1}$"))
    assert html.count('<math display="inline">') == 2
    assert "<mo>\u223c</mo><mn>7</mn><mspace" in html  # \sim is the similarity sign, not "~"
    assert '<mi mathvariant="normal">k</mi>' in html
    assert "<msup>" in html
    assert "$" not in html


def test_chemical_formula() -> None:
    html = str(inline_html("Si$_3$N$_4$ waveguides"))
    assert html.startswith("Si<math") and "<mn>3</mn>" in html and "<mn>4</mn>" in html
    assert plain_text("Si$_3$N$_4$ waveguides") == "Si\u2083N\u2084 waveguides"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"$R\sim7\,500$", "R\u223c7\u202f500"),
        (r"$\sim 0.38\,\mathrm{km\,s}^{-1}$", "\u223c0.38\u202fkm\u202fs\u207b\u00b9"),
        (r"$C^{18}O$ and $N_2D^+$", "C\u00b9\u2078O and N\u2082D\u207a"),
        (r"$\sqrt{\beta}$", "\u221a\u03b2"),
        (r"$<0.12\:M_\odot$", "<0.12\u202fM_\u2299"),
        (r"8$-$14 \,kpc", "8\u221214\u202fkpc"),
        (r"${3.6\times10^{-3}\,\mathrm{kg/s}}$", "3.6\u00d710\u207b\u00b3\u202fkg/s"),
        (r"$\frac{a+b}{2}$", "(a+b)/2"),
        (r"\textit{Gaia} DR2 at \url{https://x.org/a}", "Gaia DR2 at https://x.org/a"),
        ("para one\n\npara two", "para one\n\npara two"),
    ],
)
def test_plain_text(source: str, expected: str) -> None:
    assert plain_text(source) == expected


def test_display_math_forms() -> None:
    html = str(inline_html(r"$$x^2$$ \(a\) \[b\]"))
    assert html.count('display="block"') == 2
    assert html.count('display="inline"') == 1


def test_money_is_not_math_but_adjacent_math_is() -> None:
    assert "<math" not in str(inline_html("it cost US$5 or US$6"))
    assert str(inline_html("8$-$14")).count("<math") == 1


def test_unconvertible_math_falls_back_to_code() -> None:
    html = str(inline_html(r"broken $\frac{a}{$ here"))
    assert '<code class="tex">\\frac{a}{</code>' in html
    assert "<math" not in html


def test_math_is_sanitised() -> None:
    html = str(
        inline_html(
            r"$\href{javascript:alert(1)}{x}$ $\style{color:red}{y}$ $\color{red}z$ "
            r"$\text{<img src=x onerror=alert(1)>}$ $\rule{9999em}{1px}$ $\unicode{x3C}b$"
        )
    )
    assert "href" not in html and "mathcolor" not in html
    assert " style=" not in html and "color:red" not in html
    assert "<img" not in html and "<mtext>&lt;img\u00a0src=x" in html
    assert "9999" not in html  # a length out of range is dropped
    assert "<mi>&lt;</mi>" in html  # \unicode{x3C} stays a character
    assert_inert_html(html)


def test_mathml_uses_only_allowed_names() -> None:
    allowed = {
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
        "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
        "mstyle", "mpadded", "mphantom", "menclose", "mmultiscripts", "mprescripts", "none",
    }  # fmt: skip
    source = (
        r"$\begin{array}{cc}a&b\\c&d\end{array}$ $\overline{x}\underbrace{y}_z\sum_{i=1}^n$ "
        r"$\fbox{q}\left(\frac12\right)\binom{n}{k}\sqrt[3]{8}$ $\mathcal{O}$"
    )
    tags = set(re.findall(r"<([a-z-]+)", str(inline_html(source))))
    assert tags <= allowed, tags - allowed


# --- links ----------------------------------------------------------------------------------


def test_bare_urls_are_linked_without_trailing_punctuation() -> None:
    html = str(inline_html("Code: https://github.com/menik1126/DQ-LoRe. See (http://x.org/a_(b))."))
    assert (
        '<a href="https://github.com/menik1126/DQ-LoRe" rel="nofollow noopener">'
        "https://github.com/menik1126/DQ-LoRe</a>. See "
    ) in html
    assert '(<a href="http://x.org/a_(b)" rel="nofollow noopener">http://x.org/a_(b)</a>).' in html


def test_url_and_href_commands() -> None:
    html = str(inline_html(r"at \url{https://github.com/hypergravity/paperdata}."))
    assert html == (
        'at <a href="https://github.com/hypergravity/paperdata" rel="nofollow noopener">'
        "https://github.com/hypergravity/paperdata</a>."
    )
    html = str(inline_html(r"\href{https://a.org/x\_y}{the \emph{site}}"))
    assert html == '<a href="https://a.org/x_y" rel="nofollow noopener">the <em>site</em></a>'


@pytest.mark.parametrize(
    "source",
    [
        r"\url{javascript:alert(1)}",
        r"\href{javascript:alert(1)}{x}",
        r"\href{data:text/html,x}{x}",
        r"\href{ftp://x.org/}{x}",
        "javascript:alert(1) data:text/html,x vbscript:x",
    ],
)
def test_only_http_urls_become_links(source: str) -> None:
    assert "<a " not in str(inline_html(source))


def test_percent_in_url_stays_valid() -> None:
    html = str(inline_html("see https://x.org/a%20b/100%"))
    assert 'href="https://x.org/a%20b/100%25"' in html


# --- paragraphs -----------------------------------------------------------------------------


def test_paragraphs() -> None:
    html = str(abstract_html("First $x$ para\nstill first.\n \nSecond.\n\n\n"))
    assert html == (
        '<p>First <math display="inline"><mrow><mi>x</mi></mrow></math> para still first.</p>\n'
        "<p>Second.</p>"
    )
    assert str(abstract_html("")) == ""
    assert str(inline_html("a\n\nb")) == "a b"


def test_math_does_not_cross_paragraphs() -> None:
    html = str(abstract_html("costs $5\n\nand $6"))
    assert "<math" not in html


def test_unclosed_group_and_stray_brace() -> None:
    assert str(inline_html(r"{\it open to the end")) == "<em>open to the end</em>"
    assert str(inline_html(r"a } b")) == "a b"


# --- every seed -----------------------------------------------------------------------------


def test_every_seed_text_renders_cleanly() -> None:
    texts = seed_texts()
    assert len(texts) > 200
    with_math = 0
    for text in texts:
        html = str(abstract_html(text))
        rest = outside_math(html)
        assert "$" not in rest, rest
        assert not re.search(r"\\[A-Za-z]+", rest), rest
        assert "\\" not in rest and "{" not in rest and "}" not in rest, rest
        assert "tex" not in re.findall(r'class="(\w+)"', rest), rest  # no fallback needed
        with_math += "<math" in html
        plain = plain_text(text)
        assert "$" not in plain and "\\" not in plain, plain
        assert_inert_html(html)
    assert with_math >= 12


def test_seed_abstract_with_everything() -> None:
    text = next(t for t in seed_texts() if "paperdata" in t)
    html = str(abstract_html(text))
    assert "<em>Gaia</em>" in html
    assert 'href="https://github.com/hypergravity/paperdata"' in html
    assert "<msup>" in html


# --- hostile text ---------------------------------------------------------------------------


def test_payload_corpus_is_large_and_one_per_line() -> None:
    payloads = load_payloads()
    assert len(payloads) >= 60
    assert len(set(payloads)) == len(payloads)
    for needle in ("<script", "onerror", "javascript:", "data:", "<svg", "<math", "\\url{", "$"):
        assert any(needle in p for p in payloads), needle


def test_checker_catches_payloads_rendered_raw() -> None:
    """The checker itself must fail on the raw payloads it is meant to catch."""
    caught = [p for p in load_payloads() if inert_html_problems(p)]
    assert len(caught) >= 40
    for raw in (
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<p title="x" onmouseover="y">',
        "<script>alert(1)</script>",
        '<svg><set attributeName="href" to="x"/></svg>',
        '<meta http-equiv="refresh" content="0">',
        '<math href="javascript:alert(1)">',
        '<div style="x">',
    ):
        assert inert_html_problems(raw), raw
    assert not inert_html_problems('<script src="../static/search.js" defer></script><p>ok</p>')


@pytest.mark.parametrize("payload", load_payloads())
def test_payloads_are_inert(payload: str) -> None:
    for wrapped in (payload, f"Intro $x$ text {payload} tail", f"{payload}\n\n{payload}"):
        assert_inert_html(str(abstract_html(wrapped)))
        assert_inert_html(str(inline_html(wrapped)))
        assert_inert_html(str(escape(plain_text(wrapped))))


# --- properties -----------------------------------------------------------------------------

OUR_TAGS = {
    "p", "em", "strong", "code", "a",
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "mmultiscripts", "mprescripts", "none",
}  # fmt: skip
OUR_ATTRS = {
    "href", "rel", "class", "display", "mathvariant", "mathsize", "width", "height", "depth",
    "voffset", "lspace", "rspace", "stretchy", "fence", "separator", "form", "largeop",
    "movablelimits", "accent", "accentunder", "minsize", "maxsize", "symmetric", "displaystyle",
    "scriptlevel", "linethickness", "notation", "columnalign", "rowalign", "columnspacing",
    "rowspacing", "columnlines", "rowlines", "frame",
}  # fmt: skip


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


def assert_only_our_markup(html: str) -> None:
    collector = _TagCollector()
    collector.feed(html)
    assert collector.tags <= OUR_TAGS, (collector.tags - OUR_TAGS, html)
    assert collector.attrs <= OUR_ATTRS, (collector.attrs - OUR_ATTRS, html)
    # every "<" in the output opens or closes one of our tags
    for m in re.finditer(r"<(/?)([a-z]*)", html):
        assert m.group(2) in OUR_TAGS, html
    assert_inert_html(html)


TOKENS = [
    *"<>&\"'$\\{}_^%~`-#/:.() \n",
    "ab", "x", "1", "https://", "javascript:", "\\url{", "\\href{", "\\textit{", "{\\it ",
    "\\frac{", "$$", "\\(", "\\[", "\\]", "<script>", "onerror=", "\u00e9", "\ue000",
    "\ue0010\ue001", "\\\"", "\\'", "\\c",
]  # fmt: skip
LATEXY = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(LATEXY)
def test_latexy_text_never_raises_and_stays_inert(text: str) -> None:
    assert_only_our_markup(str(abstract_html(text)))
    assert_only_our_markup(str(inline_html(text)))
    assert isinstance(plain_text(text), str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_never_raises_and_stays_inert(text: str) -> None:
    assert_only_our_markup(str(abstract_html(text)))
    assert_only_our_markup(str(inline_html(text)))
    plain_text(text)


def test_deeply_nested_input_does_not_fail() -> None:
    text = "{" * 3000 + "x" + "}" * 3000 + " $" + "{" * 500 + "y" + "}" * 500 + "$"
    assert_only_our_markup(str(abstract_html(text)))
    assert "x" in plain_text(text)


def test_many_dollars_stay_fast() -> None:
    import time

    text = "$1 " * 20000
    # CPU time, not wall time: a quadratic scan takes minutes of CPU, while a loaded machine
    # (tests run beside each other) can stretch a linear one past any wall-clock limit
    start = time.process_time()
    html = str(abstract_html(text))
    assert time.process_time() - start < 5
    assert "<math" not in html


# The scanner's tokens as first written (a lookahead, then the alternatives in order): the
# definition ``generator.latex._SCAN_RE`` is held to (it is written to be scanned faster).
SCAN_DEFINITION = re.compile(
    r"(?=[\\$%hH])(?:\\url\s*\{|\\href\s*\{|\\[\\$%()\[\]]|\$\$|\$|%|(?i:https?://))"
)
SCAN_TOKENS = [
    *TOKENS, "h", "H", "t", "p", "s", "hTtP://", "HTTPS://", "http:/", "https//", "\\url {",
    "\\href\n{", "\\%", "\\$", "\\\\", "\\(", "\\)", "\\[", "\\]", "\\u", "\\h", "$$$",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(SCAN_TOKENS), max_size=40).map("".join))
def test_scanner_finds_the_tokens_of_its_definition(text: str) -> None:
    from generator.latex import _SCAN_RE

    def tokens(pattern: re.Pattern[str]) -> list[tuple[int, str]]:
        return [(m.start(), m.group()) for m in pattern.finditer(text)]

    assert tokens(_SCAN_RE) == tokens(SCAN_DEFINITION)


def test_url_scheme_case_and_prose_h() -> None:
    html = str(inline_html("see HtTpS://example.org/a. the h and H stay; %5 \\$3"))
    assert '<a href="HtTpS://example.org/a" rel="nofollow noopener">' in html
    assert html.endswith("the h and H stay; %5 $3")
