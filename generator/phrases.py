"""Phrase extraction shared by topics, similar papers and grouping.

Text is cleaned of LaTeX math and markup, cut into chunks at punctuation and stop words,
and every word is split at hyphens into parts whose keys are lower-cased and singular
("Mixture-of-Experts" -> mixture, of, expert). Candidate phrases are runs of up to four
words inside a chunk that neither start nor end with a weak word; their *merge key* joins
the part keys without spaces, so case, hyphenation and singular/plural variants of one
phrase meet ("pre-trained language models" == "pretrained language model").
Acronyms defined in parentheses ("radial velocity (RV)") are found so that a later use of
"RV" can count as the phrase it stands for.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Container, Iterator, Mapping
from functools import lru_cache

# Function words and academic boilerplate: they end a phrase.
STOP_WORDS: frozenset[str] = frozenset(
    [
        "a",
        "about",
        "above",
        "across",
        "after",
        "again",
        "against",
        "all",
        "almost",
        "along",
        "already",
        "also",
        "although",
        "always",
        "am",
        "among",
        "an",
        "and",
        "another",
        "any",
        "anyone",
        "anything",
        "are",
        "around",
        "as",
        "at",
        "be",
        "became",
        "because",
        "become",
        "becomes",
        "been",
        "before",
        "being",
        "below",
        "between",
        "beyond",
        "both",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "down",
        "due",
        "during",
        "each",
        "either",
        "else",
        "enough",
        "especially",
        "etc",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "least",
        "less",
        "let",
        "like",
        "made",
        "make",
        "makes",
        "making",
        "many",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "namely",
        "neither",
        "never",
        "nevertheless",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "often",
        "on",
        "once",
        "one",
        "only",
        "onto",
        "or",
        "other",
        "others",
        "otherwise",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "per",
        "rather",
        "same",
        "she",
        "should",
        "since",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "themselves",
        "then",
        "there",
        "thereby",
        "therefore",
        "these",
        "they",
        "this",
        "those",
        "though",
        "through",
        "thus",
        "to",
        "together",
        "too",
        "toward",
        "towards",
        "under",
        "unless",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "well",
        "were",
        "what",
        "whatever",
        "when",
        "where",
        "whereas",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "e.g",
        "i.e",
        "ie",
        "eg",
        "et",
        "al",
        "vs",
        "versus",
        "respectively",
        "i",
        "ii",
        "iii",
        "iv",
        "v",
        "vi",
        "propose",
        "proposes",
        "proposed",
        "proposing",
        "present",
        "presents",
        "presented",
        "introduce",
        "introduces",
        "introduced",
        "introducing",
        "show",
        "shows",
        "showed",
        "shown",
        "demonstrate",
        "demonstrates",
        "demonstrated",
        "demonstrating",
        "achieve",
        "achieves",
        "achieved",
        "achieving",
        "obtain",
        "obtains",
        "obtained",
        "outperform",
        "outperforms",
        "outperformed",
        "outperforming",
        "improve",
        "improves",
        "improved",
        "improving",
        "use",
        "uses",
        "used",
        "using",
        "utilize",
        "utilizes",
        "utilized",
        "utilizing",
        "leverage",
        "leverages",
        "leveraged",
        "leveraging",
        "employ",
        "employs",
        "employed",
        "apply",
        "applies",
        "applied",
        "applying",
        "based",
        "develop",
        "develops",
        "developed",
        "design",
        "designs",
        "designed",
        "perform",
        "performs",
        "performed",
        "provide",
        "provides",
        "provided",
        "providing",
        "require",
        "requires",
        "required",
        "requiring",
        "enable",
        "enables",
        "enabled",
        "enabling",
        "allow",
        "allows",
        "allowed",
        "allowing",
        "make",
        "find",
        "finds",
        "found",
        "consider",
        "considers",
        "considered",
        "study",
        "studies",
        "studied",
        "investigate",
        "investigates",
        "investigated",
        "explore",
        "explores",
        "explored",
        "exploring",
        "evaluate",
        "evaluates",
        "evaluated",
        "evaluating",
        "conduct",
        "conducts",
        "conducted",
        "measure",
        "measured",
        "report",
        "reports",
        "reported",
        "suggest",
        "suggests",
        "suggested",
        "indicate",
        "indicates",
        "indicated",
        "reveal",
        "reveals",
        "revealed",
        "compare",
        "compared",
        "comparing",
        "compares",
        "remain",
        "remains",
        "remained",
        "lead",
        "leads",
        "led",
        "help",
        "helps",
        "helped",
        "aim",
        "aims",
        "aimed",
        "aiming",
        "focus",
        "focuses",
        "focused",
        "address",
        "addresses",
        "addressed",
        "tackle",
        "tackles",
        "extend",
        "extends",
        "extended",
        "reduce",
        "reduces",
        "reduced",
        "reducing",
        "increase",
        "increases",
        "increased",
        "increasing",
        "consist",
        "consists",
        "consisting",
        "contain",
        "contains",
        "containing",
        "include",
        "includes",
        "including",
        "involve",
        "involves",
        "involving",
        "yield",
        "yields",
        "yielded",
        "called",
        "named",
        "termed",
        "known",
        "given",
        "take",
        "takes",
        "taken",
        "achieve",
        "brings",
        "bring",
        "brought",
        "gain",
        "gained",
        "gains",
        "serve",
        "serves",
        "served",
        "become",
        "becoming",
        "get",
        "gets",
        "got",
        "see",
        "seen",
        "need",
        "needs",
        "needed",
        "argue",
        "argues",
        "argued",
        "believe",
        "claim",
        "claims",
        "note",
        "noted",
        "observe",
        "observed",
        "observe",
        "describe",
        "described",
        "discuss",
        "discussed",
        "highlight",
        "highlights",
        "verify",
        "verified",
        "validate",
        "validated",
        "confirm",
        "confirmed",
        "expect",
        "expected",
        "assume",
        "assumed",
        "attempt",
        "attempts",
        "try",
        "tries",
        "tried",
        "can't",
        "won't",
        "don't",
        "does't",
        "isn't",
        "aren't",
        "novel",
        "new",
        "existing",
        "previous",
        "previously",
        "recent",
        "recently",
        "different",
        "various",
        "several",
        "multiple",
        "significant",
        "significantly",
        "extensive",
        "extensively",
        "simple",
        "simply",
        "better",
        "best",
        "first",
        "second",
        "third",
        "current",
        "currently",
        "prior",
        "overall",
        "main",
        "key",
        "important",
        "standard",
        "typical",
        "common",
        "additional",
        "whole",
        "entire",
        "traditional",
        "conventional",
        "strong",
        "powerful",
        "promising",
        "competitive",
        "superior",
        "comparable",
        "remarkable",
        "impressive",
        "substantial",
        "considerable",
        "great",
        "good",
        "effective",
        "effectively",
        "efficient",
        "efficiently",
        "able",
        "possible",
        "available",
        "relevant",
        "specific",
        "general",
        "generally",
        "particular",
        "particularly",
        "certain",
        "however",
        "moreover",
        "furthermore",
        "finally",
        "specifically",
        "notably",
        "importantly",
        "additionally",
        "consequently",
        "meanwhile",
        "instead",
        "still",
        "largely",
        "mainly",
        "mostly",
        "highly",
        "widely",
        "fully",
        "rarely",
        "hardly",
        "further",
        "new",
        "high",
        "higher",
        "highest",
        "low",
        "lower",
        "lowest",
        "small",
        "smaller",
        "smallest",
        "larger",
        "largest",
        "crucial",
        "critical",
        "essential",
        "fundamental",
        "challenging",
        "difficult",
        "hard",
        "easy",
        "useful",
        "successful",
        "successfully",
        "superior",
        "inferior",
        "unique",
        "similar",
        "similarly",
        "comprehensive",
        "thorough",
        "detailed",
        "robust",
        "accurate",
        "precise",
        "state-of-the-art",
        "stateoftheart",
        "sota",
        "art",
        "paper",
        "papers",
        "work",
        "works",
        "approach",
        "approaches",
        "method",
        "methods",
        "framework",
        "frameworks",
        "technique",
        "techniques",
        "result",
        "results",
        "experiment",
        "experiments",
        "experimental",
        "empirical",
        "empirically",
        "performance",
        "effectiveness",
        "efficiency",
        "ability",
        "abilities",
        "capability",
        "capabilities",
        "way",
        "ways",
        "manner",
        "variety",
        "range",
        "number",
        "numbers",
        "amount",
        "amounts",
        "set",
        "sets",
        "issue",
        "issues",
        "aspect",
        "aspects",
        "type",
        "types",
        "kind",
        "kinds",
        "level",
        "levels",
        "extensive",
        "problem",
        "problems",
        "task",
        "tasks",
        "strategy",
        "strategies",
        "scheme",
        "schemes",
        "solution",
        "solutions",
        "improvement",
        "improvements",
        "advantage",
        "advantages",
        "limitation",
        "limitations",
        "gap",
        "gaps",
        "challenge",
        "challenges",
        "lot",
        "lots",
        "part",
        "parts",
        "terms",
        "term",
        "case",
        "cases",
        "fact",
        "order",
        "end",
        "line",
        "idea",
        "ideas",
        "insight",
        "insights",
        "manner",
        "means",
        "purpose",
        "goal",
        "goals",
        "state",
        "art",
        "field",
        "fields",
        "area",
        "areas",
        "recent",
        "years",
        "year",
        "time",
        "times",
        "due",
        "although",
        "yet",
        "thereby",
        "whereby",
        "hence",
        "meanwhile",
        "despite",
        "up-to-date",
        "open-source",
        "publicly",
        "code",
        "codes",
        "available",
        "www",
        "http",
        "https",
        "com",
        "org",
        "github",
        "zero",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "hundred",
        "hundreds",
        "thousand",
        "thousands",
        "million",
        "millions",
        "billion",
        "billions",
        "trillion",
        "dozen",
        "dozens",
        "half",
        "single",
        "double",
        "triple",
        "discover",
        "discovers",
        "discovering",
        "discovered",
        "push",
        "pushes",
        "pushing",
        "pushed",
        "according",
        "teach",
        "teaching",
        "taught",
        "toward",
        "unify",
        "unifying",
        "unified",
        "rethinking",
        "rethink",
        "revisit",
        "revisiting",
        "boosting",
        "boost",
        "boosts",
        "enhance",
        "enhances",
        "enhancing",
        "enhanced",
        "implying",
        "implies",
        "imply",
        "capture",
        "captures",
        "capturing",
        "captured",
        "corresponding",
        "contribution",
        "contributions",
        "addition",
        "additionally",
        "real-world",
        "realworld",
        "large-scale",
        "largescale",
        "well-known",
        "wellknown",
        "so-called",
        "socalled",
    ]
)

# Phrases of academic boilerplate, as merge keys: never a topic.
BOILERPLATE_PHRASES: frozenset[str] = frozenset(
    [
        "futurework",
        "futureresearch",
        "futuredirection",
        "fullmodel",
        "largeamount",
        "widerange",
        "widevariety",
        "experimentalresult",
        "mainresult",
        "maincontribution",
        "previouswork",
        "priorwork",
        "recentadvance",
        "recentyear",
        "promisingresult",
        "opensource",
        "sourcecode",
        "bestknowledge",
        "ourknowledge",
        "keyidea",
        "extensiveexperiment",
        "extensiveevaluation",
        "empiricalresult",
        "empiricalstudy",
        "casestudy",
        "furtheranalysi",
        "detailedanalysi",
        "ablationstudy",
        "researchcommunity",
        "realworldapplication",
    ]
)

# Words that may sit inside a phrase ("mixture of experts") but never start or end one.
CONNECTORS: frozenset[str] = frozenset({"of"})

# Single words too general to be a topic on their own (they may still end a phrase).
GENERIC_UNIGRAMS: frozenset[str] = frozenset(
    [
        "model",
        "data",
        "learning",
        "training",
        "network",
        "system",
        "language",
        "information",
        "knowledge",
        "analysis",
        "representation",
        "feature",
        "dataset",
        "benchmark",
        "accuracy",
        "structure",
        "distribution",
        "process",
        "inference",
        "generation",
        "evaluation",
        "algorithm",
        "application",
        "research",
        "domain",
        "context",
        "quality",
        "size",
        "scale",
        "cost",
        "computation",
        "memory",
        "layer",
        "module",
        "design",
        "architecture",
        "mechanism",
        "function",
        "value",
        "space",
        "signal",
        "object",
        "input",
        "output",
        "sample",
        "example",
        "sequence",
        "text",
        "word",
        "sentence",
        "token",
        "image",
        "parameter",
        "objective",
        "loss",
        "setting",
        "baseline",
        "student",
        "teacher",
        "human",
        "user",
        "question",
        "answer",
        "downstream",
        "training",
        "pretraining",
        "fine",
        "tuning",
        "tuning",
        "study",
        "observation",
        "measurement",
        "simulation",
        "property",
        "component",
        "stage",
        "step",
        "iteration",
        "source",
        "target",
        "version",
        "number",
        "rate",
        "error",
        "detail",
        "range",
        "test",
        "property",
        "properties",
        "survey",
        "sample",
        "star",
        "galaxy",
        "device",
        "material",
        "power",
        "frequency",
        "energy",
        "mode",
        "modeling",
        "modelling",
        "large",
        "deep",
        "neural",
        "machine",
        "natural",
        "art",
        "method",
        "task",
        "framework",
        "approach",
        "understanding",
        "reasoning",
        "science",
        "computer",
        "efficiency",
        "ratio",
        "gas",
        "region",
        "flow",
        "velocity",
    ]
)

# Nouns of every field: a topic only with a word that says what of ("wall heat flux", not
# "flux"; "knowledge transfer", not "transfer"). Single words only; phrases may end with them.
GENERIC_NOUNS: frozenset[str] = frozenset(
    [
        "interaction",
        "transfer",
        "dynamic",
        "member",
        "precision",
        "mapping",
        "selection",
        "segment",
        "expression",
        "functionality",
        "encoding",
        "extraction",
        "matching",
        "gradient",
        "acceleration",
        "communication",
        "alignment",
        "ranking",
        "adaptation",
        "optimization",
        "optimisation",
        "estimation",
        "prediction",
        "detection",
        "classification",
        "recognition",
        "generalization",
        "generalisation",
        "robustness",
        "interpretation",
        "transformation",
        "integration",
        "combination",
        "construction",
        "decomposition",
        "approximation",
        "formulation",
        "implementation",
        "configuration",
        "distance",
        "relation",
        "relationship",
        "correlation",
        "dependency",
        "consistency",
        "stability",
        "complexity",
        "uncertainty",
        "variability",
        "sensitivity",
        "resolution",
        "modulation",
        "conversion",
        "propagation",
        "emission",
        "transition",
        "evolution",
        "formation",
        "perturbation",
        "fluctuation",
        "constraint",
        "condition",
        "assumption",
        "supervision",
        "annotation",
        "augmentation",
        "aggregation",
        "fusion",
        "compression",
        "acquisition",
        "allocation",
        "scheduling",
        "processing",
        "computing",
        "operation",
        "operator",
        "control",
        "coupling",
        "scaling",
        "sampling",
        "matching",
        "search",
        "query",
        "response",
        "interface",
        "platform",
        "protocol",
        "pipeline",
        "tool",
        "toolkit",
        "metric",
        "measure",
        "score",
        "label",
        "instance",
        "entity",
        "concept",
        "pattern",
        "behavior",
        "behaviour",
        "response",
        "effect",
        "impact",
        "factor",
        "role",
        "agent",
        "environment",
        "scenario",
        "position",
        "direction",
        "dimension",
        "vector",
        "matrix",
        "graph",
        "node",
        "edge",
        "path",
        "point",
        "unit",
        "group",
        "cluster",
        "population",
        "family",
        "class",
        "category",
        "phase",
        "regime",
        "limit",
        "bound",
        "budget",
        "speed",
        "time",
        "length",
        "width",
        "depth",
        "weight",
        "noise",
        "loss",
        "gain",
        "field",
        "wave",
        "light",
        "mass",
        "temperature",
        "pressure",
        "density",
        "intensity",
        "spectrum",
        "image",
        "video",
        "audio",
        "speech",
        "semantic",
        "syntax",
        "context",
        "prompt",
        "instruction",
        "feedback",
        "reward",
        "policy",
        "action",
        "decision",
        "planning",
        "reasoning",
        "memory",
        "hyperparameter",
        "parameterization",
        "initialization",
        "regularization",
        "normalization",
        "quantization",
        "acceleration",
        "deployment",
        "hardware",
        "software",
        "device",
        "chip",
        "circuit",
        "sensor",
        "detector",
        "observation",
        "experiment",
    ]
)

# Words naming a field by their ending ("photonics", "cosmology", "spectroscopy").
_FIELD_ENDINGS = ("ics", "ology", "graphy", "scopy", "metry", "nomy")


def field_noun(word: str) -> bool:
    """Whether a single word names a field of study by its ending."""
    return word.endswith(_FIELD_ENDINGS) and len(word) > 6


# Endings of adjectives and participles; a topic never ends with one ("young stellar").
_ADJECTIVE_ENDINGS = (
    "al",
    "ic",
    "ive",
    "ous",
    "ful",
    "able",
    "ible",
    "ar",
    "ary",
    "ed",
    "less",
    "wise",
    "ent",
    "ant",
    "ish",
    "like",
    "free",
    "aware",
    "based",
    "agnostic",
    "specific",
    "oriented",
    "level",
    "scale",
    "grained",
    "shot",
    "time",
)
_NOUNS_LOOKING_ADJECTIVE = frozenset(
    [
        "retrieval",
        "signal",
        "interval",
        "proposal",
        "potential",
        "material",
        "trial",
        "arrival",
        "journal",
        "animal",
        "terminal",
        "mineral",
        "crystal",
        "metal",
        "portal",
        "rival",
        "topic",
        "logic",
        "music",
        "graphic",
        "radar",
        "lidar",
        "solar",
        "pulsar",
        "star",
        "bar",
        "car",
        "seminar",
        "dictionary",
        "library",
        "boundary",
        "vocabulary",
        "summary",
        "objective",
        "perspective",
        "alternative",
        "agent",
        "component",
        "gradient",
        "student",
        "content",
        "experiment",
        "environment",
        "element",
        "segment",
        "moment",
        "comment",
        "treatment",
        "assessment",
        "statement",
        "argument",
        "instrument",
        "document",
        "equipment",
        "management",
        "improvement",
        "requirement",
        "measurement",
        "alignment",
        "deployment",
        "embedding",
        "agent",
        "patent",
        "parent",
        "talent",
        "client",
        "constant",
        "participant",
        "assistant",
        "variant",
        "tenant",
        "giant",
        "plant",
        "elephant",
        "restaurant",
        "informant",
        "consonant",
        "pendant",
        "infant",
        "servant",
        "accountant",
        "speed",
        "seed",
        "need",
        "feed",
        "bed",
        "reed",
        "bleed",
        "embed",
        "head",
        "thread",
        "red",
    ]
)
_NOUN_ENDINGS = (
    "tion",
    "sion",
    "ment",
    "ics",
    "ing",
    "ance",
    "ence",
    "ity",
    "ism",
    "ogy",
    "phy",
    "sis",
    "ness",
    "ure",
    "er",
    "or",
    "al",
    "ar",
    "ist",
)


def nounish_end(part: str) -> bool:
    """Whether a part key can end a topic name (not an adjective or participle)."""
    if part in _NOUNS_LOOKING_ADJECTIVE:
        return True
    return not part.endswith(_ADJECTIVE_ENDINGS)


def nounish_alone(part: str) -> bool:
    """Whether a single word reads as a subject on its own ("distillation", "photonics")."""
    return nounish_end(part) and (part.endswith(_NOUN_ENDINGS) or part in _NOUNS_LOOKING_ADJECTIVE)


_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_URL = re.compile(r"https?://\S+|www\.\S+")
_LATEX_CMD = re.compile(r"\\(?:cite|ref|label|url|href)\{[^}]*\}|\\[A-Za-z]+\*?|\\.")
# Words (hyphenated compounds kept whole), numbers, and single punctuation marks.
_TOKEN = re.compile(
    r"[A-Za-z][A-Za-z0-9]*(?:['\u2019][A-Za-z]+)?(?:[-\u2010\u2011][A-Za-z0-9]+)*"
    r"|[0-9][0-9.,]*%?|[^\sA-Za-z0-9]"
)
_ALPHA = re.compile(r"^[a-z]+$")

_NOT_PLURAL = frozenset(
    [
        "news",
        "series",
        "species",
        "means",
        "always",
        "perhaps",
        "whereas",
        "thus",
        "various",
        "previous",
        "gas",
        "lens",
        "chaos",
        "focus",
        "corpus",
        "status",
        "virus",
        "bias",
        "basis",
        "axis",
        "analysis",
        "hypothesis",
        "thesis",
        "synthesis",
        "emphasis",
        "diagnosis",
        "plus",
        "alias",
        "atlas",
        "canvas",
        "radius",
        "nucleus",
        "modulus",
        "stimulus",
        "consensus",
        "apparatus",
        "calculus",
        "campus",
        "census",
    ]
)


@lru_cache(maxsize=200_000)
def singular(word: str) -> str:
    """A lower-case word's singular key: 'velocities' -> 'velocity', 'losses' -> 'loss'."""
    if len(word) <= 3 or word in _NOT_PLURAL or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is", "ous")):
        return word
    return word[:-1]


