"""Site options from an optional TOML file (``papersite.toml`` at the top of the project).

Every key is documented in the README. Problems are diagnostics with file and line, never
tracebacks; an unknown key is a warning (so a typo does not pass silently).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, error, warning
from generator.topics import TopicConfig

DEFAULT_CONFIG = Path("papersite.toml")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    title: str = "papersite"
    description: str = "Research papers: listings, authors and topics, searchable and citable."
    base_url: str | None = None  # e.g. "https://example.org/papers/"
    listing_names: Mapping[str, str] = field(default_factory=dict)  # file stem -> name
    topics: TopicConfig = field(default_factory=TopicConfig)
    author_aliases: Mapping[str, str] = field(default_factory=dict)  # spelling -> canonical
    # name -> ((label, paper ids), ...): one name that is several people
    author_splits: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(
        default_factory=dict
    )


_TOP_KEYS = {"title", "description", "base_url", "listings", "topics", "authors"}


def _line_of(text: str, key: str) -> int:
    m = re.search(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}\b", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def _str_map(
    value: object, where: str, file: str, line: int, diags: list[Diagnostic]
) -> dict[str, str]:
    if not isinstance(value, dict):
        diags.append(error(file, line, f"{where}: expected a table of names, found {value!r}"))
        return {}
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, str):
            out[str(k)] = v
        else:
            diags.append(error(file, line, f"{where}.{k}: expected a string, found {v!r}"))
    return out


def _str_list(
    value: object, where: str, file: str, line: int, diags: list[Diagnostic]
) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    diags.append(error(file, line, f"{where}: expected a list of strings, found {value!r}"))
    return ()


def parse_config(file: str, text: str) -> tuple[SiteConfig, tuple[Diagnostic, ...]]:
    diags: list[Diagnostic] = []
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        return SiteConfig(), (error(file, int(m.group(1)) if m else 1, f"invalid TOML: {exc}"),)

    for key in sorted(set(data) - _TOP_KEYS):
        diags.append(
            warning(
                file,
                _line_of(text, key),
                f"unknown key {key!r} (known: " + ", ".join(sorted(_TOP_KEYS)) + ")",
            )
        )

    def text_value(key: str, default: str | None) -> str | None:
        v = data.get(key, default)
        if v is None or isinstance(v, str):
            return v
        diags.append(error(file, _line_of(text, key), f"{key}: expected a string, found {v!r}"))
        return default

    defaults = SiteConfig()
    title = text_value("title", defaults.title) or defaults.title
    description = text_value("description", defaults.description) or defaults.description
    base_url = text_value("base_url", None)
    if base_url is not None and not re.match(r"^https?://[^\s/]+", base_url):
        diags.append(
            error(
                file,
                _line_of(text, "base_url"),
                f"base_url: expected an http(s) URL, found {base_url!r}",
            )
        )
        base_url = None

    listing_names = _str_map(
        data.get("listings", {}), "listings", file, _line_of(text, "listings"), diags
    )

    topics_raw = data.get("topics", {})
    tline = _line_of(text, "topics")
    rename: dict[str, str] = {}
    merge: dict[str, str] = {}
    block: tuple[str, ...] = ()
    pin: dict[str, tuple[str, ...]] = {}
    if isinstance(topics_raw, dict):
        for key in sorted(set(topics_raw) - {"rename", "merge", "block", "pin"}):
            diags.append(
                warning(
                    file, tline, f"topics.{key}: unknown key (known: block, merge, pin, rename)"
                )
            )
        rename = _str_map(topics_raw.get("rename", {}), "topics.rename", file, tline, diags)
        merge = _str_map(topics_raw.get("merge", {}), "topics.merge", file, tline, diags)
        if "block" in topics_raw:
            block = _str_list(topics_raw["block"], "topics.block", file, tline, diags)
        pins = topics_raw.get("pin", {})
        if isinstance(pins, dict):
            for pid, names in pins.items():
                pin[str(pid)] = _str_list(names, f"topics.pin.{pid}", file, tline, diags)
        else:
            diags.append(error(file, tline, f"topics.pin: expected a table, found {pins!r}"))
    else:
        diags.append(error(file, tline, f"topics: expected a table, found {topics_raw!r}"))

    authors_raw = data.get("authors", {})
    aline = _line_of(text, "authors")
    aliases: dict[str, str] = {}
    splits: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
    if isinstance(authors_raw, dict):
        for key in sorted(set(authors_raw) - {"aliases", "splits"}):
            diags.append(
                warning(file, aline, f"authors.{key}: unknown key (known: aliases, splits)")
            )
        aliases = _str_map(authors_raw.get("aliases", {}), "authors.aliases", file, aline, diags)
        raw_splits = authors_raw.get("splits", {})
        if isinstance(raw_splits, dict):
            for name, people in sorted(raw_splits.items()):
                if not isinstance(people, dict):
                    diags.append(
                        error(
                            file,
                            aline,
                            f"authors.splits.{name}: expected a table of label = [paper ids]",
                        )
                    )
                    continue
                splits[str(name)] = tuple(
                    (
                        str(label),
                        _str_list(ids, f"authors.splits.{name}.{label}", file, aline, diags),
                    )
                    for label, ids in sorted(people.items())
                )
        else:
            diags.append(
                error(file, aline, f"authors.splits: expected a table, found {raw_splits!r}")
            )
    else:
        diags.append(error(file, aline, f"authors: expected a table, found {authors_raw!r}"))

    config = SiteConfig(
        title=title,
        description=description,
        base_url=base_url,
        listing_names=listing_names,
        topics=TopicConfig(rename=rename, merge=merge, block=block, pin=pin),
        author_aliases=aliases,
        author_splits=splits,
    )
    return config, tuple(diags)


def load_config(
    path: Path | None, base_url: str | None = None
) -> tuple[SiteConfig, tuple[Diagnostic, ...]]:
    """Read ``path`` (or ``papersite.toml`` when it exists); ``base_url`` overrides the file's."""
    diags: tuple[Diagnostic, ...] = ()
    config = SiteConfig()
    chosen = path if path is not None else (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    if chosen is not None:
        try:
            text = chosen.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return config, (error(str(chosen), 1, f"cannot read config: {exc}"),)
        config, diags = parse_config(str(chosen), text)
    if base_url is not None:
        if re.match(r"^https?://[^\s/]+", base_url):
            config = _replace(config, base_url=base_url)
        else:
            diags = (*diags, error("--base-url", 1, f"expected an http(s) URL, found {base_url!r}"))
    return config, diags


def _replace(config: SiteConfig, **changes: Any) -> SiteConfig:
    from dataclasses import replace

    return replace(config, **changes)
