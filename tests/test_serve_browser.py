"""The live-reload script in a real browser, under the site's strict CSP: the error overlay
appears with the error as text, and a good rebuild reloads the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.serve import DevServer

CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'"
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    '<title>t</title></head><body><h1 id="v">build {n}</h1></body></html>'
)

pytestmark = pytest.mark.browser


def test_overlay_and_reload_under_strict_csp(tmp_path: Path, browser: Any) -> None:
    out = tmp_path / "site"
    state: dict[str, Any] = {"n": 0, "fail": None}

    def build() -> tuple[bool, str | None]:
        if state["fail"]:
            return False, state["fail"]
        state["n"] += 1
        out.mkdir(exist_ok=True)
        (out / "index.html").write_text(PAGE.format(n=state["n"]), encoding="utf-8")
        return True, None

    server = DevServer(build, out, "127.0.0.1", 0, lambda _: None)
    try:
        server.rebuild()
        server.start()
        page = browser.new_page()
        violations: list[str] = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security" in m.text else None,
        )
        page.goto(server.url)
        assert page.text_content("#v") == "build 1"

        state["fail"] = "templates/base.html:3: <b>unexpected</b> '}'"
        server.rebuild()
        overlay = page.locator("#papersite-error")
        overlay.wait_for(state="visible", timeout=10_000)
        assert "<b>unexpected</b>" in (overlay.locator("pre").text_content() or "")
        assert page.locator("#papersite-error b").count() == 0  # text, not markup
        assert page.text_content("#v") == "build 1"

        state["fail"] = None
        server.rebuild()
        page.locator("#v", has_text="build 2").wait_for(timeout=10_000)
        assert page.locator("#papersite-error").count() == 0
        assert violations == []
        page.close()
    finally:
        server.close()