def clean_text(text: str) -> str:
    """Plain words from a title or abstract: math, URLs and LaTeX commands become breaks."""
    # Each pattern is tried only on a text holding what every one of its matches holds.
    if "$" in text or "\\" in text:
        text = _MATH.sub(" ; ", text)
    if "://" in text or "www." in text:
        text = _URL.sub(" ; ", text)
    if "\\" in text:
        text = _LATEX_CMD.sub(" ", text)
    return text.replace("{", "").replace("}", "").replace("~", " ")


# A word as seen by the chunker: (kind, part keys, surface parts)
# kind: 0 boundary, 1 content word, 2 connector
_Word = tuple[int, tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=400_000)
def _word(surface: str) -> _Word:
    lower = surface.lower().replace("\u2019", "'").replace("\u2010", "-").replace("\u2011", "-")
    if lower in CONNECTORS:
        return (2, (lower,), (surface,))
    if not surface[0].isalpha() or lower in STOP_WORDS:
        return (0, (), ())
    raw_parts = lower.split("-")
    joined = "".join(raw_parts)
    if joined in STOP_WORDS or any(not p for p in raw_parts):
        return (0, (), ())
    if lower.endswith("'s"):
        raw_parts[-1] = raw_parts[-1][:-2]
    keys = tuple(singular(p) for p in raw_parts)
    if len(keys) == 1:
        k = keys[0]
        if len(k) < 2 or (k.endswith("ly") and len(k) > 4) or any(c.isdigit() for c in k):
            return (0, (), ())
    elif any(c.isdigit() for c in keys[0]) or any(c.isdigit() for c in keys[-1]):
        return (0, (), ())
    return (1, keys, tuple(surface.split("-")))


