"""Daily USD prices per asset, and the USD value of transfers.

A price row is (network, date, asset, decimals, usd_price, source). Amounts stay exact in native
units; USD values are float64, ``amount * usd_price`` of the transfer's day, and **null, never
zero**, where the day has no price for the asset (a missing price must stay visible).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

import polars as pl

from analytics_platform.domain.schemas import PRICES, conform

REQUIRED = ("date", "asset", "usd_price")


def normalise_prices(raw: pl.DataFrame, *, network: str, days: Iterable[date]) -> pl.DataFrame:
    """The rows of ``raw`` (CSV/Parquet columns date, asset, usd_price[, decimals, source,
    network]) for ``network`` and ``days``, one per (date, asset); a clear error names a missing
    column or a bad value."""
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"prices.{missing[0]}: missing column (have {raw.columns})")
    if "network" in raw.columns:
        raw = raw.filter(pl.col("network") == network)
    wanted = sorted(set(days))
    out = raw.select(
        pl.lit(network).alias("network"),
        pl.col("date").cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        pl.col("asset").cast(pl.String),
        (pl.col("decimals") if "decimals" in raw.columns else pl.lit(None))
        .cast(pl.Int32, strict=False)
        .alias("decimals"),
        pl.col("usd_price").cast(pl.Float64, strict=False),
        (pl.col("source") if "source" in raw.columns else pl.lit("file"))
        .cast(pl.String)
        .alias("source"),
    )
    bad = out.with_row_index("_row").filter(
        pl.col("date").is_null() | pl.col("usd_price").is_null()
    )
    if bad.height:
        row = raw.row(int(bad["_row"][0]), named=True)
        raise ValueError(f"prices: unreadable date or usd_price in row {row}")
    negative = out.filter(pl.col("usd_price") < 0)
    if negative.height:
        raise ValueError(f"prices.usd_price: negative price {negative.row(0, named=True)}")
    out = out.filter(pl.col("date").is_in(wanted))
    dupes = out.filter(pl.struct("date", "asset").is_duplicated())
    if dupes.height:
        d = dupes.row(0, named=True)
        raise ValueError(f"prices: two prices for {d['asset']} on {d['date']}")
    return conform(out.sort("date", "asset"), PRICES)


def fingerprints(prices: pl.DataFrame) -> dict[str, str]:
    """Per ISO day, a digest of that day's (asset, usd_price, decimals) rows: what changed
    between two reads of a price source (hashlib, not polars' hash, which may change between
    versions and would make every day look new after an upgrade)."""
    out: dict[str, str] = {}
    rows = prices.sort("date", "asset").select("date", "asset", "usd_price", "decimals")
    for (day,), part in rows.partition_by("date", as_dict=True, maintain_order=True).items():
        text = "\n".join(f"{a}|{p!r}|{d}" for _, a, p, d in part.iter_rows())
        out[day.isoformat()] = hashlib.sha1(text.encode()).hexdigest()
    return out


def with_usd(frame: pl.DataFrame, prices: pl.DataFrame, amount: str, out: str) -> pl.DataFrame:
    """``frame`` (with date, asset) plus ``out`` = ``amount`` x that day's price (null when
    the day has none for the asset); rows keep their order."""
    return (
        frame.join(
            prices.select("date", "asset", pl.col("usd_price").alias("_usd_price")),
            on=["date", "asset"],
            how="left",
            maintain_order="left",
        )
        .with_columns((pl.col(amount).cast(pl.Float64) * pl.col("_usd_price")).alias(out))
        .drop("_usd_price")
    )


def unpriced(frame: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """(date, asset, rows) of ``frame`` with no price that day."""
    if frame.height == 0:
        return pl.DataFrame(schema={"date": pl.Date, "asset": pl.String, "rows": pl.UInt32})
    return (
        frame.join(prices.select("date", "asset"), on=["date", "asset"], how="anti")
        .group_by("date", "asset")
        .agg(pl.len().alias("rows"))
        .sort("date", "asset")
    )
