"""The engine interface and the graph it works on (``engines.choice`` picks an engine).

An engine does two things: it executes the polars plans of the feature pipeline (``collect``:
polars on CPU, cuDF through polars' GPU engine on GPU) and it runs the graph algorithms on
integer-encoded edges (igraph on CPU, cuGraph on GPU). The feature code around both is shared,
so the engines compute the same thing by construction; the parity tests check the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl

from analytics_platform.engines.timing import StageTimer

log = logging.getLogger(__name__)

GRAPH_OUTPUTS = (
    "pagerank",
    "hub_score",
    "authority_score",
    "component",
    "community",
    "kcore",
    "triangles",
    "betweenness",
)
"""Arrays every engine returns, indexed by vertex id; ``component``/``community`` hold labels."""


@dataclass(frozen=True)
class GraphParams:
    damping: float = 0.85
    pagerank_tol: float = 1e-10
    hits_max_iter: int = 300
    """Dense windows converge in about 15 iterations (13 at 3M transfers); sparse one-day
    windows mix slowly (the demo's first day: second eigenvalue 0.93 of the first, about 120)."""
    hits_tol: float = 1e-6
    """Total (L1) change of the stored hub scores (summing to 1) in the last iteration."""
    betweenness_samples: int = 16
    resolution: float = 1.0
    # One Leiden pass: at 1M addresses 22 s for modularity 0.643 vs 32 s and 0.645 for two
    # passes (igraph's default) and 12x the time for +0.1% more when run until stable.
    leiden_iterations: int = 1
    """igraph ``n_iterations``: one pass runs every aggregation level until none helps."""
    leiden_max_levels: int = 100
    """cuGraph ``max_iter``: a cap on the levels of its one pass (it stops when none helps)."""
    leiden_randomness: float = 0.01
    """The Leiden paper's theta in the refinement step: igraph ``beta``, cuGraph ``theta``
    (whose default, 1.0, is a hundred times igraph's 0.01; the same value on both)."""
    seed: int = 42
    max_edges: int | None = None
    """The window graph's edge budget (``features.max_graph_edges``): above it the graph
    algorithms run on the heaviest ``max_edges`` pairs only (``domain.features.GraphCut``)."""


@dataclass(frozen=True)
class WindowGraph:
    """A window's graph: vertices ``0..n-1``; every vertex has at least one edge.

    ``src/dst/weight``: directed, one edge per ordered pair, no self-loops, weight = volume
    (strictly positive). ``usrc/udst/uweight``: the undirected simple view (``usrc < udst``).
    """

    n: int
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    usrc: np.ndarray
    udst: np.ndarray
    uweight: np.ndarray
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Betweenness sample: the vertices used as sources by every engine."""


def betweenness_sources(n: int, k: int, seed: int) -> np.ndarray:
    """``k`` distinct vertices drawn with ``seed``, sorted; all vertices when ``k >= n - 1``.

    ``k = n - 1`` would cost as much as the exact answer, and cuGraph treats it as exact
    (it scales by ``k / (n - 1) = 1``, ``cpp/src/centrality/betweenness_centrality_impl.cuh``)
    where a sample estimate scales the sampled vertices by ``(n - 1) / (k - 1)``: the engines
    would disagree. Taking every vertex makes both exact.
    """
    if k >= n - 1:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False)).astype(np.int64)


def scale_betweenness(raw: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Scale source-sampled betweenness sums to whole-graph estimates (cuGraph's convention).

    A vertex outside the sample is scaled by ``(n-1)/k``; a sampled vertex by ``(n-1)/(k-1)``,
    since its own traversal cannot pass through it. With every vertex sampled this is exact.
    """
    n, k = raw.shape[0], sources.shape[0]
    if k == 0 or n < 2:
        return np.zeros_like(raw)
    scale = np.full(n, (n - 1) / k)
    scale[sources] = (n - 1) / (k - 1) if k > 1 else 0.0
    return raw * scale


def label_by_smallest(membership: np.ndarray) -> np.ndarray:
    """Relabel groups by their smallest vertex id: labels that do not depend on the engine."""
    membership = np.asarray(membership, dtype=np.int64)
    n = membership.shape[0]
    if n == 0:
        return membership
    _, dense = np.unique(membership, return_inverse=True)
    smallest = np.full(dense.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, dense, np.arange(n, dtype=np.int64))
    return smallest[dense]


class GraphEngine(Protocol):
    name: str
    encode_by_hash: bool
    """Match addresses on 64-bit hashes (fast on CPU) rather than joining the strings."""

    def collect(self, plan: pl.LazyFrame) -> pl.DataFrame:
        """Execute a polars plan."""
        ...

    def graph_features(
        self, graph: WindowGraph, params: GraphParams, timer: StageTimer
    ) -> dict[str, np.ndarray]:
        """Every array in ``GRAPH_OUTPUTS`` for ``graph`` (one timer stage per algorithm)."""
        ...
