"""IO managers: the ClickHouse warehouse (on Dagster's ``DbIOManager``), the Parquet lake (on
``UPathIOManager``) and the default one that writes both and reads from the warehouse.

Why not the published ``dagster-clickhouse*`` packages: they use the native-protocol
``clickhouse_driver``, which cannot reach embedded chDB, create tables without ``PARTITION BY``,
insert row by row and replace partitions with ``DELETE`` mutations. This one speaks
clickhouse-connect (chDB or HTTP server), inserts Arrow, and swaps whole day partitions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import dagster as dg
import polars as pl
from dagster._core.storage.db_io_manager import DbClient, DbIOManager, DbTypeHandler, TableSlice
from dagster._core.storage.upath_io_manager import UPathIOManager
from upath import UPath

from analytics_platform.domain.windows import days_from
from analytics_platform.lib.resources import ClickHouseResource, LakeResource
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import lake
from analytics_platform.storage.retention import split_at_horizon, today_utc, warehouse_horizon
from analytics_platform.storage.tables import spec


def _slice_days(table_slice: TableSlice) -> tuple[date, date] | None:
    """First and last day (inclusive) of a time-window table slice, or None when unpartitioned."""
    if not table_slice.partition_dimensions:
        return None
    window = table_slice.partition_dimensions[0].partitions
    if not isinstance(window, dg.TimeWindow):
        raise TypeError(f"partitions: expected a daily time window, got {window!r}")
    return window.start.date(), (window.end - timedelta(days=1)).date()


class ClickHouseDbClient(DbClient):
    """``DbClient`` over clickhouse-connect; one short, locked session per load or store.

    ``retention`` (``{database: {table: days}}``, a network's ``warehouse_retention``) becomes
    each day-partitioned table's TTL when it is next written (removed when no longer set)."""

    def __init__(
        self, target: ch.ClickHouseTarget, retention: Mapping[str, Mapping[str, int]] | None = None
    ):
        self.target = target
        self.retention = retention or {}

    @contextmanager
    def connect(self, context, table_slice: TableSlice) -> Iterator[Any]:  # type: ignore[override]
        with ch.session(self.target) as client:
            yield client

    def ensure_schema_exists(self, context, table_slice: TableSlice, connection) -> None:  # type: ignore[override]
        # Called before every write: one cheap lookup instead of re-running the DDL (on a
        # cluster each `ON CLUSTER` statement is a distributed-DDL task); a table from an
        # earlier release gets the columns added since.
        cluster, database = self.target.cluster, table_slice.schema
        table = spec(table_slice.table)
        if ch.table_exists(connection, database, table_slice.table):
            ch.add_missing_columns(
                connection, database, table.name, table.schema, table.nullable, cluster
            )
        else:
            ch.ensure_table(connection, database, table.ddl(database, cluster), cluster=cluster)
        if table.partitioned and table.partition_column == "date":
            days = self.retention.get(database, {}).get(table.name)
            ch.set_day_ttl(connection, database, table.name, days, cluster=cluster)

    def delete_table_slice(self, context, table_slice: TableSlice, connection) -> None:  # type: ignore[override]
        # Deliberately nothing: the type handler swaps the slice's day partitions atomically
        # (REPLACE PARTITION from a staging table), so there is never a moment without data.
        return None

    def get_select_statement(self, table_slice: TableSlice) -> str:  # type: ignore[override]
        sql = f"SELECT * FROM `{table_slice.schema}`.`{table_slice.table}`"
        days = _slice_days(table_slice)
        if days:
            sql += f" WHERE date >= '{days[0].isoformat()}' AND date <= '{days[1].isoformat()}'"
        return sql

    def get_table_name(self, table_slice: TableSlice) -> str:  # type: ignore[override]
        return f"{table_slice.schema}.{table_slice.table}"


class PolarsClickHouseTypeHandler(DbTypeHandler[pl.DataFrame | pl.LazyFrame]):
    """Stores polars frames, eager or lazy (a ``LazyFrame`` is inserted a batch at a time:
    outputs larger than memory, spilled by their step); loads ``DataFrame``s. Day slices are
    replaced whole."""

    def __init__(self, target: ch.ClickHouseTarget):
        self.target = target

    def handle_output(  # type: ignore[override]
        self, context, table_slice: TableSlice, obj: pl.DataFrame | pl.LazyFrame, connection
    ):
        days = _slice_days(table_slice)
        db, table = table_slice.schema, table_slice.table
        if days is None:  # an unpartitioned table: small, whole
            rows = ch.replace_table(connection, db, table, _eager(obj))
        else:
            rows = ch.replace_day_partitions(connection, db, table, obj, days_from(*days))
        return {
            "dagster/row_count": rows,
            "warehouse_table": dg.MetadataValue.text(f"{db}.{table}"),
            "warehouse": dg.MetadataValue.text(self.target.describe()),
        }

    def load_input(self, context, table_slice: TableSlice, connection) -> pl.DataFrame:  # type: ignore[override]
        first, last = _slice_days(table_slice) or (None, None)
        return ch.read_days(
            connection,
            table_slice.schema,
            table_slice.table,
            first,
            last,
            schema=spec(table_slice.table).schema,
            cluster=self.target.cluster,
        )

    @property
    def supported_types(self) -> Sequence[type[object]]:
        return (pl.DataFrame, pl.LazyFrame)


def _eager(obj: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return obj.collect() if isinstance(obj, pl.LazyFrame) else obj


def clickhouse_io_manager(
    target: ch.ClickHouseTarget, retention: Mapping[str, Mapping[str, int]] | None = None
) -> DbIOManager:
    return DbIOManager(
        type_handlers=[PolarsClickHouseTypeHandler(target)],
        db_client=ClickHouseDbClient(target, retention),
        database="",
        io_manager_name="ClickHouseIOManager",
        default_load_type=pl.DataFrame,
    )


class LakeIOManager(UPathIOManager):
    """Hive-style Parquet lake: ``<table>/network=<net>/date=<day>/part-0.parquet``.

    Extends ``UPathIOManager`` for outputs that span several day partitions (single-run
    backfills): the frame is split on its ``date`` column and every day is written atomically.
    """

    extension = ".parquet"

    def _location(self, context) -> tuple[str, str]:
        path = context.asset_key.path
        return path[-1], path[-2]

    def dump_to_path(self, context, obj: pl.DataFrame, path: UPath) -> None:
        lake.write_atomic(obj, path)

    def load_from_path(self, context, path: UPath) -> pl.DataFrame:
        return lake.read_file(path)

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | pl.LazyFrame) -> None:
        table, network = self._location(context)
        if not context.has_asset_partitions:
            path = lake.partition_file(self._base_path, table, network, None)
            lake.write_atomic(obj, path)
        else:
            window = context.asset_partitions_time_window
            days = days_from(window.start.date(), (window.end - timedelta(days=1)).date())
            for day, part in _by_day(obj, days):
                lake.write_atomic(part, lake.partition_file(self._base_path, table, network, day))
            path = lake.table_dir(self._base_path, table, network)
        context.add_output_metadata({"lake_path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        table, network = self._location(context)
        if not context.has_asset_partitions:
            return lake.read_file(lake.partition_file(self._base_path, table, network, None))
        return self.read_days(
            table, network, [date.fromisoformat(k) for k in context.asset_partition_keys]
        )

    def read_days(self, table: str, network: str, days: Sequence[date]) -> pl.DataFrame:
        """The rows of ``days`` (a day never written reads as no rows)."""
        return lake.read_days(self._base_path, table, network, days)


def _by_day(
    obj: pl.DataFrame | pl.LazyFrame, days: Sequence[date]
) -> Iterator[tuple[date, pl.DataFrame | pl.LazyFrame]]:
    """Each day's rows (none for a day without any); a ``LazyFrame``'s stay lazy, for
    :func:`lake.write_atomic` to stream."""
    if isinstance(obj, pl.LazyFrame):
        for day in days:
            yield day, obj.filter(pl.col("date") == day)
        return
    by_day = {k[0]: g for k, g in obj.partition_by("date", as_dict=True).items()}
    for day in days:
        yield day, by_day.get(day, obj.clear())


class WarehouseLakeIOManager(dg.ConfigurableIOManagerFactory):
    """Default IO manager: every output goes to ClickHouse and to the Parquet lake; inputs are
    read from ClickHouse (``read_from='lake'`` reads the lake instead), except days past a
    table's ``warehouse_retention`` (``{network: {table: days}}``), read from the lake."""

    clickhouse: ClickHouseResource
    lake: LakeResource
    read_from: str = "warehouse"
    warehouse_retention: dict[str, dict[str, int]] = {}

    def create_io_manager(self, context) -> dg.IOManager:
        target = self.clickhouse.target()
        return _TeeIOManager(
            warehouse=clickhouse_io_manager(target, self.warehouse_retention),
            lake=LakeIOManager(self.lake.root()),
            read_from=self.read_from,
            target=target,
            retention=self.warehouse_retention,
        )


class _TeeIOManager(dg.IOManager):
    def __init__(
        self,
        warehouse: dg.IOManager,
        lake: LakeIOManager,
        read_from: str,
        target: ch.ClickHouseTarget,
        retention: Mapping[str, Mapping[str, int]],
    ):
        if read_from not in ("warehouse", "lake"):
            raise ValueError(f"read_from: expected 'warehouse' or 'lake', got {read_from!r}")
        self.warehouse, self.lake, self.read_from = warehouse, lake, read_from
        self.target, self.retention = target, retention

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | pl.LazyFrame) -> None:
        self.warehouse.handle_output(context, obj)
        self.lake.handle_output(context, obj)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        if self.read_from == "lake":
            return self.lake.load_input(context)
        network, table = context.asset_key.path[-2:]
        days = self.retention.get(network, {}).get(table)
        if days is None or not context.has_asset_partitions:
            return self.warehouse.load_input(context)
        window = context.asset_partitions_time_window
        first, last = window.start.date(), (window.end - timedelta(days=1)).date()
        from_lake, from_warehouse = split_at_horizon(
            first, last, warehouse_horizon(days, today_utc())
        )
        frames = []
        if from_lake:
            frames.append(self.lake.read_days(table, network, days_from(*from_lake)))
            context.log.info(
                f"{network}.{table} {from_lake[0]}..{from_lake[1]}: past the warehouse's "
                f"{days}-day retention, read from the lake"
            )
        if from_warehouse:
            with ch.session(self.target) as client:
                frames.append(
                    ch.read_days(
                        client,
                        network,
                        table,
                        *from_warehouse,
                        schema=spec(table).schema,
                        cluster=self.target.cluster,
                    )  # fmt: skip
                )
        return pl.concat(frames, how="vertical_relaxed")
