"""Per-address daily activity: the mergeable pieces of the temporal features.

Inter-arrival statistics over a window need every address's transfers in time order. Storing,
per address and day, the count, first/last time and the sums of within-day gaps lets a window
rebuild them exactly: the gaps between days are ``first_time`` of one active day minus
``last_time`` of the previous one. ``hour_mask`` ORs across days into the active hours.
"""

from __future__ import annotations

import polars as pl

from analytics_platform.domain.edges import Engine
from analytics_platform.domain.schemas import ADDRESS_ACTIVITY, conform


def aggregate_address_activity(
    transfers: pl.DataFrame, *, engine: Engine | None = None
) -> pl.DataFrame:
    """One row per (network, day, address) from validated transfers (any number of days)."""
    t = transfers.lazy().select("network", "date", "block_time", "from_address", "to_address")
    events = pl.concat(
        [
            t.select("network", "date", "block_time", pl.col("from_address").alias("address")),
            t.filter(pl.col("to_address") != pl.col("from_address")).select(
                "network", "date", "block_time", pl.col("to_address").alias("address")
            ),
        ]
    )
    keys = ["network", "date", "address"]
    # Sorted once; a gap is the time since the previous event of the same key. (Comparing with
    # the previous row is several times faster here than a window expression over the keys.)
    same_key = pl.all_horizontal(pl.col(k) == pl.col(k).shift(1) for k in keys)
    gap = (pl.col("block_time") - pl.col("block_time").shift(1)).dt.total_milliseconds() / 1000.0
    # Rows are in time order within a key, so an hour's first row is where the hour changes:
    # summing its bit there gives the OR of the key's hours (cudf-polars has no bitwise_or).
    hour = pl.col("block_time").dt.hour().cast(pl.Int32)
    new_hour = (~same_key | (hour != hour.shift(1))).fill_null(True)
    out = (
        events.sort([*keys, "block_time"])
        .with_columns(
            pl.when(same_key).then(gap).alias("_gap"),
            pl.when(new_hour)
            .then(pl.lit(2, dtype=pl.Int32).pow(hour))
            .otherwise(0)
            .cast(pl.Int32)
            .alias("_hour_bit"),
        )
        .group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("event_count"),
            pl.col("block_time").min().alias("first_time"),
            pl.col("block_time").max().alias("last_time"),
            pl.col("_gap").count().cast(pl.Int64).alias("gap_count"),
            pl.col("_gap").sum().alias("gap_sum_s"),
            (pl.col("_gap") * pl.col("_gap")).sum().alias("gap_sq_sum_s"),
            pl.col("_gap").min().alias("gap_min_s"),
            pl.col("_hour_bit").sum().alias("hour_mask"),
        )
    )
    return conform(engine.collect(out) if engine else out.collect(), ADDRESS_ACTIVITY)
