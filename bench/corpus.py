"""A deterministic benchmark corpus of N papers in the seed layouts, recombined from ``seeds/``.

    python -m bench.corpus -n 10000 -o /tmp/papersite-corpus/10000 [--seed 1]

writes, under OUT::

    seeds/listing_NNNN.txt   the listing layout (seed 003): header line, title glued to the
                             authors ("et al." after three for some), abstract
    seeds/arxiv_NNNN.txt     the arXiv-block layout (seed 000/004): abstract, comments,
                             ``arXiv:ID[ - journal]``, ``Created: YYYY-MM-DD``
    seeds/corpus.bib         BibTeX (arXiv export style) for a fraction of the papers: most of
                             the arXiv-block ones (their only source of title and authors) and
                             some of the listing ones
    stats.json               what was generated (counts, distributions)

Papers are split between the layouts (``--listing-share``, default 0.6); each appears once.
Text is recombined from the seed files: first and later abstract sentences, title tails with
words substituted, method names from CamelCase fragments, author given and family names,
comments and journal references, and the LaTeX math found in the seeds (about one abstract in
five carries math). Authors are drawn from a pool of N names with Zipf-Mandelbrot popularity
(s=1, q=10), so a few authors have hundreds of papers and most have a handful.

Output is a pure function of (n, seed, per_file, listing_share, bib shares, the seed files).
Only the standard library is used, so the benchmark can run before the generator does.
"""

from __future__ import annotations

import argparse
import calendar
import itertools
import json
import math
import random
import re
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# listing headers carry a two-letter cs code; the BibTeX primaryClass is the full category
CATEGORIES = (
    "CL", "LG", "AI", "CV", "IR", "NE", "RO", "DS", "DB", "DC", "CR", "SE", "PL", "LO",
    "HC", "SD", "MA", "GT", "IT", "NI", "SI", "CY",
)  # fmt: skip
EXTRA_MATH = (
    r"$O(n^2)$", r"$O(n \log n)$", r"$\mathcal{O}(1/\sqrt{T})$", r"$\ell_1$", r"$\ell_2$",
    r"$10^{-3}$", r"$p<0.05$", r"$\epsilon$", r"$\mathbb{R}^d$", r"$\tilde{O}(\sqrt{n})$",
    r"$\lambda=0.1$", r"$2\times$", r"$\Theta(n^{3/2})$", r"$\alpha \in (0, 1]$",
)  # fmt: skip
MATH_SENTENCES = (
    "The resulting algorithm runs in {m} time.",
    "We prove a bound of {m} on the approximation error.",
    "Our analysis yields a rate of {m} under mild assumptions.",
    "The memory footprint scales as {m} with the input length.",
    "This improves the previous best {m} guarantee.",
)
TEXT_LATEX = (
    r"We release the code as \textit{open source}.",
    r"Results hold for \emph{all} tested settings, with gains of up to 12\%.",
    r"The method is ``plug-and-play'' and needs no re-training.",
)
EXTRA_AFFILIATIONS = ("zju", "sjtu", "ustc", "fudan", "hkust", "cmu", "mit", "eth", "msra")
STOP = frozenset(
    """a an the of for and or to in on with by from as at is are be via into than then such
    also can not but both each other more most over under using based between through towards
    new novel large small high low only many several very recent its their this that these
    we our how what when where which while""".split()  # noqa: SIM905
)

_HEADER = re.compile(
    r"^(?:\d+(?:\.\d+)?)?[A-Z]{2}(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{1,2}(?:, \d{4})?(?:Code)?$"
)
_AUTHORS_START = re.compile(r"(?<=[A-Za-z0-9)])(?=[A-Z][a-z]+ [A-Z][a-z]+(?:, | et al\.|$| ·))")
_ARXIV_PREFIX = re.compile(r"^arXiv:(?:\d{4}\.\d{4,5}|[a-z\-]+/\d{7})(?:v\d+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
_BIB_FIELD = re.compile(r"^\s*(title|author|journal)=\{(.*)\},?\s*$")
_CAMEL = re.compile(r"\b[A-Za-z0-9]*[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9\-]*\b")
_FRAGMENT = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")


@dataclass
class Pools:
    """Everything recombined from the seed files."""

    first_sentences: list[str] = field(default_factory=list)
    other_sentences: list[str] = field(default_factory=list)
    sentence_counts: list[int] = field(default_factory=list)
    title_tails: list[str] = field(default_factory=list)
    title_words: list[str] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)
    given: list[str] = field(default_factory=list)
    family: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    journals: list[str] = field(default_factory=list)
    affiliations: list[str] = field(default_factory=list)
    math: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SynthPaper:
    arxiv_id: str
    date: str  # YYYY-MM-DD
    category: str  # two-letter cs code
    title: str
    authors: tuple[str, ...]
    abstract: str
    comments: str | None
    journal: str | None
    affiliation: str | None
    score: float | None
    has_code: bool


