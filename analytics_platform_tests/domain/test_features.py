from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analytics_platform.domain import feature_catalog
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import compute_address_features
from analytics_platform.domain.schemas import AddressFeaturesSchema
from analytics_platform.domain.windows import window_days, window_instants
from analytics_platform.engines import get_engine
from analytics_platform_tests.graphs import T0, addr, transfers

DAY = date(2026, 10, 1)
NO_LABELS = pl.DataFrame(schema={"address": pl.String, "category": pl.String})


def features(rows, windows=(7,), day=DAY, labels=NO_LABELS, thresholds=None):
    t = transfers(rows)
    return compute_address_features(
        aggregate_daily_edges(t, thresholds=thresholds),
        aggregate_address_activity(t),
        labels,
        network="torus",
        day=day,
        windows=windows,
        engine=get_engine("cpu"),
    )


def row(f: pl.DataFrame, i: int) -> dict:
    return f.filter(pl.col("address") == addr(i)).row(0, named=True)


def test_counts_degrees_volumes():
    f = features([(1, 2, 10, 0), (1, 2, 30, 1), (1, 3, 5, 2), (3, 1, 4, 3), (2, 2, 7, 4)])
    a1 = row(f, 1)
    assert (a1["out_count"], a1["in_count"], a1["out_degree"], a1["in_degree"]) == (3, 1, 2, 1)
    assert a1["counterparties"] == 2 and a1["reciprocal_counterparties"] == 1
    assert a1["reciprocity"] == pytest.approx(0.5)
    assert a1["out_volume"] == pytest.approx(45) and a1["in_volume"] == pytest.approx(4)
    assert a1["net_flow"] == pytest.approx(-41) and a1["out_amount_max"] == pytest.approx(30)
    assert a1["out_amount_mean"] == pytest.approx(15) and a1["out_amount_min"] == 5
    assert a1["out_amount_std"] == pytest.approx(np.std([10, 30, 5]))
    assert a1["flow_through_ratio"] == pytest.approx(4 / 45)
    a2 = row(f, 2)
    assert a2["self_transfer_count"] == 1 and a2["counterparties"] == 1
    assert (a2["in_count"], a2["out_count"], a2["total_count"]) == (3, 1, 3)
    assert a2["active_days"] == 1
    assert set(f.columns) == set(feature_catalog.SCHEMA)
    AddressFeaturesSchema.validate(f)


def test_counterparties_on_two_days_count_either_direction_once():
    # Hours after 08:00 on Oct 1: 0-15 that day, 24-39 the next.
    f = features(
        [
            (1, 2, 5, 0), (2, 1, 5, 24),  # reciprocal, one day each way: two days
            (1, 3, 5, 0), (3, 1, 5, 1),  # reciprocal, both on one day
            (1, 4, 5, 0), (1, 4, 5, 30),  # one way, on two days
            (5, 1, 5, 2),  # received once
            (6, 7, 5, 2), (7, 6, 5, 3), (7, 6, 5, 26),  # only the reverse spans two days
        ],
        day=date(2026, 10, 2),
    )  # fmt: skip
    expected = {  # address: (counterparties, on two days, reciprocal)
        1: (4, 2, 2), 2: (1, 1, 1), 3: (1, 0, 1), 4: (1, 1, 0), 5: (1, 0, 0), 6: (1, 1, 1),
        7: (1, 1, 1),
    }  # fmt: skip
    for address, (counterparties, repeated, reciprocal) in expected.items():
        r = row(f, address)
        assert r["counterparties"] == counterparties, address
        assert r["repeat_counterparty_ratio"] == pytest.approx(repeated / counterparties), address
        assert r["reciprocal_counterparties"] == reciprocal, address


def test_concentration_and_amount_patterns():
    # 1 pays 2, 3 and 4: 10, 10 and 80 -> Gini of (10, 10, 80); 1,250 is not round, 9,500 is.
    f = features(
        [(1, 2, 10, 0), (1, 3, 10, 1), (1, 4, 80, 2), (5, 6, 1250, 3), (5, 6, 9500, 4)],
        thresholds={"TOR": 10_000},
    )
    a1 = row(f, 1)
    x = np.sort(np.array([10.0, 10.0, 80.0]))
    gini = (2 * np.sum(np.arange(1, 4) * x)) / (3 * x.sum()) - 4 / 3
    assert a1["out_volume_gini"] == pytest.approx(gini)
    shares = x / x.sum()
    assert a1["out_volume_entropy"] == pytest.approx(-(shares * np.log(shares)).sum())
    assert a1["out_top_share"] == pytest.approx(0.8)
    assert a1["round_amount_count"] == 3  # 10, 10 and 80 have one or two significant digits
    a5 = row(f, 5)
    assert a5["round_amount_count"] == 1 and a5["round_amount_ratio"] == pytest.approx(0.5)
    assert a5["structuring_count"] == 1 and a5["structuring_ratio"] == pytest.approx(0.5)
    assert a5["out_volume_gini"] == 0.0  # a single recipient


