from datetime import date

import polars as pl

from analytics_platform.domain import quality as q
from analytics_platform.domain import schemas as s
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import compute_address_features
from analytics_platform.domain.patterns import detect_patterns
from analytics_platform.domain.typologies import score_alerts
from analytics_platform.engines import get_engine

from .graphs import addr, transfers

DAY = date(2026, 10, 1)


def pipeline(rows, labels=None):
    t = transfers(rows)
    labels = labels if labels is not None else pl.DataFrame(schema=s.ADDRESS_LABELS)
    f = compute_address_features(
        aggregate_daily_edges(t),
        aggregate_address_activity(t),
        labels.select("address", "category"),
        network="torus",
        day=DAY,
        windows=(7,),
        engine=get_engine("cpu"),
    )
    p = detect_patterns(
        t, network="torus", day=DAY, risky=labels.select("address", "category")
    ).patterns
    a = score_alerts(network="torus", day=DAY, patterns=p, features=f, labels=labels, transfers=t)
    return t, f, p, a


def test_round_trip_and_sanctioned_exposure_alerts_carry_evidence():
    labels = pl.DataFrame(
        {
            "network": "torus",
            "address": addr(9),
            "label": "OFAC-1",
            "category": "sanctioned",
            "source": "t",
        }
    )
    rows = [(1, 2, 1000, 1), (2, 3, 990, 2), (3, 1, 980, 3), (5, 9, 50, 4)]
    t, f, p, a = pipeline(rows, labels)
    by = {r["typology"]: r for r in a.iter_rows(named=True)}
    assert {"round_tripping", "sanctioned_exposure"} <= set(by)
    assert not {"mixer_exposure", "ping_pong", "structuring"} & set(by)
    rt = by["round_tripping"]
    cycle = p.filter(pl.col("pattern_type") == "cycle")
    assert rt["address"] == addr(1) and rt["pattern_ids"] == cycle["pattern_id"].to_list()
    assert "3-hop cycle" in rt["explanation"] and '"pattern_id"' in rt["evidence"]
    se = by["sanctioned_exposure"]
    assert se["address"] == addr(5) and se["severity"] in ("high", "critical")
    assert addr(9) in se["explanation"] and len(se["tx_hashes"]) == 1
    assert q.schema_conforms(a, s.TypologyAlertsSchema).passed
    assert q.alerts_reference_evidence(a, p, f["address"]).passed
    # Planted bad data: an alert pointing at a pattern that does not exist.
    bad = a.with_columns(pl.lit(["nope"]).alias("pattern_ids"))
    assert not q.alerts_reference_evidence(bad, p, f["address"]).passed


def test_checks_fail_on_planted_bad_data_and_pass_on_good():
    t = transfers([(1, 2, 10, 0), (2, 3, 5, 1)])
    assert q.schema_conforms(t, s.TransfersSchema).passed
    assert q.unique_key(t, list(s.TRANSFERS_KEY)).passed
    assert q.non_negative(t, "amount").passed
    assert q.times_inside_days(t).passed

    dup = pl.concat([t, t.head(1)])
    assert not q.unique_key(dup, list(s.TRANSFERS_KEY)).passed
    neg = t.with_columns(
        pl.when(pl.col("tx_hash") == "0xtx0")
        .then(-pl.col("amount"))
        .otherwise(pl.col("amount"))
        .alias("amount")
    )
    assert not q.non_negative(neg, "amount").passed
    assert not q.schema_conforms(neg, s.TransfersSchema).passed
    moved = t.with_columns(pl.lit(date(2026, 9, 1)).alias("date"))
    assert not q.times_inside_days(moved).passed
    assert not q.schema_conforms(t.drop("asset"), s.TransfersSchema).passed

    edges = aggregate_daily_edges(t)
    f = compute_address_features(
        edges,
        aggregate_address_activity(t),
        pl.DataFrame(schema={"address": pl.String, "category": pl.String}),
        network="torus",
        day=DAY,
        windows=(7,),
        engine=get_engine("cpu"),
    )
    assert q.every_active_address_has_features(edges, f).passed
    assert not q.every_active_address_has_features(edges, f.head(1)).passed
    assert not q.row_count_sane({DAY: 0}).passed and q.row_count_sane({DAY: 3}).passed


def test_catalog_typologies_fire_on_their_patterns_only():
    ping = [(1, 2, 1000, 1), (2, 1, 990, 2)]
    _, _, _, a = pipeline(ping)
    assert "ping_pong" in set(a["typology"]) and "round_tripping" not in set(a["typology"])
    peel = [(i + 1, i + 2, amt, i) for i, amt in enumerate([1000, 900, 810, 729, 656])]
    _, _, _, a = pipeline(peel)
    by = {r["typology"]: r for r in a.iter_rows(named=True)}
    assert (
        by["peel_chain"]["address"] == addr(1)
        and "5-hop peel chain" in by["peel_chain"]["explanation"]
    )
    assert set(a["severity"]) <= set(s.SEVERITIES) and a["score"].is_between(0, 1).all()


def test_catalog_is_versioned_and_bad_catalogs_name_the_field(tmp_path):
    from analytics_platform.domain.typologies import load_catalog

    catalog = load_catalog()
    names = {t.name for t in catalog.typologies}
    assert {
        "peel_chain", "structuring", "ping_pong", "rapid_fan_out", "velocity_anomaly",
        "fresh_address_to_exchange", "round_tripping", "money_mule_fan_in", "layering_chain",
        "mixer_exposure", "sanctioned_exposure",
    } <= names  # fmt: skip
    assert catalog.version and '"version"' in catalog.to_json()
    bad = tmp_path / "t.yaml"
    bad.write_text(
        "version: x\ntypologies:\n  oops:\n    description: d\n    source: pattern\n"
        "    patterns: [nonsense]\n    high_amount: 1\n    explanation: e\n"
    )
    import pytest

    with pytest.raises(ValueError, match="typologies.oops.patterns"):
        load_catalog(bad)
