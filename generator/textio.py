"""What every input file reader does first: find out whether the bytes are UTF-8.

Seed listings and BibTeX files share this step; each then decodes UTF-8 its own way (the
readers name undecodable bytes and show U+FFFD, BibTeX reads such a line as Latin-1).
"""

from __future__ import annotations

from generator.diagnostics import Diagnostic, error, note

_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def sniff_encoding(name: str, data: bytes) -> tuple[str | None, bytes, list[Diagnostic]]:
    """``(text, rest, diagnostics)``. A UTF-8 byte-order mark is dropped. A file with a UTF-32
    or UTF-16 byte-order mark is decoded here (``text``) with a note. Otherwise ``text`` is
    None and ``rest`` is the bytes to decode as UTF-8; NUL bytes in them (UTF-16 or UTF-32
    without a mark) are an error naming the line and the likely encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(codec, errors="replace")
            how = "" if "\ufffd" not in text else "; undecodable units are shown as U+FFFD"
            found = note(name, 1, f"read as {codec.upper()} (byte-order mark); expected UTF-8{how}")
            return text, b"", [found]
    diags: list[Diagnostic] = []
    if b"\x00" in data:
        diags.append(
            error(
                name,
                data[: data.index(b"\x00")].count(b"\n") + 1,
                "expected UTF-8 text, found NUL bytes: the file looks like UTF-16 or UTF-32 "
                "without a byte-order mark; save it as UTF-8",
            )
        )
    return None, data, diags
