"""Address labels kept as history (SCD type 2).

A label row is valid over ``[valid_from, valid_to)``; ``valid_to`` null means current. Loading a
new snapshot closes rows whose label/category changed or that disappeared, and opens rows for
new or changed ones; unchanged rows are left alone, so re-loading a snapshot changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from analytics_platform.domain.schemas import ADDRESS_LABELS, LABEL_CATEGORIES, TIMESTAMP, conform

_KEY = ["network", "address", "source"]
_VALUE = ["label", "category"]


def normalise_snapshot(snapshot: pl.DataFrame, *, network: str) -> pl.DataFrame:
    """Check a snapshot's columns and categories; one row per (network, address, source)."""
    for col in ("address", "label", "category"):
        if col not in snapshot.columns:
            raise ValueError(f"address_labels input is missing required column {col!r}")
    snap = snapshot.with_columns(
        pl.lit(network).alias("network"),
        pl.col("category").str.to_lowercase(),
        (pl.col("source") if "source" in snapshot.columns else pl.lit("manual")).alias("source"),
    )
    bad = snap.filter(~pl.col("category").is_in(list(LABEL_CATEGORIES)))
    if bad.height:
        raise ValueError(
            f"category: unknown label category {bad['category'][0]!r} for address "
            f"{bad['address'][0]!r} (expected one of {', '.join(LABEL_CATEGORIES)})"
        )
    if "valid_from" in snap.columns:
        snap = snap.with_columns(_as_timestamp(pl.col("valid_from")).alias("valid_from"))
    else:
        snap = snap.with_columns(pl.lit(None, dtype=TIMESTAMP).alias("valid_from"))
    return snap.select(*_KEY, *_VALUE, "valid_from").unique(_KEY, keep="last", maintain_order=True)


def _as_timestamp(col: pl.Expr) -> pl.Expr:
    from analytics_platform.domain.validation import parse_timestamps

    return parse_timestamps(col.cast(pl.String).str.replace(r"Z$", "+00:00"))


def merge_snapshot(history: pl.DataFrame, snapshot: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Apply ``snapshot`` (network, address, source, label, category[, valid_from]) to SCD2
    ``history``. New rows start at the snapshot's ``valid_from`` when given, else ``as_of``."""
    as_of_lit = pl.lit(as_of).cast(TIMESTAMP)
    current = history.filter(pl.col("is_current"))
    closed = history.filter(~pl.col("is_current"))
    joined = current.join(snapshot.drop("valid_from"), on=_KEY, how="left", suffix="_new")
    unchanged = pl.all_horizontal(pl.col(c) == pl.col(f"{c}_new") for c in _VALUE).fill_null(False)
    keep = joined.filter(unchanged).select(history.columns)
    ended = (
        joined.filter(~unchanged)
        .select(history.columns)
        .with_columns(as_of_lit.alias("valid_to"), pl.lit(False).alias("is_current"))
    )
    opened = snapshot.join(keep.select(_KEY), on=_KEY, how="anti").with_columns(
        pl.coalesce(pl.col("valid_from"), as_of_lit).alias("valid_from"),
        pl.lit(None, dtype=TIMESTAMP).alias("valid_to"),
        pl.lit(True).alias("is_current"),
    )
    merged = pl.concat(
        [conform(x, ADDRESS_LABELS) for x in (closed, ended, keep, opened)], how="vertical"
    )
    return merged.sort("network", "address", "source", "valid_from")


def labels_as_of(history: pl.DataFrame, day: date) -> pl.DataFrame:
    """Labels valid at the end of ``day`` (UTC): one row per (address, source)."""
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    end_lit = pl.lit(end).cast(TIMESTAMP)
    return history.filter(
        (pl.col("valid_from") < end_lit)
        & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= end_lit))
    )
