"""IO managers: the ClickHouse warehouse (on Dagster's ``DbIOManager``), the Parquet lake (on
``UPathIOManager``) and the default one that writes both and reads from the warehouse.

Why not the published ``dagster-clickhouse*`` packages: they use the native-protocol
``clickhouse_driver``, which cannot reach embedded chDB, create tables without ``PARTITION BY``,
insert row by row and replace partitions with ``DELETE`` mutations. This one speaks
clickhouse-connect (chDB or HTTP server), inserts Arrow, and swaps whole day partitions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import dagster as dg
import polars as pl
from dagster._core.storage.db_io_manager import DbClient, DbIOManager, DbTypeHandler, TableSlice
from dagster._core.storage.upath_io_manager import UPathIOManager
from upath import UPath

from analytics_platform.defs.resources import ClickHouseResource, LakeResource
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import lake
from analytics_platform.storage.tables import spec


def _slice_days(table_slice: TableSlice) -> tuple[date, date] | None:
    """First and last day (inclusive) of a time-window table slice, or None when unpartitioned."""
    if not table_slice.partition_dimensions:
        return None
    window = table_slice.partition_dimensions[0].partitions
    if not isinstance(window, dg.TimeWindow):
        raise TypeError(f"partitions: expected a daily time window, got {window!r}")
    return window.start.date(), (window.end - timedelta(days=1)).date()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class ClickHouseDbClient(DbClient):
    """``DbClient`` over clickhouse-connect; one short, locked session per load or store."""

    def __init__(self, target: ch.ClickHouseTarget):
        self.target = target

    @contextmanager
    def connect(self, context, table_slice: TableSlice) -> Iterator[Any]:  # type: ignore[override]
        with ch.session(self.target) as client:
            yield client

    def ensure_schema_exists(self, context, table_slice: TableSlice, connection) -> None:  # type: ignore[override]
        # Called before every write: one cheap lookup instead of re-running the DDL (on a
        # cluster each `ON CLUSTER` statement is a distributed-DDL task); a table from an
        # earlier release gets the columns added since.
        cluster = self.target.cluster
        table = spec(table_slice.table)
        if ch.table_exists(connection, table_slice.schema, table_slice.table):
            ch.add_missing_columns(
                connection, table_slice.schema, table.name, table.schema, table.nullable, cluster
            )
            return
        ch.ensure_table(
            connection,
            table_slice.schema,
            table.ddl(table_slice.schema, cluster),
            cluster=cluster,
        )

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


class PolarsClickHouseTypeHandler(DbTypeHandler[pl.DataFrame]):
    """Stores and loads polars frames; day slices are replaced whole."""

    def __init__(self, target: ch.ClickHouseTarget):
        self.target = target

    def handle_output(self, context, table_slice: TableSlice, obj: pl.DataFrame, connection):  # type: ignore[override]
        days = _slice_days(table_slice)
        db, table = table_slice.schema, table_slice.table
        if days is None:
            ch.replace_table(connection, db, table, obj)
        else:
            ch.replace_day_partitions(connection, db, table, obj, _days(*days))
        return {
            "dagster/row_count": obj.height,
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
        return (pl.DataFrame,)


def clickhouse_io_manager(target: ch.ClickHouseTarget) -> DbIOManager:
    return DbIOManager(
        type_handlers=[PolarsClickHouseTypeHandler(target)],
        db_client=ClickHouseDbClient(target),
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

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        table, network = self._location(context)
        if not context.has_asset_partitions:
            path = lake.partition_file(self._base_path, table, network, None)
            lake.write_atomic(obj, path)
        else:
            window = context.asset_partitions_time_window
            days = _days(window.start.date(), (window.end - timedelta(days=1)).date())
            by_day = {k[0]: g for k, g in obj.partition_by("date", as_dict=True).items()}
            for day in days:
                part = by_day.get(day, obj.clear())
                lake.write_atomic(part, lake.partition_file(self._base_path, table, network, day))
            path = lake.table_dir(self._base_path, table, network)
        context.add_output_metadata({"lake_path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        table, network = self._location(context)
        if not context.has_asset_partitions:
            return lake.read_file(lake.partition_file(self._base_path, table, network, None))
        frames = []
        for key in context.asset_partition_keys:
            path = lake.partition_file(self._base_path, table, network, date.fromisoformat(key))
            if path.exists():
                frames.append(lake.read_file(path))
        if not frames:
            return pl.DataFrame(schema=spec(table).schema)
        return pl.concat(frames, how="vertical_relaxed")


class WarehouseLakeIOManager(dg.ConfigurableIOManagerFactory):
    """Default IO manager: every output goes to ClickHouse and to the Parquet lake; inputs are
    read from ClickHouse (``read_from='lake'`` reads the lake instead)."""

    clickhouse: ClickHouseResource
    lake: LakeResource
    read_from: str = "warehouse"

    def create_io_manager(self, context) -> dg.IOManager:
        return _TeeIOManager(
            warehouse=clickhouse_io_manager(self.clickhouse.target()),
            lake=LakeIOManager(self.lake.root()),
            read_from=self.read_from,
        )


class _TeeIOManager(dg.IOManager):
    def __init__(self, warehouse: dg.IOManager, lake: dg.IOManager, read_from: str):
        if read_from not in ("warehouse", "lake"):
            raise ValueError(f"read_from: expected 'warehouse' or 'lake', got {read_from!r}")
        self.warehouse, self.lake, self.read_from = warehouse, lake, read_from

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        self.warehouse.handle_output(context, obj)
        self.lake.handle_output(context, obj)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        source = self.warehouse if self.read_from == "warehouse" else self.lake
        return source.load_input(context)
