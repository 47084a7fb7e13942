"""Betweenness from a sample of sources: Brandes' algorithm, compiled with numba.

Hand-written rather than a library's because none fits: igraph's subset betweenness
(``Graph.betweenness(sources=...)``) took 12.0-15.2 s for 16 sources on a random graph of 1M
vertices and 4.3M edges, and networkit draws its own sample, where every engine must use the
same sources (``engines.base.betweenness_sources``). Each source is one breadth-first search
and one pass back over its vertices in reverse order, O(edges); the loops run in numba without
the GIL, so the window's other work goes on beside them (``scripts/analysis/
betweenness_vs_igraph.py`` times it against igraph's; ``docs/benchmarks.md``).
"""

from __future__ import annotations

import numba
import numpy as np


def sampled_betweenness(
    src: np.ndarray, dst: np.ndarray, n: int, sources: np.ndarray
) -> np.ndarray:
    """Each vertex's summed dependency over the shortest paths from ``sources`` to every
    vertex of the directed graph ``src[i] -> dst[i]`` on ``0..n-1`` (unweighted; parallel
    edges count as distinct paths), unscaled: what ``igraph.Graph.betweenness(directed=True,
    sources=sources)`` returns, to float rounding. Deterministic: the same bits every run."""
    indptr, targets = _out_adjacency(src, dst, n)
    return _brandes(indptr, targets, n, np.asarray(sources, dtype=np.int64))


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


@numba.njit(cache=True, nogil=True)
def _brandes(indptr, targets, n, sources):  # pragma: no cover (compiled; tested through callers)
    """The summed dependencies of ``sampled_betweenness``: per source, a breadth-first search
    counting shortest paths (``sigma``) and keeping the edges of the shortest-path DAG, then
    the vertices in reverse order of distance, each collecting ``sigma[w] * (1 + delta[v]) /
    sigma[v]`` from its successors ``v`` (Brandes 2001). Only the vertices a search reached
    are reset after it."""
    raw = np.zeros(n)
    level = np.zeros(n, dtype=np.int32)  # distance + 1; 0: not reached
    sigma = np.zeros(n)
    share = np.zeros(n)  # (1 + delta[v]) / sigma[v], once v's dependency is known
    order = np.empty(n, dtype=np.int64)  # the vertices level by level, each level sorted
    dag = np.empty(targets.size, dtype=targets.dtype)  # successors, in the order of ``order``
    dag_end = np.empty(n, dtype=np.int64)  # vertex order[i]'s successors end at dag_end[i]
    for source in sources:
        level[source] = 1
        sigma[source] = 1.0
        order[0] = source
        head, tail, kept = 0, 1, 0
        while head < tail:
            level_end = tail
            order[head:level_end].sort()  # the level's out-edges read in memory order
            for i in range(head, level_end):
                u = order[i]
                next_level, paths = level[u] + 1, sigma[u]
                for k in range(indptr[u], indptr[u + 1]):
                    v = targets[k]
                    if level[v] == 0:
                        level[v] = next_level
                        order[tail] = v
                        tail += 1
                    if level[v] == next_level:
                        sigma[v] += paths
                        dag[kept] = v
                        kept += 1
                dag_end[i] = kept
            head = level_end
        for i in range(tail - 1, 0, -1):  # every reached vertex but the source, farthest first
            w = order[i]
            gathered = 0.0
            for k in range(dag_end[i - 1], dag_end[i]):
                gathered += share[dag[k]]
            dependency = sigma[w] * gathered
            share[w] = (1.0 + dependency) / sigma[w]
            raw[w] += dependency
        for i in range(tail):
            w = order[i]
            level[w] = 0
            sigma[w] = 0.0
            share[w] = 0.0
    return raw