def test_interarrival_statistics_merge_exactly_across_days():
    hours = [0.0, 0.5, 2.0, 30.0, 31.0, 79.0, 80.5]  # 3, 2 and 2 transfers on three UTC days
    rows = [(1, 10 + i, 1, h) for i, h in enumerate(hours)]
    f = features(rows, day=date(2026, 10, 5))
    a1 = row(f, 1)
    gaps = np.diff(np.array(hours) * 3600)
    assert a1["interarrival_mean_s"] == pytest.approx(gaps.mean())
    assert a1["interarrival_std_s"] == pytest.approx(gaps.std())
    assert a1["interarrival_min_s"] == pytest.approx(gaps.min())
    b = (gaps.std() - gaps.mean()) / (gaps.std() + gaps.mean())
    assert a1["burstiness"] == pytest.approx(b)
    assert a1["active_days"] == 3 and a1["max_daily_count"] == 3
    t0_hour = T0.hour
    assert a1["active_hours"] == len({int(t0_hour + h) % 24 for h in hours})
    counts = np.array([3, 2, 0, 2] + [0] * 3, dtype=float)  # 7-day window, per day
    p = counts[counts > 0] / counts.sum()
    assert a1["day_entropy"] == pytest.approx(-(p * np.log(p)).sum() / np.log(7))
    assert a1["daily_count_std"] == pytest.approx(counts.std())
    # A single transfer has no inter-arrival time: null, not a misleading zero.
    assert row(f, 10)["interarrival_mean_s"] is None and row(f, 10)["burstiness"] is None


def test_exposure_to_labelled_counterparties():
    labels = pl.DataFrame(
        {"address": [addr(8), addr(9), addr(9)], "category": ["mixer", "exchange", "sanctioned"]}
    )
    f = features([(1, 8, 100, 0), (8, 1, 40, 1), (1, 9, 60, 2), (2, 1, 50, 3)], labels=labels)
    a1 = row(f, 1)
    assert (a1["out_mixer_count"], a1["out_mixer_volume"]) == (1, 100.0)
    assert (a1["in_mixer_count"], a1["in_mixer_volume"]) == (1, 40.0)
    # 9 carries two labels: sanctioned wins over exchange.
    assert a1["out_sanctioned_volume"] == 60.0 and a1["out_exchange_volume"] == 0.0
    assert a1["labelled_counterparties"] == 2
    assert a1["risky_volume_share"] == pytest.approx(200 / 250)
    assert row(f, 9)["label_category"] == "sanctioned" and a1["label_category"] is None


def test_graph_features_on_a_small_graph():
    # Triangle 1-2-3 plus a tail 3 -> 4, and a separate pair 5 -> 6; 7 only pays itself.
    f = features(
        [(1, 2, 10, 0), (2, 3, 10, 1), (3, 1, 10, 2), (3, 4, 5, 3), (5, 6, 1, 4), (7, 7, 3, 5)]
    )
    a = {i: row(f, i) for i in range(1, 8)}
    assert [a[i]["triangles"] for i in (1, 2, 3, 4)] == [1, 1, 1, 0]
    assert a[3]["clustering"] == pytest.approx(1 / 3) and a[1]["clustering"] == 1.0
    assert [a[i]["kcore"] for i in (1, 4, 5)] == [2, 1, 1]
    assert a[4]["component_id"] == addr(1) and a[4]["component_size"] == 4
    assert a[6]["component_id"] == addr(5) and a[6]["component_size"] == 2
    assert a[7]["component_size"] == 1 and a[7]["pagerank"] == 0.0  # self-transfers only
    assert f["pagerank"].sum() == pytest.approx(1.0)
    assert f["hub_score"].sum() == pytest.approx(1.0)
    assert a[3]["betweenness"] > a[4]["betweenness"] == 0.0
    assert a[4]["out_2hop_paths"] == 0 and a[2]["out_2hop_paths"] == 2  # 2->3->1, 2->3->4


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


