"""Daily edge aggregation: one row per (day, from, to, asset) with the flow's statistics.

Rolling-window features are computed from these daily aggregates, so materialising one more
day costs one day of raw transfers plus the window's (much smaller) edge partitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import polars as pl

from analytics_platform.domain.prices import with_usd
from analytics_platform.domain.schemas import AMOUNT, DAILY_EDGES, conform


class Engine(Protocol):
    """Anything that executes a polars plan (see ``engines.base.GraphEngine.collect``)."""

    def collect(self, plan: pl.LazyFrame) -> pl.DataFrame: ...


def is_round_amount(amount: pl.Expr) -> pl.Expr:
    """Amounts >= 1 with at most two significant digits (500, 1,200, 25,000; not 1,250).

    Unit-free on purpose: it needs no price, so it never mixes native amounts with USD.
    """
    exponent = amount.log10().floor()
    mantissa = amount / pl.lit(10.0).pow(exponent - 1)
    return (amount >= 1) & ((mantissa - mantissa.round(0)).abs() < 1e-6)


def is_structuring_amount(
    amount: pl.Expr, asset: pl.Expr, thresholds: Mapping[str, float], band: float
) -> pl.Expr:
    """Amounts in ``[T * (1 - band), T)`` where ``T`` is the asset's reporting threshold.

    Thresholds are per asset and in that asset's native units; an asset without one never
    matches.
    """
    if not thresholds:
        return pl.lit(False)
    threshold = asset.replace_strict(dict(thresholds), default=None, return_dtype=pl.Float64)
    return (amount >= threshold * (1 - band)) & (amount < threshold)


def is_structuring_usd(usd: pl.Expr, threshold_usd: float | None, band: float) -> pl.Expr:
    """USD values in ``[T * (1 - band), T)`` of the network's USD reporting threshold ``T``
    (never true for an unpriced transfer, or without a USD threshold)."""
    if threshold_usd is None:
        return pl.lit(False)
    return ((usd >= threshold_usd * (1 - band)) & (usd < threshold_usd)).fill_null(False)


def aggregate_daily_edges(
    transfers: pl.DataFrame,
    *,
    thresholds: Mapping[str, float] | None = None,
    structuring_band: float = 0.1,
    prices: pl.DataFrame | None = None,
    threshold_usd: float | None = None,
    engine: Engine | None = None,
) -> pl.DataFrame:
    """Aggregate validated transfers (any number of days) into daily edges.

    ``prices`` (date, asset, usd_price) give ``amount_usd`` (null for an asset without a price
    that day) and, with ``threshold_usd``, structuring by USD value beside the native
    per-asset ``thresholds``. ``engine`` executes the plan (default: polars on the CPU).
    """
    amount_f = pl.col("amount").cast(pl.Float64)
    structuring = is_structuring_amount(
        amount_f, pl.col("asset"), thresholds or {}, structuring_band
    ).fill_null(False) | is_structuring_usd(pl.col("_usd"), threshold_usd, structuring_band)
    # Per transfer, only to test it against the USD threshold (a boolean: order-free).
    priced = (
        with_usd(transfers, prices, "amount", "_usd")
        if prices is not None and threshold_usd is not None
        else transfers.with_columns(pl.lit(None, pl.Float64).alias("_usd"))
    )
    out = (
        priced.lazy()
        .with_columns(amount_f.alias("_x"))
        .group_by(["network", "date", "from_address", "to_address", "asset"])
        .agg(
            pl.len().cast(pl.Int64).alias("transfer_count"),
            pl.col("amount").sum().cast(AMOUNT).alias("amount_sum"),
            pl.col("_x").max().alias("amount_max"),
            pl.col("_x").min().alias("amount_min"),
            (pl.col("_x") * pl.col("_x")).sum().alias("amount_sq_sum"),
            is_round_amount(pl.col("_x")).sum().cast(pl.Int64).alias("round_count"),
            structuring.fill_null(False).sum().cast(pl.Int64).alias("structuring_count"),
            pl.col("block_time").min().alias("first_time"),
            pl.col("block_time").max().alias("last_time"),
        )
    )
    edges = engine.collect(out) if engine else out.collect()
    # One price per (date, asset), so the edge's USD value is its exact decimal sum times that
    # price: the same float whatever order the transfers came in. Null without a price.
    if prices is None:
        edges = edges.with_columns(pl.lit(None, pl.Float64).alias("amount_usd"))
    else:
        edges = with_usd(edges, prices, "amount_sum", "amount_usd")
    return conform(edges, DAILY_EDGES)
