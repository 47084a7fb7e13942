"""Stable, documented table schemas (polars dtypes + pandera validation).

Every partitioned table carries a ``date`` column (the UTC day of its Dagster partition);
the warehouse partitions by it, so re-materialising a day replaces exactly that day.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from analytics_platform.domain import feature_catalog
from analytics_platform.domain.dtypes import AMOUNT, TIMESTAMP

__all__ = ["AMOUNT", "TIMESTAMP"]

TRANSFERS: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "tx_hash": pl.String(),
    "transfer_index": pl.Int64(),
    "block_number": pl.Int64(),
    "block_time": TIMESTAMP,
    "from_address": pl.String(),
    "to_address": pl.String(),
    "asset": pl.String(),
    "amount": AMOUNT,
}

MESSAGES: dict[str, pl.DataType] = {
    "partition": pl.Int32(),
    "offset": pl.Int64(),
    "status": pl.String(),
    **TRANSFERS,  # null for messages that are not a transfer
    "field": pl.String(),
    "reason": pl.String(),
    "payload": pl.String(),
}
"""One row per Kafka message read (``kafka.messages.classify``); the ``kafka_messages`` table
adds topic, run and time."""

TRANSFERS_KEY = ("network", "tx_hash", "transfer_index")

DEAD_LETTERS: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "source": pl.String(),
    "record": pl.String(),
    "field": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}

TRANSFERS_QUALITY: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "source": pl.String(),
    "read": pl.Int64(),
    "accepted": pl.Int64(),
    "rejected": pl.Int64(),
    "duplicates": pl.Int64(),
    "completeness": pl.Float64(),
    "validity": pl.Float64(),
    "uniqueness": pl.Float64(),
    "timeliness": pl.Float64(),
    "score": pl.Float64(),
}
"""One row per network and day: how good the day's raw transfers were (``domain.scoring``);
the shares are null on a day that read nothing, timeliness where the source has no ingestion
time (files, tables)."""

INGESTION_SHARES = ("completeness", "validity", "uniqueness", "timeliness")
"""The shares in [0, 1] of ``transfers_quality`` (``domain.scoring``); its score is their mean."""
QUALITY_SHARES = (*INGESTION_SHARES, "consistency")
"""The shares of ``quality``: the ingestion shares and the processed tables' consistency."""

QUALITY: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "completeness": pl.Float64(),
    "validity": pl.Float64(),
    "uniqueness": pl.Float64(),
    "timeliness": pl.Float64(),
    "consistency": pl.Float64(),
    "score": pl.Float64(),
}
"""One row per network and day: the partition's quality score, the ingestion shares of
``transfers_quality`` plus the consistency of the processed tables with the transfers."""

DAILY_EDGES: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "from_address": pl.String(),
    "to_address": pl.String(),
    "asset": pl.String(),
    "transfer_count": pl.Int64(),
    "amount_sum": AMOUNT,
    "amount_max": pl.Float64(),
    "amount_min": pl.Float64(),
    "amount_sq_sum": pl.Float64(),
    "round_count": pl.Int64(),  # amounts >= 1 with at most two significant digits
    "structuring_count": pl.Int64(),  # amounts just below a reporting threshold (native/USD)
    "first_time": TIMESTAMP,
    "last_time": TIMESTAMP,
    "amount_usd": pl.Float64(),  # amount_sum x the day's USD price; null without a price
}

PRICES: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "asset": pl.String(),
    "decimals": pl.Int32(),  # null when the source does not say
    "usd_price": pl.Float64(),  # USD per native unit
    "source": pl.String(),
}
"""One USD price per asset and day; the platform's single currency for sums and thresholds."""

ADDRESS_ACTIVITY: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "address": pl.String(),
    "event_count": pl.Int64(),  # transfers sent or received (a self-transfer once)
    "first_time": TIMESTAMP,
    "last_time": TIMESTAMP,
    "gap_count": pl.Int64(),  # consecutive-transfer gaps inside the day
    "gap_sum_s": pl.Float64(),
    "gap_sq_sum_s": pl.Float64(),
    "gap_min_s": pl.Float64(),  # null when the day has one transfer
    "hour_mask": pl.Int32(),  # bit h set = a transfer in UTC hour h
}
"""Per address and day: what rolling temporal features need, in a form that merges across days
(sums, minima, bit masks), so a window never re-reads raw transfers."""

ADDRESS_FEATURES: dict[str, pl.DataType] = dict(feature_catalog.SCHEMA)