def test_the_docs_feature_page_is_the_catalog():
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("docs_hooks", root / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = hooks.on_page_markdown((root / "docs" / "features.md").read_text())
    assert feature_catalog.markdown_table() in page
    for feature in feature_catalog.FEATURE_COLUMNS:
        assert f"| `{feature}` |" in page
    reference = hooks.configuration_reference()
    assert "| `case_budget` |" in reference and "### `networks.<name>.risk`" in reference


def test_hash_encoding_matches_the_exact_string_encoding():
    from analytics_platform.domain import features as impl

    rng = np.random.default_rng(4)
    rows = [(int(a), int(b), 5.0, float(h)) for a, b, h in rng.integers(0, 60, (300, 3))]
    t = transfers(rows)
    args = (
        aggregate_daily_edges(t).lazy(),
        aggregate_address_activity(t).lazy(),
        get_engine("cpu"),
    )
    fast, exact = impl._encode(*args), impl._encode_exact(*args)
    assert fast[0].equals(exact[0])  # same ids for the same addresses
    for got, want in zip(fast[1:], exact[1:], strict=True):
        got, want = got.collect(), want.collect()
        assert got.sort(got.columns).equals(want.sort(want.columns))


def test_communities_and_ids_do_not_depend_on_input_row_order():
    """The same window in another row order (as a ranged run reads it) gives the same
    communities and integer columns; floats agree to rounding."""
    from analytics_platform.domain.synthetic import SyntheticConfig, generate

    net = generate(SyntheticConfig(start=DAY, days=6, addresses=600, transfers_per_day=1_500))
    edges = aggregate_daily_edges(net.transfers)
    activity = aggregate_address_activity(net.transfers)
    last = net.transfers["date"].max()

    def run(e: pl.DataFrame, a: pl.DataFrame) -> pl.DataFrame:
        return compute_address_features(
            e, a, NO_LABELS, network="torus", day=last, windows=(7,), engine=get_engine("cpu")
        ).sort("address")

    base = run(edges, activity)
    assert base["community_id"].n_unique() > 1
    for seed in (1, 2):
        other = run(edges.sample(fraction=1, shuffle=True, seed=seed), activity.reverse())
        for column, dtype in base.schema.items():
            if dtype == pl.Float64:
                assert np.allclose(base[column], other[column], rtol=1e-9, equal_nan=True)
            else:
                assert base[column].equals(other[column]), column


def test_the_undirected_view_has_each_pair_once_with_both_directions_summed():
    from analytics_platform.domain.features import _undirected

    src = np.array([0, 0, 1, 2, 3, 3], dtype=np.int64)
    dst = np.array([1, 3, 0, 0, 0, 2], dtype=np.int64)
    weight = np.array([1.0, 2.0, 10.0, 100.0, 1000.0, 0.5])
    usrc, udst, uweight = _undirected(src, dst, weight, 4)
    assert usrc.tolist() == [0, 0, 0, 2] and udst.tolist() == [1, 2, 3, 3]
    assert uweight.tolist() == [11.0, 100.0, 1002.0, 0.5]
    # Against a group-by over random pairs: the same edges in the same order, the same sums.
    rng = np.random.default_rng(5)
    pairs = pl.DataFrame({"s": rng.integers(0, 300, 5_000), "d": rng.integers(0, 300, 5_000)})
    pairs = pairs.filter(pl.col("s") != pl.col("d")).unique().sort("s", "d")
    src, dst = pairs["s"].to_numpy(), pairs["d"].to_numpy()
    weight = rng.random(pairs.height)
    expected = (
        pl.DataFrame({"u": np.minimum(src, dst), "v": np.maximum(src, dst), "w": weight})
        .group_by("u", "v")
        .agg(pl.col("w").sum())
        .sort("u", "v")
    )
    usrc, udst, uweight = _undirected(src, dst, weight, 300)
    assert usrc.tolist() == expected["u"].to_list() and udst.tolist() == expected["v"].to_list()
    assert np.array_equal(uweight, expected["w"].to_numpy())
    assert all(a.size == 0 for a in _undirected(src[:0], dst[:0], weight[:0], 0))
