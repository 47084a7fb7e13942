"""The GPU engine's fixes checked on the CPU (issue 17), and the device checks they feed.

cuGraph's own behaviour is imitated from the RAPIDS 26.10 sources where a test needs it
(``cpp/src/link_analysis/hits_impl.cuh``, ``cpp/src/centrality/betweenness_centrality_impl.cuh``).
"""

import logging

import networkx as nx
import numpy as np
import polars as pl
import pytest

from analytics_platform.bench.parity import compare_features
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import window_features
from analytics_platform.domain.synthetic import SyntheticConfig, generate
from analytics_platform.engines.base import GraphParams, betweenness_sources, scale_betweenness
from analytics_platform.engines.choice import get_engine
from analytics_platform.engines.cpu import CpuEngine
from analytics_platform.engines.gpu import gpu_unavailable_reason
from analytics_platform.engines.hits import hits
from analytics_platform.engines.timing import StageTimer
from analytics_platform.lib.assets.metadata import stage_table
from analytics_platform_tests.graphs import transfers

NO_GPU = gpu_unavailable_reason()
NO_LABELS = pl.DataFrame(schema={"address": pl.String, "category": pl.String})


def _random_graph(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Heavy-tailed degrees, as on a chain (a few hubs, many one-off addresses)."""
    rng = np.random.default_rng(seed)
    weight = 1 / np.arange(1, n + 1) ** 0.9
    weight /= weight.sum()
    ends = [rng.choice(n, m, p=weight), rng.choice(n, m, p=rng.permutation(weight))]
    pairs = np.unique(np.stack(ends, axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return pairs[:, 0], pairs[:, 1]


def _cugraph_hits_rule(src, dst, n, tol, max_iter=1000) -> tuple[np.ndarray, int]:
    """cuGraph 26.10's loop: stop at L1 change < n * tol; the first change is against 1/n."""
    prev = np.full(n, 1.0 / n)
    for iteration in range(1, max_iter + 1):
        auth = np.bincount(dst, weights=prev[src], minlength=n)
        hubs = np.bincount(src, weights=auth[dst], minlength=n)
        hubs /= hubs.max()
        diff = np.abs(hubs - prev).sum()
        prev = hubs
        if diff < n * tol:
            return hubs / hubs.sum(), iteration
    raise RuntimeError("HITS failed to converge.")


def test_hits_tolerance_does_not_grow_with_the_graph():
    src, dst = _random_graph(20_000, 60_000, seed=1)
    n = 20_000
    ours = hits(src, dst, n, max_iter=100, tol=1e-6)
    exact = hits(src, dst, n, max_iter=2_000, tol=1e-12)
    cugraph_hubs, cugraph_iterations = _cugraph_hits_rule(src, dst, n, tol=1e-6)
    assert ours.converged and exact.converged
    ours_error = np.abs(ours.hubs - exact.hubs).sum()
    assert ours_error < 1e-6
    # cuGraph's n * tol rule stops sooner and further from the fixed point.
    assert cugraph_iterations < ours.iterations
    assert np.abs(cugraph_hubs - exact.hubs).sum() > 10 * ours_error
    # Authorities are those of the final hubs.
    auth = np.bincount(dst, weights=ours.hubs[src], minlength=n)
    np.testing.assert_allclose(ours.authorities, auth / auth.sum(), rtol=1e-12)


def test_hits_without_convergence_keeps_the_last_iterate_and_says_so(caplog):
    src, dst = _random_graph(500, 2_000, seed=2)
    with caplog.at_level(logging.WARNING, logger="analytics_platform.engines.hits"):
        result = hits(src, dst, 500, max_iter=2, tol=1e-15)
    assert (result.converged, result.iterations) == (False, 2)
    assert result.hubs.sum() == pytest.approx(1.0) and result.authorities.sum() == pytest.approx(
        1.0
    )
    assert "no convergence after 2 iterations on 500 vertices" in caplog.text


def _cugraph_betweenness_scale(raw: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """cuGraph 26.10's scaling of unnormalised, directed, endpoint-free sampled sums."""
    n, k = raw.shape[0], sources.shape[0]
    vertices = n - 1
    if k == vertices:  # its "all sources" branch: no scaling at all
        nonsource = source = k / vertices
    else:
        nonsource, source = k / vertices, (k - 1) / vertices
    out = raw / nonsource
    out[sources] = raw[sources] / source
    return out


@pytest.mark.parametrize("k", range(2, 14))
def test_betweenness_samples_scale_as_cugraph_scales_them(k: int):
    n = 12
    raw = np.random.default_rng(k).uniform(0, 5, n)
    sources = betweenness_sources(n, k, seed=42)
    if k >= n - 1:  # n - 1 samples cost as much as all n, where both engines are exact
        assert sources.tolist() == list(range(n))
    np.testing.assert_allclose(
        scale_betweenness(raw, sources), _cugraph_betweenness_scale(raw, sources), rtol=1e-12
    )


def _diamond_chain(diamonds: int) -> pl.DataFrame:
    """``diamonds`` diamonds in a row: 2**diamonds shortest paths from the first to the last."""
    rows, hour, top = [], 0.0, 0
    for _ in range(diamonds):
        left, right, bottom = top + 1, top + 2, top + 3
        for a, b in ((top, left), (top, right), (left, bottom), (right, bottom)):
            rows.append((a, b, 1.0, hour))
            hour += 0.01
        top = bottom
    return transfers(rows)


def _features(t: pl.DataFrame, engine, samples: int = 10_000) -> pl.DataFrame:
    return window_features(
        aggregate_daily_edges(t), aggregate_address_activity(t), NO_LABELS, network="torus",
        day=t["date"].max(), window=1, engine=engine,
        params=GraphParams(betweenness_samples=samples), timer=StageTimer(),
    )  # fmt: skip


def test_betweenness_is_exact_past_the_int32_path_count():
    t = _diamond_chain(33)  # 2**33 shortest paths end to end: int32 path counts would wrap
    ours = _features(t, get_engine("cpu")).sort("address")
    graph = nx.DiGraph((a, b) for a, b in zip(t["from_address"], t["to_address"], strict=True))
    expected = nx.betweenness_centrality(graph, normalized=False)
    got = dict(zip(ours["address"], ours["betweenness"], strict=True))
    assert max(abs(got[a] - v) for a, v in expected.items()) < 1e-6 * max(expected.values())


class _ExactEncodingCpu(CpuEngine):
    encode_by_hash = False


def test_exact_encoding_gives_the_same_features_as_hash_encoding():
    net = generate(SyntheticConfig(days=4, addresses=600, transfers_per_day=1_500, seed=8))
    labels = net.labels.select("address", "category")
    t = net.transfers

    def run(engine):
        return window_features(
            aggregate_daily_edges(t), aggregate_address_activity(t), labels, network="torus",
            day=t["date"].max(), window=4, engine=engine, params=GraphParams(),
            timer=StageTimer(),
        )  # fmt: skip

    # Same ids, so counts and labels are equal; float sums may differ in the last digit, as the
    # joins order rows differently (the parity tolerances).
    report = compare_features(run(_ExactEncodingCpu()), run(CpuEngine()))
    assert report.ok and report.community_ari == 1.0, report.mismatches


def test_the_stage_table_says_where_each_stage_ran():
    timer = StageTimer()
    window_features(
        aggregate_daily_edges(_diamond_chain(3)), aggregate_address_activity(_diamond_chain(3)),
        NO_LABELS, network="torus", day=_diamond_chain(3)["date"].max(), window=1,
        engine=CpuEngine(), params=GraphParams(), timer=timer,
    )  # fmt: skip
    assert timer.plan_devices("encode") == "cpu 5"
    assert timer.plan_devices("graph_prepare") == "cpu 1"  # the labels (the graph: arrays)
    assert timer.plan_devices("address_sums") == "cpu 2"  # volume and temporal sums
    assert timer.plan_devices("aggregate") == "cpu 6"
    assert timer.plan_devices("hits") == ""  # arrays, not plans
    assert "| encode |" in stage_table(timer).value and "cpu 5" in stage_table(timer).value


def test_the_device_check_needs_no_dagster_or_warehouse_client(tmp_path):
    """The GPU machine has RAPIDS and the core's packages only: the parity tests and
    `bench features` must import neither Dagster nor a ClickHouse/DuckDB client."""
    import subprocess
    import sys

    bench = ["bench", "features", "--transfers", "3000", "--addresses", "300", "--days", "3",
             "--engines", "cpu", "--folder", str(tmp_path)]  # fmt: skip
    code = (
        "import sys, analytics_platform_tests.engines.test_gpu_parity;"
        f"from analytics_platform.cli import main; main({bench!r});"
        "heavy = ('dagster', 'clickhouse_connect', 'chdb', 'duckdb', 'analytics_platform.config');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
