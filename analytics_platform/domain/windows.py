"""Rolling-window arithmetic.

The window of ``W`` days for partition day ``D`` covers the instants
``[D - (W - 1) days 00:00 UTC, D + 1 day 00:00 UTC)``: the ``W`` whole UTC days ending with
``D`` itself, so a daily run for yesterday includes yesterday. (The original Celery pipeline
used ``[D - W days, D 00:00 UTC)`` for a run on day ``D``, which is the same set of instants as
this project's partition ``D - 1``.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def window_days(end_day: date, window: int) -> tuple[date, date]:
    """First and last day (both inclusive) of the ``window``-day window ending on ``end_day``."""
    if window < 1:
        raise ValueError(f"window: must be >= 1 day, got {window}")
    return end_day - timedelta(days=window - 1), end_day


def days_from(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def window_instants(end_day: date, window: int) -> tuple[datetime, datetime]:
    """Half-open UTC instants ``[start, end)`` of the window ending on ``end_day``."""
    first, last = window_days(end_day, window)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return start, end
