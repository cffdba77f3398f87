"""Research-area groups of a set of papers (a listing's, or one author name's).

Papers are linked by how alike they are: text similarity within the set (BM25 vectors, see
``generator.similar``) or, when the caller passes the site's similar-paper lists, those
scores; plus shared topics weighted by how specific each topic is. Average-linkage
clustering on those links gives research areas. Areas are then joined when they share a
co-author other than the name every paper carries (one researcher with two subjects keeps
one career). When two or more areas of at least two papers remain, unlinked by text or
people, the set is *mixed*: probably different researchers who share a name. Groups are
labelled with the topic that best tells them apart.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import marshal
import math
import operator
import pickle
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np
import scipy.sparse as sp

from generator.model import Group, Paper, Topic
from generator.people import name_key
from generator.topics import category_name, paper_phrase

LINK = 0.10  # average similarity that keeps two papers' areas together
MIXED_SHARE = 15  # percent of a set outside its main area that marks it as mixed
MAX_SINGLES = 4  # more lone papers than this are one "Other papers" group
OTHER = "Other papers"
TOPIC_WEIGHT = 0.5
MAX_DENSE = 2500  # larger sets are grouped from similar-paper links, without a matrix
MAX_DENSE_TOPICS = 300  # larger sets add shared topics pair by pair (sparse), not block-wise
MAX_SMALL = 14  # smaller sets are clustered in plain Python (array and scipy calls cost more)

_index_cache: dict[int, tuple[Sequence[Topic], dict[str, Topic], int, dict[str, float]]] = {}


def _topic_index(topics: Sequence[Topic]) -> tuple[dict[str, Topic], int]:
    """Topic by id and the number of papers topics cover (computed once per topic list)."""
    by_id, total, _ = _topic_weights(topics)
    return by_id, total


def prime_topic_index(topics: Sequence[Topic]) -> None:
    """Build the index of ``topics`` now (before forking workers, so they inherit it)."""
    _topic_weights(topics)


def _topic_weights(topics: Sequence[Topic]) -> tuple[dict[str, Topic], int, dict[str, float]]:
    """Also each topic's weight as a link: the rarer the topic, the stronger."""
    hit = _index_cache.get(id(topics))
    if hit is not None and hit[0] is topics:
        return hit[1], hit[2], hit[3]
    by_id = {t.id: t for t in topics}
    total = len({pid for t in topics for pid in t.paper_ids})
    weight = {tid: math.log(max(total, 2) / max(len(t.paper_ids), 1)) for tid, t in by_id.items()}
    _index_cache.clear()
    _index_cache[id(topics)] = (topics, by_id, total, weight)
    return by_id, total, weight


def _similarity(
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    topics: Sequence[Topic],
    similar: Mapping[str, tuple[tuple[str, float], ...]] | None,
) -> np.ndarray:
    n = len(papers)
    _, _, weight = _topic_weights(topics)
    pos = {p.id: i for i, p in enumerate(papers)}
    sim = np.zeros((n, n), dtype=np.float64)
    if similar is None:
        from generator.similar import paper_vectors

        x = paper_vectors(papers, paper_topics, own_terms_count=True)
        sim = np.asarray((x @ x.T).todense(), dtype=np.float64)
    else:
        _similar_links(sim, papers, pos, similar)
    # Shared topics, the rarer the topic the stronger the link: the sum of the shared
    # topics' weights, added in order of the topics' first use (a sparse product adds
    # each pair's terms in column order, so the sums are the same floats).
    members, mass = _topic_members(papers, paper_topics, weight)
    if n <= MAX_DENSE_TOPICS:
        shared = _shared_dense(members, weight, n)
        denom = np.sqrt(np.outer(mass, mass))
        denom[denom == 0] = 1.0
        topic_sim = shared / denom
        combined = np.maximum(sim, TOPIC_WEIGHT * topic_sim) + 0.5 * np.minimum(sim, topic_sim)
    else:
        # Only pairs that share a topic change: elsewhere the topic term is 0 and the
        # formula gives the text similarity back.
        r, c, v = _shared_weights(members, weight, n)
        m = np.asarray(mass)
        denom = np.sqrt(m[r] * m[c])
        denom[denom == 0] = 1.0
        t = v / denom
        flat = sim.reshape(-1)  # a view: the pairs are written in place
        at = r.astype(np.int64) * n + c
        s = flat[at]
        flat[at] = np.maximum(s, TOPIC_WEIGHT * t) + 0.5 * np.minimum(s, t)
        combined = sim
    np.fill_diagonal(combined, 1.0)
    return np.asarray(combined)


def _similar_links(
    sim: np.ndarray,
    papers: Sequence[Paper],
    pos: Mapping[str, int],
    similar: Mapping[str, tuple[tuple[str, float], ...]],
) -> None:
    """Each pair of rows linked by the similar lists (either way round) gets the highest
    of its links' scores, in place: what setting ``sim[i, j] = sim[j, i] = max(sim[i, j],
    score)`` link by link gives, set by ``np.maximum.at`` (a maximum does not depend on the
    order). Scores that are not all above 0 (a NaN, a signed zero) are set link by link."""
    rows: list[int] = []
    cols: list[int] = []
    scores: list[float] = []
    get = pos.get
    for p in papers:
        near = similar.get(p.id, ())
        if near:
            i = pos[p.id]
            for other, score in near:
                j = get(other)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    scores.append(score)
    if not rows:
        return
    v = np.array(scores, dtype=np.float64)
    if bool((v > 0).all()):
        r = np.array(rows, dtype=np.intp)
        c = np.array(cols, dtype=np.intp)
        np.maximum.at(sim, (r, c), v)
        np.maximum.at(sim, (c, r), v)
        return
    for i, j, score in zip(rows, cols, scores, strict=True):
        sim[i, j] = sim[j, i] = max(sim[i, j], score)


