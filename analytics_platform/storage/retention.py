"""Warehouse retention: which days a ClickHouse table still holds, and where older days live.

A table with ``warehouse_retention: {<table>: N}`` carries the ClickHouse TTL
``date + toIntervalDay(N)``: a day's rows are deleted at the first merge once ``date + N <=
today``. The lake keeps every day, so an input older than the warehouse's horizon (a 90-day
feature window over a 30-day warehouse, a restore) is read from the lake. The horizon keeps a
day of margin: the server's clock and a merge's timing never decide what a step reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def today_utc() -> date:
    return datetime.now(UTC).date()


def warehouse_horizon(days: int | None, today: date) -> date | None:
    """The first day read from the warehouse for a table kept ``days`` days (``None``: all).

    ClickHouse may already have deleted every day up to ``today - days``; the day after that
    is read from the lake too (one day of margin)."""
    return None if days is None else today - timedelta(days=days - 2)


def split_at_horizon(
    first: date, last: date, horizon: date | None
) -> tuple[tuple[date, date] | None, tuple[date, date] | None]:
    """``(lake_days, warehouse_days)``: the inclusive ranges of ``first..last`` on each side."""
    if horizon is None or first >= horizon:
        return None, (first, last)
    if last < horizon:
        return (first, last), None
    return (first, horizon - timedelta(days=1)), (horizon, last)
