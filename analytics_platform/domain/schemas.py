"""Stable, documented table schemas (polars dtypes + pandera validation).

Every partitioned table carries a ``date`` column (the UTC day of its Dagster partition);
the warehouse partitions by it, so re-materialising a day replaces exactly that day.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

AMOUNT = pl.Decimal(38, 18)
"""Token amounts: 38 digits with 18 decimals, so 18-decimal tokens lose no precision."""
TIMESTAMP = pl.Datetime("ms", "UTC")

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

DAILY_EDGES: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "from_address": pl.String(),
    "to_address": pl.String(),
    "asset": pl.String(),
    "transfer_count": pl.Int64(),
    "amount_sum": AMOUNT,
    "amount_max": pl.Float64(),
    "amount_sq_sum": pl.Float64(),
    "first_time": TIMESTAMP,
    "last_time": TIMESTAMP,
}

ADDRESS_FEATURES: dict[str, pl.DataType] = {
    "network": pl.String(),
    "date": pl.Date(),
    "window_days": pl.Int32(),
    "address": pl.String(),
    "in_count": pl.Int64(),
    "out_count": pl.Int64(),
    "in_degree": pl.Int64(),
    "out_degree": pl.Int64(),
    "counterparties": pl.Int64(),
    "in_volume": pl.Float64(),
    "out_volume": pl.Float64(),
    "net_flow": pl.Float64(),
    "max_in_amount": pl.Float64(),
    "max_out_amount": pl.Float64(),
    "mean_out_amount": pl.Float64(),
    "std_out_amount": pl.Float64(),
    "self_transfer_count": pl.Int64(),
    "first_seen": TIMESTAMP,
    "last_seen": TIMESTAMP,
    "active_days": pl.Int32(),
    "pagerank": pl.Float64(),
    "component_id": pl.String(),
    "component_size": pl.Int64(),
}

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
    "total_amount": pl.Float64(),
    "first_time": TIMESTAMP,
    "last_time": TIMESTAMP,
    "score": pl.Float64(),
}

TYPOLOGY_ALERTS: dict[str, pl.DataType] = {
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
}

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

LABEL_CATEGORIES = ("exchange", "mixer", "sanctioned", "scam", "gambling", "defi", "other")
SEVERITIES = ("low", "medium", "high", "critical")


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
    _columns(DAILY_EDGES, transfer_count=pa.Column(pl.Int64(), pa.Check.gt(0))),
    strict=True,
    unique=["network", "date", "from_address", "to_address", "asset"],
    name="daily_edges",
)

AddressFeaturesSchema = pa.DataFrameSchema(
    _columns(
        ADDRESS_FEATURES,
        pagerank=pa.Column(pl.Float64(), pa.Check.in_range(0.0, 1.0)),
        component_size=pa.Column(pl.Int64(), pa.Check.ge(1)),
    ),
    strict=True,
    unique=["network", "date", "window_days", "address"],
    name="address_features",
)

StructuralPatternsSchema = pa.DataFrameSchema(
    _columns(
        STRUCTURAL_PATTERNS,
        pattern_type=pa.Column(pl.String(), pa.Check.isin(["fan_in", "fan_out", "cycle"])),
        score=pa.Column(pl.Float64(), pa.Check.in_range(0.0, 1.0)),
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
    ),
    strict=True,
    unique=["network", "date", "alert_id"],
    name="typology_alerts",
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
