"""GPU engine: polars plans on cuDF (polars' GPU engine, ``cudf-polars``) and cuGraph
(``pylibcugraph``).

Importable anywhere: RAPIDS modules are imported only when the engine is used, and
:func:`gpu_unavailable_reason` says why it cannot be (missing packages, no device). The
algorithms mirror the CPU engine's: the same graph, the same betweenness sources, the same HITS
code (``engines.hits`` on cupy arrays), Leiden with the same randomness on the volume-weighted
undirected graph. Choices made against the RAPIDS 26.10 sources:

- Plans run with the **in-memory** executor. The default streaming executor cuts frames into
  1M-row chunks; a window of 10M transfers (about 2 GB of columns,
  ``docs/deploy/scale-out.md``) fits one GPU many times over, and one chunk means no
  shuffles for the global sorts and group-bys.
- Plans are **GPU only**: before a plan runs, cudf-polars translates it; a plan it cannot
  translate (an unsupported expression) raises :class:`PlanNotOnGpuError` naming the
  operation, or with ``plans_fallback_to_cpu`` runs on the CPU with a warning. Either way the
  stage table in the materialisation says how many plans of each stage ran where. (polars'
  own ``raise_on_fail=False`` falls back silently; ``POLARS_VERBOSE=1`` alone would tell.)
- Betweenness runs on an **int64** graph: cuGraph counts shortest paths (``sigmas``) in the
  graph's edge type, int32 for int32 vertex ids, with no overflow check; 31 layers of
  two-way splits already overflow it. igraph counts in doubles.
"""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import polars as pl

from analytics_platform.engines.base import GraphParams, WindowGraph, label_by_smallest
from analytics_platform.engines.hits import hits
from analytics_platform.engines.timing import StageTimer, note_plan

# cuGraph through pylibcugraph, its thin layer over the C API: the ``cugraph`` Python package
# would add cuDF's pandas API and Dask (dask-cuda, dask-cudf, raft-dask) for nothing used here.
REQUIRED_MODULES = ("cudf_polars", "pylibcugraph", "cupy")
log = logging.getLogger(__name__)


class PlanNotOnGpuError(RuntimeError):
    """A polars plan uses an operation cudf-polars cannot run."""


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


def polars_gpu_engine() -> pl.GPUEngine:
    """The configuration every GPU plan runs with (see the module docstring)."""
    return pl.GPUEngine(executor="in-memory", raise_on_fail=True)


class _Translated(Exception):
    """Raised from the translation callback to stop polars from executing the plan."""


def gpu_plan_problem(plan: pl.LazyFrame, engine: pl.GPUEngine | None = None) -> str | None:
    """Why cudf-polars cannot run ``plan`` (``None`` when it can); nothing is executed.

    The plan is optimised by polars as for a real run and handed to cudf-polars' translator,
    the step that decides between GPU and CPU. It needs the ``cudf_polars`` package but no
    device, so it also runs on CPU-only machines (``scripts/gpu-plan-audit.sh``).
    """
    from cudf_polars.dsl.translate import Translator

    found: list[str | None] = []

    def translate(nt, _duration) -> None:
        translator = Translator(nt, engine or polars_gpu_engine())
        translator.translate_ir()
        error = translator.unsupported_operations_error()
        found.append(None if error is None else " ".join(str(error.args[0]).split()))
        raise _Translated

    try:
        plan.collect(post_opt_callback=translate)
    except Exception:
        if not found:  # the plan failed before translation: not a GPU question
            raise
    return found[0]


def _scatter(n: int, vertices, values, fill: float = 0.0) -> np.ndarray:
    """A dense host array of length ``n`` from a (vertex, value) pair of device arrays."""
    import cupy

    out = np.full(n, fill, dtype=np.float64)
    out[cupy.asnumpy(vertices).astype(np.int64)] = cupy.asnumpy(values)
    return out


def _graph(src, dst, weight, n: int, *, symmetric: bool, transposed: bool = False, ids=np.int32):
    """A pylibcugraph graph on vertices ``0..n-1`` as given (no renumbering).

    ``symmetric``: the undirected view, given once per pair (``src < dst``) and stored in both
    directions, as cuGraph's undirected algorithms require. ``transposed``: the storage
    PageRank needs. ``ids``: the vertex type, which is also the edge type that counts paths.
    """
    import cupy
    import pylibcugraph as plc

    src, dst, weight = (cupy.asarray(a) for a in (src, dst, weight))
    if symmetric:
        src, dst = cupy.concatenate([src, dst]), cupy.concatenate([dst, src])
        weight = cupy.concatenate([weight, weight])
    return plc.SGGraph(
        resource_handle=plc.ResourceHandle(),
        graph_properties=plc.GraphProperties(is_symmetric=symmetric, is_multigraph=False),
        src_or_offset_array=src.astype(ids),
        dst_or_index_array=dst.astype(ids),
        weight_array=weight.astype(np.float64),
        store_transposed=transposed,
        renumber=False,
        do_expensive_check=False,
        vertices_array=cupy.arange(n, dtype=ids),
    )


