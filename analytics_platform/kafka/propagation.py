"""Which daily partitions to bring up to date after an ingestion changed some days (late data).

A changed day ``D`` needs every daily asset of ``D``; the structural patterns (and alerts) of
the following ``span - 1`` days, whose pattern span covers ``D``; and the feature windows (and
alerts) of the following ``max_window - 1`` days, whose windows cover ``D``. Those follow-on days
are limited to the ``horizon_days`` days before ``latest_day`` (the newest daily partition:
yesterday, as a day's partition exists once the day has ended) and to days that exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from analytics_platform.storage.tables import DAILY_TABLES

SPAN_ASSETS = ("structural_patterns", "typology_alerts")
WINDOW_ASSETS = ("address_features", "typology_alerts")


def partitions_to_refresh(
    changed_days: Iterable[date],
    *,
    latest_day: date,
    first_day: date,
    last_day: date | None,
    span_days: int,
    max_window: int,
    horizon_days: int,
    changed_assets: Iterable[str] | None = None,
) -> dict[date, tuple[str, ...]]:
    """Day -> asset names to re-materialise (in ``DAILY_TABLES`` order). ``changed_assets``:
    what a changed day itself needs (default: every daily asset fed by transfers)."""
    end = min(latest_day, last_day) if last_day else latest_day
    recent = latest_day - timedelta(days=horizon_days)
    wanted: dict[date, set[str]] = {}

    def add(day: date, names: Iterable[str]) -> None:
        if first_day <= day <= end:
            wanted.setdefault(day, set()).update(names)

    own = (
        tuple(changed_assets)
        if changed_assets is not None
        else tuple(t for t in DAILY_TABLES if t != "prices")  # prices have their own source
    )
    for changed in sorted(set(changed_days)):
        add(changed, own)
        for k in range(1, max(span_days, max_window)):
            day = changed + timedelta(days=k)
            if day < recent:
                continue
            if k < span_days:
                add(day, SPAN_ASSETS)
            if k < max_window:
                add(day, WINDOW_ASSETS)
    return {
        day: tuple(a for a in DAILY_TABLES if a in names) for day, names in sorted(wanted.items())
    }


def encode_days(days: Iterable[date]) -> str:
    """Compact text for a run tag: ``2026-11-01..2026-11-03,2026-11-07``."""
    out: list[str] = []
    run: list[date] = []
    for day in sorted(set(days)):
        if run and day == run[-1] + timedelta(days=1):
            run.append(day)
            continue
        if run:
            out.append(_span(run))
        run = [day]
    if run:
        out.append(_span(run))
    return ",".join(out)


def decode_days(text: str) -> list[date]:
    days: list[date] = []
    for part in filter(None, (text or "").split(",")):
        first, _, last = part.partition("..")
        start, stop = date.fromisoformat(first), date.fromisoformat(last or first)
        days += [start + timedelta(days=i) for i in range((stop - start).days + 1)]
    return days


def _span(run: list[date]) -> str:
    return run[0].isoformat() if len(run) == 1 else f"{run[0]}..{run[-1]}"
