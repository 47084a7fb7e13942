"""``address_features``: the window features of each partition day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from analytics_platform.domain.features import compute_address_features
from analytics_platform.engines.base import GraphEngine, GraphParams
from analytics_platform.engines.timing import StageTimer
from analytics_platform.pipeline.labels import current_on


def features_for_days(
    edges: pl.DataFrame,
    activity: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    network: str,
    days: list[date],
    windows: tuple[int, ...],
    engine: GraphEngine,
    params: GraphParams,
    timer: StageTimer,
    progress: Callable[[date, int], None] = lambda day, rows: None,
) -> pl.DataFrame:
    """Features of every day in ``days``; each from its own windows and labels as of that day."""
    frames = []
    for day in days:
        frames.append(
            compute_address_features(
                edges,
                activity,
                current_on(labels, day),
                network=network,
                day=day,
                windows=windows,
                engine=engine,
                params=params,
                timer=timer,
            )
        )
        progress(day, frames[-1].height)
    return pl.concat(frames)
