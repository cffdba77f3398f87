"""Shared hostile-text helpers: the XSS payload corpus and a check that HTML is inert.

    from tests.xss import assert_inert_html, load_payloads

`assert_inert_html` parses with the standard library's html.parser and fails on anything a
payload could have created: inline or foreign scripts, event-handler attributes, script URLs,
frames/objects/embeds, style, <base>, <meta http-equiv> (other than a Content-Security-Policy),
and script-capable SVG.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

PAYLOADS_PATH = Path(__file__).parent / "fixtures" / "xss_payloads.txt"

_URL_ATTRS = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
     "srcset", "ping", "cite", "longdesc", "lowsrc", "dynsrc", "codebase", "manifest"}
)  # fmt: skip
_BAD_SCHEMES = ("javascript:", "data:", "vbscript:", "livescript:", "mocha:")
_FORBIDDEN_ELEMENTS = frozenset(
    {"iframe", "frame", "frameset", "object", "embed", "applet", "style", "base", "portal",
     "foreignobject", "handler", "listener", "import"}
)  # fmt: skip
_SVG_ANIMATION = frozenset({"animate", "set", "animatetransform", "animatemotion"})
_FORBIDDEN_ATTRS = frozenset({"style", "srcdoc", "formaction", "xmlns:xlink"})
# Whitespace and control characters a browser drops inside a URL scheme ("jav&#x09;ascript:").
_SCHEME_NOISE = re.compile(r"[\x00-\x20\x7f]+")
_OUR_SCRIPT = re.compile(r"^(?:\.\./)*(?:static|pagefind|search-index)/[\w./-]+\.js$")


def load_payloads() -> list[str]:
    """Every payload in tests/fixtures/xss_payloads.txt (one per line, blank lines skipped)."""
    lines = PAYLOADS_PATH.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


class _InertChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._svg_depth = 0
        self._in_script = False

    def _problem(self, text: str) -> None:
        line, col = self.getpos()
        self.problems.append(f"{line}:{col}: {text}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)
        if tag == "svg":
            self._svg_depth += 1
        if tag == "script":
            self._in_script = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._svg_depth:
            self._svg_depth -= 1
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self._problem(f"inline script content {data.strip()[:60]!r}")

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _FORBIDDEN_ELEMENTS:
            self._problem(f"<{tag}> element")
        if tag == "script":
            src = values.get("src", "")
            if not _OUR_SCRIPT.match(src):
                self._problem(f"<script> not loading one of our static files (src={src!r})")
        if self._svg_depth and tag in _SVG_ANIMATION:
            self._problem(f"<{tag}> animation inside <svg>")
        equiv = values.get("http-equiv", "").strip().lower()
        if tag == "meta" and "http-equiv" in values and equiv != "content-security-policy":
            self._problem(f"<meta http-equiv={equiv!r}>")
        for name, value in values.items():
            if name.startswith("on"):
                self._problem(f"<{tag} {name}=...> event handler")
            if name in _FORBIDDEN_ATTRS:
                self._problem(f"<{tag} {name}=...> attribute")
            if name in _URL_ATTRS or name.endswith(":href"):
                scheme = _SCHEME_NOISE.sub("", value).lower()
                if scheme.startswith(_BAD_SCHEMES):
                    self._problem(f"<{tag} {name}={value[:60]!r}> script-capable URL")


def inert_html_problems(html: str) -> list[str]:
    """Every reason `html` is not inert (empty when it is), as "line:col: what"."""
    checker = _InertChecker()
    checker.feed(html)
    checker.close()
    return checker.problems


def assert_inert_html(html: str) -> None:
    """Fail when `html` holds any element or attribute an injected payload could create."""
    problems = inert_html_problems(html)
    assert not problems, "HTML is not inert:\n  " + "\n  ".join(problems) + f"\nin:\n{html[:2000]}"
