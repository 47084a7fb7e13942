"""Raw transfer sources: Parquet/CSV files (``storage.files``) and a ClickHouse table.

Sources return raw frames (strings allowed); ``domain.validation`` turns them into transfers.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from analytics_platform.config import SourceConfig
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.files import UnreadableFile, read_each
from analytics_platform.storage.identifiers import validate_identifier


def read_clickhouse(
    client: Any,
    table: str,
    first: date,
    last: date,
    bounds: tuple[date | None, date | None] = (None, None),
) -> pl.DataFrame:
    """Rows of the upstream ``db.table`` whose ``block_time`` lies in days ``first..last``, in a
    fixed order (time, then identity and content), plus the rows the validation needs to give
    every row exactly one place:

    - with ``bounds`` (the network's first and last day a row may have): on the first
      partition, the rows dated before it; on the last, those dated after it (dead-lettered
      there);
    - rows of other days that share a transfer identity with the run's rows (the first of the
      copies is the transfer; the run drops the other days' rows after deciding).
    """
    db, name = table.split(".")
    validate_identifier(db, "source database")
    validate_identifier(name, "source table")
    source = f"`{db}`.`{name}`"
    columns = set(ch.query_frame(client, f"SELECT * FROM {source} LIMIT 0").columns)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    window = (
        "(block_time >= {start:DateTime64(3, 'UTC')} AND block_time < {end:DateTime64(3, 'UTC')})"
    )
    if bounds[0] is not None and first <= bounds[0]:
        window += " OR block_time < {start:DateTime64(3, 'UTC')}"
    if bounds[1] is not None and last >= bounds[1]:
        window += " OR block_time >= {end:DateTime64(3, 'UTC')}"
    key = "(tx_hash, transfer_index)" if "transfer_index" in columns else "tx_hash"
    order = [c for c in VALIDATED_ORDER if c in columns]
    return ch.query_frame(
        client,
        f"SELECT * FROM {source} WHERE ({window}) OR {key} IN "
        f"(SELECT {key.strip('()')} FROM {source} WHERE {window}) "
        f"ORDER BY {', '.join(order)}",
        {"start": start, "end": end},
    )


VALIDATED_ORDER = (
    "block_time", "tx_hash", "transfer_index", "from_address", "to_address", "asset", "amount"
)  # fmt: skip
"""How a table source orders its rows: the first copy of an identity is the transfer."""


def read_source(
    source: SourceConfig,
    first: date,
    last: date,
    warehouse: ch.ClickHouseTarget,
    bounds: tuple[date | None, date | None] = (None, None),
) -> tuple[pl.DataFrame, list[UnreadableFile]]:
    """Raw rows for days ``first..last`` from ``source`` (files are read whole: they may hold
    other days too), and the files that could not be read."""
    if source.kind == "files":
        assert source.path is not None
        return read_each(source.path, "source.path")
    target = ch.ClickHouseTarget(dsn=os.environ[source.dsn_env]) if source.dsn_env else warehouse
    with ch.session(target) as client:
        return read_clickhouse(client, source.table or "", first, last, bounds), []
