"""A feature window reduced in the warehouse: SQL over the stored daily pieces.

Of its window's raw rows (``daily_edges``, ``address_activity``), ``address_features`` needs
four reductions: the addresses, numbered in sorted order; the flows between distinct
addresses (one row per ordered pair); and per address the volume sums and the temporal sums.
ClickHouse computes them where the rows are, spilling its GROUP BYs and sorts to disk past
:class:`SpillSettings`, so only one row per address and one per pair come back to the process,
with integer ids instead of address strings. On a cluster the same statements read the
``Distributed`` tables. The rest of the catalog (graph algorithms, the features of the flows)
runs on the engine: ``domain.features.features_from_pieces``.

The statements mirror the polars plans of ``domain.features`` (``_flows``,
``_volume_features``, ``_temporal_sums``) column for column; a parity test holds them to it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

import polars as pl

from analytics_platform.domain.dtypes import TIMESTAMP
from analytics_platform.engines.timing import StageTimer
from analytics_platform.storage.clickhouse import (
    DISTRIBUTED_SUFFIX,
    create_staging,
    query_frame,
    table_exists,
)
from analytics_platform.storage.identifiers import validate_identifier
from analytics_platform.storage.spill import SpillSettings

log = logging.getLogger(__name__)

NAMES = {"id": pl.UInt32(), "address": pl.String()}
FLOWS = {
    "s": pl.UInt32(),
    "d": pl.UInt32(),
    "count": pl.Int64(),
    "volume": pl.Float64(),
    "volume_usd": pl.Float64(),
    "first_day": pl.Date(),
    "last_day": pl.Date(),
}
VOLUME_SUMS = {
    "id": pl.UInt32(),
    "asset_count": pl.Int64(),
    "round_amount_count": pl.Int64(),
    "out_count": pl.Int64(),
    "out_volume": pl.Float64(),
    "out_volume_usd": pl.Float64(),
    "_out_sq": pl.Float64(),
    "out_amount_max": pl.Float64(),
    "out_amount_min": pl.Float64(),
    "structuring_count": pl.Int64(),
    "self_transfer_count": pl.Int64(),
    "in_count": pl.Int64(),
    "in_volume": pl.Float64(),
    "in_volume_usd": pl.Float64(),
    "_in_sq": pl.Float64(),
    "in_amount_max": pl.Float64(),
    "in_amount_min": pl.Float64(),
}
DAY_PAIRS = {"date": pl.Date(), "from_address": pl.String(), "to_address": pl.String()}
TEMPORAL_SUMS = {
    "id": pl.UInt32(),
    "first_seen": TIMESTAMP,
    "last_seen": TIMESTAMP,
    "active_days": pl.Int32(),
    "total_count": pl.Int64(),
    "max_daily_count": pl.Int64(),
    "_c2": pl.Float64(),
    "_clogc": pl.Float64(),
    "_weekend": pl.Float64(),
    "_gaps": pl.Int64(),
    "_gap_sum": pl.Float64(),
    "_gap_sq": pl.Float64(),
    "interarrival_min_s": pl.Float64(),
    "hours": pl.Int64(),
}


WINDOW_TABLES = ("daily_edges", "address_activity")
"""The daily pieces a window is reduced from."""


@dataclass(frozen=True)
class StagedDays:
    """Days of ``table`` older than ``horizon`` (past the warehouse's retention, read from the
    lake) loaded into the scratch table ``scratch``; the table itself serves the rest."""

    table: str
    scratch: str
    horizon: date


@dataclass(frozen=True)
class WarehouseWindow:
    """One network's window in the warehouse: ``database``'s daily pieces from ``first`` to
    ``last`` (inclusive); with ``cluster``, read through the ``Distributed`` tables."""

    database: str
    first: date
    last: date
    cluster: str = ""
    spill: SpillSettings = SpillSettings()
    staged: tuple[StagedDays, ...] = ()

    def __post_init__(self) -> None:
        validate_identifier(self.database, "database")
        if self.last < self.first:
            raise ValueError(f"window: last day {self.last} is before first day {self.first}")

    def table(self, name: str) -> str:
        """What the statements read for the daily table ``name``: the table (its
        ``Distributed`` twin on a cluster), joined by the days staged from the lake."""
        source = f"`{self.database}`.`{self.stored(name)}`"
        for staged in self.staged:
            if staged.table == name:
                horizon = staged.horizon.isoformat()  # a date's own formatting: no user text
                return (
                    f"(SELECT * FROM {source} WHERE `date` >= '{horizon}' "
                    f"UNION ALL SELECT * FROM {staged.scratch})"
                )
        return source

    def stored(self, name: str) -> str:
        """The table the daily table ``name`` is read from: itself, or its ``Distributed``
        twin on a cluster."""
        suffix = DISTRIBUTED_SUFFIX if self.cluster else ""
        return f"{validate_identifier(name, 'table')}{suffix}"

    @property
    def parameters(self) -> dict[str, date]:
        return {"first": self.first, "last": self.last}


_IN_WINDOW = "`date` BETWEEN {first:Date} AND {last:Date}"
Read = TypeVar("Read")
PURGE_BETWEEN_ADDRESSES = 250_000


@dataclass(frozen=True)
class WindowPieces:
    """A window reduced: what ``domain.features.features_from_pieces`` takes."""

    names: pl.DataFrame
    flows: pl.DataFrame
    volume: pl.DataFrame
    temporal: pl.DataFrame


@dataclass(frozen=True)
class AddressRange:
    """The addresses with ids ``first_id`` to ``stop_id - 1``: from ``low`` (inclusive) to
    ``high`` (exclusive), each None where the range reaches the end. Ids are ranks in sorted
    order, so an id range is an address range: the statements filter the stored rows on it
    (the daily tables are sorted by address, so the filter also skips their granules)."""

    first_id: int
    stop_id: int
    low: str | None = None
    high: str | None = None

    @property
    def bounded(self) -> bool:
        """Whether the range leaves out any address (a lone range does not)."""
        return self.low is not None or self.high is not None

    def where(self, column: str) -> str:
        """The range as a condition on the address column ``column`` (parameterised)."""
        column = f"`{validate_identifier(column, 'column')}`"
        bounds = [f"{column} >= {{low:String}}"] if self.low is not None else []
        bounds += [f"{column} < {{high:String}}"] if self.high is not None else []
        return " AND ".join(bounds) or "1"

    def ids(self, column: str = "id") -> str:
        """The range as a condition on an id column."""
        if not self.bounded:
            return "1"
        column = f"`{validate_identifier(column, 'column')}`"
        return f"{column} >= {{first_id:UInt32}} AND {column} < {{stop_id:UInt32}}"

    @property
    def parameters(self) -> dict[str, Any]:
        """The query parameters of :meth:`where` and :meth:`ids`."""
        if not self.bounded:
            return {}
        bounds = {"low": self.low, "high": self.high}
        ids = {"first_id": self.first_id, "stop_id": self.stop_id}
        return {**ids, **{k: v for k, v in bounds.items() if v is not None}}


EVERY_ADDRESS = AddressRange(0, 0)
"""No bound: a statement over every address of the window (ids unchecked)."""


@dataclass(frozen=True)
class AddressKey:
    """What the statements match and group addresses on: a 64-bit hash of the address
    (``cityHash64``) when the window's addresses have distinct hashes (:func:`address_key`),
    else the string itself.

    The same rows either way, as every edge's and every active address is one of the window's
    addresses (``daily_edges`` and ``address_activity`` aggregate the same transfers; an active
    address outside them would be dropped either way, unless its hash were one of theirs), but a
    UInt64 key is hashed and compared in one step where a string is hashed, copied and
    compared: at 10M transfers the flows took 2.1 s against 3.7 s on 2 cores, the volume sums
    10.3 s against 13.0 s and the temporal sums 7.6 s against 9.8 s on one thread
    (``docs/benchmarks.md``)."""

    hashed: bool

    def of(self, column: str) -> str:
        """The key of the address column ``column``."""
        return f"cityHash64({column})" if self.hashed else column

    @property
    def column(self) -> str:
        """The ids table's column holding each address's key."""
        return "h" if self.hashed else "address"


BY_ADDRESS = AddressKey(hashed=False)
"""Matching the address strings: exact whatever the hashes."""
BY_HASH = AddressKey(hashed=True)
"""Matching the addresses' hashes: exact where the window's addresses have distinct ones."""


def address_ranges(names: pl.DataFrame, per_pass: int) -> list[AddressRange]:
    """``names`` (``id``, ``address`` in id order) cut into ranges of at most ``per_pass``
    addresses; one unbounded range when they fit one pass."""
    n = names.height
    if n <= per_pass:
        return [AddressRange(0, n)]
    starts = list(range(0, n, per_pass))
    addresses = names["address"]
    return [
        AddressRange(
            start,
            min(start + per_pass, n),
            addresses[start] if start else None,
            addresses[start + per_pass] if start + per_pass < n else None,
        )
        for start in starts
    ]


@dataclass
class FlowsReduced:
    """A window reduced as far as its flows: ``names`` (ids in sorted order) and ``flows``
    (handed over by :meth:`take_flows`); ``sums()`` reads the per-address volume and temporal
    sums, once, inside the block of :func:`reducing_window` (its scratch ids table lives until
    the block ends)."""

    names: pl.DataFrame
    flows: pl.DataFrame | None
    sums: Callable[..., tuple[pl.DataFrame, pl.DataFrame]]
    """``sums(beside_graph=False)``; ``beside_graph``: the graph algorithms run meanwhile, so
    embedded chDB keeps to half the cores (:func:`_sharing_cores`)."""

    def take_flows(self) -> pl.DataFrame:
        """The flows, kept no longer here (whoever takes them can release them)."""
        flows, self.flows = self.flows, None
        if flows is None:
            raise ValueError("the window's flows were already taken")
        return flows


def reduce_window(
    client: Any,
    window: WarehouseWindow,
    timer: StageTimer | None = None,
    *,
    in_process: bool = False,
) -> WindowPieces:
    """The window's ids, flows and per-address sums, read one after the other
    (:func:`reducing_window`)."""
    with reducing_window(client, window, timer, in_process=in_process) as reduced:
        volume, temporal = reduced.sums()
        return WindowPieces(reduced.names, reduced.take_flows(), volume, temporal)


@contextmanager
def reducing_window(
    client: Any,
    window: WarehouseWindow,
    timer: StageTimer | None = None,
    *,
    in_process: bool = False,
) -> Iterator[FlowsReduced]:
    """The window's ids and flows, and its per-address sums when asked within the block
    (timed as the stages ``encode``, ``flows`` and ``address_sums`` of ``timer``): a caller
    may start the graph algorithms on the flows while the warehouse computes the sums.

    ``in_process``: the warehouse is embedded chDB, whose allocator (jemalloc) keeps the pages
    a statement freed; they are handed back to the OS at the end, or the step would carry the
    statements' peak into its graph work (2.6 GiB of 3.9 at 10M transfers). In a window of
    :data:`PURGE_BETWEEN_ADDRESSES` addresses or more they are handed back after each
    statement too (so the peak is the largest statement's, not their sum); below, the next
    statement's page faults would cost more than the memory is worth (a 30-day demo window:
    0.52 s instead of 0.32).

    The flows and the sums run in passes over ranges of ``window.spill.addresses_per_pass``
    addresses (:func:`address_ranges`); each range's rows come back in id order.
    """
    stage = timer.stage if timer is not None else lambda _: nullcontext()
    between = False

    def release(last: bool = False) -> None:
        if in_process and (last or between):
            client.command("SYSTEM JEMALLOC PURGE")

    def in_passes(read: Callable[[AddressRange], Read]) -> list[Read]:
        parts = []
        for part in ranges:
            parts.append(read(part))
            release()
        return parts

    with ExitStack() as scratch:
        with stage("encode"):
            names_table = scratch.enter_context(numbered_addresses(client, window))
            names = read_names(client, window, names_table)
            key = address_key(client, window, names_table)
        if names.height == 0:
            empty = [pl.DataFrame(schema=schema) for schema in (FLOWS, VOLUME_SUMS, TEMPORAL_SUMS)]
            yield FlowsReduced(names, empty[0], lambda: (empty[1], empty[2]))
            return
        between = names.height >= PURGE_BETWEEN_ADDRESSES
        ranges = address_ranges(names, window.spill.addresses_per_pass)
        release()
        with stage("flows"):
            flows = _stacked(in_passes(lambda r: read_flows(client, window, names_table, r, key)))

        def sums(beside_graph: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
            w = _sharing_cores(window) if in_process and beside_graph else window
            with stage("address_sums"):
                parts = in_passes(lambda r: read_address_sums(client, w, names_table, r, key))
            release(last=True)
            return _stacked([v for v, _ in parts]), _stacked([t for _, t in parts])

        reduced = FlowsReduced(names, flows, sums)
        del flows  # the block keeps no reference once they are taken
        yield reduced


def _stacked(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The passes' rows, one range after the other."""
    return parts[0] if len(parts) == 1 else pl.concat(parts, rechunk=False)