def chunks(text: str) -> Iterator[list[tuple[tuple[str, ...], tuple[str, ...], bool]]]:
    """Runs of words between breaks: (part keys, surface parts, is_connector) per word."""
    current: list[tuple[tuple[str, ...], tuple[str, ...], bool]] = []
    for tok in _TOKEN.findall(clean_text(text)):
        kind, keys, parts = _word(tok)
        if kind == 0:
            if current:
                yield current
                current = []
            continue
        current.append((keys, parts, kind == 2))
    if current:
        yield current


MAX_WORDS = 4


# token -> (kind, word key with "-" between parts, key of a named compound's prefix or "")
_CLASSES: dict[str, tuple[int, str, str]] = {}


def _classify(tok: str) -> tuple[int, str, str]:
    kind, keys, parts = _word(tok)
    prefix = keys[0] if len(keys) > 1 and sum(ch.isupper() for ch in parts[0]) > 1 else ""
    found = (kind, "-".join(keys), prefix)
    if len(_CLASSES) > 1_000_000:
        _CLASSES.clear()
    _CLASSES[tok] = found
    return found


# A whitespace-separated piece of cleaned text -> the codes of its tokens, joined: a word
# is its key (parts joined by "-") and "\n", a break is "\x00". A word that needs the
# exact per-word path (a named compound's prefix, a content word keyed like a connector)
# is marked "\x01" (+ prefix + "\x02") before its key. Tokens never span whitespace, so a
# text's tokens are its pieces' tokens in order; pieces recur far more than texts do.
_PIECES: dict[str, str] = {}


