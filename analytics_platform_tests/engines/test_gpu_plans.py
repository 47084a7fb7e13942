"""Every polars plan of the GPU feature engine translates to cudf-polars (no GPU needed).

Runs where the ``cudf_polars`` package is installed: ``bash scripts/gpu-plan-audit.sh``
(a separate 3 GB environment; the main suite skips these tests).
"""

import importlib.util

import polars as pl
import pytest

from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import window_features
from analytics_platform.domain.synthetic import SyntheticConfig, generate
from analytics_platform.engines.base import GraphParams
from analytics_platform.engines.timing import StageTimer

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("cudf_polars") is None,
    reason="cudf-polars not installed: run bash scripts/gpu-plan-audit.sh",
)


def test_the_translator_names_what_the_gpu_cannot_run():
    from analytics_platform.engines.gpu import gpu_plan_problem

    frame = pl.LazyFrame({"k": [1, 1, 2], "v": [1, 2, 4]})
    assert gpu_plan_problem(frame.group_by("k").agg(pl.col("v").sum())) is None
    problem = gpu_plan_problem(frame.group_by("k").agg(pl.col("v").bitwise_or()))
    assert problem is not None and "Bitwise" in problem


def test_every_feature_plan_runs_on_the_gpu():
    from analytics_platform.engines.gpu_audit import GpuPlanAudit

    net = generate(SyntheticConfig(days=5, addresses=800, transfers_per_day=2_000, seed=4))
    audit = GpuPlanAudit()
    t = net.transfers
    edges = aggregate_daily_edges(t, prices=net.prices, engine=audit)
    activity = aggregate_address_activity(t, engine=audit)
    features = window_features(
        edges, activity, net.labels.select("address", "category"), network="torus",
        day=t["date"].max(), window=5, engine=audit, params=GraphParams(), timer=StageTimer(),
    )  # fmt: skip
    assert features.height > 0
    assert audit.translated >= 15  # daily pieces, encoding, flows, graph, seven aggregations
    assert audit.problems == []
