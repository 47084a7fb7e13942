from datetime import date

import numpy as np
import polars as pl
import pytest

from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import compute_address_features
from analytics_platform.domain.windows import window_days, window_instants
from analytics_platform.engines import get_engine

from .graphs import addr, transfers

DAY = date(2026, 10, 1)


def features(rows, windows=(7,), day=DAY):
    edges = aggregate_daily_edges(transfers(rows))
    return compute_address_features(
        edges, network="torus", day=day, windows=windows, engine=get_engine("cpu")
    )


def test_counts_degrees_volumes():
    f = features([(1, 2, 10, 0), (1, 2, 30, 1), (1, 3, 5, 2), (3, 1, 4, 3), (2, 2, 7, 4)])
    a1 = f.filter(pl.col("address") == addr(1)).row(0, named=True)
    assert (a1["out_count"], a1["in_count"], a1["out_degree"], a1["in_degree"]) == (3, 1, 2, 1)
    assert a1["counterparties"] == 2
    assert a1["out_volume"] == pytest.approx(45) and a1["in_volume"] == pytest.approx(4)
    assert a1["net_flow"] == pytest.approx(-41) and a1["max_out_amount"] == pytest.approx(30)
    assert a1["mean_out_amount"] == pytest.approx(15)
    assert a1["std_out_amount"] == pytest.approx(np.std([10, 30, 5]))
    a2 = f.filter(pl.col("address") == addr(2)).row(0, named=True)
    assert a2["self_transfer_count"] == 1 and a2["counterparties"] == 1
    assert a2["active_days"] == 1


def test_pagerank_and_components():
    f = features([(1, 2, 10, 0), (2, 3, 10, 1), (3, 1, 10, 2), (4, 5, 1, 3), (6, 5, 100, 4)])
    assert f["pagerank"].sum() == pytest.approx(1.0)
    sizes = dict(zip(f["address"], f["component_size"], strict=True))
    assert sizes[addr(1)] == 3 and sizes[addr(5)] == 3
    comp = dict(zip(f["address"], f["component_id"], strict=True))
    assert comp[addr(3)] == addr(1) and comp[addr(6)] == addr(4)  # smallest member names it
    pr = dict(zip(f["address"], f["pagerank"], strict=True))
    assert pr[addr(5)] > pr[addr(4)]  # the sink of both flows ranks higher


def test_window_covers_exactly_w_days_ending_on_partition_day():
    assert window_days(DAY, 7) == (date(2026, 9, 25), DAY)
    start, end = window_instants(DAY, 1)
    assert (end - start).days == 1 and start.date() == DAY
    # A transfer 7 days before DAY is outside the 7-day window, 6 days before is inside.
    rows = [(1, 2, 1, -24 * 7 + 1), (3, 4, 1, -24 * 6 + 1), (5, 6, 1, 1)]
    f = features(rows, windows=(7, 30))
    seven = set(f.filter(pl.col("window_days") == 7)["address"])
    thirty = set(f.filter(pl.col("window_days") == 30)["address"])
    assert addr(1) not in seven and addr(3) in seven and addr(5) in seven
    assert addr(1) in thirty