def _piece_codes(piece: str) -> str:
    codes: list[str] = []
    for tok in _TOKEN.findall(piece):
        kind, key, prefix = _CLASSES.get(tok) or _classify(tok)
        if kind == 0:
            codes.append("\x00")
        elif prefix:
            codes.append("\x01" + prefix + "\x02" + key + "\n")
        elif kind == 1 and key in CONNECTORS:
            codes.append("\x01" + key + "\n")
        else:
            codes.append(key + "\n")
    found = "".join(codes)
    if len(_PIECES) > 1_000_000:
        _PIECES.clear()
    _PIECES[piece] = found
    return found


def _text_codes(text: str) -> str:
    """The token codes of a text (see ``_PIECES``), joined."""
    get = _PIECES.get
    return "".join([get(p) or _piece_codes(p) for p in clean_text(text).split()])


def phrase_keys(text: str, max_words: int = MAX_WORDS) -> list[str]:
    """Every candidate phrase of a text as a key of part keys: words joined by " ", the
    parts of a hyphenated word by "-" ("pre-trained language model", "mixture of expert").
    Phrases are runs of up to ``max_words`` words inside a chunk, never starting or ending
    with a connector; a named compound also gives its prefix ("ERNIE" of "ERNIE-Tiny").

    Keys come in reading order: per chunk, its named prefixes, then for each start word
    its phrases from shortest to longest. Chunks are cut from the text's joined token
    codes at breaks, so no Python step is taken per token.
    """
    out: list[str] = []
    append = out.append
    for part in _text_codes(text).split("\x00"):
        if not part:
            continue
        words = part.split("\n")
        words.pop()  # every code ends with "\n"
        n = len(words)
        if "\x01" in part:
            conn: list[bool] = []
            for i, w in enumerate(words):
                if w.startswith("\x01"):
                    if "\x02" in w:
                        prefix, w = w[1:].split("\x02")
                        append(prefix)
                    else:
                        w = w[1:]
                    words[i] = w
                    conn.append(False)
                else:
                    conn.append(w in CONNECTORS)
            _emit(words, conn, append, max_words)
        elif n == 1:
            if words[0] not in CONNECTORS:
                append(words[0])
        elif n == 2 and max_words >= 2:
            first, second = words
            if first in CONNECTORS or second in CONNECTORS:
                _emit(words, [first in CONNECTORS, second in CONNECTORS], append, max_words)
            else:
                out.extend((first, first + " " + second, second))
        else:
            _emit(words, [w in CONNECTORS for w in words], append, max_words)
    return out


