"""CPU graph engine on igraph (C core; no per-vertex Python loops)."""

from __future__ import annotations

import igraph as ig
import numpy as np


class CpuGraphEngine:
    name = "cpu"

    @staticmethod
    def _graph(src: np.ndarray, dst: np.ndarray, n: int, directed: bool) -> ig.Graph:
        edges = np.column_stack([src, dst]).astype(np.int64, copy=False)
        return ig.Graph(n=n, edges=edges, directed=directed)

    def pagerank(
        self, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int, damping: float = 0.85
    ) -> np.ndarray:
        if n == 0:
            return np.zeros(0)
        g = self._graph(src, dst, n, directed=True)
        g.es["weight"] = weight.astype(np.float64)
        pr = g.pagerank(weights="weight", damping=damping, directed=True)
        return np.asarray(pr, dtype=np.float64)

    def weak_components(self, src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        membership = np.asarray(
            self._graph(src, dst, n, directed=False).connected_components().membership
        )
        # Relabel each component by its smallest vertex id: engine-independent labels.
        smallest = np.full(membership.max() + 1, n, dtype=np.int64)
        np.minimum.at(smallest, membership, np.arange(n, dtype=np.int64))
        return smallest[membership]
