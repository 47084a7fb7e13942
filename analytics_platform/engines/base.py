"""The engine interface and engine lookup."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class GraphEngine(Protocol):
    """Graph algorithms over ``n`` vertices and directed edges ``src -> dst``."""

    name: str

    def pagerank(
        self, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int, damping: float = 0.85
    ) -> np.ndarray:
        """Weighted PageRank (dangling mass spread uniformly); sums to 1."""
        ...

    def weak_components(self, src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
        """Component label per vertex: the smallest vertex id in its weakly connected component."""
        ...


class EngineUnavailableError(RuntimeError):
    """The requested engine cannot run here (e.g. no GPU)."""


def get_engine(name: str) -> GraphEngine:
    """Return the engine called ``name`` (``cpu``), raising a clear error for unknown names."""
    if name == "cpu":
        from analytics_platform.engines.cpu import CpuGraphEngine

        return CpuGraphEngine()
    raise EngineUnavailableError(f"engine: unknown or unavailable graph engine {name!r}")