def _emit(words: list[str], conn: list[bool], append: Callable[[str], None], most: int) -> None:
    n = len(words)
    if n == 1:
        if not conn[0]:
            append(words[0])
        return
    for i in range(n):
        if conn[i]:
            continue
        key = words[i]
        append(key)
        stop = i + most
        for j in range(i + 1, n if stop > n else stop):
            key = key + " " + words[j]
            if not conn[j]:
                append(key)


def surface_phrases(text: str) -> Iterator[tuple[str, str]]:
    """(merge key, surface as written) for each candidate phrase."""
    for chunk in chunks(text):
        n = len(chunk)
        for i in range(n):
            if chunk[i][2]:
                continue
            parts: list[str] = []
            words: list[str] = []
            keys_i, surf_i, _ = chunk[i]
            if len(keys_i) > 1 and sum(ch.isupper() for ch in surf_i[0]) > 1:
                yield keys_i[0], surf_i[0]
            for j in range(i, min(n, i + MAX_WORDS)):
                keys_j, surf_j, conn_j = chunk[j]
                parts.extend(keys_j)
                words.append("-".join(surf_j))
                if not conn_j:
                    yield "".join(parts), " ".join(words)


def target_surfaces(
    text: str, targets: Container[str], prefixes: Container[str]
) -> Iterator[tuple[str, str]]:
    """The ``surface_phrases`` of a text whose merge key is one of ``targets``
    (``prefixes``: every leading part of a target, targets included), without building
    the phrases that cannot become one. Read token by token (see ``surfaces_of``)."""
    toks = _TOKEN.findall(clean_text(text))
    get = _SPELLING.get
    info = [get(t) or _spelling(t) for t in toks]
    n = len(toks)
    for i, (kind, first, _, named) in enumerate(info):
        if kind != 1:
            continue
        if named and first in targets:
            yield first, named
        joined = ""
        for j in range(i, min(n, i + MAX_WORDS)):
            kind_j, _, merged_j, _ = info[j]
            if kind_j == 0:
                break
            joined += merged_j
            if joined not in prefixes:
                break
            if kind_j != 2 and joined in targets:
                yield joined, " ".join(toks[i : j + 1])


