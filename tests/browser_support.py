"""Shared helpers for the browser tests: Debian's chromium through Playwright, a local server
that sends the site's strict Content-Security-Policy, and a collector of console errors and
CSP violations.

Use::

    from tests.browser_support import serve_site, watch_page  # helpers; `browser` is in conftest

    def test_x(browser, seed_site):
        with serve_site(seed_site, prefix="/sub/dir/") as base:
            page = browser.new_page()
            problems = watch_page(page)
            page.goto(base + "search.html?q=bert")
            ...
            assert problems.errors == []

Chromium missing: the tests skip with a reason, except under CI (env ``CI`` set), where they
fail. Playwright never downloads a browser here: it is given ``/usr/bin/chromium``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import posixpath
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# Records CSP violations in the page itself (console messages catch most, this catches all).
# Added as an init script, so it runs before any page script and is not inline in the page.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const text = e.violatedDirective + " " + (e.blockedURI || "inline");
  window.__cspViolations.push(text);
  console.error("securitypolicyviolation: " + text);
});
"""


def require_chromium() -> None:
    """Skip (or fail under CI) when Debian's chromium is not installed."""
    if CHROMIUM.is_file():
        return
    message = f"{CHROMIUM} not found: apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def launch_browser() -> Iterator[Any]:
    """One headless chromium (a Playwright ``Browser``) for as long as the block runs."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class _Handler(http.server.SimpleHTTPRequestHandler):
    prefix = "/"

    def send_head(self) -> Any:
        if not urllib.parse.urlsplit(self.path).path.startswith(self.prefix):
            self.send_error(404, "outside the served prefix")
            return None
        return super().send_head()

    def translate_path(self, path: str) -> str:
        path = urllib.parse.urlsplit(path).path
        rel = posixpath.normpath(urllib.parse.unquote(path[len(self.prefix) :]))
        parts = [p for p in rel.split("/") if p not in ("", ".", "..")]
        return str(Path(self.directory, *parts))

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


_Handler.extensions_map = {
    **http.server.SimpleHTTPRequestHandler.extensions_map,
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".css": "text/css",
    ".xml": "application/xml",
    "": "application/octet-stream",
}


@contextlib.contextmanager
def serve_site(site: Path, prefix: str = "/") -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 (a free port) under ``prefix``; yield the site's base URL."""
    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise ValueError(f"prefix must start and end with '/': {prefix!r}")
    handler = type("SiteHandler", (_Handler,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class PageProblems:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    page: Any
    console: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        found = list(self.console)
        with contextlib.suppress(Exception):
            found += [f"CSP: {v}" for v in self.page.evaluate("window.__cspViolations || []")]
        return found


def watch_page(page: Any) -> PageProblems:
    """Start recording the page's console errors, page errors and CSP violations."""
    problems = PageProblems(page)
    page.add_init_script(_CSP_LISTENER)

    def on_console(msg: Any) -> None:
        text = msg.text
        url = (msg.location or {}).get("url", "")
        if url.endswith("/favicon.ico"):  # chromium asks every origin for one; not the page's
            return
        if msg.type == "error" or "Content Security Policy" in text:
            problems.console.append(f"console.{msg.type}: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.console.append(f"pageerror: {exc}"))
    return problems
