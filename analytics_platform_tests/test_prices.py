"""USD values: two assets of very different prices, where native sums mislead and USD do not;
a missing price stays visible (null, listed), never zero."""

import json
from datetime import date

import polars as pl
import pytest

from analytics_platform.domain import quality as q
from analytics_platform.domain import schemas as s
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import compute_address_features
from analytics_platform.domain.patterns import detect_patterns
from analytics_platform.domain.prices import normalise_prices
from analytics_platform.domain.typologies import score_alerts
from analytics_platform.engines import get_engine

from .graphs import addr, transfers

DAY = date(2026, 10, 1)
PRICES = normalise_prices(
    pl.DataFrame(
        {"date": ["2026-10-01"] * 2, "asset": ["TOR", "WETH"], "usd_price": [1.0, 2500.0]}
    ),
    network="torus",
    days=[DAY],
)


def two_assets(rows_tor, rows_weth) -> pl.DataFrame:
    t = transfers(rows_tor + rows_weth)
    weth = pl.Series([False] * len(rows_tor) + [True] * len(rows_weth))
    return t.with_columns(pl.when(weth).then(pl.lit("WETH")).otherwise("asset").alias("asset"))


def features_of(t: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    return compute_address_features(
        aggregate_daily_edges(t, prices=prices),
        aggregate_address_activity(t),
        pl.DataFrame(schema={"address": pl.String, "category": pl.String}),
        network="torus",
        day=DAY,
        windows=(7,),
        engine=get_engine("cpu"),
    )


def test_usd_volumes_rank_what_native_sums_misrank():
    # Address 1 receives 5 WETH (12,500 USD); address 2 receives 5,000 TOR (5,000 USD).
    t = two_assets([(20, 2, 5000.0, 1.0)], [(10, 1, 2.0, 0.0), (11, 1, 3.0, 2.0)])
    edges = aggregate_daily_edges(t, prices=PRICES)
    assert sorted(edges["amount_usd"].to_list()) == [5000.0, 5000.0, 7500.0]
    f = features_of(t, PRICES).filter(pl.col("address").is_in([addr(1), addr(2)])).sort("address")
    assert f["in_volume"].to_list() == [5.0, 5000.0]  # natively, 2 looks 1,000x bigger
    assert f["in_volume_usd"].to_list() == [12_500.0, 5_000.0]  # in USD, 1 is bigger
    assert f["out_volume_usd"].to_list() == [0.0, 0.0]  # nothing sent is 0 USD, not unknown


def test_a_missing_price_is_null_and_listed_never_zero():
    t = two_assets([(20, 2, 5000.0, 1.0)], [(10, 1, 2.0, 0.0)])
    tor_only = PRICES.filter(pl.col("asset") == "TOR")
    edges = aggregate_daily_edges(t, prices=tor_only)
    by_asset = dict(zip(edges["asset"], edges["amount_usd"], strict=True))
    assert by_asset == {"TOR": 5000.0, "WETH": None}
    f = features_of(t, tor_only).filter(pl.col("address") == addr(1))
    assert f["in_volume_usd"].to_list() == [None]
    outcome = q.every_asset_priced(t, tor_only)
    assert not outcome.passed and "WETH on 2026-10-01 (1 transfers)" in outcome.metadata["missing"]
    assert q.every_asset_priced(t, PRICES).passed


def test_structuring_by_a_usd_threshold_is_explained_in_usd():
    # Four payments of 3.9 WETH (9,750 USD each) just under a 10,000 USD threshold; no native
    # threshold is configured for WETH, and 3.9 is nowhere near any native one.
    t = two_assets([], [(1, 10 + i, 3.9, float(i)) for i in range(4)])
    found = detect_patterns(
        t, network="torus", day=DAY, prices=PRICES, reporting_threshold_usd=10_000.0,
        types=["structuring"],
    ).patterns  # fmt: skip
    assert found.height == 1
    details = json.loads(found["details"][0])
    assert (details["threshold"], details["threshold_unit"]) == (10_000.0, "USD")
    assert found["total_amount_usd"][0] == pytest.approx(39_000.0)
    assert found["total_amount"][0] == pytest.approx(15.6)
    s.StructuralPatternsSchema.validate(found)
    alerts = score_alerts(
        network="torus",
        day=DAY,
        patterns=found,
        features=features_of(t, PRICES),
        labels=pl.DataFrame(schema=s.ADDRESS_LABELS),
        transfers=t,
    )
    text = alerts.filter(pl.col("typology") == "structuring")["explanation"][0]
    assert "reporting threshold of 10000.0 USD" in text and "39000.0 USD in total" in text
    # Without prices nothing is structuring: the USD rule never guesses a value.
    none = detect_patterns(
        t, network="torus", day=DAY, reporting_threshold_usd=10_000.0, types=["structuring"]
    ).patterns
    assert none.height == 0


def test_bad_price_rows_name_the_column_or_row():
    with pytest.raises(ValueError, match="prices.usd_price: missing column"):
        normalise_prices(
            pl.DataFrame({"date": ["2026-10-01"], "asset": ["TOR"]}), network="torus", days=[DAY]
        )
    with pytest.raises(ValueError, match="two prices for TOR on 2026-10-01"):
        normalise_prices(
            pl.DataFrame({"date": ["2026-10-01"] * 2, "asset": ["TOR"] * 2, "usd_price": [1, 2]}),
            network="torus",
            days=[DAY],
        )