def merge_key(spaced_key: str) -> str:
    """The key variants merge on: part keys joined without spaces or hyphens."""
    return spaced_key.replace(" ", "").replace("-", "")


def key_parts(spaced_key: str) -> list[str]:
    """The part keys of a phrase key ("pre-trained language model" -> pre, trained, ...)."""
    return spaced_key.replace("-", " ").split(" ")


def key_of_name(name: str) -> str:
    """The merge key of a phrase written by a person ("Knowledge Distillation")."""
    parts: list[str] = []
    for tok in _TOKEN.findall(clean_text(name)):
        lower = tok.lower()
        if not tok[0].isalnum():
            continue
        parts.extend(singular(p) for p in lower.split("-") if p)
    return "".join(parts)


_ACRONYM = re.compile(r"^(?=[A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*[A-Z])[A-Za-z][A-Za-z0-9-]{1,9}$")


_ACRONYM_SITE = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9-]{1,9})\s*[);,]")


def acronym_definitions(text: str) -> Iterator[tuple[str, str]]:
    """(acronym key, spaced phrase key) for each "long form (ACRONYM)" in a text.

    The acronym's letters must be the initials of the words (or hyphen parts) just before
    the parenthesis, stop words allowed to be skipped: "signal-to-noise ratio (SNR)",
    "Mixture-of-Experts (MoE)", "pre-trained language models (PLMs)".
    """
    for site in _ACRONYM_SITE.finditer(text):
        acr = site.group(1)
        if not _ACRONYM.match(acr):
            continue
        letters = acr.replace("-", "").lower()
        if letters.endswith("s") and acr[-1] == "s" and len(letters) > 2:
            letters = letters[:-1]
        if not letters.isalpha():
            continue
        # The words are read back from the parenthesis, at most ``most`` of them: only the
        # last ``most`` whitespace-separated pieces of the cleaned text before it are
        # tokenised (a token never spans whitespace and every piece holds one at least,
        # so their tokens are the last ones of the whole text's, enough of them).
        most = len(letters) + 2
        window = clean_text(text[max(0, site.start() - 120) : site.start()])
        before = _TOKEN.findall(" ".join(window.rsplit(None, most)[-most:]))
        words: list[str] = []
        parts = 0  # hyphen parts of the words: every reading takes at most one initial of each
        j = len(before) - 1
        while j >= 0 and len(words) < most and before[j][0].isalpha():
            word = before[j]
            words.insert(0, word)
            parts += word.count("-") + 1
            j -= 1
            if parts < len(letters):
                continue  # too few initials for the letters: no reading matches yet
            expansion = _match_initials(words, letters)
            if expansion is not None:
                yield singular(letters), expansion
                break


