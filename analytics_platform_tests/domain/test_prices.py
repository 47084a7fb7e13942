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
from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.domain.prices import normalise_prices
from analytics_platform.domain.typologies import load_catalog, score_alerts
from analytics_platform.engines import get_engine
from analytics_platform_tests.graphs import addr, transfers

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


def features_of(
    t: pl.DataFrame, prices: pl.DataFrame | None, labels: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``t``'s 7-day features; ``labels`` (address, category): none by default."""
    no_labels = pl.DataFrame(schema={"address": pl.String, "category": pl.String})
    return compute_address_features(
        aggregate_daily_edges(t, prices=prices),
        aggregate_address_activity(t),
        no_labels if labels is None else labels,
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
    assert "reporting threshold of 10,000.00 USD" in text
    assert "(15.60 WETH, 39,000.00 USD in total" in text  # the asset named once
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


def _scored_hubs(t: pl.DataFrame, prices: pl.DataFrame | None, **kwargs):
    """The gather-scatter patterns of ``t`` and the alerts scored from them."""
    found = detect_patterns(
        t, network="torus", day=DAY, prices=prices, types=["gather_scatter"]
    ).patterns
    alerts = score_alerts(
        network="torus",
        day=DAY,
        patterns=found,
        features=features_of(t, prices if prices is not None else PRICES),
        labels=pl.DataFrame(schema=s.ADDRESS_LABELS),
        transfers=t,
        **kwargs,
    )
    return found, alerts


def _hub_alerts(t: pl.DataFrame, prices: pl.DataFrame | None) -> tuple[dict, set[str]]:
    found, alerts = _scored_hubs(t, prices)
    (details,) = found["details"].to_list()
    hub = alerts.filter(pl.col("typology") == "collect_and_redistribute")["explanation"]
    return {**json.loads(details), "explanation": hub.first()}, set(alerts["typology"])


def test_a_hub_that_changes_asset_is_measured_in_usd_and_unknown_without_a_price():
    # A hub gathers 4 x 1,000 TOR (1 USD) and pays on in WETH (2,500 USD).
    gather = [(10 + i, 1, 1000.0, i * 0.2) for i in range(4)]
    forwards = two_assets(gather, [(1, 20 + i, 0.388, 2 + i * 0.2) for i in range(4)])
    details, typologies = _hub_alerts(forwards, PRICES)
    assert details["flow_through"] == 0.97  # 3,880 USD of 4,000, not 1.552 WETH over 4,000 TOR
    # the amounts it divides, in its unit (not 4,000 "in" against 1.552 "out")
    assert (details["amount_in"], details["amount_out"]) == pytest.approx((4000.0, 3880.0))
    assert "collect_and_redistribute" in typologies
    assert "passed 97% of it on (USD)" in details["explanation"]
    keeps = two_assets(gather, [(1, 20 + i, 0.036, 2 + i * 0.2) for i in range(4)])
    details, typologies = _hub_alerts(keeps, PRICES)
    assert details["flow_through"] == 0.09
    assert "collect_and_redistribute" not in typologies
    # Without prices a sum of WETH over a sum of TOR means nothing: unknown, and the hub of
    # one-off counterparties alerts on its shape (the catalog's `unknown: pass`).
    details, typologies = _hub_alerts(keeps, None)
    assert details["flow_through"] is None
    assert (details["amount_in"], details["amount_out"]) == (None, None)
    assert "collect_and_redistribute" in typologies
    assert "(no common unit: currencies without prices)" in details["explanation"]
    # One asset throughout is compared in native units, priced or not.
    one_asset = transfers(gather + [(1, 20 + i, 90.0, 2 + i * 0.2) for i in range(4)])
    details = _hub_alerts(one_asset, None)[0]
    assert (details["flow_through"], details["flow_unit"]) == (0.09, "native units")
    assert (details["amount_in"], details["amount_out"]) == (4000.0, 360.0)


def test_pass_through_and_cycle_ratios_compare_like_with_like():
    # 1,000 TOR in, 0.396 WETH (990 USD) out within the hour; a cycle back in WETH.
    rows = two_assets([(1, 2, 1000.0, 0.0)], [(2, 3, 0.396, 0.5), (3, 1, 0.392, 1.0)])
    found = detect_patterns(
        rows, network="torus", day=DAY, prices=PRICES, types=["rapid_pass_through", "cycle"]
    ).patterns
    ratio = {
        (r["pattern_type"], r["center_address"]): json.loads(r["details"])
        for r in found.iter_rows(named=True)
    }
    assert ratio["rapid_pass_through", addr(2)]["pass_ratio"] == 0.99  # USD: TOR in, WETH out
    assert ratio["rapid_pass_through", addr(3)]["pass_ratio"] == 0.9899  # WETH: native units
    usd, native = ratio["rapid_pass_through", addr(2)], ratio["rapid_pass_through", addr(3)]
    assert (usd["amount_in"], usd["amount_out"], usd["pass_unit"]) == (1000.0, 990.0, "USD")
    assert (native["amount_in"], native["pass_unit"]) == (0.396, "native units")
    assert ratio["cycle", addr(1)]["return_ratio"] == 0.98
    unpriced = detect_patterns(
        rows, network="torus", day=DAY, types=["rapid_pass_through", "cycle"]
    ).patterns
    # Without prices the TOR-to-WETH hops cannot be measured: no such pass-through (its ratio
    # is its test), no cycle under a hop-ratio band; the WETH-only pass-through as it was.
    kept = {(r[0], r[1]) for r in unpriced.select("pattern_type", "center_address").rows()}
    assert kept == {("rapid_pass_through", addr(3))}
    # With the band off (as bank profiles set it) the cycle stands, of unknown return ratio.
    no_band = PatternLimits(min_hop_ratio=None, max_hop_ratio=None)
    cycle = detect_patterns(rows, network="torus", day=DAY, types=["cycle"], limits=no_band)
    assert json.loads(cycle.patterns["details"][0])["return_ratio"] is None


def _hub_case(t: pl.DataFrame, prices: pl.DataFrame | None, **kwargs) -> pl.DataFrame:
    alerts = _scored_hubs(t, prices, **kwargs)[1]
    return alerts.filter(pl.col("typology") == "collect_and_redistribute")


def test_an_amount_across_unpriced_assets_is_shown_per_asset_and_weighs_nothing():
    # A hub gathers 4 x 10,000 TOR and pays on 4 x 4 WETH: 40,000 and 40,000 USD when priced.
    hub = two_assets(
        [(10 + i, 1, 10_000.0, i * 0.2) for i in range(4)],
        [(1, 20 + i, 4.0, 2 + i * 0.2) for i in range(4)],
    )
    priced, unpriced = _hub_case(hub, PRICES), _hub_case(hub, None)
    (row,) = unpriced.rows(named=True)
    assert (
        "to 4 recipients within 2.6 hours (40,000.00 TOR + 16.00 WETH moved" in row["explanation"]
    )
    details = json.loads(json.loads(row["evidence"])["details"])
    assert (details["assets_n"], details["amounts"]) == (2, "40,000.00 TOR + 16.00 WETH")
    # 80,000 USD is a high amount; 40,016 "native units" of two currencies is no amount at all:
    # the score alone sets the severity, and a materiality floor cannot judge it.
    assert priced["severity"].to_list() == ["critical"]
    assert row["severity"] == "high"
    assert _hub_case(hub, PRICES, min_value=100_000).height == 0
    assert _hub_case(hub, None, min_value=100_000).height == 1
    # One asset, unpriced: its native total is the amount, named.
    tor = transfers(
        [(10 + i, 1, 10_000.0, i * 0.2) for i in range(4)]
        + [(1, 20 + i, 9_900.0, 2 + i * 0.2) for i in range(4)]
    )
    (one,) = _hub_case(tor, None).rows(named=True)
    assert "(79,600.00 TOR moved" in one["explanation"]
    assert one["severity"] == "critical"


def test_an_asset_name_with_quotes_keeps_the_details_json():
    t = transfers([(1, 2, 5.0, 0.0), (2, 3, 4.9, 0.5), (3, 1, 4.8, 1.0)]).with_columns(
        pl.lit('USD "bridged" \\ v2').alias("asset")
    )
    (details,) = detect_patterns(t, network="torus", day=DAY, types=["cycle"]).patterns["details"]
    assert json.loads(details)["amounts"] == '14.70 USD "bridged" \\ v2'


def test_an_exposure_path_is_valued_at_its_subjects_own_transfer():
    # mixer -> 1 -> 2 -> 3: addr(3) received 800 TOR; the hops before moved the same funds.
    risky = pl.DataFrame({"address": [addr(9)], "category": ["mixer"]})
    rows = transfers([(9, 1, 1000.0, 0.0), (1, 2, 900.0, 1.0), (2, 3, 800.0, 2.0)])
    found = detect_patterns(
        rows, network="torus", day=DAY, prices=PRICES, risky=risky, types=["risky_proximity"]
    ).patterns
    third = found.filter(pl.col("center_address") == addr(3)).row(0, named=True)
    assert third["total_amount"] == 800.0
    assert third["total_amount_usd"] == 800.0  # not 2,700: the path's hops summed
    assert json.loads(third["details"])["amounts"] == "800.00 TOR"


def test_an_exposure_path_carries_value_across_priced_assets():
    # mixer -> 1: 1,000 TOR; 1 -> 2: 0.39 WETH (975 USD). Priced, the value carried on.
    risky = pl.DataFrame({"address": [addr(9)], "category": ["mixer"]})
    rows = two_assets([(9, 1, 1000.0, 0.0)], [(1, 2, 0.39, 1.0)])

    def carried(prices: pl.DataFrame | None) -> float:
        found = detect_patterns(
            rows, network="torus", day=DAY, prices=prices, risky=risky, types=["risky_proximity"]
        ).patterns.filter(pl.col("center_address") == addr(2))
        return json.loads(found["details"][0])["carried_ratio"]

    assert carried(PRICES) == 0.975
    assert carried(None) == 0.0  # TOR against WETH without prices: nothing shown to carry


def test_a_feature_alert_weighs_and_shows_usd_never_a_sum_of_currencies(tmp_path):
    # addr(1) receives 2 x 5,000 TOR and 4 WETH in a day: 20,000 USD, or 10,004 "units".
    t = two_assets([(10, 1, 5000.0, 0.0), (11, 1, 5000.0, 1.0)], [(12, 1, 4.0, 2.0)])
    path = tmp_path / "typologies.yaml"
    path.write_text(
        'version: "t"\nfeature_window: 7\ntypologies:\n  busy:\n    description: d\n'
        "    source: feature\n    where: {in_count: {min: 3}}\n    high_amount: 10000\n"
        '    explanation: "({amount} received)"\n'
    )

    def busy(prices: pl.DataFrame | None) -> dict:
        alerts = score_alerts(
            network="torus",
            day=DAY,
            patterns=pl.DataFrame(schema=s.STRUCTURAL_PATTERNS),
            features=features_of(t, prices),
            labels=pl.DataFrame(schema=s.ADDRESS_LABELS),
            transfers=t,
            catalog=load_catalog(path),
        )
        return alerts.filter(pl.col("address") == addr(1)).row(0, named=True)

    priced, unpriced = busy(PRICES), busy(None)
    assert priced["explanation"] == "(20,000.00 USD received)"
    assert priced["severity"] == "high"  # 20,000 USD >= 10,000
    assert unpriced["explanation"] == "(unpriced amounts in 2 assets received)"
    assert unpriced["severity"] == "medium"  # the score alone: 10,004 mixed units weigh nothing


def test_a_fresh_cash_out_is_judged_by_value_not_by_a_sum_of_units():
    # addr(1): receives 2 WETH (5,000 USD), sends 1.9 WETH to exchange addr(50) and 100 TOR on.
    # addr(2): receives 5,000 DUST (0.50 USD) and sends it all to the exchange.
    t = transfers(
        [(10, 1, 2.0, 0.0), (1, 50, 1.9, 1.0), (1, 20, 100.0, 2.0)]
        + [(11, 2, 5000.0, 0.0), (2, 50, 5000.0, 1.0)]
    ).with_columns(pl.Series("asset", ["WETH", "WETH", "TOR", "DUST", "DUST"]))
    prices = normalise_prices(
        pl.DataFrame({"date": ["2026-10-01"] * 3, "asset": ["TOR", "WETH", "DUST"]}).with_columns(
            usd_price=pl.Series([1.0, 2500.0, 0.0001])
        ),
        network="torus",
        days=[DAY],
    )
    exchange = pl.DataFrame({"address": [addr(50)], "category": ["exchange"]})
    labels = exchange.with_columns(network=pl.lit("torus"), label=pl.lit("X"), source=pl.lit("t"))

    def cash_outs(prices: pl.DataFrame | None) -> dict[str, str]:
        alerts = score_alerts(
            network="torus",
            day=DAY,
            patterns=pl.DataFrame(schema=s.STRUCTURAL_PATTERNS),
            features=features_of(t, prices, exchange),
            labels=labels,
            transfers=t,
        ).filter(pl.col("typology") == "fresh_address_to_exchange")
        return dict(zip(alerts["address"], alerts["explanation"], strict=True))

    one = features_of(t, prices, exchange).filter(pl.col("address") == addr(1)).row(0, named=True)
    assert one["out_exchange_volume"] == 1.9
    assert one["out_exchange_volume_usd"] == 4750.0
    assert one["in_exchange_volume_usd"] == 0.0  # nothing received from it: 0 USD, not unknown
    assert features_of(t, None, exchange).filter(pl.col("address") == addr(1))[
        "out_exchange_volume_usd"
    ].to_list() == [None]

    priced = cash_outs(prices)
    # 4,750 of the 4,850 USD sent went to the exchange (natively 1.9 of 101.9 "units"), and
    # 5,000 DUST are 0.50 USD: one cash-out, not the other
    assert set(priced) == {addr(1)}
    assert "sent 98% of its outgoing value to exchanges (5,000.00 USD received)" in priced[addr(1)]
    # Without prices addr(1)'s share across WETH and TOR is unknown, so it is not judged;
    # addr(2) moved one asset and is weighed in its units (5,000 DUST).
    assert set(cash_outs(None)) == {addr(2)}