def _topic_members(
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    weight: Mapping[str, float],
) -> tuple[dict[str, list[int]], list[float]]:
    """Each weighted topic's rows (in order of first use) and each row's total weight."""
    if _KEPT_FOR[0] is not weight or len(_KEPT) > 400_000:
        _KEPT.clear()
        _KEPT_FOR[0] = weight
    members: dict[str, list[int]] = defaultdict(list)
    mass: list[float] = []
    for i, p in enumerate(papers):
        tids = paper_topics.get(p.id, ())
        hit = _KEPT.get(id(p))
        if hit is None or hit[0] is not p or hit[1] is not tids:
            kept = tuple(t for t in tids if t in weight)
            total = 0.0
            for tid in kept:
                total += weight[tid]
            hit = _KEPT[id(p)] = (p, tids, kept, total)
        for tid in hit[2]:
            members[tid].append(i)
        mass.append(hit[3])
    return members, mass


# Each paper's weighted topics and their total weight, kept per paper (a paper is in the
# sets of each of its authors and its listing): (paper, its topic ids as read, the ones
# with a weight, their weights summed in order), valid while the paper, the very tuple of
# topic ids and the weights (``_KEPT_FOR``) are the same objects (all held here).
_KEPT: dict[int, tuple[Paper, tuple[str, ...], tuple[str, ...], float]] = {}
_KEPT_FOR: list[object] = [None]


def _shared_dense(
    members: Mapping[str, list[int]], weight: Mapping[str, float], n: int
) -> np.ndarray:
    """The n x n sums of the weights of the topics each pair of rows shares: what adding
    each topic's weight to its block of rows in turn (``shared[idx[:, None], idx] += w``,
    a row listed twice counted once) gives, in one ``np.bincount`` over every topic's
    (row, row) cells listed topic by topic. ``bincount`` adds its weights in the order
    given, so each cell's sum is taken in the topics' order of first use: the same floats."""
    sizes: list[int] = []
    rows: list[int] = []
    vals: list[float] = []
    for tid, found in members.items():
        if len(found) > 1:
            block = list(dict.fromkeys(found))
            sizes.append(len(block))
            rows.extend(block)
            vals.append(weight[tid])
    if not sizes:
        return np.zeros((n, n))
    size = np.array(sizes, dtype=np.int64)
    r = np.array(rows, dtype=np.int64)
    start = np.cumsum(size) - size  # each topic's first position in r
    topic = np.repeat(np.arange(len(sizes)), size)  # the topic of each position in r
    span = size[topic]  # each position pairs with every row of its topic
    first = np.repeat(start[topic], span)
    offset = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
    cells = np.repeat(r, span) * n + r[first + offset]
    w = np.repeat(np.array(vals)[topic], span)
    return np.bincount(cells, weights=w, minlength=n * n).reshape(n, n)


