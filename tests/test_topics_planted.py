"""A generated corpus with planted topics and planted name collisions: the generator must
recover them. Precision and recall are printed (run with -s to see them)."""

from __future__ import annotations

import random
from itertools import combinations

from generator.groups import group_papers
from generator.model import Paper
from generator.people import split_author_groups
from generator.phrases import key_of_name
from generator.similar import find_similar
from generator.topics import TopicConfig, assign_topics

AREAS = 8
PER_AREA = 40
SYLLABLES = ("ka", "lo", "mi", "ner", "tas", "vo", "ru", "pel", "dri", "san", "gu", "fe", "zo")
FILLER = [
    "We evaluate the approach on several benchmarks and report the results.",
    "Experiments show that the proposed method outperforms strong baselines.",
    "In this paper we study the problem in detail.",
    "Our analysis reveals several interesting properties.",
    "The code and data are publicly available.",
    "This work opens new directions for future research.",
    "We further discuss the limitations of the approach.",
    "Extensive experiments confirm the effectiveness of our design.",
]
TEMPLATES = [
    "The {a} {b} of the {c} is measured with {p}.",
    "We show that {p} improves the {a} {c} in {b} settings.",
    "Using {p}, the {a} and the {b} are estimated from {c} data.",
    "{P} reduces the {c} {a} while keeping the {b}.",
    "Previous studies of {a} {b} ignored {p} entirely.",
    "A {c} {a} model with {p} is trained on {b} observations.",
]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3))


def _corpus() -> tuple[list[Paper], dict[str, int], list[str]]:
    rng = random.Random(20261122)
    planted = [f"{_word(rng)} {_word(rng)}" for _ in range(AREAS)]
    vocab = [[_word(rng) for _ in range(25)] for _ in range(AREAS)]
    collision_people = {
        # one name, two different researchers (areas 0 and 5), no co-author in common
        "Li Wei": {0: ["Anna Berg", "Omar Haddad"], 5: ["Chen Jun", "Sara Lopez"]},
        # one researcher working in areas 1 and 2 with the same co-author
        "Maria Rossi": {1: ["Paul Klein"], 2: ["Paul Klein"]},
    }
    papers: list[Paper] = []
    area_of: dict[str, int] = {}
    for area in range(AREAS):
        for k in range(PER_AREA):
            sentences = [rng.choice(FILLER), rng.choice(FILLER)]
            for _ in range(rng.randint(3, 5)):
                a, b, c = rng.sample(vocab[area], 3)
                t = rng.choice(TEMPLATES)
                sentences.append(
                    t.format(a=a, b=b, c=c, p=planted[area], P=planted[area].capitalize())
                )
            rng.shuffle(sentences)
            authors = [
                f"Author{area}x{rng.randint(0, 9)} Person",
                f"Writer{area}x{rng.randint(0, 30)} Other",
            ]
            for name, areas in collision_people.items():
                if area in areas and k < 6:
                    authors = [name, *areas[area], *authors[:1]]
            pid = f"p{area}-{k:03d}"
            title = f"{planted[area].title()} for {rng.choice(vocab[area])} {_word(rng)}"
            area_of[pid] = area
            papers.append(
                Paper(
                    id=pid,
                    arxiv_id=None,
                    title=title,
                    title_source="seed",
                    authors=tuple(authors),
                    authors_truncated=False,
                    date=None,
                    date_precision=None,
                    year=None,
                    category=None,
                    abstract=" ".join(sentences),
                )
            )
    return papers, area_of, planted


def test_planted_topics_similar_and_collisions() -> None:
    papers, area_of, planted = _corpus()
    result = assign_topics(papers, TopicConfig())
    by_key = {key_of_name(t.name): t for t in result.topics}
    precisions, recalls = [], []
    for area, phrase in enumerate(planted):
        topic = by_key.get(key_of_name(phrase))
        assert topic is not None, f"planted topic {phrase!r} not found"
        members = {pid for pid, a in area_of.items() if a == area}
        got = set(topic.paper_ids)
        precisions.append(len(got & members) / len(got))
        recalls.append(len(got & members) / len(members))
    p_topic = sum(precisions) / len(precisions)
    r_topic = sum(recalls) / len(recalls)
    print(f"\nplanted topics: precision {p_topic:.3f} recall {r_topic:.3f}")
    assert p_topic >= 0.95 and r_topic >= 0.9

    similar = find_similar(papers, result.paper_topics)
    shown = [(pid, o) for pid, lst in similar.items() for o, _ in lst]
    p_sim = sum(area_of[a] == area_of[b] for a, b in shown) / max(len(shown), 1)
    covered = sum(1 for lst in similar.values() if lst) / len(papers)
    print(f"similar papers: precision {p_sim:.3f}, papers with any {covered:.3f}")
    assert p_sim >= 0.95 and covered >= 0.9

    # Name collisions: Li Wei is two people, Maria Rossi is one.
    li = [p for p in papers if "Li Wei" in p.authors]
    groups, mixed = split_author_groups("Li Wei", li, result.paper_topics, result.topics)
    truth = {p.id: area_of[p.id] for p in li}
    found = {pid: gi for gi, g in enumerate(groups) for pid in g.paper_ids}
    pairs = list(combinations(sorted(truth), 2))
    same_true = {(a, b) for a, b in pairs if truth[a] == truth[b]}
    same_found = {(a, b) for a, b in pairs if found[a] == found[b]}
    p_pair = len(same_true & same_found) / max(len(same_found), 1)
    r_pair = len(same_true & same_found) / len(same_true)
    print(f"name collision (Li Wei): mixed={mixed} pair precision {p_pair:.3f} recall {r_pair:.3f}")
    assert mixed and p_pair == 1.0 and r_pair == 1.0
    labels = {g.label for g in groups}
    assert {key_of_name(x) for x in labels} == {key_of_name(planted[0]), key_of_name(planted[5])}

    maria = [p for p in papers if "Maria Rossi" in p.authors]
    groups, mixed = split_author_groups("Maria Rossi", maria, result.paper_topics, result.topics)
    print(f"one person in two areas (Maria Rossi): mixed={mixed}, groups={len(groups)}")
    assert not mixed and len(groups) == 1

    # A listing built from two areas with no shared people is mixed; one area is not.
    two = [p for p in papers if area_of[p.id] in (3, 6)][::4]
    assert group_papers(two, result.paper_topics, result.topics)[1]
    one = [p for p in papers if area_of[p.id] == 3][:12]
    assert not group_papers(one, result.paper_topics, result.topics)[1]
