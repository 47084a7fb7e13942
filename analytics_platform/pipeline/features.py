"""``address_features``: the window features of each partition day."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any

import polars as pl

from analytics_platform.domain.features import (
    OVERLAP_MAX_PAIRS,
    GraphCut,
    ReducedWindow,
    WindowReduction,
    features_from_pieces,
)
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
    **options: Any,
) -> pl.DataFrame:
    """The features of every day and window of :func:`features_by_window` in one frame, sorted
    by day and window (held in memory: a bench's or a test's window; the asset spills them)."""
    frames: dict[tuple[date, int], pl.DataFrame] = {}
    features_by_window(
        connect, database, labels, keep=lambda day, size, f: frames.__setitem__((day, size), f),
        **options,
    )  # fmt: skip
    ordered = [frames.pop(key) for key in sorted(frames)]
    return pl.concat(ordered) if ordered else empty(ADDRESS_FEATURES)


WindowFeatures = Callable[[date, int, pl.DataFrame], None]
"""Takes the features of one day's window: (day, window days, rows)."""


def features_by_window(
    connect: Callable[[], AbstractContextManager[Any]],
    database: str,
    labels: pl.DataFrame,
    *,
    keep: WindowFeatures,
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
) -> None:
    """The features of every day in ``days`` and window in ``windows``, each handed to
    ``keep`` as it is made (in no set order; a window's rows are released once kept). Each
    window is reduced in the warehouse: its daily pieces stay in ClickHouse and only one row
    per address and one per pair come back (``storage.window_sql``); the graph and the flows'
    features run on ``engine``.

    ``connect()`` opens a warehouse session; one is held only while windows are reduced
    (the embedded warehouse is one process's at a time), and while the graph of a window of
    :data:`SUMS_BESIDE_GRAPH` pairs runs beside its sums' statements. ``horizons``: per daily
    table, the first day the warehouse still holds (``storage.retention``); older days of the
    day's widest window are read by ``read_lake`` and staged in the warehouse beside the table,
    once for all of that day's windows. ``in_process``: the warehouse is embedded chDB
    (``window_sql.reduce_window``). Windows over the edge budget (``params.max_edges``) are
    appended to ``cuts``.
    """
    spill, sizes = spill or window_sql.SpillSettings(), sorted(set(windows))
    if not sizes:
        return

    def features(day: date, size: int, handed: ReducedWindow) -> None:
        keep(day, size, features_from_pieces(
            handed, current_on(labels, day), network=network, day=day, window=size,
            engine=engine, params=params, timer=timer, cuts=cuts,
        ))  # fmt: skip

    def reduce(client: Any, day: date) -> Iterator[tuple[int, window_sql.FlowsReduced]]:
        return _day_windows(
            client, database, day, sizes, cluster=cluster, spill=spill, horizons=horizons or {},
            read_lake=read_lake, timer=timer, in_process=in_process,
        )  # fmt: skip

    remaining = list(days)
    while remaining:
        # One session reduces the windows of as many days as SESSION_PIECE_ROWS allows (at
        # least one): opening embedded chDB costs 0.3 s on a demo store and 2 s on one of 720
        # days.
        with connect() as client:
            deferred = _reduce_session(client, remaining, reduce, features)
        # The graph work of the other windows runs once the session is closed, when other
        # steps may have the store.
        while deferred:
            day, size, handed = deferred.pop(0)
            features(day, size, handed)
            del handed  # handed over: its flows are released once used, its sums once joined


def _reduce_session(
    client: Any,
    remaining: list[date],
    reduce: Callable[[Any, date], Iterator[tuple[int, window_sql.FlowsReduced]]],
    features: Callable[[date, int, ReducedWindow], None],
) -> list[tuple[date, int, ReducedWindow]]:
    """Reduces the windows of the days taken from ``remaining`` (until SESSION_PIECE_ROWS),
    in one warehouse session. A window of SUMS_BESIDE_GRAPH pairs goes to ``features`` at
    once: its graph algorithms run while the warehouse computes its per-address sums. The
    others are read whole and returned for later."""
    deferred: list[tuple[date, int, ReducedWindow]] = []
    held = 0
    while remaining and held < SESSION_PIECE_ROWS:
        day = remaining.pop(0)
        for size, window in reduce(client, day):
            if window.names.height == 0:
                continue
            if _sums_beside_graph(window.flows.height):
                sums = partial(window.sums, beside_graph=True)
                features(day, size, ReducedWindow(window.names, window.take_flows(), sums))
                continue
            held += window.names.height + window.flows.height
            deferred.append(
                (day, size, ReducedWindow(window.names, window.take_flows(), _once(window.sums())))
            )
    return deferred


SESSION_PIECE_ROWS = 2_000_000
"""A warehouse session reduces further days until the pieces it returned (addresses and pairs
of every window) reach this many rows: a day of a large network is a session of its own, a
year of a small one a handful."""

SUMS_BESIDE_GRAPH = (1_000_000, OVERLAP_MAX_PAIRS)
"""A window of this many pairs (inclusive) reads its per-address sums from the warehouse while
its graph algorithms run (2 cores, 10M transfers, 4.3M pairs: the window in about 82 s instead
of 101, median runs; ``docs/benchmarks.md``). Below, the graph is quick and the session is
better given back to other steps first; above, the sums' statements and the graph would hold
their working memory at once."""


def _sums_beside_graph(pairs: int) -> bool:
    low, high = SUMS_BESIDE_GRAPH
    return low <= pairs <= high


def _once(sums: tuple[pl.DataFrame, pl.DataFrame]) -> WindowReduction:
    """Sums already read, handed over once (the caller keeps no reference)."""
    held = list(sums)
    return lambda: (held.pop(0), held.pop(0))


def _day_windows(
    client: Any,
    database: str,
    day: date,
    sizes: list[int],
    *,
    cluster: str,
    spill: window_sql.SpillSettings,
    horizons: Mapping[str, date | None],
    read_lake: LakeReader | None,
    timer: StageTimer,
    in_process: bool,
) -> Iterator[tuple[int, window_sql.FlowsReduced]]:
    """Every window of ``day`` (``sizes``, ascending) reduced in the warehouse as far as its
    flows, its sums readable until the next is yielded; the days of the widest one past a
    table's horizon are staged from the lake once for all of them."""
    widest = window_sql.WarehouseWindow(
        database, *window_days(day, sizes[-1]), cluster=cluster, spill=spill
    )
    if window_sql.missing_tables(client, widest):  # nothing stored yet
        return
    with ExitStack() as staging:
        staged = tuple(
            staging.enter_context(window_sql.staged_days(client, database, table, rows, horizon))
            for table, rows, horizon in _lake_days(widest, horizons, read_lake)
        )
        for size in sizes:
            window = replace(widest, first=window_days(day, size)[0], staged=staged)
            with window_sql.reducing_window(client, window, timer, in_process=in_process) as w:
                yield size, w


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
