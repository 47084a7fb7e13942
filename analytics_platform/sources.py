"""Raw transfer sources: Parquet/CSV files (local or ``s3://`` globs) and a ClickHouse table.

Sources return raw frames (strings allowed); ``domain.validation`` turns them into transfers.
"""

from __future__ import annotations

import glob
import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from analytics_platform.config import SourceConfig
from analytics_platform.domain.validation import SOURCE_FILE_COLUMN as SOURCE_FILE
from analytics_platform.identifiers import validate_identifier
from analytics_platform.storage import clickhouse as ch


def _storage_options(path: str) -> dict[str, str] | None:
    if not path.startswith("s3://"):
        return None
    opts = {
        "aws_region": os.environ.get(
            "AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        )
    }
    if os.environ.get("AWS_ENDPOINT_URL"):
        opts["aws_endpoint_url"] = os.environ["AWS_ENDPOINT_URL"]
        opts["aws_allow_http"] = "true"
    return opts


class NoFilesError(ValueError):
    """A configured path matches no file: a configuration error, not an empty day."""


def read_files(pattern: str, field: str = "path") -> pl.DataFrame:
    """Read every Parquet/CSV file matching ``pattern`` as strings-or-native columns.

    A pattern that matches nothing raises :class:`NoFilesError` naming ``field`` (the config
    key it came from): read as no rows, a mistyped path would store empty days."""
    opts = _storage_options(pattern)
    is_csv = pattern.endswith((".csv", ".csv.gz"))
    if pattern.startswith("s3://"):
        try:
            if is_csv:
                return pl.scan_csv(
                    pattern, storage_options=opts, infer_schema=False,
                    include_file_paths=SOURCE_FILE,
                ).collect()  # fmt: skip
            return pl.scan_parquet(
                pattern, storage_options=opts, include_file_paths=SOURCE_FILE
            ).collect()
        except (FileNotFoundError, pl.exceptions.ComputeError) as exc:
            empty = ("expanded paths were empty", "expected at least 1 source")
            if isinstance(exc, FileNotFoundError) or any(m in str(exc) for m in empty):
                raise NoFilesError(f"{field}: no file matches {pattern!r}") from None
            raise
    files = sorted(glob.glob(pattern))
    if not files:
        raise NoFilesError(f"{field}: no file matches {pattern!r}")
    frames = [
        (
            pl.read_csv(f, infer_schema=False)
            if f.endswith((".csv", ".csv.gz"))
            else pl.read_parquet(f)
        ).with_columns(pl.lit(f).alias(SOURCE_FILE))
        for f in files
    ]
    return pl.concat(frames, how="diagonal_relaxed")


def read_clickhouse(client: Any, table: str, first: date, last: date) -> pl.DataFrame:
    """Rows of the upstream ``db.table`` whose ``block_time`` lies in days ``first..last``."""
    db, name = table.split(".")
    validate_identifier(db, "source database")
    validate_identifier(name, "source table")
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return ch.query_frame(
        client,
        f"SELECT * FROM `{db}`.`{name}` WHERE block_time >= {{start:DateTime64(3, 'UTC')}} "
        f"AND block_time < {{end:DateTime64(3, 'UTC')}}",
        {"start": start, "end": end},
    )


def read_source(
    source: SourceConfig, first: date, last: date, warehouse: ch.ClickHouseTarget
) -> pl.DataFrame:
    """Raw rows for days ``first..last`` from ``source`` (files may hold other days too)."""
    if source.kind == "files":
        assert source.path is not None
        return read_files(source.path, "source.path")
    target = ch.ClickHouseTarget(dsn=os.environ[source.dsn_env]) if source.dsn_env else warehouse
    with ch.session(target) as client:
        return read_clickhouse(client, source.table or "", first, last)
