"""Betweenness from a sample of sources: Brandes' algorithm, each BFS level as numpy arrays.

Hand-written rather than a library's because neither fits: igraph's subset betweenness
(``Graph.betweenness(sources=...)``) took 12.0-15.2 s for 16 sources on a random graph of 1M
vertices and 4.3M edges where this takes 4.1-4.4 s (2 cores,
``scripts/analysis/betweenness_vs_igraph.py``; ``docs/benchmarks.md``), and
networkit draws its own sample, where every engine must use the same sources
(``engines.base.betweenness_sources``). The per-level loop is the one GPU libraries run
(cuGraph's is level-synchronous too); its work is O(edges) per source, vectorised.
"""

from __future__ import annotations

import numpy as np

DENSE_LEVEL = 8
"""A level whose edges number more than ``n / DENSE_LEVEL`` is summed with one ``bincount``
over every vertex; a smaller one with ``np.add.at`` over its own edges (a long path of tiny
levels must not cost O(n) each)."""


def sampled_betweenness(
    src: np.ndarray, dst: np.ndarray, n: int, sources: np.ndarray
) -> np.ndarray:
    """Each vertex's summed dependency over the shortest paths from ``sources`` to every
    vertex of the directed graph ``src[i] -> dst[i]`` on ``0..n-1`` (unweighted; parallel
    edges count as distinct paths), unscaled: what ``igraph.Graph.betweenness(directed=True,
    sources=sources)`` returns, to float rounding. Deterministic: the same bits every run."""
    indptr, targets = _out_adjacency(src, dst, n)
    raw = np.zeros(n)
    for source in np.asarray(sources, dtype=np.int64):
        raw += _dependencies(indptr, targets, n, int(source))
    return raw


def _out_adjacency(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the out-edges: vertex ``u``'s targets are ``targets[indptr[u]:indptr[u + 1]]``."""
    ids = np.int32 if n < 2**31 else np.int64
    src = np.asarray(src)
    if src.size and not np.all(src[1:] >= src[:-1]):  # the window's flows come sorted
        order = np.argsort(src, kind="stable")
        src, dst = src[order], np.asarray(dst)[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, np.asarray(dst, dtype=ids)


def _dependencies(indptr: np.ndarray, targets: np.ndarray, n: int, source: int) -> np.ndarray:
    """Brandes' dependencies of every vertex on the paths from ``source`` (0 for itself)."""
    dist = np.full(n, -1, dtype=targets.dtype)  # BFS levels, fewer than n
    sigma = np.zeros(n)  # shortest paths from the source
    dist[source], sigma[source] = 0, 1.0
    frontier = np.array([source], dtype=targets.dtype)
    levels: list[tuple[np.ndarray, np.ndarray]] = []  # each level's edges u -> v of the DAG
    while frontier.size:
        u, v = _out_edges(indptr, targets, frontier)
        fresh = dist[v] < 0
        dist[v[fresh]] = len(levels) + 1
        on_path = dist[v] == len(levels) + 1
        u, v = u[on_path], v[on_path]
        if v.size == 0:
            break
        _accumulate(sigma, v, sigma[u])
        frontier = np.flatnonzero(dist == len(levels) + 1) if _dense(v, n) else np.unique(v)
        frontier = frontier.astype(targets.dtype, copy=False)
        levels.append((u, v))
    delta = np.zeros(n)
    for u, v in reversed(levels):
        _accumulate(delta, u, sigma[u] / sigma[v] * (1.0 + delta[v]))
    delta[source] = 0.0
    return delta


def _out_edges(
    indptr: np.ndarray, targets: np.ndarray, frontier: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every out-edge of the ``frontier`` vertices, as (sources, targets) arrays."""
    starts = indptr[frontier]
    counts = indptr[frontier + 1] - starts
    total = int(counts.sum())
    # Each edge's position: its vertex's first edge plus its rank among that vertex's edges.
    first = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    positions = first + np.arange(total)
    return np.repeat(frontier, counts), targets[positions]


def _accumulate(totals: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``totals[index[i]] += values[i]`` for every ``i``, in order. Each level's targets (and,
    going back, sources) start from zero, so both ways add the same terms in the same order."""
    if _dense(index, totals.size):
        totals += np.bincount(index, weights=values, minlength=totals.size)
    else:
        np.add.at(totals, index, values)


def _dense(edges: np.ndarray, n: int) -> bool:
    return edges.size * DENSE_LEVEL > n
