"""CPU engine: polars plans on the CPU, graph algorithms in igraph's C core.

No per-vertex Python loops: igraph works on integer edge arrays, HITS is the vectorised
power iteration of ``engines.hits`` that the GPU engine runs on cupy arrays, so that even graphs
with tied leading eigenvalues get the same scores on both engines, and the sampled betweenness
is ``engines.betweenness``' level-synchronous Brandes over numpy arrays.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import igraph as ig
import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from analytics_platform.engines.base import (
    GraphParams,
    WindowGraph,
    label_by_smallest,
    scale_betweenness,
)
from analytics_platform.engines.betweenness import sampled_betweenness
from analytics_platform.engines.hits import hits
from analytics_platform.engines.timing import StageTimer, note_plan


class CpuEngine:
    name = "cpu"
    encode_by_hash = True

    def collect(self, plan: pl.LazyFrame) -> pl.DataFrame:
        note_plan("cpu")
        return plan.collect()

    def graph_features(
        self, graph: WindowGraph, params: GraphParams, timer: StageTimer
    ) -> dict[str, np.ndarray]:
        n = graph.n
        out: dict[str, np.ndarray] = {}
        with timer.stage("hits"):
            scores = hits(graph.src, graph.dst, n, params.hits_max_iter, params.hits_tol)
            out["hub_score"], out["authority_score"] = scores.hubs, scores.authorities
        # One igraph graph at a time (the undirected view first), so peak memory holds one.
        with timer.stage("graph_build"):
            undirected = _igraph(graph.usrc, graph.udst, n, directed=False)
        with timer.stage("components"):
            out["component"] = label_by_smallest(undirected.connected_components().membership)
        with timer.stage("communities"), _igraph_rng(params.seed):
            leiden = undirected.community_leiden(
                objective_function="modularity",
                weights=graph.uweight,  # converted to a C vector: 8 bytes an edge, no objects
                resolution=params.resolution,
                beta=params.leiden_randomness,
                n_iterations=params.leiden_iterations,
            )
            out["community"] = label_by_smallest(leiden.membership)
        with timer.stage("kcore"):
            out["kcore"] = np.asarray(undirected.coreness(), dtype=np.int64)
        with timer.stage("triangles"):
            out["triangles"] = _triangles(undirected, n)
        del undirected, leiden
        with timer.stage("graph_build"):
            directed = _igraph(graph.src, graph.dst, n, directed=True)
        with timer.stage("pagerank"), threadpool_limits(1, user_api="openmp"):
            # PRPACK's OpenMP loops add in the order their threads finish: two runs on one
            # graph differed in the last bits. One thread makes it a function of the graph
            # (4.3M pairs: 2.9 s against 2.2). python-igraph's pagerank takes a list or an
            # attribute, not an array: a list for the length of the call only.
            weights = graph.weight.tolist()
            out["pagerank"] = np.asarray(
                directed.pagerank(weights=weights, damping=params.damping, directed=True)
            )
            del weights
        del directed
        with timer.stage("betweenness"):
            raw = sampled_betweenness(graph.src, graph.dst, n, graph.sources)
            out["betweenness"] = scale_betweenness(raw, graph.sources)
        return out


@contextmanager
def _igraph_rng(seed: int) -> Iterator[None]:
    """igraph draws from a private generator seeded with ``seed`` for the duration.

    By default igraph draws from Python's global ``random``; seeding that and calling Leiden
    gave different communities for identical windows within one Dagster run (the 30- and
    90-day windows of a partition's first day), so other code in the process was drawing
    from it in between.
    """
    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


def _igraph(src: np.ndarray, dst: np.ndarray, n: int, *, directed: bool) -> ig.Graph:
    """The graph of the edges ``src[i] -> dst[i]`` on the vertices ``0..n-1``, without
    attributes: an edge attribute is a Python object per edge (40 bytes an edge on top of the
    graph's 37, measured on 5M edges), so weights are handed to each algorithm instead.

    The edges pass through a text file that igraph's C reader parses: python-igraph turns an
    edge list (tuples or a numpy array alike) into Python objects first, about 160 bytes an
    edge at once (1.6 GiB for 10M edges). Through the file, 10M edges peak at 0.6 GiB and
    build faster (7.3 s against 10.5 s on this 2-core machine; ``docs/benchmarks.md``).
    The edges keep their order, so edge ids, and every result, are the same.
    """
    with tempfile.TemporaryDirectory(prefix="igraph-edges-") as folder:
        path = os.path.join(folder, "edges.txt")
        pl.DataFrame({"s": src, "d": dst}).write_csv(path, separator=" ", include_header=False)
        g = ig.Graph.Read_Edgelist(path, directed=directed)
    if g.vcount() < n:  # the reader makes vertices up to the largest id only
        g.add_vertices(n - g.vcount())
    return g


def _triangles(g: ig.Graph, n: int) -> np.ndarray:
    """Triangles through each vertex of a simple undirected graph."""
    tri = np.asarray(g.list_triangles(), dtype=np.int64).reshape(-1, 3)
    return np.bincount(tri.ravel(), minlength=n).astype(np.int64)