def _match_initials(words: list[str], letters: str) -> str | None:
    first = words[0]
    if letters[0] != first[0].lower():
        # Every way of reading initials starts with the first word's initial, except
        # skipping stop words, which can start later only when that word starts with one.
        head = first.split("-")[0].lower()
        if head not in STOP_WORDS and head not in CONNECTORS:
            return None
    kinds = [_word(w) for w in words]
    if kinds[0][0] != 1 or kinds[-1][0] != 1:
        return None
    by_word = "".join(w[0].lower() for w in words)
    by_part = "".join(p[0].lower() for w in words for p in w.split("-") if p)
    content_part = "".join(
        p[0].lower()
        for w in words
        for p in w.split("-")
        if p and p.lower() not in STOP_WORDS and p.lower() not in CONNECTORS
    )
    content_word = "".join(w[0].lower() for w, k in zip(words, kinds, strict=True) if k[0] == 1)
    if letters in (by_word, by_part, content_part, content_word):
        parts: list[str] = []
        for kind, keys, _ in kinds:
            if kind == 0:
                return None
            parts.extend(keys)
        return " ".join(parts)
    return None


_GENERAL = GENERIC_UNIGRAMS | GENERIC_NOUNS


def lone_subject_ok(key: str) -> bool:
    """Whether a phrase key can name a lone paper's subject (two words or more, a noun at
    the end, not only general words)."""
    if " " not in key:
        return False
    parts = key_parts(key)
    if not nounish_end(parts[-1]):
        return False
    general = _GENERAL
    if "of" in parts and parts[0] in general:
        return False
    return any(p not in CONNECTORS and p not in general for p in parts)


def key_uses(key: str) -> int:
    """What ``generator.topics`` uses a phrase key for, as bits: 1 a similarity term (a
    word or two-word phrase longer than two characters, not a general word; see
    ``similarity_terms_of``), 2 a lone paper's possible subject (two or three words,
    ``lone_subject_ok``); 0 for a key of four words."""
    spaces = key.count(" ")
    if spaces > 2:
        return 0
    found = 0
    if spaces < 2 and len(key) > 2 and key not in _GENERAL:
        found = 1
    if spaces and lone_subject_ok(key):
        found |= 2
    return found


def similarity_terms(text: str) -> list[str]:
    """Words and two-word phrases of a text (for similarity vectors)."""
    return [k for k in phrase_keys(text, 2) if len(k) > 2 and k not in _GENERAL]


def similarity_terms_of(keys: list[str]) -> list[str]:
    """``similarity_terms`` from a text's ``phrase_keys`` (four-word keys filtered to the
    one- and two-word ones, same order): one tokenisation serves topics and similarity."""
    general = _GENERAL
    return [k for k in keys if len(k) > 2 and k.count(" ") < 2 and k not in general]


def similarity_counts(
    title: str, title_counts: Mapping[str, int] | None, abstract_counts: Mapping[str, int]
) -> dict[str, int]:
    """Similarity terms of a text and their counts (title uses count twice), in order of
    first use, from the texts' phrase-key counts."""
    counts: dict[str, int] = {}
    general = _GENERAL
    if title and title_counts is not None:
        for k, n in title_counts.items():
            if len(k) > 2 and k.count(" ") < 2 and k not in general:
                counts[k] = 2 * n
    get = counts.get
    for k, n in abstract_counts.items():
        if len(k) > 2 and k.count(" ") < 2 and k not in general:
            counts[k] = get(k, 0) + n
    return counts


class TermCache:
    """Similarity terms of each (title, abstract), counted once per build and kept as ids.

    Terms are numbered in one vocabulary in order of first use; a text's terms are kept in
    the order ``Counter`` would insert them (title terms, weight 2, then abstract terms), so
    vectors built from the cache are the same, entry for entry, as from the text itself.
    """

    MAX_TEXTS = 400_000

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.texts: dict[tuple[str, str], tuple[array[int], array[int]]] = {}

    def term_id(self, term: str) -> int:
        found = self.vocab.get(term)
        if found is None:
            found = self.vocab[term] = len(self.vocab)
        return found

    def remember(
        self, title: str, abstract: str, title_keys: list[str] | None, abstract_keys: list[str]
    ) -> tuple[array[int], array[int]]:
        """Store a text's terms from its already computed ``phrase_keys``."""
        counts: dict[str, int] = {}
        get = counts.get
        if title:
            for k in similarity_terms_of(title_keys if title_keys is not None else []):
                counts[k] = get(k, 0) + 2
        for k in similarity_terms_of(abstract_keys):
            counts[k] = get(k, 0) + 1
        vocab = self.vocab
        ids = []
        for k in counts:
            found = vocab.get(k)
            if found is None:
                found = vocab[k] = len(vocab)
            ids.append(found)
        if len(self.texts) >= self.MAX_TEXTS:
            self.texts.clear()
        entry = (array("i", ids), array("i", counts.values()))
        self.texts[(title, abstract)] = entry
        return entry

    def store_ids(self, title: str, abstract: str, ids: array[int], counts: array[int]) -> None:
        """Keep a text's terms given as ids of this cache's vocabulary."""
        if len(self.texts) >= self.MAX_TEXTS:
            self.texts.clear()
        self.texts[(title, abstract)] = (ids, counts)

    def store(
        self, title: str, abstract: str, terms: list[str], counts: array[int]
    ) -> tuple[array[int], array[int]]:
        """Keep a text's terms (from ``similarity_counts``) under the cache's ids."""
        vocab = self.vocab
        setdefault = vocab.setdefault
        if len(self.texts) >= self.MAX_TEXTS:
            self.texts.clear()
        entry = (array("i", [setdefault(k, len(vocab)) for k in terms]), array("i", counts))
        self.texts[(title, abstract)] = entry
        return entry

    def terms(self, title: str, abstract: str) -> tuple[array[int], array[int]]:
        """(term ids, counts) of a text, computed on first use."""
        hit = self.texts.get((title, abstract))
        if hit is not None:
            return hit
        return self.remember(
            title, abstract, phrase_keys(title) if title else None, phrase_keys(abstract)
        )


