"""What a model may learn from: labels as history, each with the day it became known.

A label says an address took part in a pattern of a type between two days, and when the team
knew it (``known_at``). For an evaluation dataset the ground truth is loaded as if the team had
confirmed each planted pattern's members on the pattern's last day; look-alike (decoy) patterns
and every other address stay unlabelled. Training reads :func:`known_by` its cutoff only.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics_platform.domain.evaluation import normalise_type

LABELS: dict[str, pl.DataType] = {
    "address": pl.String(),
    "pattern_type": pl.String(),
    "first_day": pl.Date(),
    "last_day": pl.Date(),
    "known_at": pl.Date(),
    "source": pl.String(),
}
"""One row per (address, pattern) label: the days the pattern ran and when it was known."""


def planted_labels(
    accounts: pl.DataFrame, transactions: pl.DataFrame, transfers: pl.DataFrame
) -> pl.DataFrame:
    """Labels of a dataset's suspicious planted patterns (``accounts``: pattern_id,
    pattern_type, is_sar, address; ``transactions``: pattern_id, tx_hash; ``transfers``:
    tx_hash, block_time), known on each pattern's last day. A pattern none of whose transfers
    exist labels nothing (there was nothing to confirm)."""
    days = pattern_days(transactions, transfers)
    members = accounts.filter(pl.col("is_sar")).select(
        "pattern_id", normalise_type(pl.col("pattern_type")), "address"
    )
    return (
        members.join(days, on="pattern_id")
        .select(
            "address",
            "pattern_type",
            "first_day",
            "last_day",
            pl.col("last_day").alias("known_at"),
            pl.lit("ground_truth").alias("source"),
        )
        .unique()
        .sort("known_at", "pattern_type", "address")
        .cast(LABELS)
    )


def pattern_days(transactions: pl.DataFrame, transfers: pl.DataFrame) -> pl.DataFrame:
    """pattern_id, first_day, last_day: the days of each pattern's transfers that exist."""
    return (
        transactions.join(
            transfers.select("tx_hash", _day(pl.col("block_time")).alias("day")), on="tx_hash"
        )
        .group_by("pattern_id")
        .agg(pl.col("day").min().alias("first_day"), pl.col("day").max().alias("last_day"))
    )


def known_by(labels: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """The labels known at or before ``cutoff``: all a model trained then may see."""
    return labels.filter(pl.col("known_at") <= cutoff)


def _day(time: pl.Expr) -> pl.Expr:
    """A block time (ISO text or datetime) as its UTC day."""
    return time.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d")
