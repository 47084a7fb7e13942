"""ClickHouse warehouse access over clickhouse-connect (embedded chDB or a server).

The DSN is passed to ``clickhouse_connect.get_client(dsn=...)`` unchanged: ``chdb:///dir`` opens
embedded ClickHouse in this process, ``http(s)://user:pw@host:port/`` reaches a server.

chDB holds its data directory for one process at a time, so every embedded session takes an
exclusive file lock next to the directory, opens a client, and closes it on exit: sessions are
short and serialised across processes (backfill runs, the daemon, the webserver). Within one
process sessions are re-entrant.

Writes of day partitions go through a staging table and ``ALTER TABLE .. REPLACE PARTITION``, so
readers see either the old or the new rows of a day, never both and never none; a re-run never
duplicates.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import clickhouse_connect
import polars as pl
from filelock import FileLock

from analytics_platform.config import validate_identifier

_LOCAL = threading.RLock()
_OPEN: dict[str, list[Any]] = {}  # dsn -> [client, depth, file lock]
LOCK_TIMEOUT_S = 600.0


def is_embedded(dsn: str) -> bool:
    return dsn.startswith("chdb://")


def embedded_path(dsn: str) -> Path:
    path = dsn.removeprefix("chdb://")
    if not path.startswith("/"):
        raise ValueError(f"ANALYTICS_CLICKHOUSE_DSN: chDB DSN needs an absolute path, got {dsn!r}")
    return Path(path)


@contextmanager
def session(dsn: str) -> Iterator[Any]:
    """A clickhouse-connect client for ``dsn``; embedded sessions are locked and short-lived."""
    with _LOCAL:
        entry = _OPEN.get(dsn)
        if entry is not None:
            entry[1] += 1
        else:
            lock = None
            if is_embedded(dsn):
                path = embedded_path(dsn)
                path.parent.mkdir(parents=True, exist_ok=True)
                lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)
                lock.acquire()
            try:
                client = clickhouse_connect.get_client(dsn=dsn)
            except Exception:
                if lock is not None:
                    lock.release()
                raise
            entry = _OPEN[dsn] = [client, 1, lock]
    try:
        yield entry[0]
    finally:
        with _LOCAL:
            entry[1] -= 1
            if entry[1] == 0:
                del _OPEN[dsn]
                try:
                    entry[0].close()
                finally:
                    if entry[2] is not None:
                        entry[2].release()


def ch_type(dtype: pl.DataType) -> str:
    """ClickHouse column type for a polars dtype (the project's schemas use only these)."""
    if isinstance(dtype, pl.Decimal):
        return f"Decimal({dtype.precision}, {dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return f"DateTime64(3, '{dtype.time_zone or 'UTC'}')"
    if isinstance(dtype, pl.List):
        return f"Array({ch_type(dtype.inner)})"
    simple = {
        pl.String: "String",
        pl.Date: "Date",
        pl.Int64: "Int64",
        pl.Int32: "Int32",
        pl.UInt32: "UInt32",
        pl.UInt64: "UInt64",
        pl.Float64: "Float64",
        pl.Boolean: "Bool",
    }
    for pl_type, name in simple.items():
        if dtype == pl_type:
            return name
    raise TypeError(f"no ClickHouse type mapping for polars dtype {dtype}")


def _nullable(name: str, ch: str, nullable: set[str]) -> str:
    return f"Nullable({ch})" if name in nullable and not ch.startswith("Array") else ch


def table_ddl(
    database: str,
    table: str,
    schema: dict[str, pl.DataType],
    *,
    order_by: Sequence[str],
    partition_by: str | None = "date",
    nullable: Iterable[str] = (),
) -> str:
    """CREATE TABLE statement for a project table (identifiers validated)."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    nulls = set(nullable)
    cols = ",\n  ".join(
        f"`{validate_identifier(n, 'column')}` {_nullable(n, ch_type(t), nulls)}"
        for n, t in schema.items()
    )
    order = ", ".join(f"`{validate_identifier(c, 'column')}`" for c in order_by) or "tuple()"
    part = f"\nPARTITION BY `{validate_identifier(partition_by, 'column')}`" if partition_by else ""
    return (
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}` (\n  {cols}\n)\n"
        f"ENGINE = MergeTree{part}\nORDER BY ({order})"
    )


def ensure_table(client: Any, database: str, ddl: str) -> None:
    client.command(f"CREATE DATABASE IF NOT EXISTS `{validate_identifier(database, 'database')}`")
    client.command(ddl)


INSERT_DAYS = 90


def replace_day_partitions(
    client: Any, database: str, table: str, df: pl.DataFrame, days: Iterable[date]
) -> int:
    """Atomically make ``days`` of ``database.table`` hold exactly the rows of ``df``."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    days = sorted(set(days))
    stray = df.filter(~pl.col("date").is_in(days))
    if stray.height:
        raise ValueError(
            f"date: rows for {stray['date'][0]} are outside the partitions being written "
            f"({days[0]}..{days[-1]}) of {database}.{table}"
        )
    staging = f"{table}__staging_{uuid.uuid4().hex[:12]}"
    client.command(f"CREATE TABLE `{database}`.`{staging}` AS `{database}`.`{table}`")
    try:
        present = sorted(set(df["date"].unique().to_list())) if df.height else []
        # ClickHouse refuses an INSERT block spanning > 100 partitions
        # (max_partitions_per_insert_block): a long backfill range goes in groups of days.
        for i in range(0, len(present), INSERT_DAYS):
            group = df.filter(pl.col("date").is_in(present[i : i + INSERT_DAYS]))
            client.insert_arrow(f"{database}.{staging}", _arrow_for_insert(group))
        present = set(present)
        for day in days:
            literal = day.isoformat()  # a date object's own formatting: no user text here
            if day in present:
                client.command(
                    f"ALTER TABLE `{database}`.`{table}` REPLACE PARTITION '{literal}' "
                    f"FROM `{database}`.`{staging}`"
                )
            else:
                client.command(f"ALTER TABLE `{database}`.`{table}` DROP PARTITION '{literal}'")
    finally:
        client.command(f"DROP TABLE IF EXISTS `{database}`.`{staging}`")
    return df.height


def replace_table(client: Any, database: str, table: str, df: pl.DataFrame) -> int:
    """Replace all rows of an unpartitioned table (staging table + EXCHANGE TABLES)."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    staging = f"{table}__staging_{uuid.uuid4().hex[:12]}"
    client.command(f"CREATE TABLE `{database}`.`{staging}` AS `{database}`.`{table}`")
    try:
        if df.height:
            client.insert_arrow(f"{database}.{staging}", _arrow_for_insert(df))
        client.command(f"EXCHANGE TABLES `{database}`.`{staging}` AND `{database}`.`{table}`")
    finally:
        client.command(f"DROP TABLE IF EXISTS `{database}`.`{staging}`")
    return df.height


def _arrow_for_insert(df: pl.DataFrame):
    # Categorical columns after a filter break insert_arrow ("Dictionary replacement"): cast.
    cats = [c for c, t in df.schema.items() if isinstance(t, pl.Categorical | pl.Enum)]
    if cats:
        df = df.with_columns(pl.col(cats).cast(pl.String))
    return df.to_arrow()


def table_exists(client: Any, database: str, table: str) -> bool:
    return bool(
        client.command(
            "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
            parameters={"db": database, "t": table},
        )
    )


def read_days(
    client: Any,
    database: str,
    table: str,
    first: date | None = None,
    last: date | None = None,
    schema: dict[str, pl.DataType] | None = None,
) -> pl.DataFrame:
    """Rows of ``database.table`` with ``first <= date <= last`` (either bound optional)."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    if not table_exists(client, database, table):
        if schema is None:
            raise LookupError(f"table {database}.{table} does not exist")
        return pl.DataFrame(schema=schema)
    where, params = [], {}
    if first is not None:
        where.append("`date` >= {first:Date}")
        params["first"] = first
    if last is not None:
        where.append("`date` <= {last:Date}")
        params["last"] = last
    cols = ", ".join(f"`{c}`" for c in schema) if schema else "*"
    sql = f"SELECT {cols} FROM `{database}`.`{table}`"
    if where:
        sql += " WHERE " + " AND ".join(where)
    result = pl.from_arrow(client.query_arrow(sql, parameters=params))
    return result.cast(schema) if schema else result


def query_frame(client: Any, sql: str, parameters: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run a parameterised SELECT and return a polars frame."""
    return pl.from_arrow(client.query_arrow(sql, parameters=parameters or {}))
