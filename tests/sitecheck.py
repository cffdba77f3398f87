"""Helpers for render tests: collect links of rendered pages and check they resolve."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class PageParser(HTMLParser):
    """Collects every href/src, every id, every element and attribute of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        for name in ("href", "src"):
            if a.get(name) is not None:
                self.links.append(a[name] or "")
        if a.get("id"):
            self.ids.add(a["id"] or "")
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(html: str) -> PageParser:
    p = PageParser()
    p.feed(html)
    p.close()
    return p


def broken_links(pages: Mapping[str, str], files: set[str]) -> list[str]:
    """Every internal href/src of ``pages`` (path -> html) that does not resolve to a file of
    ``files`` (or to an id on the target page). External http(s) links are not followed."""
    parsed = {path: parse(html) for path, html in pages.items()}
    bad = []
    for path, page in parsed.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            if parts.scheme or link.startswith("/") or parts.netloc:
                bad.append(f"{path}: non-relative link {link!r}")
                continue
            if not parts.path:
                target = path
            else:
                if parts.path.endswith("/"):
                    bad.append(f"{path}: link to a folder {link!r}")
                    continue
                target = posixpath.normpath(
                    posixpath.join(posixpath.dirname(path), unquote(parts.path))
                )
            if target not in files:
                bad.append(f"{path}: {link!r} -> {target} missing")
            elif parts.fragment and target in parsed and parts.fragment not in parsed[target].ids:
                bad.append(f"{path}: {link!r} -> no id {parts.fragment!r}")
    return bad