class GpuEngine:
    name = "gpu"
    encode_by_hash = False
    """Addresses are encoded by string joins: cuDF joins strings fast, and its ``hash`` is
    xxhash64, not polars' hash, so hashes must never cross from one engine to the other."""

    def __init__(self, *, plans_fallback_to_cpu: bool = False) -> None:
        self.plans_fallback_to_cpu = plans_fallback_to_cpu
        self._polars_engine = polars_gpu_engine()

    def collect(self, plan: pl.LazyFrame) -> pl.DataFrame:
        problem = gpu_plan_problem(plan, self._polars_engine)
        if problem is None:
            note_plan("gpu")
            return plan.collect(engine=self._polars_engine)
        if not self.plans_fallback_to_cpu:
            raise PlanNotOnGpuError(f"engine: a feature plan cannot run on the GPU: {problem}")
        log.warning("engine: a feature plan runs on the CPU: %s", problem)
        note_plan("cpu")
        return plan.collect()

    def graph_features(
        self, graph: WindowGraph, params: GraphParams, timer: StageTimer
    ) -> dict[str, np.ndarray]:
        import cupy
        import pylibcugraph as plc

        n, handle = graph.n, plc.ResourceHandle()
        out: dict[str, np.ndarray] = {}
        with timer.stage("graph_build"):
            directed = _graph(
                graph.src, graph.dst, graph.weight, n, symmetric=False, transposed=True
            )
            undirected = _graph(graph.usrc, graph.udst, graph.uweight, n, symmetric=True)
        with timer.stage("pagerank"):
            vertices, ranks, converged = plc.pagerank(
                handle, directed, None, None, None, None, alpha=params.damping,
                epsilon=params.pagerank_tol, max_iterations=1000, do_expensive_check=False,
                fail_on_nonconvergence=False,
            )  # fmt: skip
            if not converged:
                log.warning("pagerank: no convergence after 1000 iterations on %d vertices", n)
            out["pagerank"] = _scatter(n, vertices, ranks)
        del directed
        with timer.stage("hits"):
            scores = hits(
                cupy.asarray(graph.src),
                cupy.asarray(graph.dst),
                n,
                params.hits_max_iter,
                params.hits_tol,
                xp=cupy,
            )
            out["hub_score"] = cupy.asnumpy(scores.hubs)
            out["authority_score"] = cupy.asnumpy(scores.authorities)
        with timer.stage("components"):
            vertices, labels = plc.weakly_connected_components(
                handle, undirected, None, None, None, None, False
            )
            out["component"] = label_by_smallest(_scatter(n, vertices, labels, fill=-1))
        with timer.stage("communities"):
            vertices, clusters, _modularity = plc.leiden(
                handle, params.seed, undirected, max_level=params.leiden_max_levels,
                resolution=params.resolution, theta=params.leiden_randomness,
                do_expensive_check=False,
            )  # fmt: skip
            out["community"] = label_by_smallest(_scatter(n, vertices, clusters, fill=-1))
        with timer.stage("kcore"):
            vertices, cores = plc.core_number(handle, undirected, "bidirectional", False)
            out["kcore"] = _scatter(n, vertices, cores).astype(np.int64)
        with timer.stage("triangles"):
            vertices, counts = plc.triangle_count(handle, undirected, None, False)
            out["triangles"] = _scatter(n, vertices, counts).astype(np.int64)
        del undirected
        with timer.stage("betweenness"):
            if graph.sources.size:
                wide = _graph(graph.src, graph.dst, graph.weight, n, symmetric=False, ids=np.int64)
                vertices, values = plc.betweenness_centrality(
                    handle, wide, cupy.asarray(graph.sources, dtype=np.int64), None,
                    normalized=False, include_endpoints=False, do_expensive_check=False,
                )  # fmt: skip
                # cuGraph scales sampled sums by (n-1)/k (sources: (n-1)/(k-1)), the convention
                # of engines.base.scale_betweenness; base.betweenness_sources never samples
                # k = n-1, the one size where cuGraph (unscaled) and that convention differ.
                out["betweenness"] = _scatter(n, vertices, values)
            else:
                out["betweenness"] = np.zeros(n)
        return out
