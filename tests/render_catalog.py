"""A hand-built Catalog for render tests (tier 1: inline data, no reading of seeds)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType

from generator.model import Author, Catalog, Group, Listing, Paper, Topic

HOSTILE = '<script>alert(1)</script> javascript:alert(2) " onmouseover="alert(3)'


@dataclass(frozen=True)
class Config:
    """The SiteConfig fields render_site reads."""

    title: str = "Test papers"
    description: str = "Papers for the render tests."
    base_url: str | None = None


def paper(pid: str, title: str, date: str | None, authors: tuple[str, ...], **kw: object) -> Paper:
    year = int(date[:4]) if date else None
    precision = {4: "year", 7: "month", 10: "day"}[len(date)] if date else None
    fields: dict[str, object] = {
        "id": pid,
        "arxiv_id": pid,
        "title": title,
        "title_source": "seed",
        "authors": authors,
        "authors_truncated": False,
        "date": date,
        "date_precision": precision,
        "year": year,
        "category": "cs.CL",
        "abstract": "We study $x^2$ and \\textit{Gaia} at https://example.org/a.",
        "listings": ("list-a",),
    }
    fields.update(kw)
    return Paper(**fields)  # type: ignore[arg-type]


def make_catalog(hostile: bool = False) -> Catalog:
    h = HOSTILE if hostile else ""
    papers = (
        paper(
            "2106.02241",
            "ERNIE-Tiny: distillation" + h,
            "2021-06-04",
            ("Weiyue Su" + h, "Hao Tian"),
            comments="23 pages" + h,
            journal_ref="ApJS 1" + h,
            doi="10.1/x" + h,
            code_url="https://github.com/x/y",
            has_code=True,
            venue="EMNLP" + h,
            listings=("list-a", "list-b"),
            abstract="Abstract with $R\\sim7\\,500$." + h,
        ),
        paper(
            "2105.11624",
            "Radial velocities" + h,
            "2021-05",
            ("Hao Tian", "Bo Zhang"),
            title_source="derived",
            authors_truncated=True,
            code_url="javascript:alert(1)",
        ),
        paper("2009.14167", "Run-on" + h, "2020", ("Bo Zhang",), category=None),
        paper(
            "x-undated",
            "Undated paper" + h,
            None,
            (),
            arxiv_id=None,
            listings=("list-b",),
            abstract="",
        ),
    )
    authors = (
        Author(
            "bo-zhang",
            "Bo Zhang",
            ("2105.11624", "2009.14167"),
            coauthors=(("hao-tian", 1),),
            topics=("distillation",),
            years=(2020, 2021),
        ),
        Author(
            "hao-tian",
            "Hao Tian",
            ("2106.02241", "2105.11624"),
            coauthors=(("bo-zhang", 1), ("weiyue-su", 1)),
            topics=("distillation",),
            years=(2021,),
            groups=(Group("language models", ("2106.02241",)), Group("stars" + h, ("2105.11624",))),
        ),
        Author(
            "weiyue-su",
            "Weiyue Su" + h,
            ("2106.02241",),
            coauthors=(("hao-tian", 1),),
            years=(2021,),
        ),
    )
    topics = (
        Topic(
            "distillation",
            "Distillation" + h,
            "phrase",
            "Papers that say distillation." + h,
            ("2106.02241", "2105.11624"),
            related=("computation-and-language-cs-cl",),
        ),
        Topic(
            "computation-and-language-cs-cl",
            "Computation and Language (cs.CL)",
            "category",
            "arXiv category cs.CL.",
            ("2106.02241", "2105.11624", "x-undated"),
        ),
    )
    listings = (
        Listing(
            "list-a",
            "seeds/list-a.txt",
            "List A" + h,
            ("2106.02241", "2105.11624", "2009.14167"),
            topics=("distillation",),
        ),
        Listing(
            "list-b",
            "seeds/list-b.txt",
            "List B",
            ("x-undated", "2106.02241"),
            groups=(Group("g1", ("x-undated",)), Group("g2", ("2106.02241",))),
            mixed=True,
        ),
    )
    return Catalog(
        papers=papers,
        authors=authors,
        topics=topics,
        listings=listings,
        paper_topics=MappingProxyType(
            {
                "2106.02241": ("distillation", "computation-and-language-cs-cl"),
                "2105.11624": ("distillation", "computation-and-language-cs-cl"),
                "x-undated": ("computation-and-language-cs-cl",),
            }
        ),
        similar=MappingProxyType(
            {"2106.02241": (("2105.11624", 0.5),), "2105.11624": (("2106.02241", 0.5),)}
        ),
        paper_authors=MappingProxyType(
            {
                "2106.02241": ("weiyue-su", "hao-tian"),
                "2105.11624": ("hao-tian", "bo-zhang"),
                "2009.14167": ("bo-zhang",),
            }
        ),
    )


def many_papers_catalog(n: int) -> Catalog:
    """One author and one topic with ``n`` papers (paging)."""
    base = make_catalog()
    extra = tuple(
        paper(f"2101.{i:05d}", f"Paper {i}", f"20{10 + i % 10}-01-01", ("Bo Zhang",))
        for i in range(n)
    )
    ids = tuple(p.id for p in extra)
    authors = tuple(
        replace(a, paper_ids=a.paper_ids + ids) if a.id == "bo-zhang" else a for a in base.authors
    )
    pa = dict(base.paper_authors)
    pa.update({pid: ("bo-zhang",) for pid in ids})
    return replace(
        base,
        papers=base.papers + extra,
        authors=authors,
        paper_authors=pa,
        listings=(
            replace(base.listings[0], paper_ids=base.listings[0].paper_ids + ids),
            base.listings[1],
        ),
    )
