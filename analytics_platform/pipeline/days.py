"""Splitting a multi-day frame into the partition days it belongs to."""

from __future__ import annotations

from datetime import date

import polars as pl


def by_day(df: pl.DataFrame, days: list[date]) -> dict[date, pl.DataFrame]:
    """``df`` split on its ``date`` column: one (possibly empty) frame for each of ``days``."""
    parts = {k[0]: g for k, g in df.partition_by("date", as_dict=True).items()} if df.height else {}
    return {d: parts.get(d, df.clear()) for d in days}


def counts_by(df: pl.DataFrame, column: str) -> dict[str, int]:
    """Row counts per value of ``column``."""
    return {str(k): v for k, v in df.group_by(column).len().iter_rows()} if df.height else {}
