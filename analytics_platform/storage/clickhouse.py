"""ClickHouse warehouse access over clickhouse-connect (embedded chDB or a server).

A :class:`ClickHouseTarget` names the warehouse: a DSN passed to
``clickhouse_connect.get_client(dsn=...)`` unchanged (``chdb:///dir`` opens embedded ClickHouse in
this process, ``http(s)://user:pw@host:port/`` reaches a server), or the server fields (host, port,
user, password, database, secure) of the production profile. The same client code serves both.

With a ``cluster`` name the DDL runs ``ON CLUSTER`` and creates ``ReplicatedMergeTree`` tables plus
a ``Distributed`` table ``<table>_all`` that reads go through; writes replace day partitions of
the replicated table on the shard the client is connected to (replication copies them to the
shard's other replicas). See ``docs/deploy/clickhouse.md``.

chDB holds its data directory for one process at a time, so every embedded session takes an
exclusive file lock next to the directory and opens a client, which closes a moment after its
last use (``ANALYTICS_CHDB_IDLE_CLOSE_S``): sessions are short and serialised across processes
(backfill runs, the daemon, the webserver). Within one process sessions are re-entrant.

Writes of day partitions go through a staging table and ``ALTER TABLE .. REPLACE PARTITION``, so
readers see either the old or the new rows of a day, never both and never none; a re-run never
duplicates.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import clickhouse_connect
import polars as pl
from filelock import FileLock, Timeout

from analytics_platform.storage.identifiers import validate_identifier

_LOCAL = threading.RLock()
_OPEN: dict[ClickHouseTarget, _OpenSession] = {}
LOCK_TIMEOUT_S = 600.0
DISTRIBUTED_SUFFIX = "_all"


@dataclass(frozen=True)
class ClickHouseTarget:
    """Where the warehouse is: ``dsn`` (chDB or URL), or a server's fields; optional cluster.

    The password never shows in ``repr``/``describe`` (logs, metadata, error messages).
    """

    dsn: str = field(default="", repr=False)
    host: str = ""
    port: int = 0
    username: str = "default"
    password: str = field(default="", repr=False)
    database: str = "default"
    secure: bool = False
    cluster: str = ""

    def __post_init__(self) -> None:
        if not self.dsn and not self.host:
            raise ValueError("clickhouse: set a DSN or a host (CLICKHOUSE_HOST)")
        if self.cluster:
            validate_identifier(self.cluster, "CLICKHOUSE_CLUSTER")
        if self.database:
            validate_identifier(self.database, "CLICKHOUSE_DATABASE")

    @property
    def embedded(self) -> bool:
        return is_embedded(self.dsn)

    def describe(self) -> str:
        """Where this points, without credentials (safe for logs and metadata)."""
        if self.dsn:
            return _redact_dsn(self.dsn)
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.username}@{self.host}:{self.effective_port}/{self.database}"

    @property
    def effective_port(self) -> int:
        return self.port or (8443 if self.secure else 8123)

    def connect(self) -> Any:
        if self.dsn:
            return clickhouse_connect.get_client(dsn=self.dsn)
        return clickhouse_connect.get_client(
            host=self.host,
            port=self.effective_port,
            username=self.username,
            password=self.password,
            database=self.database,
            secure=self.secure,
        )


def _redact_dsn(dsn: str) -> str:
    scheme, sep, rest = dsn.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return dsn
    userinfo, host = rest.split("@", 1)
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


def as_target(target: ClickHouseTarget | str) -> ClickHouseTarget:
    return target if isinstance(target, ClickHouseTarget) else ClickHouseTarget(dsn=target)


def is_embedded(dsn: str) -> bool:
    return dsn.startswith("chdb://")


def embedded_path(dsn: str) -> Path:
    path = dsn.removeprefix("chdb://")
    if not path.startswith("/"):
        raise ValueError(f"ANALYTICS_CLICKHOUSE_DSN: chDB DSN needs an absolute path, got {dsn!r}")
    return Path(path)


@dataclass
class _OpenSession:
    """A client this process holds, how many ``session`` blocks use it, the file lock of an
    embedded one, and the watcher that closes it once idle."""

    client: Any
    lock: FileLock | None
    depth: int = 0
    closer: _IdleCloser | None = None


@contextmanager
def session(target: ClickHouseTarget | str) -> Iterator[Any]:
    """A clickhouse-connect client for ``target`` (or a DSN); re-entrant within the process.

    An embedded session holds the directory's file lock. When its last block ends it stays
    open for :func:`idle_close_seconds` more, so that the next block (a step's next input, the
    next step of an in-process run) does not start chDB again: opening the demo's store costs
    0.2-0.3 s, and a demo opened it 117 times (about 20 s of its 98-109; ``docs/benchmarks.md``).
    It closes at once when another process is waiting for the directory (:func:`_take`), so a
    process that reads every moment never keeps the others out."""
    target = as_target(target)
    idle = idle_close_seconds() if target.embedded else 0.0  # a bad setting fails first
    with _LOCAL:
        entry = _OPEN.get(target)
        if entry is None:
            if target.embedded:  # chDB runs one directory per process: an idle one goes first
                close_idle_sessions()
            entry = _OPEN[target] = _open(target)
        elif entry.closer is not None:
            entry.closer.cancel()
            entry.closer = None
        entry.depth += 1
    try:
        yield entry.client
    finally:
        with _LOCAL:
            entry.depth -= 1
            if entry.depth == 0:
                if idle > 0 and not _others_waiting(target):
                    entry.closer = _IdleCloser(target, entry, idle)
                    entry.closer.start()
                else:
                    _close(target, entry)


IDLE_CLOSE_VARIABLE = "ANALYTICS_CHDB_IDLE_CLOSE_S"
IDLE_CLOSE_S = 2.0
"""Seconds an idle embedded session stays open (``ANALYTICS_CHDB_IDLE_CLOSE_S``; 0 closes it
at once)."""
WAIT_POLL_S = 0.05
"""How often a process waiting for a directory tries its lock, and an idle session looks for
the marks of waiting processes."""
_WAITING = ".waiting-"  # a waiting mark: <dir>.waiting-<pid>, beside the directory's lock


def idle_close_seconds() -> float:
    """Seconds an idle embedded session stays open: ``ANALYTICS_CHDB_IDLE_CLOSE_S`` or
    :data:`IDLE_CLOSE_S`."""
    text = os.environ.get(IDLE_CLOSE_VARIABLE, "").strip()
    if not text:
        return IDLE_CLOSE_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also rejects nan
        raise ValueError(f"{IDLE_CLOSE_VARIABLE}: expected seconds >= 0, got {text!r}")
    return seconds


def close_idle_sessions() -> None:
    """Close every session no block is using now (embedded ones release their directory)."""
    with _LOCAL:
        for target, entry in list(_OPEN.items()):
            if entry.depth == 0:
                _close(target, entry)


def _open(target: ClickHouseTarget) -> _OpenSession:
    lock = None
    if target.embedded:
        path = embedded_path(target.dsn)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not thread-local: an idle session is closed, and its lock released, by a watcher.
        lock = FileLock(str(path) + ".lock", thread_local=False)
        _take(lock, path)
    try:
        return _OpenSession(target.connect(), lock)
    except Exception:
        if lock is not None:
            lock.release()
        raise


def _take(lock: FileLock, path: Path) -> None:
    """Acquire the directory's lock within :data:`LOCK_TIMEOUT_S`, with a waiting mark
    (``<dir>.waiting-<pid>``) beside it meanwhile, so an idle session elsewhere closes for
    this process. A process that finds others waiting lets them go first for one poll.

    By hand rather than ``FileLock.acquire(timeout=...)``: the mark has to exist exactly while
    this process waits, and filelock has no hook for that."""
    mark = _waiting_mark(path, os.getpid())
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    if _others_waiting_at(path):
        time.sleep(WAIT_POLL_S)
    try:
        while True:
            try:
                lock.acquire(timeout=0)
                return
            except Timeout:
                if time.monotonic() >= deadline:
                    raise
            mark.touch()
            time.sleep(WAIT_POLL_S)
    finally:
        mark.unlink(missing_ok=True)


def _waiting_mark(path: Path, pid: int) -> Path:
    return path.with_name(f"{path.name}{_WAITING}{pid}")


def _others_waiting(target: ClickHouseTarget) -> bool:
    return target.embedded and _others_waiting_at(embedded_path(target.dsn))


def _others_waiting_at(path: Path) -> bool:
    """Whether another live process has a waiting mark for ``path``. Liveness, not the mark's
    age: a process killed while it waited leaves its mark, and clocks differ (a test's
    travelled one did). A reused pid only costs a session its idle time."""
    prefix = f"{path.name}{_WAITING}"
    try:
        with os.scandir(path.parent) as entries:
            pids = [e.name.removeprefix(prefix) for e in entries if e.name.startswith(prefix)]
    except FileNotFoundError:
        return False
    return any(p.isdigit() and int(p) != os.getpid() and _alive(int(p)) for p in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


class _IdleCloser(threading.Thread):
    """Closes an idle session after ``seconds``, or as soon as another process waits for its
    directory, unless a block takes the session again first (:meth:`cancel`)."""

    def __init__(self, target: ClickHouseTarget, entry: _OpenSession, seconds: float) -> None:
        super().__init__(name="chdb-idle-close", daemon=True)
        self.target, self.entry, self.seconds = target, entry, seconds
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while not self._cancelled.wait(WAIT_POLL_S):
            if time.monotonic() >= deadline or _others_waiting(self.target):
                with _LOCAL:
                    if _OPEN.get(self.target) is self.entry and self.entry.closer is self:
                        _close(self.target, self.entry)
                return


def _close(target: ClickHouseTarget, entry: _OpenSession) -> None:
    del _OPEN[target]
    if entry.closer is not None:
        entry.closer.cancel()
        entry.closer = None
    try:
        entry.client.close()
    finally:
        if entry.lock is not None:
            entry.lock.release()


def _close_idle_before_fork() -> None:
    """Idle sessions closed before a fork, so a child never reuses its parent's client, unless
    another thread holds the sessions' lock: it may be waiting minutes for a store, and a fork
    must not wait with it. (A forked child of a process that has run chDB still cannot open
    it: one that tried hung. The project starts its children with ``spawn``.)"""
    if _LOCAL.acquire(blocking=False):
        try:
            close_idle_sessions()
        finally:
            _LOCAL.release()


# Idle sessions close before the interpreter exits (chDB flushes its engine) and before a fork.
atexit.register(close_idle_sessions)
os.register_at_fork(before=_close_idle_before_fork)


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
    cluster: str = "",
    indexes: Sequence[tuple[str, str]] = (),
) -> str:
    """CREATE TABLE statement for a project table (identifiers validated); with ``cluster``,
    ``ON CLUSTER`` and a ``ReplicatedMergeTree`` keyed by the server's shard/replica macros.
    ``indexes``: data-skipping indexes as (column, ``minmax`` or ``bloom_filter``)."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    nulls = set(nullable)
    lines = [
        f"`{validate_identifier(n, 'column')}` {_nullable(n, ch_type(t), nulls)}"
        for n, t in schema.items()
    ]
    for column, kind in indexes:
        if kind not in SKIP_INDEX_TYPES or column not in schema:
            raise ValueError(f"index: unsupported skip index {kind!r} on {column!r}")
        lines.append(f"INDEX `{column}_{kind}` `{column}` TYPE {kind} GRANULARITY 1")
    cols = ",\n  ".join(lines)
    order = ", ".join(f"`{validate_identifier(c, 'column')}`" for c in order_by) or "tuple()"
    part = f"\nPARTITION BY `{validate_identifier(partition_by, 'column')}`" if partition_by else ""
    engine = "MergeTree"
    if cluster:
        # {shard}/{replica} are server macros; the path is unique per database and table.
        engine = (
            f"ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{database}/{table}', '{{replica}}')"
        )
    return (
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}`{_on_cluster(cluster)} (\n  {cols}\n)\n"
        f"ENGINE = {engine}{part}\nORDER BY ({order})"
    )


SKIP_INDEX_TYPES = ("minmax", "bloom_filter")


def distributed_ddl(database: str, table: str, cluster: str) -> str:
    """The ``Distributed`` table ``<table>_all`` that reads every shard's ``table``."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    validate_identifier(cluster, "cluster")
    return (
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}{DISTRIBUTED_SUFFIX}`"
        f"{_on_cluster(cluster)} AS `{database}`.`{table}` "
        f"ENGINE = Distributed('{cluster}', '{database}', '{table}')"
    )