TERMS = TermCache()


Chunk = list[tuple[tuple[str, ...], tuple[str, ...], bool]]


def chunk_phrase_keys(text_chunks: list[Chunk], max_words: int = MAX_WORDS) -> list[str]:
    """``phrase_keys`` of a text from its ``chunks`` (the same keys; prefixes of named
    compounds placed at their chunk's start rather than among its phrases)."""
    out: list[str] = []
    append = out.append
    for chunk in text_chunks:
        words: list[str] = []
        conn: list[bool] = []
        for keys, parts, is_conn in chunk:
            if len(keys) > 1 and sum(ch.isupper() for ch in parts[0]) > 1:
                append(keys[0])
            words.append("-".join(keys))
            conn.append(is_conn)
        _emit(words, conn, append, max_words)
    return out


# token -> (kind, its first part key, its part keys joined, a named compound's prefix as
# written or ""), for finding one phrase's spellings token by token.
_SPELLING: dict[str, tuple[int, str, str, str]] = {}


def _spelling(tok: str) -> tuple[int, str, str, str]:
    kind, keys, parts = _word(tok)
    named = parts[0] if len(keys) > 1 and sum(ch.isupper() for ch in parts[0]) > 1 else ""
    found = (kind, keys[0] if keys else "", "".join(keys), named)
    if len(_SPELLING) > 1_000_000:
        _SPELLING.clear()
    _SPELLING[tok] = found
    return found


# A whitespace-separated piece of cleaned text -> its tokens (``_TOKEN.findall(piece)``) and
# their ``_spelling``s. Tokens never span whitespace, so a text's tokens are its pieces'
# tokens in order; pieces recur far more than texts do.
_PIECE_SPELLINGS: dict[str, tuple[tuple[str, ...], tuple[tuple[int, str, str, str], ...]]] = {}


def _piece_spellings(
    piece: str,
) -> tuple[tuple[str, ...], tuple[tuple[int, str, str, str], ...]]:
    toks = tuple(_TOKEN.findall(piece))
    get = _SPELLING.get
    found = (toks, tuple([get(t) or _spelling(t) for t in toks]))
    if len(_PIECE_SPELLINGS) > 1_000_000:
        _PIECE_SPELLINGS.clear()
    _PIECE_SPELLINGS[piece] = found
    return found


def text_spellings(text: str) -> tuple[list[str], list[tuple[int, str, str, str]]]:
    """A cleaned text's tokens (``_TOKEN.findall(text)``) and their ``_spelling``s, put
    together from its whitespace-separated pieces' (kept per piece)."""
    toks: list[str] = []
    info: list[tuple[int, str, str, str]] = []
    get = _PIECE_SPELLINGS.get
    for piece in text.split():
        found = get(piece)
        if found is None:
            found = _piece_spellings(piece)
        toks.extend(found[0])
        info.extend(found[1])
    return toks, info


def surfaces_of(text: str, target: str) -> list[str]:
    """The surfaces of ``text`` whose merge key is ``target``: what ``surface_phrases``
    yields for that key (the same list as ``chunk_surfaces`` of the text's ``chunks``),
    read token by token without building chunks or any other phrase. A word's surface is
    its token as written; a run stops at a break (a token of kind 0)."""
    toks, info = text_spellings(clean_text(text))
    out: list[str] = []
    n = len(toks)
    startswith = target.startswith
    for i, (kind, first, _, named) in enumerate(info):
        if kind != 1 or not startswith(first):
            continue
        if named and first == target:
            out.append(named)
        joined = ""
        for j in range(i, min(n, i + MAX_WORDS)):
            kind_j, _, merged_j, _ = info[j]
            if kind_j == 0:
                break
            joined += merged_j
            if not startswith(joined):
                break
            if kind_j != 2 and joined == target:
                out.append(" ".join(toks[i : j + 1]))
    return out


def chunk_surfaces(text_chunks: list[Chunk], target: str) -> list[str]:
    """``surfaces_of`` from a text's ``chunks``."""
    out: list[str] = []
    for chunk in text_chunks:
        n = len(chunk)
        for i in range(n):
            keys_i, surf_i, conn_i = chunk[i]
            if conn_i or not target.startswith(keys_i[0]):
                continue
            if (
                len(keys_i) > 1
                and keys_i[0] == target
                and sum(ch.isupper() for ch in surf_i[0]) > 1
            ):
                out.append(surf_i[0])
            joined = ""
            words: list[str] = []
            for j in range(i, min(n, i + MAX_WORDS)):
                keys_j, surf_j, conn_j = chunk[j]
                joined += "".join(keys_j)
                if not target.startswith(joined):
                    break
                words.append("-".join(surf_j))
                if not conn_j and joined == target:
                    out.append(" ".join(words))
    return out