def _sharing_cores(window: WarehouseWindow) -> WarehouseWindow:
    """``window`` with its statements on half the cores (at least one) unless its settings
    name a thread count: embedded chDB shares the process's cores with the graph algorithms
    running beside it. On 2 cores, 10M transfers, the window took 75.1 s, against 98.1 s with
    both threads (one run each; ``docs/benchmarks.md``)."""
    if window.spill.threads:
        return window
    threads = max(1, (os.cpu_count() or 2) // 2)
    return replace(window, spill=replace(window.spill, threads=threads))


@contextmanager
def staged_days(
    client: Any, database: str, table: str, rows: pl.DataFrame, horizon: date
) -> Iterator[StagedDays]:
    """``rows`` (days of ``table`` before ``horizon``, read from the lake) in a scratch twin of
    the table for the length of the block."""
    validate_identifier(database, "database")
    scratch = create_staging(client, database, table)
    qualified = f"`{database}`.`{scratch}`"
    try:
        # Not more than ClickHouse's 100 partitions per insert block: one day at a time.
        for _, day_rows in rows.group_by("date", maintain_order=True):
            client.insert_arrow(f"{database}.{scratch}", day_rows.to_arrow())
        yield StagedDays(table, qualified, horizon)
    finally:
        client.command(f"DROP TABLE IF EXISTS {qualified}")


def read_day_pairs(client: Any, window: WarehouseWindow) -> pl.DataFrame:
    """``date``, ``from_address``, ``to_address`` of the window's edges (for checks)."""
    sql = (
        f"SELECT `date`, from_address, to_address FROM {window.table('daily_edges')} "
        f"WHERE {_IN_WINDOW}"
    )
    return _query(client, window, sql, DAY_PAIRS)


def missing_tables(client: Any, window: WarehouseWindow) -> list[str]:
    """The daily tables the window reads that the warehouse does not have yet."""
    return [t for t in WINDOW_TABLES if not table_exists(client, window.database, window.stored(t))]


@contextmanager
def numbered_addresses(client: Any, window: WarehouseWindow) -> Iterator[str]:
    """A scratch table of the window's addresses, their ids (rank in sorted order, as the
    polars path numbers them) and their keys' hashes (``h``, :class:`AddressKey`), dropped on
    exit; yields its qualified name."""
    scratch = f"`{window.database}`.`window_names_{uuid.uuid4().hex}`"
    edges = window.table("daily_edges")
    client.command(f"CREATE TABLE {scratch} (address String, id UInt32, h UInt64) ENGINE = Memory")
    try:
        client.command(
            f"INSERT INTO {scratch} SELECT address, "
            f"toUInt32(row_number() OVER (ORDER BY address) - 1), {BY_HASH.of('address')} FROM ("
            f"SELECT DISTINCT address FROM ("
            f"SELECT from_address AS address FROM {edges} WHERE {_IN_WINDOW} "
            f"UNION ALL SELECT to_address AS address FROM {edges} WHERE {_IN_WINDOW}))",
            parameters=window.parameters,
            settings=window.spill.settings(),
        )
        yield scratch
    finally:
        client.command(f"DROP TABLE IF EXISTS {scratch}")


def address_key(client: Any, window: WarehouseWindow, names: str) -> AddressKey:
    """The hashed key where the ids table ``names`` holds no two addresses of one hash (at a
    billion addresses about a 3 % chance that two share one), else the strings."""
    shared = client.query(
        f"SELECT sum(n) FROM (SELECT count() AS n FROM {names} GROUP BY h HAVING n > 1)"
    ).result_rows[0][0]
    if shared:
        log.warning(
            "window %s..%s: %d addresses share their 64-bit hash with another; matching the "
            "address strings (exact, slower)", window.first, window.last, shared,
        )  # fmt: skip
    return BY_ADDRESS if shared else BY_HASH


def read_names(client: Any, window: WarehouseWindow, names: str) -> pl.DataFrame:
    """``id``, ``address`` of every address in the window's edges, in id order."""
    return _query(client, window, f"SELECT id, address FROM {names} ORDER BY id", NAMES)


def read_flows(
    client: Any,
    window: WarehouseWindow,
    names: str,
    senders: AddressRange | None = None,
    key: AddressKey = BY_ADDRESS,
) -> pl.DataFrame:
    """One row per ordered pair of distinct addresses: transfers, volume (summed as exact
    decimals, converted once), USD volume (null as soon as one edge had no price), first and
    last day; sorted by ids. ``senders``: only the pairs sent from this range; ``key``: what
    the edges' addresses are matched to the ids table ``names`` on.

    The edges are numbered before they are grouped: a GROUP BY on two UInt32 ids holds a
    fraction of one on two address strings (at 30M transfers the process's peak during the
    statement fell from 6.8 to 4.3 GiB; ``docs/benchmarks.md``).
    """
    senders = senders or EVERY_ADDRESS
    edges = f"""(
        SELECT from_address, to_address, transfer_count, amount_sum, amount_usd, `date`
        FROM {window.table("daily_edges")}
        WHERE {_IN_WINDOW} AND from_address != to_address AND {senders.where("from_address")}
    )"""
    sql = f"""
        SELECT s, d, sum(transfer_count) AS count,
               toFloat64(sum(amount_sum)) AS volume,
               {_usd_sum("amount_usd")} AS volume_usd,
               min(`date`) AS first_day, max(`date`) AS last_day
        FROM (
            SELECT ns.id AS s, nd.id AS d, e.transfer_count AS transfer_count,
                   e.amount_sum AS amount_sum, e.amount_usd AS amount_usd, e.`date` AS `date`
            FROM {edges} AS e
            INNER JOIN (SELECT id, {key.column} FROM {names} WHERE {senders.ids()}) AS ns
                ON {key.of("e.from_address")} = ns.{key.column}
            INNER JOIN {names} AS nd ON {key.of("e.to_address")} = nd.{key.column}
        )
        GROUP BY s, d
        ORDER BY s, d
    """
    return _query(client, window, sql, FLOWS, senders.parameters)


def read_address_sums(
    client: Any,
    window: WarehouseWindow,
    names: str,
    addresses: AddressRange,
    key: AddressKey = BY_ADDRESS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per address of the range ``addresses``: the volume sums (every address of the window's
    edges, :func:`_volume_sums_sql`) and the temporal sums (the active ones,
    :func:`_temporal_sums_sql`), each in id order (numbered by the ids table ``names``, on
    ``key``).

    One statement, so one return into Python: beside the graph algorithms that matters, as
    python-igraph holds the GIL through each of its calls and a statement that ends during
    Leiden waits for it to end. Read as two statements, the second only started once Leiden
    was done (2 cores, 10M transfers: the sums 36.7 s beside the graph, of which 21.8 s for a
    statement that takes 9-10 s alone; ``docs/benchmarks.md``)."""
    volume_columns = [c for c in VOLUME_SUMS if c != "id"]
    temporal_columns = [c for c in TEMPORAL_SUMS if c != "id"]
    sql = f"""
        SELECT n.id AS id, {", ".join(f"v.`{c}`" for c in volume_columns)},
               {", ".join(f"t.`{c}` AS `t.{c}`" for c in temporal_columns)}
        FROM ({_volume_sums_sql(window, addresses, key)}) AS v
        INNER JOIN (SELECT id, {key.column} FROM {names} WHERE {addresses.ids()}) AS n
            ON n.{key.column} = v.key
        LEFT JOIN ({_temporal_sums_sql(window, addresses, key)}) AS t ON t.key = v.key
        ORDER BY id
    """
    schema = {
        "id": pl.UInt32(),
        **{c: VOLUME_SUMS[c] for c in volume_columns},
        **{f"t.{c}": TEMPORAL_SUMS[c] for c in temporal_columns},
    }
    sums = _query(client, window, sql, schema, addresses.parameters)
    ids = pl.int_range(addresses.first_id, addresses.stop_id, dtype=pl.UInt32, eager=True)
    if not sums["id"].equals(ids):  # a programming error, not bad data
        raise RuntimeError(
            f"window sums: {sums.height} addresses, the ids range has {ids.len()} "
            f"({addresses.first_id}..{addresses.stop_id - 1})"
        )
    volume = sums.select("id", *volume_columns)
    temporal = sums.filter(pl.col("t.active_days").is_not_null()).select(
        "id", *(pl.col(f"t.{c}").alias(c) for c in temporal_columns)
    )
    return volume, temporal


def _volume_sums_sql(window: WarehouseWindow, addresses: AddressRange, key: AddressKey) -> str:
    """Per address of the range ``addresses`` (its ``key``), what ``_volume_features``
    computes: one row per address of the window's edges.

    Each edge is read once and seen from both ends (``ARRAY JOIN``; ``is_out``: from its
    sender), and one GROUP BY computes both sides: a GROUP BY per side and one for both ends,
    joined, read the edges three times (10.8-11.6 s against 10.0 at 10M transfers on 2 cores).
    Two GROUP BYs, per (address, side, asset) and then per address, were faster at 10M
    transfers on one thread (13.0-13.9 s against 15.7-17.4) but not at 30M on both: 71.4 s and
    11.3 GiB against 38.7 s and 8.7 GiB."""
    in_range = f"({addresses.where('from_address')} OR {addresses.where('to_address')})"
    ends = f"""
        SELECT {key.of("address")} AS key, is_out, from_address = to_address AS is_self, asset,
               transfer_count,
               amount_sum, amount_usd, amount_sq_sum, amount_max,
               amount_min, round_count, structuring_count
        FROM (
            SELECT from_address, to_address, asset, transfer_count, amount_sum, amount_usd,
                   amount_sq_sum, amount_max, amount_min, round_count, structuring_count
            FROM {window.table("daily_edges")} WHERE {_IN_WINDOW} AND {in_range}
        )
        ARRAY JOIN [from_address, to_address] AS address, [1, 0] AS is_out
        WHERE {addresses.where("address")}
    """

    def side(is_out: int, prefix: str) -> list[str]:
        """One side's sums: null for an address without an edge on that side (as the left
        join of the polars plan leaves it)."""
        on = f"is_out = {is_out}"

        def some(expr: str) -> str:
            return f"if(countIf({on}) > 0, {expr}, NULL)"

        usd = f"if(countIf(amount_usd, {on}) = countIf({on}), {_exact_sum('amount_usd', on)}, NULL)"
        columns = [
            some(f"sumIf(transfer_count, {on})") + f" AS {prefix}_count",
            some(_exact_sum("toFloat64(amount_sum)", on)) + f" AS {prefix}_volume",
            some(usd) + f" AS {prefix}_volume_usd",
            some(_exact_sum("amount_sq_sum", on)) + f" AS `_{prefix}_sq`",
            some(f"maxIf(amount_max, {on})") + f" AS {prefix}_amount_max",
            some(f"minIf(amount_min, {on})") + f" AS {prefix}_amount_min",
        ]
        if is_out:
            columns += [
                some(f"sumIf(structuring_count, {on})") + " AS structuring_count",
                some(f"sumIf(transfer_count, {on} AND is_self)") + " AS self_transfer_count",
            ]
        return columns

    # The assets counted as their numbers in the window's list of assets: ``uniqExact`` of
    # the strings hashes each row's with SipHash128, a third of the statement (17.0-18.0 s
    # against 12.0 s at 10M transfers on one thread; ``docs/benchmarks.md``). ``transform``
    # looks the number up in a hash table built once; exact, unlike a 64-bit hash of each.
    assets = f"(SELECT groupUniqArray(asset) FROM {window.table('daily_edges')} WHERE {_IN_WINDOW})"
    return f"""
        WITH {assets} AS assets
        SELECT key,
               -- both ends of every edge, a self-edge once
               uniqExact(transform(asset, assets, arrayEnumerate(assets), 0)) AS asset_count,
               sumIf(round_count, is_out = 1 OR NOT is_self) AS round_amount_count,
               {", ".join(side(1, "out") + side(0, "in"))}
        FROM ({ends})
        GROUP BY key
    """


def _temporal_sums_sql(window: WarehouseWindow, addresses: AddressRange, key: AddressKey) -> str:
    """Per active address of the range ``addresses`` (its ``key``), what ``_temporal_sums``
    computes; the 24 hour bits as one mask (``hours``: the OR of the daily masks)."""
    # The gaps between an address's active days need the days in order: each address's
    # first and last times gathered and sorted in its own group, so one GROUP BY computes every
    # sum (a window function over every row sorted by address and day, then a join: 14.3 s
    # against 9.1 at 10M transfers on 2 cores). A day's times lie within its date (the
    # quality checks hold ``date`` to ``block_time``), so the days never overlap and the firsts
    # and the lasts sorted apart pair up day by day: two plain Int64 sorts instead of one of
    # (day, first, last) tuples by a lambda (8.8-10.7 s against 13.7-14.7 s at 10M transfers
    # on one thread, the same bits).
    activity = (
        f"(SELECT * EXCEPT address, {key.of('address')} AS key "
        f"FROM {window.table('address_activity')} "
        f"WHERE {_IN_WINDOW} AND {addresses.where('address')})"
    )
    return f"""
        SELECT key, first_seen, last_seen, active_days, total_count, max_daily_count,
               `_c2`, `_clogc`, `_weekend`,
               day_gaps + length(gaps) AS `_gaps`,
               day_gap_sum + arraySum(gaps) AS `_gap_sum`,
               day_gap_sq + arraySum(g -> g * g, gaps) AS `_gap_sq`,
               least(day_gap_min, if(empty(gaps), NULL, arrayMin(gaps))) AS interarrival_min_s,
               hours
        FROM (
            SELECT key, first_seen, last_seen, active_days, total_count, max_daily_count,
                   `_c2`, `_clogc`, `_weekend`, day_gaps, day_gap_sum, day_gap_sq, day_gap_min,
                   hours,
                   -- the gap since the previous active day: its first minus that day's last
                   arrayMap((f, l) -> (f - l) / 1000.0,
                            arrayPopFront(firsts), arrayPopBack(lasts)) AS gaps
            FROM (
                SELECT key,
                       min(first_time) AS first_seen, max(last_time) AS last_seen,
                       toInt32(count()) AS active_days,
                       sum(event_count) AS total_count, max(event_count) AS max_daily_count,
                       sum(toFloat64(event_count) * event_count) AS `_c2`,
                       {_exact_sum("event_count * log(event_count)")} AS `_clogc`,
                       sumIf(toFloat64(event_count), toDayOfWeek(`date`) >= 6) AS `_weekend`,
                       sum(gap_count) AS day_gaps, {_exact_sum("gap_sum_s")} AS day_gap_sum,
                       {_exact_sum("gap_sq_sum_s")} AS day_gap_sq, min(gap_min_s) AS day_gap_min,
                       groupBitOr(hour_mask) AS hours,
                       arraySort(groupArray(toUnixTimestamp64Milli(first_time))) AS firsts,
                       arraySort(groupArray(toUnixTimestamp64Milli(last_time))) AS lasts
                FROM {activity}
                GROUP BY key
            )
        )
    """


def _usd_sum(column: str) -> str:
    """The sum of ``column``, null as soon as one row has none (never a partial sum)."""
    return f"if(count({column}) = count(), {_exact_sum(column)}, NULL)"


EXACT_BITS = 64
"""Binary places a Float64 keeps in :func:`_exact_sum`: every value from 2^-12 up is kept
whole, smaller ones to 2^-64 (5e-20); up to 3e57 fits."""


def _exact_sum(expr: str, condition: str = "") -> str:
    """``sum(expr)`` (``sumIf`` under ``condition``) of a Float64 that does not depend on the
    order of the rows. ClickHouse sums each thread's blocks apart and adds the partial sums
    as the threads finish, and which rows share a block changes with the parts a table
    holds; float addition is not associative, so a day's features differed in their last bits
    from one run to the next (a 10M-transfer window). Each value times 2^64 (exact: a power
    of two) is summed as an Int256, exactly, and scaled back; a single value comes back
    unchanged. (A Decimal does not do: ClickHouse converts a Float64 to it through a rounded
    product, and one in seven values did not come back.)"""
    scale = f"{float(2**EXACT_BITS)!r}"
    value = f"toInt256(({expr}) * {scale})"
    total = f"sumIf({value}, {condition})" if condition else f"sum({value})"
    return f"(toFloat64({total}) / {scale})"


def _query(
    client: Any, window: WarehouseWindow, sql: str, schema: dict, parameters: dict | None = None
) -> pl.DataFrame:
    parameters = {**window.parameters, **(parameters or {})}
    frame = query_frame(client, sql, parameters, settings=window.spill.settings())
    if frame.width == 0:  # no rows: clickhouse-connect may return no columns
        return pl.DataFrame(schema=schema)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