def _on_cluster(cluster: str) -> str:
    return f" ON CLUSTER `{validate_identifier(cluster, 'cluster')}`" if cluster else ""


def ensure_table(
    client: Any, database: str, statements: Sequence[str], *, cluster: str = ""
) -> None:
    """Create the database (on every node of ``cluster``) and run a table's DDL statements."""
    db = validate_identifier(database, "database")
    client.command(f"CREATE DATABASE IF NOT EXISTS `{db}`{_on_cluster(cluster)}")
    for statement in statements:
        client.command(statement)


INSERT_DAYS = 90
INSERT_BATCH_BYTES = 64 * 2**20
"""A ``LazyFrame`` is inserted in batches of about this many bytes (8 per value): its rows
never come whole into memory. At 1M-row batches a day of address features (2.8M rows of 98
columns) took 6.8 GiB to insert from its Parquet file, in 64 MiB ones 3.0 GiB
(``docs/benchmarks.md``)."""


def replace_day_partitions(
    client: Any, database: str, table: str, df: pl.DataFrame | pl.LazyFrame, days: Iterable[date]
) -> int:
    """Atomically make ``days`` of ``database.table`` hold exactly the rows of ``df`` (a
    ``LazyFrame`` is collected a batch at a time). Returns the rows written."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    days = sorted(set(days))
    # collect_batches is marked unstable in polars 1.44 (the locked version; tested here): the
    # stable alternatives collect whole or rescan per slice.
    batches = [df] if isinstance(df, pl.DataFrame) else df.collect_batches(chunk_size=_rows(df))
    staging = create_staging(client, database, table)
    try:
        present: set[date] = set()
        rows = 0
        for batch in batches:
            present |= _insert_days(client, database, table, staging, batch, days)
            rows += batch.height
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
    return rows


def _rows(df: pl.LazyFrame) -> int:
    """Rows per insert batch of ``df``: :data:`INSERT_BATCH_BYTES` at 8 bytes per value."""
    return max(1, INSERT_BATCH_BYTES // (8 * max(1, len(df.collect_schema()))))


def _insert_days(
    client: Any, database: str, table: str, staging: str, df: pl.DataFrame, days: list[date]
) -> set[date]:
    """Inserts ``df`` into the staging table of ``table``; returns the days it held. A row
    outside ``days`` is a one-line error and nothing is replaced."""
    stray = df.filter(~pl.col("date").is_in(days))
    if stray.height:
        raise ValueError(
            f"date: rows for {stray['date'][0]} are outside the partitions being written "
            f"({days[0]}..{days[-1]}) of {database}.{table}"
        )
    present = sorted(set(df["date"].unique().to_list())) if df.height else []
    # ClickHouse refuses an INSERT block spanning > 100 partitions
    # (max_partitions_per_insert_block): a long backfill range goes in groups of days.
    for i in range(0, len(present), INSERT_DAYS):
        group = df if len(present) <= INSERT_DAYS else df.filter(
            pl.col("date").is_in(present[i : i + INSERT_DAYS])
        )  # fmt: skip
        client.insert_arrow(f"{database}.{staging}", _arrow_for_insert(group))
    return set(present)


def replace_table(client: Any, database: str, table: str, df: pl.DataFrame) -> int:
    """Replace all rows of an unpartitioned table: its single partition ``tuple()`` is replaced
    from a staging table (dropped when ``df`` is empty), which replicated tables replicate."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    staging = create_staging(client, database, table)
    try:
        if df.height:
            client.insert_arrow(f"{database}.{staging}", _arrow_for_insert(df))
            client.command(
                f"ALTER TABLE `{database}`.`{table}` REPLACE PARTITION tuple() "
                f"FROM `{database}`.`{staging}`"
            )
        else:
            client.command(f"ALTER TABLE `{database}`.`{table}` DROP PARTITION tuple()")
    finally:
        client.command(f"DROP TABLE IF EXISTS `{database}`.`{staging}`")
    return df.height