def _shared_weights(
    members: Mapping[str, list[int]], weight: Mapping[str, float], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of rows that share a topic (row, column, weights summed): a sparse product
    adds each pair's topics in column order, which is the topics' order of first use, so
    the sums are the floats that adding each topic's weight to its block in turn gives."""
    cols: list[int] = []
    rows: list[int] = []
    vals: list[float] = []
    for tid, found in members.items():
        if len(found) > 1:
            k = len(vals)
            vals.append(weight[tid])
            for i in dict.fromkeys(found):
                rows.append(i)
                cols.append(k)
    if not vals:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    a = sp.csr_matrix((np.ones(len(rows)), (np.array(rows), np.array(cols))), shape=(n, len(vals)))
    a.sort_indices()
    b = sp.csr_matrix(a.T.multiply(np.array(vals)[:, None]))
    b.sort_indices()
    product = (a @ b).tocoo()
    return product.row, product.col, np.asarray(product.data, dtype=np.float64)


def _similarity_lists(
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    topics: Sequence[Topic],
    similar: Mapping[str, tuple[tuple[str, float], ...]],
) -> list[list[float]]:
    """``_similarity`` of a small set from the similar lists, as lists of floats: the same
    operations on the same values, without array overheads."""
    n = len(papers)
    _, _, weight = _topic_weights(topics)
    pos = {p.id: i for i, p in enumerate(papers)}
    sim = [[0.0] * n for _ in range(n)]
    for i, p in enumerate(papers):
        i = pos[p.id]
        for other, score in similar.get(p.id, ()):
            j = pos.get(other)
            if j is not None:
                sim[i][j] = sim[j][i] = max(sim[i][j], score)
    members, mass = _topic_members(papers, paper_topics, weight)
    shared = [[0.0] * n for _ in range(n)]
    for tid, found in members.items():
        if len(found) > 1:
            w = weight[tid]
            rows = list(dict.fromkeys(found))
            for a in rows:
                row = shared[a]
                for b in rows:
                    row[b] += w
    # Every input is symmetric (and a product of two masses is the same either way), so
    # each pair is computed once and mirrored.
    out = [[1.0] * n for _ in range(n)]
    for a in range(n):
        sim_a, shared_a, mass_a, row = sim[a], shared[a], mass[a], out[a]
        for b in range(a + 1, n):
            denom = math.sqrt(mass_a * mass[b])
            t = shared_a[b] / (denom if denom != 0 else 1.0)
            s = sim_a[b]
            row[b] = out[b][a] = max(s, TOPIC_WEIGHT * t) + 0.5 * min(s, t)
    return out


def _average_clusters(sim: list[list[float]], threshold: float) -> list[list[int]]:
    """``_average_linkage`` of a small similarity matrix given as lists: scipy's
    nearest-neighbour chain (same order of merges, same arithmetic, same ties), and the
    clusters joined by its merges at distance at most 1 - threshold (the linkage has no
    inversions, so those are the flat clusters of the cut)."""
    n = len(sim)
    cutoff = 1.0 - threshold
    # dist[i][j] for i != j, as 1 - clip(sim, 0, 1)
    dist = [[1.0 - min(max(v, 0.0), 1.0) for v in row] for row in sim]
    size = [1] * n
    joined: list[tuple[int, int]] = []  # merges at distance at most the cutoff
    chain: list[int] = []
    y = 0
    for _ in range(n - 1):
        if not chain:
            chain.append(next(i for i in range(n) if size[i] > 0))
        while True:
            x = chain[-1]
            if len(chain) > 1:
                y = chain[-2]
                current = dist[x][y]
            else:
                current = math.inf
            row = dist[x]
            for i in range(n):
                if size[i] == 0 or i == x:
                    continue
                if row[i] < current:
                    current = row[i]
                    y = i
            if len(chain) > 1 and y == chain[-2]:
                break
            chain.append(y)
        del chain[-2:]
        if x > y:
            x, y = y, x
        nx, ny = size[x], size[y]
        size[x] = 0
        size[y] = nx + ny
        if current <= cutoff:
            joined.append((x, y))
        dx, dy = dist[x], dist[y]
        for i in range(n):
            ni = size[i]
            if ni == 0 or i == y:
                continue
            d = (nx * dx[i] + ny * dy[i]) / (nx + ny)
            dy[i] = d
            dist[i][y] = d
    return _clusters_of(n, joined)


def _root(parent: list[int], i: int) -> int:
    """The root of ``i`` in the union-find forest ``parent`` (halving the path on the way)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _clusters_of(n: int, joined: Sequence[tuple[int, int]]) -> list[list[int]]:
    """The clusters of items 0..n-1 that the ``joined`` pairs connect, each in item order,
    ordered by their first item."""
    parent = list(range(n))

    for x, y in joined:
        parent[_root(parent, x)] = _root(parent, y)
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        clusters[_root(parent, i)].append(i)
    return sorted(clusters.values(), key=lambda c: c[0])


def _average_linkage(sim: np.ndarray, threshold: float) -> list[list[int]]:
    """Clusters whose members are, on average, at least ``threshold`` alike (scipy's
    average-linkage hierarchy cut at distance 1 - threshold). scipy's own chain when it is
    loaded (``prime_linkage``), else the same chain in numpy (``_chain_clusters``)."""
    n = sim.shape[0]
    if n < 2:
        return [[i] for i in range(n)]
    if not linkage_loaded():
        return _chain_clusters(sim, threshold)
    # The condensed distances 1 - clip(sim, 0, 1) above the diagonal (what ``squareform``
    # gives: the upper triangle, row by row), computed in place.
    dist = sim[~np.tri(n, dtype=bool)]
    np.clip(dist, 0.0, 1.0, out=dist)
    np.subtract(1.0, dist, out=dist)
    tree = _nn_chain(dist, n)
    return _cut(tree, n, 1.0 - threshold)


@functools.cache
def _scipy_linkage() -> tuple[Callable[..., Any], Any, Any]:
    """scipy's ``linkage``, and its own pieces behind it (private: looked up, never
    required), through ``scipy.cluster``, whose package imports scipy.spatial and
    scipy.linalg too (~0.3 s)."""
    from scipy.cluster import hierarchy

    chain = getattr(getattr(hierarchy, "_hierarchy", None), "nn_chain", None)
    average = getattr(hierarchy, "_LINKAGE_METHODS", {}).get("average")
    return hierarchy.linkage, chain, average


# scipy's number for average linkage in its chain (``hierarchy._LINKAGE_METHODS``), and a
# check of a chain found on its own: five points whose average-linkage tree differs from
# every other method's (exact binary floats).
AVERAGE_CODE = 2
CHECK_DIST = (1.0, 3.0, 6.0, 8.0, 2.0, 5.0, 9.0, 4.0, 7.0, 10.0)
CHECK_TREE = [
    [0.0, 1.0, 1.0, 2.0],
    [2.0, 5.0, 2.5, 3.0],
    [3.0, 6.0, 5.0, 4.0],
    [4.0, 7.0, 8.5, 5.0],
]


@functools.cache
def _linkage_chain() -> tuple[Any, Any]:
    """scipy's nearest-neighbour chain and its number for average linkage, loaded on first
    use. Its compiled module is loaded on its own (~1 ms, ``_load_chain``) when it gives
    ``CHECK_TREE`` for ``CHECK_DIST``; else both are found through ``scipy.cluster``
    (``_scipy_linkage``; a chain of None: ``_nn_chain`` calls ``linkage``)."""
    chain = _load_chain()
    if chain is not None and _chain_ok(chain, AVERAGE_CODE):
        return chain, AVERAGE_CODE
    return _scipy_linkage()[1:]


def _load_chain() -> Any:
    """``scipy.cluster._hierarchy.nn_chain``, its extension module loaded without running
    ``scipy.cluster``'s package code (which imports vq, scipy.spatial and scipy.linalg);
    the module is registered under its name, so a later import of ``scipy.cluster`` uses
    it. None if this scipy does not have it where expected."""
    import importlib.machinery
    import importlib.util
    import sys

    name = "scipy.cluster._hierarchy"
    module = sys.modules.get(name)
    if module is None:
        try:
            package = importlib.util.find_spec("scipy.cluster")
            where = package.submodule_search_locations if package is not None else None
            spec = importlib.machinery.PathFinder.find_spec(name, list(where or ()))
            if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
                return None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except Exception:  # any failure: the package's own import path is taken instead
            return None
        module = sys.modules.setdefault(name, module)
    return getattr(module, "nn_chain", None)


def _chain_ok(chain: Any, code: int) -> bool:
    """Whether ``chain(dist, n, code)`` gives the average-linkage tree of the check."""
    try:
        tree = np.asarray(chain(np.array(CHECK_DIST), 5, code))
        return bool(tree.tolist() == CHECK_TREE)
    except Exception:
        return False


def prime_linkage() -> None:
    """Load scipy's chain now (before forking workers, so they inherit it): worth it for
    many large sets (it runs about twice as fast as ``_chain_clusters``)."""
    _linkage_chain()


def linkage_loaded() -> bool:
    return _linkage_chain.cache_info().currsize > 0


# Sets of more than MAX_SMALL papers to cluster whose sizes squared add up to more than
# this are worth loading scipy's chain for (~2 s of clustering in numpy). Loading it costs
# ~1 ms from its compiled module alone (``_load_chain``), but ~0.5 s where scipy.cluster
# must be imported instead; the threshold is set for the dearer case.
LINKAGE_IMPORT_WORK = 12_000_000


def _chain_clusters(sim: np.ndarray, threshold: float) -> list[list[int]]:
    """``_average_clusters`` with each step's row scan and distance update done by numpy
    (no scipy import): scipy's nearest-neighbour chain on the distances 1 - clip(sim, 0, 1)
    above the diagonal, with the same merges, arithmetic and ties. Merged-away clusters and
    the diagonal hold infinity, so the first smallest entry of a row is the neighbour
    scipy's scan finds (it keeps the chain's previous cluster on a tie)."""
    n = sim.shape[0]
    cutoff = 1.0 - threshold
    upper = np.triu_indices(n, 1)
    condensed = 1.0 - np.clip(sim[upper], 0.0, 1.0)
    dist = np.full((n, n), math.inf)
    dist[upper] = condensed
    dist.T[upper] = condensed
    size = [1] * n
    joined: list[tuple[int, int]] = []  # merges at distance at most the cutoff
    chain: list[int] = []
    first = 0  # no cluster before this one is left
    for _ in range(n - 1):
        if not chain:
            while size[first] == 0:
                first += 1
            chain.append(first)
        while True:
            x = chain[-1]
            row = dist[x]
            y = int(row.argmin())
            current = float(row[y])
            if len(chain) > 1:
                previous = chain[-2]
                if not current < row[previous]:
                    y, current = previous, float(row[previous])
                    break
            chain.append(y)
        del chain[-2:]
        if x > y:
            x, y = y, x
        nx, ny = size[x], size[y]
        size[x] = 0
        size[y] = nx + ny
        if current <= cutoff:
            joined.append((x, y))
        merged = (nx * dist[x] + ny * dist[y]) / (nx + ny)
        merged[y] = math.inf
        dist[y] = merged
        dist[:, y] = merged
        dist[x] = math.inf
        dist[:, x] = math.inf
    return _clusters_of(n, joined)


def __getattr__(name: str) -> Any:
    if name == "_CHAIN":  # the direct chain call, if this scipy has it
        return _linkage_chain()[0]
    if name == "_AVERAGE":
        return _linkage_chain()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _nn_chain(dist: np.ndarray, n: int) -> np.ndarray:
    """``linkage(dist, method="average")``: scipy's nearest-neighbour chain itself, without
    the wrapper's per-call checks and array-API dispatch (~0.4 ms a call; the distances
    here are finite by construction). Falls back to ``linkage`` if scipy's layout differs."""
    chain, average = _linkage_chain()
    if chain is None or average is None:
        return np.asarray(_scipy_linkage()[0](dist, method="average"))
    return np.asarray(chain(dist, n, average))


