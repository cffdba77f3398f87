"""The precomputed character classes are current, and the cheap classes match the same
characters as the plain ones they replace."""

from __future__ import annotations

import re
import unicodedata

import pytest

from generator.readers import charclass_data, charclasses, common

ALL = "".join(map(chr, range(0x110000)))  # every code point, surrogates and astral included


def test_the_table_is_this_pythons_unicode_version_and_matches_a_fresh_computation() -> None:
    regenerate = "run python -m generator.readers.charclasses to rewrite charclass_data.py"
    assert unicodedata.unidata_version == charclass_data.UNIDATA_VERSION, regenerate
    fresh = charclasses.compute()
    assert charclasses.classes() == fresh, regenerate
    written = charclasses.data_module(fresh, unicodedata.unidata_version)
    assert charclasses.DATA.read_text(encoding="ascii") == written, regenerate
    assert fresh[:3] == (common.UPPER, common.LOWER, common.CAPITAL)


def test_another_unicode_version_computes_the_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charclass_data, "UPPER", "A")
    assert charclasses.classes().upper == "A"  # the table is read when the version fits
    monkeypatch.setattr(charclass_data, "UNIDATA_VERSION", "1.0.0")
    assert charclasses.classes() == charclasses.compute()


def test_the_written_table_reads_back_as_the_classes() -> None:
    found = charclasses.compute()
    namespace: dict[str, object] = {}
    exec(charclasses.data_module(found, "9.9.9"), namespace)
    assert namespace["UNIDATA_VERSION"] == "9.9.9"
    assert tuple(namespace[name.upper()] for name in charclasses.CharClasses._fields) == found
    for line in charclasses.data_module(found, "9.9.9").splitlines():
        assert len(line) <= 100 and line.isascii()


def test_number_holds_the_word_characters_that_are_not_letters_or_underscore() -> None:
    bmp = ALL[:0x10000]
    numbers = "".join(re.findall(f"[{charclasses.compute().number}]", bmp))
    assert numbers == "".join(c for c in bmp if c.isalnum() and not c.isalpha())
    assert "7" in numbers and "Ⅻ" in numbers and "a" not in numbers


def test_the_negated_lower_class_matches_exactly_the_plain_one_on_every_code_point() -> None:
    plain = re.findall(f"[{common.LOWER}]", ALL)
    assert re.findall(common.LOWER_CLASS, ALL) == plain
    assert "a" in plain and "中" in plain and "A" not in plain and "\U0001d44e" not in plain
