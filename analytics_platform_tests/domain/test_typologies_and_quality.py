from dataclasses import replace
from datetime import date

import polars as pl

from analytics_platform.domain import quality as q
from analytics_platform.domain import schemas as s
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import compute_address_features
from analytics_platform.domain.patterns import detect_patterns
from analytics_platform.domain.typologies import load_catalog, score_alerts
from analytics_platform.engines import get_engine
from analytics_platform.pipeline.labels import service_addresses
from analytics_platform_tests.graphs import addr, transfers

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
    current = labels.select("address", "category")
    services = service_addresses(current, t)
    p = detect_patterns(t, network="torus", day=DAY, risky=current, exclude=services).patterns
    a = score_alerts(
        network="torus",
        day=DAY,
        patterns=p,
        features=f,
        labels=labels,
        transfers=t,
        services=services,
    )
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


def test_an_explanation_key_no_column_carries_fails_the_check_naming_it():
    rows = [(1, 2, 1000, 1), (2, 3, 990, 2), (3, 1, 980, 3)]
    t, f, p, a = pipeline(rows)
    shipped = load_catalog()
    assert "round_tripping" in set(a["typology"])
    assert q.explanations_filled(a, shipped).passed
    typos = tuple(
        replace(typ, explanation=typ.explanation.replace("{hops}", "{hop_count}"))
        if typ.name == "round_tripping"
        else typ
        for typ in shipped.typologies
    )
    broken = replace(shipped, typologies=typos)
    no_labels = pl.DataFrame(schema=s.ADDRESS_LABELS)
    rescored = score_alerts(
        network="torus", day=DAY, patterns=p, features=f, labels=no_labels, transfers=t,
        catalog=broken,
    )  # fmt: skip
    outcome = q.explanations_filled(rescored, broken)
    assert not outcome.passed
    assert "typologies.round_tripping.explanation: {hop_count}" in outcome.description


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
    (pong,) = a.filter(pl.col("typology") == "ping_pong")["explanation"]
    assert "came straight back from its counterparty: 99% of the amount sent" in pong  # 990 of 1000
    peel = [(i + 1, i + 2, amt, i) for i, amt in enumerate([1000, 900, 810, 729, 656])]
    _, _, _, a = pipeline(peel)
    by = {r["typology"]: r for r in a.iter_rows(named=True)}
    assert (
        by["peel_chain"]["address"] == addr(1)
        and "5-hop peel chain" in by["peel_chain"]["explanation"]
        and "keeping 66% of the first amount" in by["peel_chain"]["explanation"]  # 656 of 1000
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


def _details(patterns: pl.DataFrame, kind: str) -> dict:
    import json

    (row,) = patterns.filter(pl.col("pattern_type") == kind)["details"].to_list()
    return json.loads(row)


def test_a_fan_to_the_same_recipients_again_is_a_payout_not_an_alert():
    smurfing = [(1, 10 + i, 900.0, i * 0.5) for i in range(8)]
    _, _, p, a = pipeline(smurfing)
    assert _details(p, "fan_out")["one_off_share"] == 1.0
    assert "rapid_fan_out" in set(a["typology"])
    payout = [(1, 10 + i, 500.0 + i, hour + i * 0.01) for hour in (0, 8) for i in range(8)]
    _, _, p, a = pipeline(payout)
    assert _details(p, "fan_out")["one_off_share"] == 0.0
    assert "rapid_fan_out" not in set(a["typology"])


def test_a_hub_that_passes_on_what_it_collected_is_a_mule_hub_and_one_that_keeps_it_not():
    gather = [(10 + i, 1, 1000.0, i * 0.2) for i in range(4)]
    forward = [(1, 20 + i, 970.0, 2 + i * 0.2) for i in range(4)]
    _, _, p, a = pipeline(gather + forward)
    assert _details(p, "gather_scatter")["flow_through"] == 0.97
    assert "collect_and_redistribute" in set(a["typology"])
    keeps = [(1, 20 + i, 90.0, 2 + i * 0.2) for i in range(4)]
    _, _, p, a = pipeline(gather + keeps)
    assert _details(p, "gather_scatter")["flow_through"] == 0.09
    assert "collect_and_redistribute" not in set(a["typology"])


def test_exchange_deposit_addresses_are_the_exchanges_and_never_a_mule():
    from datetime import UTC, datetime

    from analytics_platform.domain.attribution import deposit_addresses

    exchange = addr(99)
    labels = pl.DataFrame(
        {
            "network": ["torus"],
            "address": [exchange],
            "label": ["exchange-0"],
            "category": ["exchange"],
            "source": ["test"],
            "valid_from": [datetime(2026, 1, 1, tzinfo=UTC)],
            "valid_to": [None],
            "is_current": [True],
        },
        schema=s.ADDRESS_LABELS,
    )
    deposits = [(10 + i, 2, 300.0, i * 0.3) for i in range(8)]
    sweep = [(2, 99, 2397.6, 4.0)]
    t, _, p, a = pipeline(deposits + sweep, labels)
    assert deposit_addresses(t, [exchange]) == [addr(2)]
    assert p.filter(pl.col("pattern_type") == "fan_in").height == 0
    assert addr(2) not in set(a["address"])
    # The same collection kept, or paid on to an unlabelled address, is a fan-in.
    t, _, p, a = pipeline(deposits + [(2, 50, 2397.6, 4.0)], labels)
    assert deposit_addresses(t, [exchange]) == []
    assert "money_mule_fan_in" in set(a.filter(pl.col("address") == addr(2))["typology"])


def test_a_days_quality_score_comes_from_what_ingestion_counted():
    from analytics_platform.domain.scoring import day_quality, quality_frame

    rejected = pl.DataFrame(
        {"value": [None, "", "12abc", "-5"]}, schema={"value": pl.String}
    )  # two absent fields, two bad values
    row = day_quality(
        network="torus",
        day=DAY,
        source="files",
        counts={"read": 100, "accepted": 86, "rejected": 4, "duplicates": 10},
        rejected=rejected,
    )
    assert row["completeness"] == 0.98 and row["uniqueness"] == 0.9
    assert row["validity"] == round(86 / 90, 6) and row["timeliness"] is None
    assert row["score"] == round((0.98 + 86 / 90 + 0.9) / 3, 6)
    kafka = day_quality(
        network="torus",
        day=DAY,
        source="kafka:t",
        counts={"read": 10, "accepted": 10, "rejected": 0, "duplicates": 0},
        rejected=rejected.clear(),
        timely=0.5,
    )
    assert kafka["timeliness"] == 0.5 and kafka["score"] == round(3.5 / 4, 6)
    empty = day_quality(
        network="torus",
        day=DAY,
        source="files",
        counts={"read": 0, "accepted": 0, "rejected": 0, "duplicates": 0},
        rejected=rejected.clear(),
    )
    assert empty["score"] is None
    from datetime import timedelta

    frame = quality_frame(
        [
            row,
            {**kafka, "date": DAY + timedelta(days=1)},
            {**empty, "date": DAY + timedelta(days=2)},
        ]
    )
    low = q.quality_at_least(frame, 0.9)  # the Kafka day scores 0.875, the first 0.945
    assert not low.passed and low.metadata["days"] == {str(DAY + timedelta(days=1)): 0.875}
    assert q.quality_at_least(frame, 0.85).passed


def test_a_partitions_score_adds_the_consistency_of_its_processed_tables():
    from analytics_platform.domain.scoring import day_quality, partition_quality, quality_frame

    t = transfers([(1, 2, 10.0, 1.0), (2, 3, 5.0, 2.0), (3, 3, 1.0, 3.0), (4, 1, 2.0, 4.0)])
    day = t["date"][0]
    counts = {"read": 4, "accepted": 4, "rejected": 0, "duplicates": 0}
    ingestion = quality_frame(
        [day_quality(network="torus", day=day, source="files", counts=counts, rejected=t.clear())]
    )
    edges, activity = aggregate_daily_edges(t), aggregate_address_activity(t)
    whole = partition_quality(ingestion, edges, activity, [day])
    assert whole.row(0, named=True) == {
        "network": "torus", "date": day, "completeness": 1.0, "validity": 1.0,
        "uniqueness": 1.0, "timeliness": None, "consistency": 1.0, "score": 1.0,
    }  # fmt: skip
    # An edge lost on the way (one of four transfers) and its two events: 3/4 on both sides.
    lost = edges.filter(pl.col("from_address") != addr(4))
    short = activity.with_columns(
        pl.when(pl.col("address") == addr(4)).then(0).otherwise(pl.col("event_count"))
        .alias("event_count")
    ).with_columns(
        pl.when(pl.col("address") == addr(1)).then(pl.col("event_count") - 1)
        .otherwise(pl.col("event_count")).alias("event_count")
    )  # fmt: skip
    broken = partition_quality(ingestion, lost, short, [day]).row(0, named=True)
    # Edges: 3 of 4 transfers. Events: 5 of 7 (two per transfer, one for the self-transfer).
    consistency = round((3 / 4 + round(5 / 7, 6)) / 2, 6)
    assert broken["consistency"] == consistency
    assert broken["score"] == round((3 + consistency) / 4, 6)
    assert not q.quality_at_least(
        partition_quality(ingestion, lost, short, [day]), 0.95, s.QualitySchema
    ).passed


def test_novel_share_tells_one_off_legs_from_regular_partners():
    once = [(1, 2, 1000.0, 1), (2, 1, 990.0, 2)]
    _, _, p, _ = pipeline(once)
    assert _details(p, "cycle")["novel_share"] == 1.0
    # The same partners settle with each other every few hours: every leg repeats.
    regular = once + [(1, 2, 400.0, 6), (2, 1, 395.0, 7), (1, 2, 700.0, 11), (2, 1, 690.0, 12)]
    _, _, p, _ = pipeline(regular)
    cycles = p.filter(pl.col("pattern_type") == "cycle")
    assert cycles.height > 0
    assert all('"novel_share": 0.0' in d for d in cycles["details"])


def test_indirect_exposure_needs_the_value_to_carry_along_the_path():
    labels = pl.DataFrame(
        {"network": "torus", "address": addr(9), "label": "mix", "category": "mixer", "source": "t"}
    )
    # 1 pays 2, who passes most of it on to the mixer: the funds went there (upstream, 2 hops).
    traced = [(1, 2, 5000, 1), (2, 9, 4800, 2)]
    _, _, p, a = pipeline(traced, labels)
    two_hops = p.filter(pl.col("center_address") == addr(1))
    assert _details(two_hops, "risky_proximity")["carried_ratio"] == 0.96
    assert "indirect_exposure" in set(a.filter(pl.col("address") == addr(1))["typology"])
    # 1 paid a shop (2), which later paid the mixer an unrelated small amount: only contact.
    contact = [(1, 2, 5000, 1), (2, 9, 300, 2)]
    _, _, p, a = pipeline(contact, labels)
    assert (
        _details(p.filter(pl.col("center_address") == addr(1)), "risky_proximity")["carried_ratio"]
        == 0.06
    )
    assert "indirect_exposure" not in set(a["typology"])
    assert "mixer_exposure" in set(a.filter(pl.col("address") == addr(2))["typology"])