def _cut(tree: np.ndarray, n: int, cutoff: float) -> list[list[int]]:
    """The flat clusters of ``fcluster(tree, cutoff, criterion="distance")`` (the largest
    subtrees whose highest merge is at most ``cutoff``), without its per-call validation:
    a merge joins its two sides when neither it nor any merge below it is above the cutoff."""
    parent = list(range(2 * n - 1))

    highest = [0.0] * (n - 1)
    for k, (a, b, d) in enumerate(tree[:, :3].tolist()):
        left, right = int(a), int(b)
        top = max(
            d,
            highest[left - n] if left >= n else d,
            highest[right - n] if right >= n else d,
        )
        highest[k] = top
        if top <= cutoff:
            parent[_root(parent, left)] = n + k
            parent[_root(parent, right)] = n + k
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        clusters[_root(parent, i)].append(i)
    return sorted(clusters.values(), key=lambda c: c[0])


def _components(
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    similar: Mapping[str, tuple[tuple[str, float], ...]] | None,
) -> list[list[int]]:
    """Areas of a very large set: connected papers (similar lists above LINK), no matrix."""
    from generator.similar import find_similar

    lists = similar if similar is not None else find_similar(papers, paper_topics)
    pos = {p.id: i for i, p in enumerate(papers)}
    parent = list(range(len(papers)))

    for p in papers:
        for other, score in lists.get(p.id, ()):
            j = pos.get(other)
            if j is not None and score >= 2 * LINK:
                a, b = _root(parent, pos[p.id]), _root(parent, j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    comps: dict[int, list[int]] = defaultdict(list)
    for i in range(len(papers)):
        comps[_root(parent, i)].append(i)
    return sorted(comps.values(), key=lambda c: c[0])


def group_papers(
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    topics: Sequence[Topic],
    *,
    ignore_names: Sequence[str] = (),
    similar: Mapping[str, tuple[tuple[str, float], ...]] | None = None,
) -> tuple[tuple[Group, ...], bool]:
    """Research-area groups (largest first, papers in the given order) and whether the set
    mixes clearly separate areas. When it does not, the one group holds every paper.

    ``ignore_names``: author names not to count as a shared co-author (the name the set is
    about); when none is given, the name on most papers, if more than half, is ignored.
    ``similar``: the site's similar-paper lists, used instead of recomputing text similarity
    (faster for many calls).
    """
    n = len(papers)
    if n == 0:
        return (), False
    by_id, _ = _topic_index(topics)
    if n == 1:
        return (Group(_label([0], papers, paper_topics, by_id, set()), (papers[0].id,)),), False

    # People: co-authors (other than the set's own name) join areas into careers.
    ignored = {name_key(x) for x in ignore_names}
    paper_keys = [_name_keys(p.authors) for p in papers]
    if not ignored:
        counts = Counter(k for keys in paper_keys for k in keys)
        if counts:
            # A listing is about the name on most of its papers.
            top, c = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            if c * 2 > n:
                ignored.add(top)
    if _one_career(paper_keys, ignored):
        # Co-authors alone link every paper: one career, whatever the texts say.
        everyone = list(range(n))
        return (
            Group(_label(everyone, papers, paper_topics, by_id, set()), _ids(everyone, papers)),
        ), False
    sim: np.ndarray | list[list[float]] | None
    if n > MAX_DENSE:
        sim = None
        areas = _components(papers, paper_topics, similar)
    elif n <= MAX_SMALL and similar is not None:
        sim = _similarity_lists(papers, paper_topics, topics, similar)
        areas = _average_clusters(sim, LINK)
    else:
        sim = _similarity(papers, paper_topics, topics, similar)
        areas = (
            _average_clusters(sim.tolist(), LINK) if n <= MAX_SMALL else _average_linkage(sim, LINK)
        )
    groups = _careers(areas, paper_keys, ignored)

    # A lone paper joins the group it is most like, if it is like any.
    big = [g for g in groups if len(g) > 1]
    lone = [g[0] for g in groups if len(g) == 1]
    rest: list[list[int]] = []
    for i in lone:
        best, best_sim = -1, LINK
        for gi, g in enumerate(big if sim is not None else ()):
            s = _mean_of(sim, i, g) if sim is not None else 0.0
            if s >= best_sim:
                best, best_sim = gi, s
        if best >= 0:
            big[best].append(i)
        else:
            rest.append([i])
    big = [sorted(g) for g in big]
    big.sort(key=lambda g: (-len(g), g[0]))
    # Areas are apart by construction (average similarity below LINK). Two of them with at
    # least two papers each and no co-author in common, or a main area with several papers
    # unlike it and unlike each other, are the mark of different people.
    outside = n - (len(big[0]) if big else 0)
    mixed = len(big) >= 2 or (outside >= 2 and outside * 100 >= MIXED_SHARE * n)
    if not mixed:
        everyone = list(range(n))
        return (
            Group(_label(everyone, papers, paper_topics, by_id, set()), _ids(everyone, papers)),
        ), False
    singles = sorted(rest, key=lambda g: g[0])
    if len(singles) > MAX_SINGLES:
        # Many unrelated papers: one honest "other papers" group, not a made-up area.
        singles = [sorted(i for g in singles for i in g)]
        other = True
    else:
        other = False
    used: set[str] = set()
    out: list[Group] = []
    everywhere = _topic_counts(papers, paper_topics)
    for g in big:
        label = _label(g, papers, paper_topics, by_id, used, everywhere)
        used.add(label)
        out.append(Group(label, _ids(g, papers)))
    for g in singles:
        label = OTHER if other else _single_label(papers[g[0]], paper_topics, by_id, used)
        used.add(label)
        out.append(Group(label, _ids(g, papers)))
    return tuple(out), True


def _careers(
    areas: Sequence[Sequence[int]], paper_keys: Sequence[frozenset[str]], ignored: set[str]
) -> list[list[int]]:
    """The areas joined by shared co-authors (other than ``ignored``), each sorted, in the
    order of their first area. Each co-author joins the area of every paper of theirs to
    that of their first; a joined area's root is its lowest area (``parent[max] = min``),
    whatever the order of the joins: only which areas end up joined counts."""
    if len(areas) == 1:  # nothing to join
        return [sorted(areas[0])]
    parent = list(range(len(areas)))

    area_of = [0] * len(paper_keys)
    for a, members in enumerate(areas):
        for i in members:
            area_of[i] = a
    first_area: dict[str, int] = {}  # co-author -> the area of their first paper
    for i, keys in enumerate(paper_keys):
        ai = area_of[i]
        for key in keys:
            aj = first_area.setdefault(key, ai)
            if aj != ai and key not in ignored:
                ra, rb = _root(parent, ai), _root(parent, aj)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    careers: dict[int, list[int]] = defaultdict(list)
    for a, members in enumerate(areas):
        careers[_root(parent, a)].extend(members)
    return [sorted(m) for m in careers.values()]


def _mean_of(sim: np.ndarray | list[list[float]], i: int, cols: list[int]) -> float:
    """``sim[i, cols].mean()`` (numpy's sum order, so the same float for lists)."""
    if isinstance(sim, np.ndarray):
        # What ndarray.mean does: the sum (pairwise, in C), then one division.
        return float(np.add.reduce(sim[i, cols])) / len(cols)
    row = sim[i]
    return _pairwise_sum([row[j] for j in cols]) / len(cols)


def _pairwise_sum(values: list[float]) -> float:
    """``np.add.reduce`` of a short float64 array, in numpy's order: below 8 values one
    running sum; up to 128, eight running sums (every eighth value) added in pairs, then
    the values left over (numpy's ``pairwise_sum``; longer arrays go to numpy)."""
    n = len(values)
    if n < 8:
        total = -0.0
        for v in values:
            total += v
        return total
    if n > 128:
        return float(np.add.reduce(np.array(values, dtype=np.float64)))
    r0, r1, r2, r3, r4, r5, r6, r7 = values[:8]
    end = n - n % 8
    for k in range(8, end, 8):
        r0 += values[k]
        r1 += values[k + 1]
        r2 += values[k + 2]
        r3 += values[k + 3]
        r4 += values[k + 4]
        r5 += values[k + 5]
        r6 += values[k + 6]
        r7 += values[k + 7]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for k in range(end, n):
        total += values[k]
    return total


_KEYS: dict[tuple[str, ...], frozenset[str]] = {}


def _name_keys(authors: tuple[str, ...]) -> frozenset[str]:
    """The name keys of a paper's authors (kept per author list: a name's papers are
    grouped for each of its authors)."""
    found = _KEYS.get(authors)
    if found is None:
        if len(_KEYS) > 500_000:
            _KEYS.clear()
        found = _KEYS[authors] = frozenset(map(name_key, authors))
    return found


def _one_career(paper_keys: Sequence[frozenset[str]], ignored: set[str]) -> bool:
    """Whether shared co-authors (other than ``ignored``) link every paper to every other."""
    # A few passes that grow the names reached from the first paper (C-level set tests);
    # a set still growing after them is settled by a search over the names' holders.
    reached = set(paper_keys[0] - ignored)  # never holds an ignored name
    left = paper_keys[1:]
    for _ in range(4):
        keep: list[frozenset[str]] = []
        for keys in left:
            if reached.isdisjoint(keys):
                keep.append(keys)
            else:
                reached |= keys - ignored
        if not keep:
            return True
        if len(keep) == len(left):
            return False  # nothing more can be reached
        left = keep
    return _one_career_search(paper_keys, ignored)


def _one_career_search(paper_keys: Sequence[frozenset[str]], ignored: set[str]) -> bool:
    reached = {0}
    frontier = [0]
    holders: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(paper_keys):
        for key in keys - ignored:
            holders[key].append(i)
    while frontier:
        i = frontier.pop()
        for key in paper_keys[i] - ignored:
            for j in holders.pop(key, ()):
                if j not in reached:
                    reached.add(j)
                    frontier.append(j)
    return len(reached) == len(paper_keys)


def _ids(rows: Sequence[int], papers: Sequence[Paper]) -> tuple[str, ...]:
    return tuple(papers[i].id for i in sorted(rows))


def _label(
    rows: Sequence[int],
    papers: Sequence[Paper],
    paper_topics: Mapping[str, tuple[str, ...]],
    by_id: Mapping[str, Topic],
    used: set[str],
    everywhere: Counter[str] | None = None,
) -> str:
    """The topic most of the group has (at least half of it) and the rest of the set lacks;
    else the arXiv category most of it shares; else an honest "Other papers".
    ``everywhere``: the topic counts of the whole set, when the caller has them."""
    get = paper_topics.get
    inside = Counter(itertools.chain.from_iterable([get(papers[i].id, ()) for i in rows]))
    if everywhere is None:
        everywhere = inside if len(rows) == len(papers) else _topic_counts(papers, paper_topics)
    need = max(1 if len(rows) == 1 else 2, math.ceil(len(rows) / 2))
    best: list[tuple[float, int, int, str]] = []
    for tid, k in inside.items():
        topic = by_id.get(tid)
        if topic is None or topic.name in used or k < need:
            continue
        score = (k / len(rows)) * (k / everywhere[tid])
        if topic.kind == "category":
            score *= 0.8
        # Ties go to the fuller, more common name ("integrated lasers" before "AlN").
        best.append((-score, -len(topic.name.split()), -len(topic.paper_ids), topic.name))
    if best:
        return sorted(best)[0][3]
    cats = Counter(category_name(papers[i].category) or "" for i in rows)
    for name, k in sorted(cats.items(), key=lambda kv: (-kv[1], kv[0])):
        if name and k >= need and name not in used:
            return name
    return _other(used)


def _topic_counts(
    papers: Sequence[Paper], paper_topics: Mapping[str, tuple[str, ...]]
) -> Counter[str]:
    return Counter(
        itertools.chain.from_iterable(map(paper_topics.get, map(_ID, papers), repeat(())))
    )


def _single_label(
    paper: Paper,
    paper_topics: Mapping[str, tuple[str, ...]],
    by_id: Mapping[str, Topic],
    used: set[str],
) -> str:
    """A paper on its own: the phrase its own text names most, else its category."""
    for found in (_phrase_of(paper), category_name(paper.category)):
        if found and found not in used:
            return found
    for tid in paper_topics.get(paper.id, ()):
        topic = by_id.get(tid)
        if topic is not None and topic.name not in used:
            return topic.name
    return _other(used)


_PHRASES: dict[int, tuple[Paper, str | None]] = {}


def _phrase_of(paper: Paper) -> str | None:
    """``paper_phrase(paper)``, kept per paper (it reads only the paper's own text, and a
    paper is lone in the sets of several of its authors)."""
    hit = _PHRASES.get(id(paper))
    if hit is not None and hit[0] is paper:
        return hit[1]
    if len(_PHRASES) > 200_000:
        _PHRASES.clear()
    found = paper_phrase(paper)
    _PHRASES[id(paper)] = (paper, found)
    return found


def _other(used: set[str]) -> str:
    k = 2
    label = OTHER
    while label in used:
        label = f"{OTHER} ({k})"
        k += 1
    return label


class GroupKeys:
    """Memo keys of ``group_papers`` calls over one site's papers: a hash of exactly what a
    call reads, so a kept result is reused only when its inputs are the same. A call reads,
    for each paper in order, its id, authors, category, title (unless derived) and abstract
    and its topic ids; for each of those topics its name, kind and size; the number of
    papers topics cover; the names to ignore; and either the similar-paper links between
    the set's own papers or, without them, nothing more (texts are compared)."""

    VERSION = b"groups-3"  # a change of what group_papers reads renames every key

    def __init__(
        self,
        paper_topics: Mapping[str, tuple[str, ...]],
        topics: Sequence[Topic],
        similar: Mapping[str, tuple[tuple[str, float], ...]] | None,
    ) -> None:
        self._paper_topics = paper_topics
        self._similar = similar
        _, total, _ = _topic_weights(topics)
        self._total = str(total).encode()
        self._topic: dict[str, bytes] = {
            t.id: _digest(("t", t.id, t.name, t.kind, len(t.paper_ids))) for t in topics
        }
        self._paper: dict[str, bytes] = {}
        self._linked: dict[str, tuple[str, ...]] | None = None  # paper id -> its similar ids
        self._per: tuple[Sequence[Paper], tuple[bytes, bytes, bytes]] | None = None

    def _paper_digest(self, paper: Paper) -> bytes:
        found = self._paper.get(paper.id)
        if found is None:
            title = "" if paper.title_source == "derived" else paper.title
            tids = tuple(self._paper_topics.get(paper.id, ()))
            # pickled as one tuple: unambiguous (every part keeps its type and length)
            parts = (paper.id, tuple(paper.authors), paper.category, title, paper.abstract, tids)
            h = hashlib.blake2b(
                pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL), digest_size=16
            )
            topic = self._topic
            for tid in tids:  # what grouping reads of each of its topics
                seen = topic.get(tid)
                h.update(seen if seen is not None else _digest(("missing", tid)))
            found = self._paper[paper.id] = h.digest()
        return found

    def key(
        self,
        papers: Sequence[Paper],
        *,
        ignore_names: Sequence[str] = (),
        use_similar: bool = False,
    ) -> str:
        """The key of ``group_papers(papers, ..., ignore_names=..., similar=<the site's lists
        if use_similar else None>)``."""
        h = hashlib.blake2b(digest_size=20, person=b"papersite-grp")
        h.update(self.VERSION)
        h.update(_digest(("n", tuple(ignore_names), use_similar)))
        h.update(self._total)
        # each paper's digest covers its topics' too (made once per paper, looked up here)
        ids = list(map(_ID, papers))
        known = self._paper
        try:
            h.update(b"".join(map(known.__getitem__, ids)))
        except KeyError:
            digest = self._paper_digest
            h.update(b"".join([digest(p) for p in papers]))
        if use_similar and self._similar is not None:
            # each paper's links to the set's other papers, named by the paper's position
            # (papers without such links are left out: the positions say which they are)
            similar = self._similar
            linked = self._linked
            inside = set(ids)
            if linked is None:
                linked = self._linked = {
                    pid: tuple([o for o, _ in near]) for pid, near in similar.items()
                }
            # no link to another paper of the set (most papers of an author's set)
            apart = list(map(inside.isdisjoint, map(linked.get, ids, repeat(()))))
            links: list[tuple[int, tuple[tuple[str, float], ...]]] = []
            if False in apart:
                for i, pid in enumerate(ids):
                    if not apart[i]:
                        links.append((i, tuple(x for x in similar[pid] if x[0] in inside)))
            h.update(_digest(("s", len(papers), links)))
        return h.hexdigest()

    # -- the keys of the last build --------------------------------------------------------

    RECORD = "groups-record-1"

    def _per_paper(self, papers: Sequence[Paper]) -> tuple[bytes, bytes, bytes]:
        """The papers' ids (as bytes), each paper's digest (what ``key`` reads of it) and
        each paper's similar-paper list's digest, 16 bytes a paper, in order."""
        if self._per is not None and self._per[0] is papers:
            return self._per[1]
        digest = self._paper_digest
        similar = self._similar or {}
        blake = hashlib.blake2b
        dumps = marshal.dumps
        none: tuple[tuple[str, float], ...] = ()
        ids = [p.id for p in papers]
        try:
            near = b"".join(
                [blake(b"m" + dumps(similar.get(i, none), 0), digest_size=16).digest() for i in ids]
            )
        except ValueError:  # not plain values: a digest of their repr
            near = b"".join([_digest(similar.get(i, none)) for i in ids])
        made = _plain_bytes(ids), b"".join([digest(p) for p in papers]), near
        self._per = (papers, made)
        return made

    def prepare(self, papers: Sequence[Paper]) -> None:
        """Make what ``record`` and ``kept`` need of each of ``papers`` (once)."""
        self._per_paper(papers)

    def record(
        self,
        papers: Sequence[Paper],
        tasks: Sequence[tuple[tuple[str, ...], str, bool]],
        keys: Sequence[str | None],
    ) -> tuple[Any, ...]:
        """What ``kept`` compares a later build's sets with: ``key`` of each of ``tasks``
        ((paper ids, the name to ignore, use the similar lists); None: not grouped) and
        everything those keys were made from."""
        ids, digests, near = self._per_paper(papers)
        return (
            self.RECORD,
            self.VERSION + b"\x00" + self._total,
            ids,
            digests,
            near,
            _plain_bytes(list(tasks)),
            tuple(keys),
        )

    def kept(
        self,
        record: Any,
        papers: Sequence[Paper],
        tasks: Sequence[tuple[tuple[str, ...], str, bool]],
    ) -> dict[int, str]:
        """Against the ``record`` of the last build (``papers``: every paper of this one):
        task position -> its key, for the tasks whose keys are certainly the ones the last
        build made: the same task, none of its papers' digests changed, nor (when it uses
        them) their similar-paper lists. ``key`` reads nothing else."""
        if not (isinstance(record, tuple) and len(record) == 7 and record[0] == self.RECORD):
            return {}
        _, basis, old_ids, old_digests, old_near, old_tasks, old_keys = record
        ids, digests, near = self._per_paper(papers)
        if basis != self.VERSION + b"\x00" + self._total:
            return {}
        if ids != old_ids or len(old_keys) != len(tasks):
            return {}
        if len(digests) != len(old_digests) or len(near) != len(old_near):
            return {}
        order = [p.id for p in papers]
        changed = _changed(order, digests, old_digests)
        moved = _changed(order, near, old_near)
        same_tasks = _plain_bytes(list(tasks)) == old_tasks
        before: Any = []
        if not same_tasks:
            try:
                before = marshal.loads(old_tasks[1:]) if old_tasks[:1] == b"m" else None
            except (EOFError, ValueError, TypeError):
                return {}
            if not isinstance(before, list) or len(before) != len(tasks):
                return {}
        out: dict[int, str] = {}
        for t, task in enumerate(tasks):
            key = old_keys[t]
            if not isinstance(key, str) or not (same_tasks or tuple(before[t]) == task):
                continue
            paper_ids, _, use_similar = task
            if changed.isdisjoint(paper_ids) and not (
                use_similar and not moved.isdisjoint(paper_ids)
            ):
                out[t] = key
        return out


