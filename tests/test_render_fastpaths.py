"""The render stage's fast paths, each held to the plain way it replaces."""

from __future__ import annotations

import hashlib
import random
import stat
from pathlib import Path
from typing import Any, cast

import pytest
from render_catalog import Config, make_catalog, many_papers_catalog

from generator.config import SiteConfig
from generator.render import _CONTROL, Renderer, page_bytes, root_prefix
from generator.write import WriteError, open_staging


def site_config(**fields: Any) -> SiteConfig:
    """The tests' stand-in config (the fields rendering reads), typed as the real one."""
    return cast(SiteConfig, Config(**fields))


def plain_page_bytes(html: str) -> bytes:
    return _CONTROL.sub("", html).encode("utf-8")


# every forbidden character's neighbours, and characters whose UTF-8 shares a lead byte
# with a forbidden one (EF B7 / EF BF / C2 8x-9x)
EDGES = [
    *map(chr, range(0x00, 0x21)),
    *map(chr, range(0x7E, 0xA1)),
    "\ufdcf",
    "\ufdd0",
    "\ufddf",
    "\ufdef",
    "\ufdf0",
    "\ufffd",
    "\ufffe",
    "\uffff",
    "\uf000",
    "\ufb01",
    "\ufe0f",
    "\u00b7",
    "\u2013",
    "\U0001f600",
    "\U0010ffff",
]


@pytest.mark.parametrize("char", EDGES, ids=[f"U+{ord(c):04X}" for c in EDGES])
def test_page_bytes_drops_what_the_expression_drops(char: str) -> None:
    for html in (char, f"<p>a{char}b</p>", f"· {char}{char} –\n"):
        assert page_bytes(html) == plain_page_bytes(html)


def test_page_bytes_on_random_text_equals_the_expression() -> None:
    rng = random.Random(8)
    pool = [*EDGES, "a", "<", "&", "é", "\u4e2d", "\n"]
    for _ in range(2000):
        html = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 40)))
        assert page_bytes(html) == plain_page_bytes(html), repr(html)


def _every_file(renderer: Renderer) -> dict[str, bytes]:
    return {f.path: f.data for job in renderer.jobs() for f in renderer.run(job)}


@pytest.mark.parametrize("hostile", [False, True])
def test_prepared_caches_render_the_same_site(hostile: bool) -> None:
    catalog = make_catalog(hostile=hostile)
    config = site_config(base_url="https://example.org/sub/")
    prepared = Renderer(catalog, config)
    prepared.prepare()
    prefix = root_prefix("papers")
    assert {key for key in prepared._card_html if key[0] == prefix} == {
        (prefix, p.id) for p in catalog.papers
    }
    assert set(prepared.index._plain) == {p.id for p in catalog.papers}
    assert _every_file(prepared) == _every_file(Renderer(catalog, config))


def test_prepared_caches_render_the_same_paged_lists() -> None:
    catalog = many_papers_catalog(450)
    prepared = Renderer(catalog, site_config())
    prepared.prepare()
    assert _every_file(prepared) == _every_file(Renderer(catalog, site_config()))


def test_staging_put_writes_like_open_xb(tmp_path: Path) -> None:
    out = tmp_path / "site"
    staging = open_staging(out)
    try:
        data = bytes(range(256)) * 1000
        digest, linked = staging.put("papers/a.html", data)
        assert not linked
        assert digest == hashlib.sha256(data).digest()
        target = staging.folder / "papers" / "a.html"
        assert target.read_bytes() == data
        plain = tmp_path / "plain"
        with open(plain, "xb") as fh:
            fh.write(b"")
        assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
        staging.put("empty.html", b"")
        assert (staging.folder / "empty.html").read_bytes() == b""
        with pytest.raises(WriteError, match="same path: papers/a.html"):
            staging.put("papers/a.html", b"other")
        assert target.read_bytes() == data
        with pytest.raises(WriteError, match="outside the site"):
            staging.put("../escape.html", b"x")
    finally:
        staging.abort()
