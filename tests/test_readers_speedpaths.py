"""The readers' fast paths agree with the careful definitions they shortcut.

Each test states the plain definition (every glue point scored, no cut-off, no early exit, no
guard in the pattern) and checks the fast code against it on generated and adversarial text.
"""

from __future__ import annotations

import pickle
import re
from datetime import date
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import generator.readers as readers_package
from generator.readers import arxiv_run_on as run_on
from generator.readers import common, names

TODAY = date(2026, 11, 22)
FAST = settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- text that exercises glue points: title words, names, particles, capitals, astral letters


def words(text: str) -> list[str]:
    return text.split()


PIECES = [
    *words("Learning Models via DFA NPUs Lean 4 GPT-4 LLMs TinyBERT G-MAP DQ-LoRe of on for"),
    *words("Yichun Yin Jean-Pierre O'Brien LeCun McDonald d'Arc Łukasz Zoë Müller J. R. Th. JJ"),
    "van der Berg", "de Souza e Silva", "model ", "del ", "xdel ", "el ", " et al.", ", ",
    " · ", "  ", ",", ".", "-", "'", "ATLAS", "Ⅻ", "Ⓐ", "𝐀", "𝐚b", "Éa", "ǅa", "3D", "2020",
]  # fmt: skip
pieces = st.lists(st.sampled_from(PIECES), min_size=1, max_size=14).map("".join)
texts = st.one_of(pieces, st.text(min_size=1, max_size=40), st.tuples(pieces, pieces).map("".join))


def careful_split_title_authors(text: str) -> tuple[str, tuple[str, ...]] | None:
    """Every glue point scored; the earliest within one point of the best wins."""
    scored: list[tuple[int, float]] = []
    lead = len(text) - len(text.lstrip())
    for i in names.glue_points(text):
        if i <= lead:
            continue
        penalty = names.authors_penalty(text[i:])
        if penalty < names.INF:
            scored.append((i, penalty + names.title_penalty(text[:i])))
    if not scored:
        return None
    best = min(p for _, p in scored)
    i = next(i for i, p in scored if p <= best + 1.0)
    return text[:i].strip(), tuple(" ".join(n.split()) for n in names.split_names(text[i:]))


@FAST
@given(texts)
@example("Learning, LearningMüllerxdel Müller")  # the first point scores 2: a later one wins
@example(", NPUs'del O'Brien")
@example("Efficient Towards Scaling Reasoning Graph Neural NetworksJing van der Berg, Bo Li")
@example("GraphJean Pierre de la Fontaine Xu, Bo Li")  # six words before the comma: all kept
def test_listing_split_equals_scoring_every_glue_point(text: str) -> None:
    assert names.split_title_authors(text) == careful_split_title_authors(text)


@FAST
@given(texts)
def test_glue_points_from_a_word_start_equal_the_careful_scan(text: str) -> None:
    points = names.glue_points(text)
    assert list(names._glue_points_from(text, 0)) == points
    for m in re.finditer(r"(?<!\S)\S", text):  # every word start
        assert list(names._glue_points_from(text, m.start())) == [
            p for p in points if p >= m.start()
        ]


@FAST
@given(st.tuples(pieces, st.sampled_from(["", " ", ",", " ,"]), st.text(" \t,.", max_size=4)))
def test_et_al_search_from_the_end_equals_searching_the_whole_line(parts: tuple[str, ...]) -> None:
    head = "".join(parts[:2]) + parts[2] + "et al" + ("." if len(parts[0]) % 2 else "")
    for line in (head, parts[0], head + "x"):
        expected = names._ET_AL_RE.search(line)
        assert names._et_al(line) == (-1 if expected is None else expected.start())


# --- run-on references ----------------------------------------------------------------------

U, L = f"[{common.UPPER}]", f"[{common.LOWER}]"
PLAIN_GLUE_RE = re.compile(  # the glue points as the module docstring defines them
    rf"(?<=[^\s{common.UPPER}])(?={U})"
    rf"|(?<={U})(?={U}{L})"
    r"|(?<=\d)(?=[1-9]\d{0,3}(?!\d))"
    rf"|(?<=[\d).\]])(?={L})"
    r"|(?<=\S)(?=[\"“‘`'$\\(\[{])"
)


def careful_split_reference(text: str) -> tuple[str, str | None]:
    """Every glue point up to the first good one scored in full, without a cap."""
    scored: list[tuple[int, float]] = []
    for m in PLAIN_GLUE_RE.finditer(text, 1, run_on._SCAN):
        p = run_on.boundary_penalty(text, m.start())
        if p < run_on.INF:
            scored.append((m.start(), p))
            if p <= run_on._GOOD:
                break
    best = min((p for _, p in scored), default=run_on.INF)
    if best > run_on._THRESHOLD:
        return text.strip(), None
    i = next(i for i, p in scored if p <= best + 0.5)
    return text[:i].strip(), text[i:].strip()