def create_staging(client: Any, database: str, table: str) -> str:
    """A local, non-replicated MergeTree twin of ``table`` (same columns, partition and sort
    keys) to load rows into before ``REPLACE PARTITION``. ``CREATE TABLE .. AS`` alone would copy
    a ``ReplicatedMergeTree`` engine and its Keeper path, clashing with the real table."""
    keys = client.query(
        "SELECT partition_key, sorting_key FROM system.tables "
        "WHERE database = {db:String} AND name = {t:String}",
        parameters={"db": database, "t": table},
    ).result_rows
    if not keys:
        raise LookupError(f"table {database}.{table} does not exist")
    partition_key, sorting_key = keys[0]
    staging = f"{table}__staging_{uuid.uuid4().hex[:12]}"
    partition = f" PARTITION BY {partition_key}" if partition_key else ""
    client.command(
        f"CREATE TABLE `{database}`.`{staging}` AS `{database}`.`{table}` "
        f"ENGINE = MergeTree{partition} ORDER BY ({sorting_key or 'tuple()'})"
    )
    return staging


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


def add_missing_columns(
    client: Any,
    database: str,
    table: str,
    schema: dict[str, pl.DataType],
    nullable: Iterable[str] = (),
    cluster: str = "",
) -> list[str]:
    """Add the columns of ``schema`` that the stored table lacks (a release's new, additive
    columns reach stores created before it; existing rows read them as the type's default or
    NULL). Returns the names added."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    present = set(
        query_frame(
            client,
            "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}",
            {"db": database, "t": table},
        )["name"].to_list()
    )
    nulls = set(nullable)
    added = [name for name in schema if name not in present]
    for name in added:
        column = _nullable(name, ch_type(schema[name]), nulls)
        client.command(
            f"ALTER TABLE `{database}`.`{table}`{_on_cluster(cluster)} "
            f"ADD COLUMN IF NOT EXISTS `{validate_identifier(name, 'column')}` {column}"
        )
    return added


def day_ttl(client: Any, database: str, table: str) -> str | None:
    """The table's TTL expression as the server shows it (``None``: no TTL)."""
    engine = client.command(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        parameters={"db": database, "t": table},
    )
    found = re.search(r"\bTTL (.+?)(?: SETTINGS |$)", str(engine or ""))
    return found.group(1).strip() if found else None