def load_pools(seeds_dir: Path) -> Pools:
    """Read the seed text files and BibTeX into recombinable pools (sorted: deterministic)."""
    abstracts: list[str] = []
    titles: list[str] = []
    authors: list[str] = []
    comments: set[str] = set()
    journals: set[str] = set()
    affiliations: set[str] = set(EXTRA_AFFILIATIONS)
    for path in sorted(seeds_dir.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
        if lines and _HEADER.match(lines[0]):
            for i in range(0, len(lines) - 2, 3):
                if not _HEADER.match(lines[i]):
                    continue
                line = lines[i + 1]
                if " · " in line:
                    line, aff = line.rsplit(" · ", 1)
                    affiliations.add(aff)
                m = _AUTHORS_START.search(line)
                if m:
                    titles.append(line[: m.start()])
                    rest = line[m.start() :].removesuffix(" et al.")
                    authors.extend(a.strip() for a in rest.split(", ") if a.strip())
                abstracts.append(lines[i + 2])
            continue
        for line in lines:
            if line.startswith("Created:"):
                continue
            if line.startswith("arXiv:"):
                line = _ARXIV_PREFIX.sub("", line)
                if line.startswith(" - "):
                    # a journal reference; in the run-on layout it is glued to the next
                    # abstract, too ambiguous to split: keep short ones, skip the rest
                    if len(line) < 120:
                        journals.add(line[3:].strip())
                    continue
                line = line.strip()
                if not line:
                    continue
            if len(line) >= 250:
                abstracts.append(line)
            elif len(line) <= 160:
                comments.add(line)
    bib = seeds_dir / "seeds.bib"
    if bib.exists():
        for line in bib.read_text(encoding="utf-8").splitlines():
            m = _BIB_FIELD.match(line)
            if not m:
                continue
            key, value = m.groups()
            if key == "title":
                titles.append(re.sub(r"[{}]", "", value))
            elif key == "journal":
                journals.add(value)
            else:
                for name in value.split(" and "):
                    last, _, first = name.partition(", ")
                    authors.append(f"{first} {last}".strip())
    pools = Pools()
    for text in abstracts:
        sents = [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 20]
        if sents:
            pools.sentence_counts.append(len(sents))
            pools.first_sentences.append(sents[0])
            pools.other_sentences.extend(sents[1:])
    words: set[str] = set()
    frags: set[str] = set()
    for t in titles:
        pools.title_tails.append(t.split(": ", 1)[1] if ": " in t else t)
        for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", t):
            if len(w) > 3 and w.lower() not in STOP:
                words.add(w[0].upper() + w[1:])
    for text in titles + abstracts:
        for tok in _CAMEL.findall(text):
            if 3 <= len(tok) <= 16:
                frags.update(f for f in _FRAGMENT.findall(tok.replace("-", "")) if 2 <= len(f) <= 6)
    given: set[str] = set()
    family: set[str] = set()
    for name in authors:
        parts = name.split()
        if len(parts) >= 2 and len(parts[-1]) > 1 and not parts[0].endswith("."):
            given.add(parts[0])
            family.add(parts[-1])
    math_found = {m for a in abstracts for m in re.findall(r"\$[^$\n]{2,40}\$", a)}
    pools.title_tails = sorted(set(pools.title_tails))
    pools.title_words = sorted(words)
    pools.fragments = sorted(frags)
    pools.given, pools.family = sorted(given), sorted(family)
    pools.comments = sorted(comments)
    pools.journals = sorted(journals)
    pools.affiliations = sorted(affiliations)
    pools.math = sorted(math_found) + list(EXTRA_MATH)
    if not (pools.first_sentences and pools.title_tails and pools.given and pools.fragments):
        raise ValueError(f"{seeds_dir}: too little seed text to recombine (need abstracts, "
                         "titles and author names)")  # fmt: skip
    return pools


def author_pool(pools: Pools, size: int, rng: random.Random) -> list[str]:
    """``size`` distinct "Given Family" names; middle initials once the plain names run out."""
    plain = [f"{g} {f}" for g in pools.given for f in pools.family]
    rng.shuffle(plain)
    out = plain[:size]
    letters = "ABCDEFGHKLMNPRSTWY"
    for depth in itertools.count(1):
        if len(out) >= size:
            break
        extra = [
            f"{g} {' '.join(i + '.' for i in initials)} {f}"
            for initials in itertools.product(letters, repeat=depth)
            for g in pools.given
            for f in pools.family
        ]
        rng.shuffle(extra)
        out.extend(extra[: size - len(out)])
    return out


def zipf_cum_weights(n: int, s: float = 1.0, q: float = 20.0) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights 1/(rank+q)^s for ranks 1..n."""
    return list(itertools.accumulate(1.0 / (r + q) ** s for r in range(1, n + 1)))


AUTHOR_COUNTS = {1: 5, 2: 10, 3: 14, 4: 17, 5: 16, 6: 12, 7: 9, 8: 6, 9: 4, 10: 3, 12: 2, 15: 1}


class Synth:
    """Draws papers one by one from the pools; the same seed gives the same papers."""

    def __init__(self, pools: Pools, n: int, seed: int) -> None:
        self.p = pools
        self.rng = random.Random(seed)
        self.authors = author_pool(pools, max(10, n), random.Random(seed * 7919 + 1))
        self.author_cum = zipf_cum_weights(len(self.authors), 1.0, 10.0)
        self.cat_cum = zipf_cum_weights(len(CATEGORIES), 1.1, 1.0)
        self.years = list(range(2000, 2026))
        self.year_w = [math.exp(0.12 * (y - 2000)) for y in self.years]
        self.used_ids: set[str] = set()
        self.used_heads: set[str] = set()

    def _distinct_authors(self, k: int) -> tuple[str, ...]:
        chosen: list[str] = []
        seen: set[str] = set()
        while len(chosen) < k:
            for a in self.rng.choices(self.authors, cum_weights=self.author_cum, k=k - len(chosen)):
                if a not in seen:
                    seen.add(a)
                    chosen.append(a)
        return tuple(chosen)

    def _method_name(self) -> str:
        rng = self.rng
        name = ""
        for _ in range(50):
            parts = [rng.choice(self.p.fragments) for _ in range(2 if rng.random() < 0.85 else 3)]
            name = ("-" if rng.random() < 0.12 else "").join(p[0].upper() + p[1:] for p in parts)
            if name not in self.used_heads and 4 <= len(name) <= 14:
                break
        else:
            name += str(len(self.used_heads))
        self.used_heads.add(name)
        return name

    def _title(self, head: str) -> str:
        rng = self.rng
        words = rng.choice(self.p.title_tails).split(" ")
        for i, w in enumerate(words):
            if len(w) > 3 and w[0].isalpha() and w.lower() not in STOP and rng.random() < 0.35:
                words[i] = rng.choice(self.p.title_words)
        tail = " ".join(words)
        return f"{head}: {tail}" if rng.random() < 0.55 else tail

    def _sentence(self, pool: list[str]) -> str:
        while True:  # the seeds are math-heavy: keep a quarter of the draws that carry $..$
            s = self.rng.choice(pool)
            if "$" not in s or self.rng.random() < 0.25:
                return s

    def _abstract(self, head: str) -> str:
        rng = self.rng
        k = max(3, min(12, rng.choice(self.p.sentence_counts) + rng.randint(-2, 2)))
        sents = [self._sentence(self.p.first_sentences)]
        sents += [self._sentence(self.p.other_sentences) for _ in range(k - 1)]
        if rng.random() < 0.5:
            sents[0] = f"We present {head}. " + sents[0]
        if rng.random() < 0.12:
            m = rng.choice(self.p.math)
            sents.insert(rng.randint(1, len(sents)), rng.choice(MATH_SENTENCES).format(m=m))
        if rng.random() < 0.05:
            sents.append(rng.choice(TEXT_LATEX))
        return " ".join(sents)

    def paper(self) -> SynthPaper:
        rng = self.rng
        year = rng.choices(self.years, weights=self.year_w)[0]
        month = rng.randint(1, 12)
        day = rng.randint(1, calendar.monthrange(year, month)[1])
        while True:
            aid = f"{year % 100:02d}{month:02d}.{rng.randint(1, 29999):05d}"
            if aid not in self.used_ids:
                self.used_ids.add(aid)
                break
        head = self._method_name()
        n_auth = rng.choices(list(AUTHOR_COUNTS), weights=list(AUTHOR_COUNTS.values()))[0]
        comments = None
        if rng.random() < 0.45:
            comments = (
                rng.choice(self.p.comments)
                if rng.random() < 0.5 and self.p.comments
                else f"{rng.randint(4, 40)} pages, {rng.randint(1, 20)} figures"
            )
        journal = rng.choice(self.p.journals) if self.p.journals and rng.random() < 0.1 else None
        return SynthPaper(
            arxiv_id=aid,
            date=f"{year:04d}-{month:02d}-{day:02d}",
            category=rng.choices(CATEGORIES, cum_weights=self.cat_cum)[0],
            title=self._title(head),
            authors=self._distinct_authors(n_auth),
            abstract=self._abstract(head),
            comments=comments,
            journal=journal,
            affiliation=rng.choice(self.p.affiliations) if rng.random() < 0.1 else None,
            score=round(rng.uniform(40, 99.9), 1) if rng.random() < 0.05 else None,
            has_code=rng.random() < 0.15,
        )

    def papers(self, n: int) -> Iterator[SynthPaper]:
        for _ in range(n):
            yield self.paper()


# -- the seed layouts ------------------------------------------------------------------------


def format_listing(p: SynthPaper, et_al: bool) -> str:
    """Three lines: '<CAT><Mon D, YYYY>[Code]' (or '<score><CAT><Mon D>'), title+authors,
    abstract."""
    y, m, d = (int(x) for x in p.date.split("-"))
    if p.score is not None:
        header = f"{p.score}{p.category}{MONTHS[m - 1]} {d}"
    else:
        header = f"{p.category}{MONTHS[m - 1]} {d}, {y}" + ("Code" if p.has_code else "")
    names = ", ".join(p.authors[:3]) + " et al." if et_al else ", ".join(p.authors)
    aff = f" · {p.affiliation}" if p.affiliation else ""
    return f"{header}\n{p.title}{names}{aff}\n{p.abstract}"


def format_arxiv_block(p: SynthPaper) -> str:
    parts = [p.abstract]
    if p.comments:
        parts.append(p.comments)
    ref = f"arXiv:{p.arxiv_id}" + (f" - {p.journal}" if p.journal else "")
    parts.append(f"{ref}\nCreated: {p.date}")
    return "\n\n".join(parts)


def _bib_escape(text: str) -> str:
    return text.replace("{", "").replace("}", "")


def format_bibtex(p: SynthPaper, origin: str) -> str:
    first_family = p.authors[0].split()[-1].lower()
    first_word = re.sub(r"[^a-z]", "", p.title.split()[0].lower())[:10]
    key = f"{first_family}{p.date[:4]}{first_word}{p.arxiv_id[-3:]}"
    authors = " and ".join(f"{a.split()[-1]}, {' '.join(a.split()[:-1])}" for a in p.authors)
    lines = [
        f"% {origin}",
        f"@{'article' if p.journal else 'misc'}{{{key},",
        f"      title={{{_bib_escape(p.title)}}},",
        f"      author={{{_bib_escape(authors)}}},",
        f"      year={{{p.date[:4]}}},",
        f"      eprint={{{p.arxiv_id}}},",
        "      archivePrefix={arXiv},",
        f"      primaryClass={{cs.{p.category}}},",
    ]
    if p.journal:
        lines.append(f"      journal={{{_bib_escape(p.journal)}}},")
    lines += [f"      url={{https://arxiv.org/abs/{p.arxiv_id}}},", "}"]
    return "\n".join(lines)


@dataclass(frozen=True)
class CorpusOptions:
    n: int
    seed: int = 1
    per_file: int = 500
    listing_share: float = 0.6  # papers written in the listing layout (the rest: arXiv blocks)
    et_al_share: float = 0.3  # listing records that name three authors then "et al."
    bib_share_arxiv: float = 0.7  # arXiv-block papers with a BibTeX entry
    bib_share_listing: float = 0.15  # listing papers with a BibTeX entry


def write_corpus(out: Path, options: CorpusOptions, seeds_dir: Path) -> dict[str, object]:
    """Write the corpus under ``out`` (replaced) and return its statistics."""
    pools = load_pools(seeds_dir)
    synth = Synth(pools, options.n, options.seed)
    layout_rng = random.Random(options.seed * 104729 + 3)
    if out.exists():
        shutil.rmtree(out)
    seeds_out = out / "seeds"
    seeds_out.mkdir(parents=True)
    listing: list[str] = []
    blocks: list[str] = []
    bib: list[str] = []
    files = {"listing": 0, "arxiv": 0}
    author_counts: Counter[str] = Counter()
    n_math = n_listing = n_bib = 0

    def flush(kind: str, buf: list[str], sep: str) -> None:
        if buf:
            name = f"{kind}_{files[kind]:04d}.txt"
            (seeds_out / name).write_text(sep.join(buf) + "\n", encoding="utf-8")
            files[kind] += 1
            buf.clear()

    for p in synth.papers(options.n):
        author_counts.update(p.authors)
        n_math += "$" in p.abstract
        if layout_rng.random() < options.listing_share:
            n_listing += 1
            origin = f"listing_{files['listing']:04d}.txt #{len(listing)}"
            et_al = len(p.authors) > 3 and layout_rng.random() < options.et_al_share
            listing.append(format_listing(p, et_al))
            with_bib = layout_rng.random() < options.bib_share_listing
            if len(listing) >= options.per_file:
                flush("listing", listing, "\n")
        else:
            origin = f"arxiv_{files['arxiv']:04d}.txt #{len(blocks)}"
            blocks.append(format_arxiv_block(p))
            with_bib = layout_rng.random() < options.bib_share_arxiv
            if len(blocks) >= options.per_file:
                flush("arxiv", blocks, "\n\n")
        if with_bib:
            n_bib += 1
            bib.append(format_bibtex(p, origin))
    flush("listing", listing, "\n")
    flush("arxiv", blocks, "\n\n")
    (seeds_out / "corpus.bib").write_text("\n\n".join(bib) + "\n", encoding="utf-8")
    per_author = sorted(author_counts.values(), reverse=True)
    stats: dict[str, object] = {
        "n": options.n,
        "seed": options.seed,
        "listing_papers": n_listing,
        "arxiv_block_papers": options.n - n_listing,
        "bibtex_entries": n_bib,
        "files": files["listing"] + files["arxiv"] + 1,
        "authors": len(author_counts),
        "papers_per_author_max": per_author[0] if per_author else 0,
        "papers_per_author_median": per_author[len(per_author) // 2] if per_author else 0,
        "authors_with_one_paper": sum(1 for c in per_author if c == 1),
        "papers_with_math": n_math,
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    return stats


def touch_one_record(seeds_out: Path) -> Path:
    """Change one record's abstract (the first listing file's first record) in place, as an
    editor would; returns the file changed. Used to time the one-record rebuild."""
    path = sorted(seeds_out.glob("listing_*.txt"))[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2] + " We also report an ablation."
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, required=True, help="number of papers")
    ap.add_argument("-o", "--out", type=Path, required=True, help="output folder (replaced)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-file", type=int, default=500, help="records per seed text file")
    ap.add_argument(
        "--seeds-dir", type=Path, default=Path(__file__).resolve().parent.parent / "seeds"
    )
    a = ap.parse_args(argv)
    stats = write_corpus(a.out, CorpusOptions(n=a.n, seed=a.seed, per_file=a.per_file), a.seeds_dir)
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
