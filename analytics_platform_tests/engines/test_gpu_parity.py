"""CPU and GPU engines on a real device: same features, every plan on the GPU (issue 17).

Skipped without a GPU. Imports no Dagster, so the device check needs only the core's packages
beside RAPIDS (``scripts/gpu-device-check.sh``).
"""

import numpy as np
import polars as pl
import pytest

from analytics_platform.bench.parity import compare_features
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import window_features
from analytics_platform.domain.synthetic import SyntheticConfig, generate
from analytics_platform.engines.base import GraphParams
from analytics_platform.engines.choice import get_engine
from analytics_platform.engines.gpu import gpu_unavailable_reason
from analytics_platform.engines.hits import hits
from analytics_platform.engines.timing import StageTimer
from analytics_platform_tests.graphs import transfers

NO_GPU = gpu_unavailable_reason()
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(NO_GPU is not None, reason=f"GPU engine unavailable: {NO_GPU}"),
]
NO_LABELS = pl.DataFrame(schema={"address": pl.String, "category": pl.String})


def _features(t, labels, engine: str, window: int, samples: int = 10_000, timer=None):
    return window_features(
        aggregate_daily_edges(t), aggregate_address_activity(t), labels, network="torus",
        day=t["date"].max(), window=window, engine=get_engine(engine),
        params=GraphParams(betweenness_samples=samples), timer=timer or StageTimer(),
    )  # fmt: skip


def test_cpu_and_gpu_engines_agree_on_a_synthetic_window():
    # 10 days of 6,000 transfers: the 60k-transfer parity case of issue 17.
    net = generate(SyntheticConfig(days=10, addresses=3_000, transfers_per_day=6_000, seed=11))
    labels = net.labels.select("address", "category")
    timer = StageTimer()
    cpu = _features(net.transfers, labels, "cpu", window=10, samples=64)
    gpu = _features(net.transfers, labels, "gpu", window=10, samples=64, timer=timer)
    # The synthetic background has weak community structure, where two Leiden implementations
    # may legitimately split differently: communities are compared on planted ones below.
    report = compare_features(cpu, gpu, min_ari=0.0)
    plans = {stage: timer.plan_devices(stage) for stage in timer.plans}
    print(f"parity: {report.rows} rows, community ARI {report.community_ari:.3f}, plans {plans}")
    assert report.ok, report.mismatches
    assert all(devices.startswith("gpu") and "cpu" not in devices for devices in plans.values())


def test_cpu_and_gpu_find_the_same_planted_communities():
    rng = np.random.default_rng(5)
    rows = []
    for block in range(6):
        members = list(range(block * 12, block * 12 + 12))
        for _ in range(150):
            a, b = rng.choice(members, 2, replace=False)
            rows.append((int(a), int(b), 10.0, float(rng.uniform(0, 40))))
    rows += [(b * 12, (b + 1) * 12, 1.0, 1.0) for b in range(5)]  # weak bridges
    cpu = _features(transfers(rows), NO_LABELS, "cpu", window=3)
    gpu = _features(transfers(rows), NO_LABELS, "gpu", window=3)
    report = compare_features(cpu, gpu, min_ari=0.95)
    assert report.ok, report.mismatches


def test_betweenness_agrees_past_int32_path_counts():
    rows, hour, top = [], 0.0, 0
    for _ in range(33):  # 2**33 shortest paths end to end
        left, right, bottom = top + 1, top + 2, top + 3
        for a, b in ((top, left), (top, right), (left, bottom), (right, bottom)):
            rows.append((a, b, 1.0, hour))
            hour += 0.01
        top = bottom
    t = transfers(rows)
    report = compare_features(_features(t, NO_LABELS, "cpu", 1), _features(t, NO_LABELS, "gpu", 1))
    assert report.ok, report.mismatches


def test_hits_on_cupy_is_hits_on_numpy():
    import cupy

    rng = np.random.default_rng(3)
    src, dst = rng.integers(0, 5_000, 40_000), rng.integers(0, 5_000, 40_000)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    on_cpu = hits(src, dst, 5_000, 100, 1e-6)
    on_gpu = hits(cupy.asarray(src), cupy.asarray(dst), 5_000, 100, 1e-6, xp=cupy)
    assert on_gpu.iterations == on_cpu.iterations
    np.testing.assert_allclose(cupy.asnumpy(on_gpu.hubs), on_cpu.hubs, atol=1e-12)
