"""Every URL of the site is decided here, once.

Site paths are files, not folders (``papers/2106.02241.html``), so every link works from
file:// as well as from any host and sub-path; links between pages are always relative.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterable

_NON_WORD = re.compile(r"[^a-z0-9]+")

# Letters NFKD does not decompose into ASCII.
_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "þ": "th",
        "Þ": "th",
        "ð": "d",
        "Ð": "d",
        "œ": "oe",
        "Œ": "oe",
        "ı": "i",
    }
)


def slugify(text: str, fallback: str = "x") -> str:
    """Lower-case ASCII words joined by '-': never empty, never '.', '..' or containing '/'."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    slug = _NON_WORD.sub("-", ascii_text).strip("-")
    return slug[:80].rstrip("-") or fallback


def unique_slugs(names: Iterable[str], fallback: str = "x") -> dict[str, str]:
    """Map each distinct name to a unique slug; collisions get -2, -3 ... in sorted name order."""
    taken: set[str] = set()
    result: dict[str, str] = {}
    for name in sorted(set(names)):
        base = slugify(name, fallback)
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        result[name] = slug
    return result


def paper_id_from_arxiv(base_id: str) -> str:
    """``hep-th/9901001`` -> ``hep-th-9901001``; new-style ids are kept as they are."""
    return re.sub(r"[^A-Za-z0-9.\-]", "-", base_id.replace("/", "-")).strip(".-") or "x"


def paper_path(paper_id: str) -> str:
    return f"papers/{paper_id}.html"


def author_path(author_id: str) -> str:
    return f"authors/{author_id}.html"


def topic_path(topic_id: str) -> str:
    return f"topics/{topic_id}.html"


def listing_path(listing_id: str) -> str:
    return f"listings/{listing_id}.html"


def year_path(year: int) -> str:
    return f"years/{year}.html"


def feed_path(kind: str, item_id: str) -> str:
    return f"feeds/{kind}/{item_id}.xml"


INDEX = "index.html"
YEARS_INDEX = "years.html"
AUTHORS_INDEX = "authors.html"
TOPICS_INDEX = "topics.html"
LISTINGS_INDEX = "listings.html"
SEARCH = "search.html"
NOT_FOUND = "404.html"


def relative_url(from_path: str, to_path: str) -> str:
    """Relative href from one site file to another site file (or folder when it ends in '/').

    ``relative_url("papers/a.html", "index.html") == "../index.html"``;
    ``relative_url("papers/a.html", "") == "../"`` (the site root).
    """
    from_dir = posixpath.dirname(from_path)
    if to_path in ("", "/"):
        rel = posixpath.relpath(".", from_dir or ".")
        return "" if rel == "." else rel + "/"
    trailing = "/" if to_path.endswith("/") else ""
    rel = posixpath.relpath(to_path.rstrip("/"), from_dir or ".")
    return rel + trailing


def absolute_url(base_url: str, path: str) -> str:
    """``absolute_url("https://x.org/sub", "papers/a.html") == "https://x.org/sub/papers/a.html"``."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def is_safe_site_path(path: str) -> bool:
    """A path that stays inside the output folder."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def page_path(path: str, page: int) -> str:
    """Page ``page`` (1-based) of a paged list page: page 1 is ``path`` itself, later pages
    insert ``.page-N`` before ``.html`` (``authors/wei-li.html`` -> ``authors/wei-li.page-2.html``).
    Slugs never contain '.', so a page never collides with another author's or topic's page."""
    if page <= 1:
        return path
    stem, dot, ext = path.rpartition(".")
    return f"{stem}.page-{page}.{ext}" if dot else f"{path}.page-{page}"


def authors_letter_path(letter: str) -> str:
    """One letter of the A-Z authors index, used when the index is too long for one page."""
    return f"authors-{letter}.html"