STRUCTURAL_PATTERNS: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "pattern_id": pl.String(),
    "pattern_type": pl.String(),
    "center_address": pl.String(),
    "members": pl.List(pl.String()),
    "roles": pl.List(pl.String()),
    "tx_hashes": pl.List(pl.String()),
    "transfer_count": pl.Int64(),
    "total_amount": pl.Float64(),  # native units (summed across assets as they are)
    "total_amount_usd": pl.Float64(),  # null when a transfer of the pattern has no price
    "first_time": TIMESTAMP,
    "last_time": TIMESTAMP,
    "score": pl.Float64(),
    "details": pl.String(),
}

ALERT_COLUMNS: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "alert_id": pl.String(),
    "typology": pl.String(),
    "address": pl.String(),
    "severity": pl.String(),
    "score": pl.Float64(),
    "pattern_ids": pl.List(pl.String()),
    "tx_hashes": pl.List(pl.String()),
    "evidence": pl.String(),
    "explanation": pl.String(),
    "pattern_type": pl.String(),
    "source": pl.String(),
}
"""One row per typology that fired on an address; ``CASE_COLUMNS`` group them into cases.
``pattern_type``: the pattern behind a rule's alert (empty for a feature typology), the
prediction of a model's; ``source``: ``rule``, ``model``, or ``both`` where the model flagged
the address for the pattern type a rule alerted on."""

CASE_COLUMNS: dict[str, pl.DataType] = {
    "case_id": pl.String(),
    "case_score": pl.Float64(),
    "case_rank": pl.Int64(),
    "in_budget": pl.Boolean(),
}
"""The case of an alert: every alert of one address on one day, scored together
(``domain.cases``), ranked within the day (1 = most suspicious) and cut by the network's
``case_budget``."""

TYPOLOGY_ALERTS: dict[str, pl.DataType] = {**ALERT_COLUMNS, **CASE_COLUMNS}

ADDRESS_RISK_SCORES: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "address": pl.String(),
    "alias": pl.String(),
    "model_version": pl.Int64(),
    "feature_hash": pl.String(),
    "pattern_type": pl.String(),
    "probability": pl.Float64(),
    "percentile": pl.Float64(),
    "flagged": pl.Boolean(),
    "explanation": pl.String(),
}
"""``address_risk_scores``: every active address of a day scored by the champion (and by the
challenger, in shadow: stored, never alerting). ``percentile``: the share of the day's
addresses scored at or below it by the same version; ``explanation``: the top contributions
of a flagged row in an analyst's words, empty otherwise."""

MODEL_MONITORING: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "model_version": pl.Int64(),
    "column": pl.String(),
    "psi": pl.Float64(),
    "status": pl.String(),
    "rows": pl.Int64(),
}
"""``model_monitoring``: per day, the champion's score and its most important features against
their distributions on the model's validation days (``domain.risk.drift``): the population
stability index and ``stable`` / ``warn`` / ``fail`` / ``no data``."""

ADDRESS_LABELS: dict[str, pl.DataType] = {
    "network": pl.String(),
    "address": pl.String(),
    "label": pl.String(),
    "category": pl.String(),
    "source": pl.String(),
    "valid_from": TIMESTAMP,
    "valid_to": TIMESTAMP,
    "is_current": pl.Boolean(),
}

ALERT_SOURCES = ("rule", "model", "both")
LABEL_CATEGORIES = ("exchange", "mixer", "sanctioned", "scam", "gambling", "defi", "other")
SEVERITIES = ("low", "medium", "high", "critical")
PATTERN_TYPE_NAMES = (
    "fan_in",
    "fan_out",
    "cycle",
    "scatter_gather",
    "gather_scatter",
    "bipartite",
    "stack",
    "layering_chain",
    "peel_chain",
    "rapid_pass_through",
    "structuring",
    "risky_proximity",
)
PATTERN_ROLES = ("source", "intermediate", "sink")


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with the given schema."""
    return pl.DataFrame(schema=schema)


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select the schema's columns in order, cast to its dtypes (strict)."""
    return df.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def _columns(schema: dict[str, pl.DataType], **extra: pa.Column) -> dict[str, pa.Column]:
    cols = {name: pa.Column(dtype, nullable=False) for name, dtype in schema.items()}
    cols.update(extra)
    return cols


TransfersSchema = pa.DataFrameSchema(
    _columns(
        TRANSFERS,
        transfer_index=pa.Column(pl.Int64(), pa.Check.ge(0)),
        block_number=pa.Column(pl.Int64(), nullable=True),
        amount=pa.Column(AMOUNT, pa.Check.ge(0)),
        tx_hash=pa.Column(pl.String(), pa.Check.str_length(min_value=1)),
    ),
    strict=True,
    name="transfers",
)

