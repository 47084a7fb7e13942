"""Engines: CPU against NetworkX, engine choice and fallback, GPU routing, CPU/GPU parity."""

from datetime import date

import numpy as np
import polars as pl
import pytest

from analytics_platform.bench.networkx_baseline import baseline_features
from analytics_platform.bench.parity import adjusted_rand_index, compare_features
from analytics_platform.config import load_settings
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import window_features
from analytics_platform.engines.base import GraphParams, WindowGraph
from analytics_platform.engines.choice import EngineUnavailableError, choose_engine, get_engine
from analytics_platform.engines.gpu import gpu_unavailable_reason
from analytics_platform.engines.timing import StageTimer
from analytics_platform.lib.loading import build_definitions
from analytics_platform_tests.graphs import addr, transfers

DAY = date(2026, 10, 3)
NO_GPU = gpu_unavailable_reason()


def _features(t: pl.DataFrame, labels: pl.DataFrame, engine: str, window=3, samples=10_000):
    return window_features(
        aggregate_daily_edges(t),
        aggregate_address_activity(t),
        labels,
        network="torus",
        day=t["date"].max(),
        window=window,
        engine=get_engine(engine),
        params=GraphParams(betweenness_samples=samples),
        timer=StageTimer(),
    )


def _random_transfers(n_addresses=40, n_transfers=400, seed=3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (int(a), int(b), float(rng.integers(1, 500)), float(h))
        for a, b, h in zip(
            rng.integers(0, n_addresses, n_transfers),
            rng.integers(0, n_addresses, n_transfers),
            np.sort(rng.uniform(0, 60, n_transfers)),
            strict=True,
        )
    ]
    return transfers(rows)


def test_cpu_engine_agrees_with_networkx_on_a_random_graph():
    t = _random_transfers()
    labels = pl.DataFrame({"address": [addr(1)], "category": ["mixer"]})
    ours = _features(t, labels, "cpu").sort("address")
    nx = baseline_features(t, labels, day=DAY, window=3, timer=StageTimer()).sort("address")
    assert ours["address"].to_list() == nx["address"].to_list()
    for col in (
        "in_count", "out_count", "in_degree", "out_degree", "counterparties",
        "component_size", "kcore", "triangles", "active_days",
    ):  # fmt: skip
        assert ours[col].to_list() == nx[col].to_list(), col
    for col, tol in (
        ("in_volume", 1e-9), ("out_volume", 1e-9), ("out_amount_std", 1e-9),
        ("clustering", 1e-12), ("interarrival_mean_s", 1e-6), ("burstiness", 1e-9),
        ("pagerank", 1e-6), ("hub_score", 1e-5), ("authority_score", 1e-5),
        ("betweenness", 1e-6), ("out_mixer_volume", 1e-9),
    ):  # fmt: skip
        a = ours[col].fill_null(0).to_numpy()
        b = nx[col].fill_null(0).to_numpy()
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=col)


def test_leiden_recovers_planted_communities():
    rng = np.random.default_rng(5)
    rows, truth = [], {}
    for block in range(4):
        members = list(range(block * 10, block * 10 + 10))
        truth.update(dict.fromkeys(members, block))
        for _ in range(120):
            a, b = rng.choice(members, 2, replace=False)
            rows.append((int(a), int(b), 10.0, float(rng.uniform(0, 40))))
    rows += [(0, 10, 1.0, 1.0), (10, 20, 1.0, 2.0), (20, 30, 1.0, 3.0)]  # weak bridges
    f = _features(
        transfers(rows), pl.DataFrame(schema={"address": pl.String, "category": pl.String}), "cpu"
    )
    by_address = dict(zip(f["address"], f["community_id"], strict=True))
    found = np.array([by_address[addr(i)] for i in sorted(truth)])
    expected = np.array([truth[i] for i in sorted(truth)])
    assert adjusted_rand_index(found, expected) > 0.95
    assert set(f["community_size"]) == {10}


def test_parity_report_detects_differences():
    t = _random_transfers(seed=9)
    no_labels = pl.DataFrame(schema={"address": pl.String, "category": pl.String})
    a = _features(t, no_labels, "cpu")
    assert compare_features(a, a).ok
    b = a.with_columns(pl.col("in_count") + (pl.col("address") == addr(3)).cast(pl.Int64))
    report = compare_features(a, b)
    assert not report.ok and set(report.mismatches) == {"in_count"}
    assert adjusted_rand_index(np.array([0, 0, 1, 1]), np.array([5, 5, 7, 7])) == 1.0
    assert adjusted_rand_index(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])) < 0


@pytest.mark.skipif(NO_GPU is None, reason="a GPU is available: nothing to fall back from")
def test_gpu_request_without_gpu_is_a_clear_error_or_a_recorded_fallback():
    with pytest.raises(EngineUnavailableError, match="'gpu' requested but unavailable"):
        choose_engine("gpu")
    choice = choose_engine("gpu", fallback_to_cpu=True)
    assert choice.engine.name == "cpu" and choice.fallback_reason == NO_GPU
    with pytest.raises(EngineUnavailableError, match="unknown graph engine 'tpu'"):
        choose_engine("tpu")


def test_gpu_engine_tags_route_the_feature_step_to_gpu_nodes(tmp_path):
    from dagster_k8s.job import (
        DagsterK8sJobConfig,
        construct_dagster_k8s_job,
        get_user_defined_k8s_config,
    )

    settings = load_settings({"ANALYTICS_HOME": str(tmp_path), "ANALYTICS_FEATURE_ENGINE": "gpu"})
    defs = build_definitions(settings)
    features_node = defs.resolve_assets_def(["torus", "address_features"])
    op_tags = features_node.op.tags
    assert op_tags["analytics/compute"] == "gpu"
    edges_tags = defs.resolve_assets_def(["torus", "daily_edges"]).op.tags
    assert edges_tags["analytics/compute"] == "cpu" and "dagster-k8s/config" not in edges_tags
    job = construct_dagster_k8s_job(
        DagsterK8sJobConfig(job_image="analytics:test", dagster_home="/opt/dagster/home"),
        args=["dagster", "api", "execute_step"],
        job_name="features-step",
        user_defined_k8s_config=get_user_defined_k8s_config(op_tags),
    )
    pod = job.spec.template.spec
    container = pod.containers[0]
    assert container.resources.limits["nvidia.com/gpu"] == "1"
    assert pod.node_selector == {"analytics/accelerator": "nvidia-gpu"}
    assert pod.tolerations[0].key == "nvidia.com/gpu"


def test_the_cpu_engine_gives_the_same_bits_on_the_same_graph():
    """PageRank's OpenMP threads once added in the order they finished: two runs on this
    graph differed in the last bits in 5 of 5 tries on 2 cores."""
    n, rng = 20_000, np.random.default_rng(3)
    pairs = np.unique(rng.integers(0, n, size=(100_000, 2)), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    low, high = pairs.min(axis=1), pairs.max(axis=1)
    undirected, at = np.unique(low * n + high, return_inverse=True)
    weight = rng.random(len(pairs)) + 0.1
    graph = WindowGraph(
        n=n, src=pairs[:, 0], dst=pairs[:, 1], weight=weight, usrc=undirected // n,
        udst=undirected % n, uweight=np.bincount(at, weights=weight),
    )  # fmt: skip
    engine, params = get_engine("cpu"), GraphParams()
    first, second = (engine.graph_features(graph, params, StageTimer()) for _ in range(2))
    for name, values in first.items():
        assert np.array_equal(values, second[name]), name
