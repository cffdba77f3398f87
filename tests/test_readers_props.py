"""Property tests: plausible random records written in each layout read back identically, and
random edits of the real seeds never raise and never lose a record without a diagnostic."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.model import Record
from generator.readers import read_seed_bytes, read_seed_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
TODAY = date(2026, 11, 22)
PROPS = settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- vocabulary ------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


LOWER_WORDS = words("we study the of a model for with learning data and on is to in new large")
TITLE_WORDS = [
    *words("Learning Models Language Efficient Towards Scaling Reasoning Graph Neural Networks"),
    *words("for with via on of and in the"),
    *words("LoopMoE NewsDialogues bert2BERT TinyBERT G-MAP DQ-LoRe Mixture-of-Experts"),
]
TITLE_ENDS = ["DFA", "NPUs", "Lean 4", "GPT-4", "LLMs", "Transformers", "BERT", "(v2)", "Need?"]
FIRST_NAMES = [
    *words("Yichun Jing Ana Bo Wen-tau Jean-Pierre Łukasz Zoë José Seán Çağlar Mary-Jane"),
    *words("Xiaoqi Ye Chengwu J. Ryan Edmundo"),
]
LAST_NAMES = [
    *words("Yin Xiong Silva Li Yih Dupont Kaiser Müller-Lüdenscheidt González O'Brien"),
    *words("Gülçehre LeCun McDonald Liu Yuan d'Arc"),
    "van der Berg", "de Souza e Silva", "van Rossum",
]  # fmt: skip
ABSTRACT_STARTS = ["A ", "3D ", "12 ", '"Deep" ', "$k$-means ", "we ", "We ", "The ", "(Abridged) "]
CATEGORIES = ["CL", "LG", "AI", "CV", "RO", "MA", "SD", "IR"]
MONTHS = words("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec")


def sentence(draw: st.DrawFn, start: str) -> str:
    words = draw(st.lists(st.sampled_from(LOWER_WORDS), min_size=4, max_size=14))
    mention = draw(st.sampled_from(["", " as in arXiv:1234.5678", " (see arXiv:hep-th/9901001)"]))
    return start + " ".join(words) + mention + "."


@st.composite
def abstracts(draw: st.DrawFn) -> str:
    first = sentence(draw, draw(st.sampled_from(ABSTRACT_STARTS)))
    more = draw(
        st.lists(st.sampled_from(["We show it works.", "Results improve by 3%."]), max_size=2)
    )
    return " ".join([first, *more])


@st.composite
def arxiv_ids(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        yy = draw(st.integers(7, 26))
        mm = draw(st.integers(1, 12))
        yymm = f"{yy:02d}{mm:02d}"
        digits = 4 if yymm < "1501" else 5
        base = f"{yymm}.{draw(st.integers(1, 10**digits - 1)):0{digits}d}"
    else:
        archive = draw(st.sampled_from(["hep-th", "math.AG", "cond-mat", "astro-ph", "quant-ph"]))
        base = f"{archive}/{draw(st.integers(9101001, 9912999)):07d}"
    version = draw(st.sampled_from(["", "v1", "v2", "v3", "v12"]))
    return base + version


DOIS = ["10.1103/PhysRevD.101.123456", "10.1145/3295500.3356144", "10.1088/1361-6382/ab1234"]
JOURNALS = [
    "ICML 2020",
    "NeurIPS 2021",
    "Phys. Rev. D 101, 123456 (2020)",
    "Nature 580, 123-127",
    "The Astrophysical Journal, Volume 894, 2020, Number 2, Page 87",
    "JHEP 0901:001,2009",
]


@st.composite
def references(draw: st.DrawFn) -> tuple[tuple[str, ...], str | None]:
    dois = tuple(draw(st.lists(st.sampled_from(DOIS), max_size=2, unique=True)))
    journal = draw(st.one_of(st.none(), st.sampled_from(JOURNALS)))
    return dois, journal


def reference_text(dois: tuple[str, ...], journal: str | None) -> str:
    parts = (["doi: " + " ".join(dois)] if dois else []) + ([journal] if journal else [])
    return " ".join(parts)


@st.composite
def arxiv_records(draw: st.DrawFn) -> dict[str, Any]:
    dois, journal = draw(references()) if draw(st.booleans()) else ((), None)
    return {
        "arxiv_id": draw(arxiv_ids()),
        "abstract": draw(abstracts()),
        "comments": draw(st.sampled_from([None, "12 pages, 3 figures", "Accepted at ICML 2020"])),
        "dois": dois,
        "doi": dois[0] if dois else None,
        "journal_ref": journal,
        "date": draw(st.dates(date(1991, 8, 1), date(2026, 11, 1))).isoformat(),
    }


def _ambiguous(head: str, abstract: str) -> bool:
    """A number before an abstract starting with one: a reference ending in a number (not a
    year), or a version suffix ("v112 languages" could be v1, v11 or v112)."""
    if not abstract[0].isdigit():
        return False
    ref = head.partition(" - ")[2]
    if ref:
        return not re.search(r"(?:19|20)\d\d$", ref)
    return bool(re.search(r"v\d+$", head))


# --- arXiv blocks --------------------------------------------------------------------------


@given(st.lists(arxiv_records(), min_size=1, max_size=6))
@PROPS
def test_blocks_round_trip(specs: list[dict[str, Any]]) -> None:
    lines: list[str] = []
    want: list[Record] = []
    for k, spec in enumerate(specs):
        if lines:
            lines.append("")
        start = len(lines) + 1
        lines += [spec["abstract"], ""]
        if spec["comments"]:
            lines += [spec["comments"], ""]
        ref = reference_text(spec["dois"], spec["journal_ref"])
        lines += [f"arXiv:{spec['arxiv_id']}" + (f" - {ref}" if ref else "")]
        lines += [f"Created: {spec['date']}"]
        want.append(Record("p.txt", start, k, "arxiv-blocks", date_text=spec["date"], **spec))
    seed, diags = read_seed_text("p.txt", "\n".join(lines) + "\n", TODAY)
    assert diags == ()
    assert list(seed.records) == want


# --- run-on ------------------------------------------------------------------------------------


@given(st.lists(arxiv_records(), min_size=1, max_size=6))
@PROPS
def test_run_on_round_trip(specs: list[dict[str, Any]]) -> None:
    lines: list[str] = []
    want: list[Record] = []
    tail = ""  # the previous record's arXiv line, which the next abstract runs on from
    for k, spec in enumerate(specs):
        if _ambiguous(tail, spec["abstract"]):
            spec["abstract"] = "We " + spec["abstract"]
        start = max(len(lines), 1)
        if tail:
            lines[-1] = tail + spec["abstract"]
        else:
            lines.append(spec["abstract"])
        if spec["comments"]:
            lines.append(spec["comments"])
        ref = reference_text(spec["dois"], spec["journal_ref"])
        tail = f"arXiv:{spec['arxiv_id']}" + (f" - {ref}" if ref else "")
        lines.append(tail)
        spec = {**spec, "date": None}
        want.append(Record("p.txt", start, k, "arxiv-run-on", **spec))
    seed, diags = read_seed_text("p.txt", "\n".join(lines), TODAY)
    assert diags == ()
    assert list(seed.records) == want


# --- listing -----------------------------------------------------------------------------------


@st.composite
def listing_records(draw: st.DrawFn) -> dict[str, Any]:
    words = draw(st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=8))
    title = " ".join([*words, draw(st.sampled_from([*TITLE_ENDS, *TITLE_WORDS[:10]]))])
    authors = tuple(
        f"{draw(st.sampled_from(FIRST_NAMES))} {draw(st.sampled_from(LAST_NAMES))}"
        for _ in range(draw(st.integers(1, 4)))
    )
    with_year = draw(st.booleans())
    if with_year:
        day = draw(st.dates(date(2015, 1, 1), date(2026, 12, 31)))
    else:
        day = TODAY - timedelta(days=draw(st.integers(0, 364)))
    score = draw(st.one_of(st.none(), st.integers(100, 999).map(lambda n: n / 10)))
    return {
        "title": title,
        "authors": authors,
        "authors_truncated": draw(st.booleans()),
        "affiliation": draw(st.sampled_from([None, "tsinghua", "ETH Zürich", "mit"])),
        "category": draw(st.sampled_from(CATEGORIES)),
        "score": score,
        "has_code": draw(st.booleans()),
        "date": day.isoformat(),
        "date_text": f"{MONTHS[day.month - 1]} {day.day}" + (f", {day.year}" if with_year else ""),
        "date_inferred": not with_year,
        "abstract": draw(abstracts()),
    }


@given(st.lists(listing_records(), min_size=1, max_size=6))
@PROPS
def test_listing_round_trip(specs: list[dict[str, Any]]) -> None:
    lines: list[str] = []
    want: list[Record] = []
    for k, spec in enumerate(specs):
        score = f"{spec['score']:.1f}" if spec["score"] is not None else ""
        code = "Code" if spec["has_code"] else ""
        lines.append(f"{score}{spec['category']}{spec['date_text']}{code}")
        names = ", ".join(spec["authors"]) + (" et al." if spec["authors_truncated"] else "")
        affiliation = f" · {spec['affiliation']}" if spec["affiliation"] else ""
        lines.append(spec["title"] + names + affiliation)
        lines.append(spec["abstract"])
        want.append(Record("p.txt", 3 * k + 1, k, "listing", **spec))
    seed, diags = read_seed_text("p.txt", "\r\n".join(lines) + "\r\n", TODAY)
    assert diags == ()
    assert list(seed.records) == want


# --- never raises ------------------------------------------------------------------------------


@given(
    st.text(
        alphabet=st.sampled_from("aA1 .-,:$\n\r\t·é\ufeffarXivCreated:Oct 4, 2023"), max_size=300
    )
)
@PROPS
def test_any_text_reads_without_raising(text: str) -> None:
    seed, diags = read_seed_text("r.txt", text, TODAY)
    assert all(d.file == "r.txt" and d.line >= 0 for d in diags)


# --- mutation fuzzing of the real seeds -------------------------------------------------------

ANCHOR_RES = {
    "arxiv-blocks": re.compile(r"^arXiv:(\S+?)(?: - .*)?$"),
    "arxiv-run-on": re.compile(r"^arXiv:"),
    "listing": re.compile(r"^(?:\d{1,3}(?:\.\d+)?)?[A-Za-z][A-Za-z.-]*?[A-Z][a-z]{2} \d{1,2}"),
}


def _mutate(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["delete", "duplicate", "truncate", "bytes", "join"])
        k = rng.randrange(len(lines)) if lines else 0
        if op == "delete" and lines:
            del lines[k]
        elif op == "duplicate" and lines:
            lines.insert(k, lines[k])
        elif op == "join" and len(lines) > 1 and k + 1 < len(lines):
            lines[k : k + 2] = [lines[k] + lines[k + 1]]
        elif op == "truncate":
            joined = b"\n".join(lines)
            lines = joined[: rng.randrange(len(joined) + 1)].split(b"\n")
        elif op == "bytes" and lines:
            line = lines[k]
            pos = rng.randrange(len(line) + 1)
            lines[k] = (
                line[:pos]
                + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
                + line[pos:]
            )
    return b"\n".join(lines)


def test_mutated_seeds_never_raise_and_never_lose_a_record_silently() -> None:
    rng = random.Random(20261122)
    for path in SEEDS:
        original = path.read_bytes()
        for _ in range(80):
            data = _mutate(original, rng)
            seed, diags = read_seed_bytes("m.txt", data, TODAY)
            if seed.layout is None:
                assert any(d.severity in ("error", "warning") for d in diags)
                continue
            text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
            lines = [line.strip() for line in text.split("\n")]
            anchors = [n for n, line in enumerate(lines, 1) if ANCHOR_RES[seed.layout].match(line)]
            _check_accounted(seed.layout, lines, anchors, list(seed.records), diags)


def _check_accounted(
    layout: str, lines: list[str], anchors: list[int], records: list[Record], diags: Any
) -> None:
    """Each record anchor (an arXiv line, a listing header) is read or named by a diagnostic
    between the previous anchor and the lines just after it."""
    starts = {r.line for r in records}
    flagged = [d.line for d in diags if d.severity == "error"]
    ids = {r.arxiv_id for r in records}
    prev = 0
    for anchor in anchors:
        if layout == "listing":
            read = anchor in starts
            span = range(anchor, anchor + 3)
        else:
            found = re.match(r"arXiv:(\S+)", lines[anchor - 1])
            token = found.group(1) if found else ""
            read = any(i is not None and token.startswith(i) for i in ids)
            span = range(prev + 1, anchor + 2)
        named = any(line in span for line in flagged)
        assert read or named, (layout, anchor, lines[anchor - 1][:60])
        prev = anchor
