"""``structural_patterns``: each partition day's patterns from its own horizon."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from analytics_platform.config import NetworkConfig
from analytics_platform.domain.patterns import detect_patterns
from analytics_platform.engines.timing import StageTimer
from analytics_platform.pipeline.labels import current_on, service_addresses


@dataclass(frozen=True)
class DailyPatterns:
    patterns: pl.DataFrame
    limits_hit: dict[date, dict[str, int]]
    """Per day, the detection limits that cut work short (empty when none did)."""


def patterns_for_days(
    transfers: pl.DataFrame,
    labels: pl.DataFrame,
    net: NetworkConfig,
    days: list[date],
    timer: StageTimer,
    progress: Callable[[date, int], None] = lambda day, rows: None,
    prices: pl.DataFrame | None = None,
    edges: pl.DataFrame | None = None,
) -> DailyPatterns:
    """Patterns of every day in ``days``: from that day's ``pattern_span_days`` horizon and its
    labels as of the day (services and the horizon's deposit addresses excluded, risky labels
    for proximity); ``prices`` give USD totals and the USD structuring threshold; ``edges``
    (``daily_edges`` of the ``pattern_history_days`` before each day) the dormancy shares
    where the network sets ``dormancy_days``, and funnels where it sets ``funnel_days``
    (``transfers`` then cover its ``pattern_transfer_days``)."""
    frames, limits = [], {}
    for day in days:
        current = current_on(labels, day)
        first = day - timedelta(days=net.pattern_span_days - 1)
        horizon = transfers.filter(pl.col("date").is_between(first, day))
        result = detect_patterns(
            transfers,
            network=net.name,
            day=day,
            span_days=net.pattern_span_days,
            exclude=service_addresses(current, horizon),
            risky=current,
            limits=net.pattern_limits,
            reporting_thresholds=net.reporting_thresholds,
            structuring_band=net.structuring_band,
            prices=prices,
            reporting_threshold_usd=net.reporting_threshold_usd,
            timer=timer,
            **_dormancy(net, edges, day),
        )
        frames.append(result.patterns)
        limits[day] = result.limits_hit
        progress(day, result.patterns.height)
    return DailyPatterns(pl.concat(frames), limits)


def _dormancy(net: NetworkConfig, edges: pl.DataFrame | None, day: date) -> dict:
    """``detect_patterns``' dormancy arguments for ``day`` where the network judges dormancy:
    the ``pattern_history_days`` of ``edges`` ending the day before (what the look-back reads)."""
    if not net.dormancy_days or edges is None:
        return {}
    first = day - timedelta(days=net.pattern_history_days)
    return {
        "history": edges.filter(pl.col("date").is_between(first, day - timedelta(days=1))),
        "dormancy_days": net.dormancy_days,
        "history_start": net.start_date,
        "funnel_days": net.funnel_days,
        "relationship_days": net.relationship_days,
    }