REFS = ["ICML 2020", "Phys. Rev. D 101, 123456 (2020)", "Nature 580, 123-127 (2020)",
        "NeurIPS", "doi: 10.1234/abc.5678", "ApJ 12:34", "(v2)", "J. Phys. A 12", "pp. 1-12.",
        "2020)."]  # fmt: skip
STARTS = ["We ", "A ", "3D ", "12 ", '"Deep" ', "$k$-means ", "we ", "BERT ", "\\textit{x} ",
          "(Abridged) ", "Transformer has ", "5G ", "1, 2, "]  # fmt: skip
WORDS = [*words("study the model of Graph ATLAS 2-bit x2 NeurIPS é Ⅻ"), "x" * 70]
references = st.builds(
    lambda ref, start, words: ref + start + " ".join(words),
    st.lists(st.sampled_from(REFS), min_size=1, max_size=3).map(" ".join),
    st.sampled_from(STARTS),
    st.lists(st.sampled_from(WORDS), max_size=8),
)


@FAST
@given(st.one_of(references, st.text(max_size=60), st.tuples(references, st.text()).map("".join)))
@example("(v2) Nature 580, 123-127 (2020) doi: 10.1234/abc.5678we of Graph")  # a point at 3.0
@example("Phys. Rev. D 101, 123456 (2020) doi: 10.1234/abc.56785G model ATLAS 2-bit")
@example("doi: 10.1234/abc.567812 ATLAS 2-bit 2-bit " + "x" * 150 + " we")  # words past 160
def test_run_on_split_equals_scoring_every_glue_point_in_full(text: str) -> None:
    assert run_on.split_reference(text) == careful_split_reference(text)


@FAST
@given(
    st.one_of(references, st.text(max_size=80), st.text("0129aZ(). \u0663\U0001d7cf", max_size=30))
)
@example("2021we 1999x 7)b ٣a 𝟏a ]c")
def test_run_on_glue_pattern_equals_the_plain_definition(text: str) -> None:
    plain = [
        m.start()
        for m in PLAIN_GLUE_RE.finditer(text, 1, run_on._SCAN)
        if text[m.start() - 1] not in run_on._BAD_REF_END
    ]
    points = list(run_on.glue_points(text))
    assert [i for i, _ in points] == plain
    for i, costly in points:  # a digit after digits that ends no year (the definition's test)
        year = re.search(r"(?<!\d)(?:19|20)\d\d$", text[max(0, i - 5) : i])
        assert costly == (text[i - 1].isdigit() and text[i].isdigit() and year is None)


@FAST
@given(st.lists(st.sampled_from(["arXiv:2101.00001", "arXiv:x", "Created: 2021-01-01", "", "a"])))
def test_run_on_detector_counts_arxiv_lines_not_followed_by_created(lines: list[str]) -> None:
    expected = sum(
        1
        for line, nxt in pairwise([*lines, ""])
        if line[:6] == "arXiv:" and nxt[:8] != "Created:" and run_on.HEAD_RE.match(line)
    )
    assert run_on.detect(lines) == expected


# --- character classes -----------------------------------------------------------------------


def test_character_classes_hold_exactly_the_characters_their_predicates_accept() -> None:
    bmp = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF)
    for body, pred in (
        (common.UPPER, lambda c: c.isalpha() and (c.isupper() or c.istitle())),
        (common.LOWER, lambda c: c.isalpha() and not c.isupper() and not c.istitle()),
        (common.CAPITAL, lambda c: c.isupper() or c.istitle()),
    ):
        assert "".join(re.findall(f"[{body}]", bmp)) == "".join(filter(pred, bmp))


# --- listing headers -----------------------------------------------------------------------

header_like = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["", "86.1", "7", "100"]),
        st.sampled_from(["CL", "LG", "cs.AI", "X-Y", "a"]),
        st.sampled_from(["Jan", "Sept", "Sep", "Dec", "May"]),
        st.sampled_from([" 4", " 31", " ٣", " 4, 2023", " 4, ٢٠٢٣", " 12"]),
        st.sampled_from(["", "Code", "Code ", "x", "."]),
    ),
)


@FAST
@given(st.one_of(header_like, st.text(max_size=30)))
def test_every_header_ends_in_a_digit_or_code(line: str) -> None:
    from generator.readers.listing import HEADER_RE

    if HEADER_RE.fullmatch(line):
        assert line[-1].isdigit() or line.endswith("Code")


