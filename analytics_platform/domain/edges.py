"""Daily edge aggregation: one row per (day, from, to, asset) with the flow's statistics.

Rolling-window features are computed from these daily aggregates, so materialising one more
day costs one day of raw transfers plus the window's (much smaller) edge partitions.
"""

from __future__ import annotations

import polars as pl

from analytics_platform.domain.schemas import AMOUNT, DAILY_EDGES, conform


def aggregate_daily_edges(transfers: pl.DataFrame) -> pl.DataFrame:
    """Aggregate validated transfers (any number of days) into daily edges."""
    amount_f = pl.col("amount").cast(pl.Float64)
    out = (
        transfers.lazy()
        .group_by(["network", "date", "from_address", "to_address", "asset"])
        .agg(
            pl.len().cast(pl.Int64).alias("transfer_count"),
            pl.col("amount").sum().cast(AMOUNT).alias("amount_sum"),
            amount_f.max().alias("amount_max"),
            (amount_f * amount_f).sum().alias("amount_sq_sum"),
            pl.col("block_time").min().alias("first_time"),
            pl.col("block_time").max().alias("last_time"),
        )
        .sort(["date", "from_address", "to_address", "asset"])
        .collect()
    )
    return conform(out, DAILY_EDGES)