DailyEdgesSchema = pa.DataFrameSchema(
    _columns(
        DAILY_EDGES,
        transfer_count=pa.Column(pl.Int64(), pa.Check.gt(0)),
        amount_usd=pa.Column(pl.Float64(), pa.Check.ge(0), nullable=True),
    ),
    strict=True,
    unique=["network", "date", "from_address", "to_address", "asset"],
    name="daily_edges",
)


def _feature_column(f: feature_catalog.Feature) -> pa.Column:
    checks = [pa.Check.in_range(*f.bounds)] if f.bounds else []
    return pa.Column(f.dtype, checks, nullable=f.nullable)


AddressFeaturesSchema = pa.DataFrameSchema(
    {
        **{f.name: _feature_column(f) for f in feature_catalog.CATALOG},
        "component_size": pa.Column(pl.Int64(), pa.Check.ge(1)),
        "community_size": pa.Column(pl.Int64(), pa.Check.ge(1)),
    },
    strict=True,
    unique=["network", "date", "window_days", "address"],
    name="address_features",
)

AddressActivitySchema = pa.DataFrameSchema(
    _columns(
        ADDRESS_ACTIVITY,
        event_count=pa.Column(pl.Int64(), pa.Check.gt(0)),
        gap_min_s=pa.Column(pl.Float64(), pa.Check.ge(0), nullable=True),
    ),
    strict=True,
    unique=["network", "date", "address"],
    name="address_activity",
)

StructuralPatternsSchema = pa.DataFrameSchema(
    _columns(
        STRUCTURAL_PATTERNS,
        pattern_type=pa.Column(pl.String(), pa.Check.isin(list(PATTERN_TYPE_NAMES))),
        score=pa.Column(pl.Float64(), pa.Check.in_range(0.0, 1.0)),
        total_amount_usd=pa.Column(pl.Float64(), pa.Check.ge(0), nullable=True),
    ),
    strict=True,
    unique=["network", "date", "pattern_id"],
    name="structural_patterns",
)

TypologyAlertsSchema = pa.DataFrameSchema(
    _columns(
        TYPOLOGY_ALERTS,
        severity=pa.Column(pl.String(), pa.Check.isin(list(SEVERITIES))),
        score=pa.Column(pl.Float64(), pa.Check.in_range(0.0, 1.0)),
        case_score=pa.Column(pl.Float64(), pa.Check.in_range(0.0, 1.0)),
        case_rank=pa.Column(pl.Int64(), pa.Check.ge(1)),
        source=pa.Column(pl.String(), pa.Check.isin(list(ALERT_SOURCES))),
    ),
    strict=True,
    unique=["network", "date", "alert_id"],
    name="typology_alerts",
)

AddressRiskScoresSchema = pa.DataFrameSchema(
    _columns(
        ADDRESS_RISK_SCORES,
        alias=pa.Column(pl.String(), pa.Check.isin(["champion", "challenger"])),
        probability=pa.Column(pl.Float64(), pa.Check.in_range(0.0, 1.0)),
        percentile=pa.Column(pl.Float64(), pa.Check.in_range(0.0, 1.0)),
    ),
    strict=True,
    unique=["network", "date", "address", "alias"],
    name="address_risk_scores",
)


def _scores_schema(
    columns: dict[str, pl.DataType], shares: tuple[str, ...], name: str
) -> pa.DataFrameSchema:
    """One row per network and day whose ``shares`` and ``score`` are in [0, 1] or null."""
    share = pa.Check.in_range(0.0, 1.0)
    scores = {c: pa.Column(pl.Float64(), share, nullable=True) for c in (*shares, "score")}
    return pa.DataFrameSchema(
        _columns(columns, **scores), strict=True, unique=["network", "date"], name=name
    )


TransfersQualitySchema = _scores_schema(TRANSFERS_QUALITY, INGESTION_SHARES, "transfers_quality")
QualitySchema = _scores_schema(QUALITY, QUALITY_SHARES, "quality")

PricesSchema = pa.DataFrameSchema(
    _columns(
        PRICES,
        decimals=pa.Column(pl.Int32(), pa.Check.in_range(0, 36), nullable=True),
        usd_price=pa.Column(pl.Float64(), pa.Check.ge(0)),
    ),
    strict=True,
    unique=["network", "date", "asset"],
    name="prices",
)

AddressLabelsSchema = pa.DataFrameSchema(
    _columns(
        ADDRESS_LABELS,
        category=pa.Column(pl.String(), pa.Check.isin(list(LABEL_CATEGORIES))),
        valid_to=pa.Column(TIMESTAMP, nullable=True),
    ),
    strict=True,
    name="address_labels",
)