@FAST
@given(st.lists(st.one_of(header_like, st.text(max_size=50), st.just("CLOct 4, 2023" + "x" * 40))))
def test_listing_and_blocks_detectors_equal_their_plain_definitions(lines: list[str]) -> None:
    from generator.readers import arxiv_blocks, listing

    assert listing.detect(lines) == sum(
        1 for line in lines if len(line) < 48 and listing.HEADER_RE.fullmatch(line)
    )
    assert arxiv_blocks.detect(lines) == sum(1 for line in lines if line[:8] == "Created:")


detector_lines = st.lists(
    st.one_of(
        header_like,
        st.sampled_from(["arXiv:2101.00001", "arXiv:x", "Created: 2021-01-01", "", "a"]),
        st.text(max_size=20),
    ),
    max_size=30,
)


@FAST
@given(detector_lines, st.integers(0, 12))
def test_a_detector_given_a_floor_counts_until_it_exceeds_it(lines: list[str], floor: int) -> None:
    for _, detect, _ in readers_package.readers():
        full = detect(lines, None)
        stopped = detect(lines, floor)
        assert stopped == full if full <= floor else floor < stopped <= full


@FAST
@given(detector_lines)
def test_detect_layout_picks_the_first_layout_with_the_highest_full_count(
    lines: list[str],
) -> None:
    counts = [(detect(lines, None), layout) for layout, detect, _ in readers_package.readers()]
    top = max(count for count, _ in counts)
    expected = None if top == 0 else next(layout for count, layout in counts if count == top)
    assert readers_package.detect_layout(lines) == expected


@FAST
@given(
    st.lists(
        st.one_of(
            st.sampled_from([b"\n", b"\r", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00"]),
            st.sampled_from(
                [b"\xc3\xa9", b"\xc5\x81", b"\xe2\x80\xa8", b"\xc2\xa0", b"\xff", b"\xed\xa0\x80"]
            ),
            st.binary(max_size=6),
            st.text(max_size=12).map(str.encode),
        ),
        max_size=12,
    ).map(b"".join)
)
@example(b"\xc2\xa0Ann\xc2\xa0\n \xc5\x81ukasz \n")
def test_decoding_line_by_line_equals_decoding_the_text(data: bytes) -> None:
    lines = common.decode_lines(data)
    if lines is not None:
        text, diags = common.decode_seed("f", data)
        assert diags == ()
        assert lines == list(map(str.strip, text.split("\n")))
        assert readers_package.read_seed_bytes("f", data, TODAY) == readers_package.read_seed_text(
            "f", text, TODAY
        )


@FAST
@given(st.text(" \t\n\x0b\x1c\x85\u2028\u3000a1-", max_size=12))
def test_created_date_equals_the_created_pattern(rest: str) -> None:
    from generator.readers import arxiv_blocks

    line = "Created:" + rest
    m = arxiv_blocks.CREATED_RE.fullmatch(line)
    assert arxiv_blocks.created_date(line) == (m.group("date") if m else line[8:].strip())


def test_the_listing_caches_stay_bounded() -> None:
    from generator.readers import listing

    for k in range(names._TAILS_LIMIT + 100):
        family = "".join(chr(97 + int(d, 16)) for d in f"{k:x}")  # 26 = 0x1a -> "bk"
        assert names.split_title_authors(f"Models of {k}Ann Lee, Bo Li{family}") is not None
        assert listing.read_header(f"CLJan {k % 28 + 1}, {1000 + k}") is not None
    assert 0 < len(names._TAILS) <= names._TAILS_LIMIT
    assert 0 < len(listing._HEADERS) <= listing._HEADERS_LIMIT
    assert len(names._WORDS) <= names._CACHE_LIMIT


# --- records ---------------------------------------------------------------------------------


def test_new_record_equals_the_dataclass_constructor() -> None:
    from dataclasses import FrozenInstanceError, fields

    from generator.model import Record

    values = [
        "f.txt", 3, 1, "listing", "2101.00001v2", "2021-01-04", "Jan 4", True, "Title",
        ("Ann Lee", "Bo Li"), True, "MIT", "CL", 86.1, True, "5 pages", "ICML 2021",
        "10.1/x", ("10.1/x", "10.2/y"), "Abstract.",
    ]  # fmt: skip
    assert len(values) == len(common.RECORD_FIELDS)
    made = common.new_record(*values)  # type: ignore[arg-type]
    assert type(made) is Record
    assert made == Record(*values)  # type: ignore[arg-type]
    assert [getattr(made, f.name) for f in fields(Record)] == values
    assert hash(made) == hash(Record(*values))  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(made)) == made
    with pytest.raises(FrozenInstanceError):
        made.title = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        common.new_record(*values[:-1])  # type: ignore[arg-type]
