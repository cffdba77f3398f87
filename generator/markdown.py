"""Markdown written by the site's owner (the config's ``description``) to safe HTML.

CommonMark via markdown-it-py with raw HTML off and images off; links only to http(s).
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    md.validateLink = lambda url: url.lower().startswith(("http://", "https://"))  # type: ignore[method-assign]
    return md


def markdown_html(text: str) -> Markup:
    """Render ``text``; any HTML in it is shown as text, links go only to http(s) URLs."""
    return Markup(_parser().render(text).strip())
