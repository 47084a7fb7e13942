"""GPU engine: polars plans on cuDF (polars' GPU engine, ``cudf-polars``) and cuGraph.

Importable anywhere: RAPIDS modules are imported only when the engine is used, and
:func:`gpu_unavailable_reason` says why it cannot be (missing packages, no device). The
algorithms mirror the CPU engine's: the same graph, the same betweenness sources, HITS by power
iteration from uniform hubs, Leiden on the volume-weighted undirected graph.
"""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import polars as pl

from analytics_platform.engines.base import (
    GraphParams,
    WindowGraph,
    label_by_smallest,
)
from analytics_platform.timing import StageTimer

REQUIRED_MODULES = ("cudf", "cugraph", "cupy")
FRAME_MODULE = "cudf_polars"  # polars' GPU engine; without it plans run on the CPU (logged)
log = logging.getLogger(__name__)


def gpu_unavailable_reason() -> str | None:
    """``None`` when the GPU engine can run here, else a short reason."""
    missing = [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return f"python packages not installed: {', '.join(missing)}"
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # the CUDA runtime raises its own error types
        return f"no usable CUDA device ({type(exc).__name__}: {exc})"
    return None if count > 0 else "no CUDA device visible"


def _scatter(n: int, vertices, values, fill: float = 0.0) -> np.ndarray:
    """A dense host array of length ``n`` from a (vertex, value) result."""
    out = np.full(n, fill, dtype=np.float64)
    out[np.asarray(vertices.to_numpy(), dtype=np.int64)] = values.to_numpy()
    return out


def _cugraph(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, *, directed: bool):
    """A cuGraph graph on vertex ids ``0..n-1`` as given (no renumbering)."""
    import cudf
    import cugraph

    edges = cudf.DataFrame(
        {"src": src.astype(np.int32), "dst": dst.astype(np.int32), "weight": weight}
    )
    g = cugraph.Graph(directed=directed)
    g.from_cudf_edgelist(edges, source="src", destination="dst", edge_attr="weight", renumber=False)
    return g


class GpuEngine:
    name = "gpu"

    def __init__(self, raise_on_fail: bool = False) -> None:
        # raise_on_fail=False: a plan node cudf-polars cannot run executes on the CPU instead
        # (polars warns), so answers never depend on GPU coverage of an expression.
        self.frames_on_gpu = importlib.util.find_spec(FRAME_MODULE) is not None
        if not self.frames_on_gpu:
            log.warning("engine: %s not installed; polars plans run on the CPU", FRAME_MODULE)
        self._polars_engine = pl.GPUEngine(raise_on_fail=raise_on_fail)

    def collect(self, plan: pl.LazyFrame) -> pl.DataFrame:
        if not self.frames_on_gpu:
            return plan.collect()
        return plan.collect(engine=self._polars_engine)

    def graph_features(
        self, graph: WindowGraph, params: GraphParams, timer: StageTimer
    ) -> dict[str, np.ndarray]:
        import cudf
        import cugraph

        n = graph.n
        with timer.stage("graph_build"):
            directed = _cugraph(graph.src, graph.dst, graph.weight, directed=True)
            undirected = _cugraph(graph.usrc, graph.udst, graph.uweight, directed=False)
        out: dict[str, np.ndarray] = {}
        with timer.stage("pagerank"):
            pr = cugraph.pagerank(
                directed, alpha=params.damping, tol=params.pagerank_tol, max_iter=1000
            )
            out["pagerank"] = _scatter(n, pr["vertex"], pr["pagerank"])
        with timer.stage("hits"):
            h = cugraph.hits(
                directed, max_iter=params.hits_max_iter, tol=params.hits_tol, normalized=True
            )
            out["hub_score"] = _scatter(n, h["vertex"], h["hubs"])
            out["authority_score"] = _scatter(n, h["vertex"], h["authorities"])
        with timer.stage("components"):
            wcc = cugraph.weakly_connected_components(undirected)
            labels = _scatter(n, wcc["vertex"], wcc["labels"], fill=-1)
            out["component"] = label_by_smallest(labels.astype(np.int64))
        with timer.stage("communities"):
            parts, _modularity = cugraph.leiden(
                undirected, resolution=params.resolution, random_state=params.seed
            )
            labels = _scatter(n, parts["vertex"], parts["partition"], fill=-1)
            out["community"] = label_by_smallest(labels.astype(np.int64))
        with timer.stage("kcore"):
            core = cugraph.core_number(undirected)
            out["kcore"] = _scatter(n, core["vertex"], core["core_number"]).astype(np.int64)
        with timer.stage("triangles"):
            tri = cugraph.triangle_count(undirected)
            out["triangles"] = _scatter(n, tri["vertex"], tri["counts"]).astype(np.int64)
        with timer.stage("betweenness"):
            if graph.sources.size:
                bc = cugraph.betweenness_centrality(
                    directed,
                    k=cudf.Series(graph.sources.astype(np.int32)),
                    normalized=False,
                    endpoints=False,
                )
                # cuGraph already scales sampled sums by (n-1)/k (sources: (n-1)/(k-1)), the
                # convention of engines.base.scale_betweenness.
                out["betweenness"] = _scatter(n, bc["vertex"], bc["betweenness_centrality"])
            else:
                out["betweenness"] = np.zeros(n)
        return out