def _changed(ids: Sequence[str], now: bytes, before: bytes) -> set[str]:
    """The ids whose 16-byte digests in ``now`` and ``before`` (in the order of ``ids``)
    differ."""
    if now == before:
        return set()
    a, b = memoryview(now), memoryview(before)
    return {pid for i, pid in enumerate(ids) if a[i * 16 : i * 16 + 16] != b[i * 16 : i * 16 + 16]}


def _plain_bytes(value: Any) -> bytes:
    """Plain values as bytes (``marshal`` version 0: values only, each with its type)."""
    try:
        return b"m" + marshal.dumps(value, 0)
    except ValueError:
        return b"r" + repr(value).encode("utf-8", "surrogatepass")


_ID = operator.attrgetter("id")


def _digest(value: object) -> bytes:
    return hashlib.blake2b(repr(value).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def pack_groups(
    result: tuple[tuple[Group, ...], bool],
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], bool]:
    """A grouping result as plain tuples (what a memo keeps)."""
    groups, mixed = result
    return tuple((g.label, g.paper_ids) for g in groups), mixed


def unpack_groups(
    packed: tuple[tuple[tuple[str, tuple[str, ...]], ...], bool],
) -> tuple[tuple[Group, ...], bool]:
    groups, mixed = packed
    return tuple(Group(label, ids) for label, ids in groups), bool(mixed)
