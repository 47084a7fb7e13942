"""``address_features``: the window features of each partition day."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import polars as pl

from analytics_platform.domain.features import compute_address_features, features_from_pieces
from analytics_platform.domain.schemas import ADDRESS_FEATURES, empty
from analytics_platform.domain.windows import window_days
from analytics_platform.engines.base import GraphEngine, GraphParams
from analytics_platform.engines.timing import StageTimer
from analytics_platform.pipeline.labels import current_on
from analytics_platform.storage import window_sql


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


def warehouse_window_features(
    client: Any,
    database: str,
    labels: pl.DataFrame,
    *,
    network: str,
    day: date,
    windows: Iterable[int],
    engine: GraphEngine,
    params: GraphParams,
    timer: StageTimer,
    cluster: str = "",
    spill: window_sql.SpillSettings | None = None,
) -> pl.DataFrame:
    """:func:`compute_address_features` with the windows reduced in the warehouse: the daily
    pieces stay in ClickHouse and only one row per address and one per pair come back
    (``storage.window_sql``). ``labels``: valid at the end of ``day``."""
    frames = []
    for days in sorted(set(windows)):
        first, last = window_days(day, days)
        window = window_sql.WarehouseWindow(
            database, first, last, cluster=cluster, spill=spill or window_sql.SpillSettings()
        )
        with window_sql.numbered_addresses(client, window) as names_table:
            with timer.stage("encode"):
                names = window_sql.read_names(client, window, names_table)
            if names.height == 0:
                frames.append(empty(ADDRESS_FEATURES))
                continue
            with timer.stage("flows"):
                flows = window_sql.read_flows(client, window, names_table)
            frames.append(
                features_from_pieces(
                    names,
                    flows,
                    lambda w=window, n=names_table: (
                        window_sql.read_volume_sums(client, w, n),
                        window_sql.read_temporal_sums(client, w, n),
                    ),
                    labels,
                    network=network,
                    day=day,
                    window=days,
                    engine=engine,
                    params=params,
                    timer=timer,
                )  # fmt: skip
            )
    return pl.concat(frames) if frames else empty(ADDRESS_FEATURES)