def set_day_ttl(
    client: Any, database: str, table: str, days: int | None, *, cluster: str = ""
) -> bool:
    """Make ``database.table`` delete each day ``days`` days after its ``date`` (``None``: keep
    every day). Expired day partitions are dropped whole (``ttl_only_drop_parts``), not
    rewritten. Returns whether the table was altered."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    current = day_ttl(client, database, table)
    target = f"`{database}`.`{table}`{_on_cluster(cluster)}"
    if days is None:
        if current is None:
            return False
        client.command(f"ALTER TABLE {target} REMOVE TTL")
        return True
    wanted = f"date + toIntervalDay({int(days)})"
    if current == wanted:
        return False
    client.command(f"ALTER TABLE {target} MODIFY SETTING ttl_only_drop_parts = 1")
    client.command(f"ALTER TABLE {target} MODIFY TTL `date` + toIntervalDay({int(days)})")
    return True


def read_days(
    client: Any,
    database: str,
    table: str,
    first: date | None = None,
    last: date | None = None,
    schema: dict[str, pl.DataType] | None = None,
    *,
    cluster: str = "",
) -> pl.DataFrame:
    """Rows of ``database.table`` with ``first <= date <= last`` (either bound optional); on a
    cluster through the ``Distributed`` table over every shard."""
    validate_identifier(database, "database")
    validate_identifier(table, "table")
    if cluster:
        table = f"{table}{DISTRIBUTED_SUFFIX}"
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


def query_frame(
    client: Any,
    sql: str,
    parameters: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """Run a parameterised SELECT (with query-level ``settings``) and return a polars frame."""
    return pl.from_arrow(client.query_arrow(sql, parameters=parameters or {}, settings=settings))
