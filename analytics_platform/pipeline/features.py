"""``address_features``: the window features of each partition day."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import replace
from datetime import date
from typing import Any

import polars as pl

from analytics_platform.domain.features import GraphCut, features_from_pieces
from analytics_platform.domain.schemas import ADDRESS_FEATURES, empty
from analytics_platform.domain.windows import window_days
from analytics_platform.engines.base import GraphEngine, GraphParams
from analytics_platform.engines.timing import StageTimer
from analytics_platform.pipeline.labels import current_on
from analytics_platform.storage import window_sql
from analytics_platform.storage.retention import split_at_horizon

LakeReader = Callable[[str, date, date], pl.DataFrame]
"""Reads the days ``first..last`` of a daily table from the lake."""


def features_in_warehouse(
    connect: Callable[[], AbstractContextManager[Any]],
    database: str,
    labels: pl.DataFrame,
    *,
    network: str,
    days: list[date],
    windows: Iterable[int],
    engine: GraphEngine,
    params: GraphParams,
    timer: StageTimer,
    cluster: str = "",
    spill: window_sql.SpillSettings | None = None,
    horizons: Mapping[str, date | None] | None = None,
    read_lake: LakeReader | None = None,
    in_process: bool = False,
    cuts: list[GraphCut] | None = None,
    progress: Callable[[date, int], None] = lambda day, rows: None,
) -> pl.DataFrame:
    """The features of every day in ``days``, each window reduced in the warehouse: its daily
    pieces stay in ClickHouse and only one row per address and one per pair come back
    (``storage.window_sql``); the graph and the flows' features run on ``engine``.

    ``connect()`` opens a warehouse session; one is held only while a day's windows are
    reduced (the embedded warehouse is one process's at a time). ``horizons``: per daily
    table, the first day the warehouse still holds (``storage.retention``); older days of the
    day's widest window are read by ``read_lake`` and staged in the warehouse beside the table,
    once for all of that day's windows. ``in_process``: the warehouse is embedded chDB
    (``window_sql.reduce_window``). Windows over the edge budget (``params.max_edges``) are
    appended to ``cuts``.
    """
    spill, sizes = spill or window_sql.SpillSettings(), sorted(set(windows))
    frames = []
    if not sizes:
        return empty(ADDRESS_FEATURES)
    for day in days:
        # One session reduces every window of the day (opening embedded chDB costs about
        # 0.3 s); the graph work runs after it is closed, when other steps may have the store.
        pieces = {}
        widest = window_sql.WarehouseWindow(
            database, *window_days(day, sizes[-1]), cluster=cluster, spill=spill
        )
        with connect() as client, ExitStack() as staging:
            if not window_sql.missing_tables(client, widest):  # else nothing stored yet
                staged = tuple(
                    staging.enter_context(
                        window_sql.staged_days(client, database, table, rows, horizon)
                    )
                    for table, rows, horizon in _lake_days(widest, horizons or {}, read_lake)
                )
                for size in sizes:
                    window = replace(widest, first=window_days(day, size)[0], staged=staged)
                    pieces[size] = window_sql.reduce_window(
                        client, window, timer, in_process=in_process
                    )
        day_labels, rows = current_on(labels, day), 0
        for size, piece in pieces.items():
            if piece.names.height == 0:
                continue
            features = features_from_pieces(
                piece.names, piece.flows, lambda p=piece: (p.volume, p.temporal), day_labels,
                network=network, day=day, window=size, engine=engine, params=params,
                timer=timer, cuts=cuts,
            )  # fmt: skip
            frames.append(features)
            rows += features.height
        progress(day, rows)
    return pl.concat(frames) if frames else empty(ADDRESS_FEATURES)


def _lake_days(
    window: window_sql.WarehouseWindow,
    horizons: Mapping[str, date | None],
    read_lake: LakeReader | None,
) -> Iterator[tuple[str, pl.DataFrame, date]]:
    """Per daily table, the window's days before its warehouse horizon, read from the lake:
    (table, rows, horizon)."""
    for table in window_sql.WINDOW_TABLES:
        horizon = horizons.get(table)
        from_lake, _ = split_at_horizon(window.first, window.last, horizon)
        if from_lake and horizon is not None:
            yield table, _read_lake(read_lake, table, *from_lake), horizon


def _read_lake(read_lake: LakeReader | None, table: str, first: date, last: date) -> pl.DataFrame:
    """``read_lake(table, first, last)``, or a one-line error naming the table and days."""
    if read_lake is None:
        raise ValueError(
            f"{table}: days {first}..{last} are past the warehouse's retention and need a "
            "lake reader"
        )
    return read_lake(table, first, last)


def edges_of_days(
    connect: Callable[[], AbstractContextManager[Any]],
    database: str,
    first: date,
    last: date,
    *,
    cluster: str = "",
    horizon: date | None = None,
    read_lake: LakeReader | None = None,
) -> pl.DataFrame:
    """``date``, ``from_address``, ``to_address`` of the stored ``daily_edges`` of
    ``first..last``, days before ``horizon`` from the lake (what the feature checks compare
    the features with)."""
    from_lake, from_warehouse = split_at_horizon(first, last, horizon)
    frames = []
    if from_lake:
        rows = _read_lake(read_lake, "daily_edges", *from_lake)
        frames.append(rows.select(list(window_sql.DAY_PAIRS)))
    if from_warehouse:
        window = window_sql.WarehouseWindow(database, *from_warehouse, cluster=cluster)
        with connect() as client:
            if not window_sql.missing_tables(client, window):
                frames.append(window_sql.read_day_pairs(client, window))
    return pl.concat(frames) if frames else pl.DataFrame(schema=window_sql.DAY_PAIRS)
