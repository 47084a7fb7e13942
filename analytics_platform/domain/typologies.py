"""Typologies: alerts scored from patterns, features and address labels.

The catalog is versioned configuration (:data:`CATALOG`); each alert carries the pattern ids
and transfers behind it, the feature values that drove it and a one-sentence explanation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import polars as pl

from analytics_platform.domain.schemas import TYPOLOGY_ALERTS, conform, empty

CATALOG_VERSION = "2026.11.1"


@dataclass(frozen=True)
class Typology:
    name: str
    description: str
    source: str  # "pattern:<type>" or "exposure:<category>"
    min_score: float
    high_amount: float  # total amount at which severity steps up


CATALOG: tuple[Typology, ...] = (
    Typology(
        "round_tripping",
        "Funds leave an address and come back through a time-ordered "
        "cycle of intermediaries (FATF VA red flag: circular transfers).",
        "pattern:cycle",
        0.3,
        10_000.0,
    ),
    Typology(
        "money_mule_fan_in",
        "Many distinct senders pay one collector within hours.",
        "pattern:fan_in",
        0.3,
        25_000.0,
    ),
    Typology(
        "rapid_fan_out",
        "One address pays many fresh recipients within hours (distribution / smurfing).",
        "pattern:fan_out",
        0.3,
        25_000.0,
    ),
    Typology(
        "sanctioned_exposure",
        "Direct transfer with a sanctioned address.",
        "exposure:sanctioned",
        0.0,
        1_000.0,
    ),
    Typology(
        "mixer_exposure", "Direct transfer with a mixing service.", "exposure:mixer", 0.0, 1_000.0
    ),
)

_ROLE_TEXT = {
    "round_tripping": "sent funds that returned to it through a {n}-hop cycle",
    "money_mule_fan_in": "collected funds from {n} distinct senders",
    "rapid_fan_out": "paid {n} distinct recipients",
}


def _severity(score: pl.Expr, amount: pl.Expr, high_amount: float) -> pl.Expr:
    return (
        pl.when((score >= 0.8) & (amount >= high_amount))
        .then(pl.lit("critical"))
        .when((score >= 0.6) | (amount >= high_amount))
        .then(pl.lit("high"))
        .when(score >= 0.4)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def _alert_id(network: str, typology: str) -> pl.Expr:
    key = pl.format(
        "{}|{}|{}|{}",
        pl.lit(network),
        pl.lit(typology),
        pl.col("address"),
        pl.col("tx_hashes").list.sort().list.join(","),
    )
    return pl.format("{}-{}", pl.lit(typology), key.hash(seed=1123).cast(pl.String))


def score_alerts(
    *,
    network: str,
    day: date,
    patterns: pl.DataFrame,
    features: pl.DataFrame,
    labels: pl.DataFrame,
    transfers: pl.DataFrame,
    feature_window: int = 7,
) -> pl.DataFrame:
    """Alerts for ``day`` from its patterns, features (``feature_window``), labels and transfers."""
    feats = features.filter(pl.col("window_days") == feature_window).select(
        "address", "in_degree", "out_degree", "in_volume", "out_volume", "net_flow", "pagerank"
    )
    service = set(labels.filter(pl.col("category") == "exchange")["address"].to_list())
    frames = []
    for typ in CATALOG:
        kind, _, arg = typ.source.partition(":")
        if kind == "pattern":
            frames.append(_pattern_alerts(typ, arg, network, day, patterns, feats, service))
        else:
            frames.append(_exposure_alerts(typ, arg, network, day, transfers, labels))
    frames = [f for f in frames if f.height]
    if not frames:
        return empty(TYPOLOGY_ALERTS)
    return pl.concat(frames).unique("alert_id", keep="first").sort("typology", "alert_id")


def _pattern_alerts(typ, pattern_type, network, day, patterns, feats, service) -> pl.DataFrame:
    p = patterns.filter(
        (pl.col("pattern_type") == pattern_type)
        & (pl.col("score") >= typ.min_score)
        & ~pl.col("center_address").is_in(list(service))
    )
    if p.height == 0:
        return empty(TYPOLOGY_ALERTS)
    p = p.with_columns(pl.col("center_address").alias("address")).join(
        feats, on="address", how="left"
    )
    n_expr = pl.col("members").list.len() - (0 if pattern_type == "cycle" else 1)
    evidence = pl.struct(
        pl.col("pattern_id"),
        pl.col("total_amount"),
        pl.col("transfer_count"),
        pl.col("in_degree"),
        pl.col("out_degree"),
        pl.col("net_flow"),
        pl.col("pagerank"),
    ).struct.json_encode()
    text = _ROLE_TEXT[typ.name]
    head, _, tail = text.partition("{n}")
    out = p.with_columns(
        pl.lit(typ.name).alias("typology"),
        _severity(pl.col("score"), pl.col("total_amount"), typ.high_amount).alias("severity"),
        pl.concat_list("pattern_id").alias("pattern_ids"),
        evidence.alias("evidence"),
        pl.format(
            "Address {} " + head + "{}" + tail + " moving {} {} between {} and {} UTC "
            "(pattern score {}).",
            pl.col("address"),
            n_expr,
            pl.col("total_amount").round(2),
            pl.lit("units"),
            pl.col("first_time").dt.strftime("%Y-%m-%d %H:%M"),
            pl.col("last_time").dt.strftime("%H:%M"),
            pl.col("score").round(2),
        ).alias("explanation"),
    ).with_columns(_alert_id(network, typ.name).alias("alert_id"))
    return conform(out, TYPOLOGY_ALERTS)


def _exposure_alerts(typ, category, network, day, transfers, labels) -> pl.DataFrame:
    risky = (
        labels.filter(pl.col("category") == category)
        .select(pl.col("address").alias("risky"), pl.col("label").alias("risky_label"))
        .unique("risky")
    )
    if risky.height == 0 or transfers.height == 0:
        return empty(TYPOLOGY_ALERTS)
    labelled = set(labels["address"].to_list())
    t = transfers.filter(pl.col("date") == day).select(
        "tx_hash", "from_address", "to_address", pl.col("amount").cast(pl.Float64)
    )
    sent = t.join(risky, left_on="to_address", right_on="risky").select(
        pl.col("from_address").alias("address"),
        "tx_hash",
        "amount",
        "risky_label",
        pl.lit("sent").alias("direction"),
    )
    received = t.join(risky, left_on="from_address", right_on="risky").select(
        pl.col("to_address").alias("address"),
        "tx_hash",
        "amount",
        "risky_label",
        pl.lit("received").alias("direction"),
    )
    hits = pl.concat([sent, received]).filter(~pl.col("address").is_in(list(labelled)))
    if hits.height == 0:
        return empty(TYPOLOGY_ALERTS)
    per_address = hits.group_by("address").agg(
        pl.col("tx_hash").sort().alias("tx_hashes"),
        pl.col("amount").sum().alias("total_amount"),
        pl.col("risky_label").unique().sort().alias("counterparts"),
        (pl.col("direction") == "sent").any().alias("sent_to_risky"),
    )
    base = 0.9 if category == "sanctioned" else 0.7
    score = (pl.lit(base) + pl.when(pl.col("sent_to_risky")).then(0.1).otherwise(0.0)).clip(0, 1)
    out = per_address.with_columns(
        pl.lit(typ.name).alias("typology"),
        score.alias("score"),
        pl.lit([], dtype=pl.List(pl.String)).alias("pattern_ids"),
        pl.struct(pl.col("total_amount"), pl.col("counterparts"), pl.col("sent_to_risky"))
        .struct.json_encode()
        .alias("evidence"),
        pl.format(
            "Address {} transacted {} units directly with {} address(es) {} in {} transfer(s).",
            pl.col("address"),
            pl.col("total_amount").round(2),
            pl.lit(category),
            pl.col("counterparts").list.join(", "),
            pl.col("tx_hashes").list.len(),
        ).alias("explanation"),
        pl.lit(network).alias("network"),
        pl.lit(day).alias("date"),
    ).with_columns(
        _severity(pl.col("score"), pl.col("total_amount"), typ.high_amount).alias("severity"),
        _alert_id(network, typ.name).alias("alert_id"),
    )
    return conform(out, TYPOLOGY_ALERTS)


def catalog_json() -> str:
    """The typology catalog as JSON (for asset metadata and docs)."""
    return json.dumps(
        {"version": CATALOG_VERSION, "typologies": [t.__dict__ for t in CATALOG]}, indent=1
    )
