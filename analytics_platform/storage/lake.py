"""Parquet lake layout and atomic writes (local folder or ``s3://bucket/prefix``).

Layout (hive style): ``<root>/<table>/network=<network>/date=YYYY-MM-DD/part-0.parquet``;
unpartitioned tables: ``<root>/<table>/network=<network>/part-0.parquet``. Local writes go to a
temporary file in the same folder and are renamed into place (atomic on POSIX); an S3 PUT is
atomic by itself.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, BinaryIO

import polars as pl
from upath import UPath

from analytics_platform.storage.identifiers import validate_identifier
from analytics_platform.storage.tables import spec

PART = "part-0.parquet"


def lake_root(url: str, *, region: str = "", endpoint_url: str = "", **options: Any) -> UPath:
    """The lake root as a ``UPath``; on S3 with the region and endpoint (MinIO, moto) given.

    Credentials are left to the S3 client's own chain (environment, web identity, instance
    role), so they never pass through this code or its configuration.
    """
    if url.startswith("s3://"):
        opts = dict(options)
        client_kwargs = opts.setdefault("client_kwargs", {})
        endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            client_kwargs["endpoint_url"] = endpoint
        if region:
            client_kwargs["region_name"] = region
        return UPath(url, **opts)
    return UPath(url)


def table_dir(root: UPath, table: str, network: str) -> UPath:
    return (
        root
        / validate_identifier(table, "table")
        / f"network={validate_identifier(network, 'network')}"
    )


def partition_file(root: UPath, table: str, network: str, day: date | None) -> UPath:
    base = table_dir(root, table, network)
    return (base / f"date={day.isoformat()}" / PART) if day is not None else base / PART


def write_atomic(df: pl.DataFrame | pl.LazyFrame, path: UPath) -> None:
    """Write ``df`` as Parquet at ``path`` so readers never see a partial file (a
    ``LazyFrame`` streams into it, never whole in memory)."""
    _write_whole(path, df.write_parquet if isinstance(df, pl.DataFrame) else df.sink_parquet)


def write_text_atomic(text: str, path: UPath) -> None:
    """Write ``text`` (UTF-8) at ``path`` so readers never see a partial file."""
    _write_whole(path, lambda fh: fh.write(text.encode()))


def _write_whole(path: UPath, write: Callable[[BinaryIO], object]) -> None:
    """``write`` into a temporary file renamed into place locally, or into one S3 PUT."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.protocol in ("", "file", "local"):
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
        with open(str(tmp), "wb") as fh:
            write(fh)
        os.replace(str(tmp), str(path))
        return
    buf = io.BytesIO()
    write(buf)
    with path.open("wb") as fh:  # one PUT: atomic on S3
        fh.write(buf.getvalue())


def read_file(path: UPath) -> pl.DataFrame:
    with path.open("rb") as fh:
        return pl.read_parquet(fh)


def list_days(root: UPath, table: str, network: str) -> list[date]:
    base = table_dir(root, table, network)
    if not base.exists():
        return []
    return sorted(
        date.fromisoformat(p.name.removeprefix("date="))
        for p in base.iterdir()
        if p.name.startswith("date=") and (p / PART).exists()
    )


def read_days(root: UPath, table: str, network: str, days: Sequence[date]) -> pl.DataFrame:
    """The rows of ``days`` of a table (a day never written reads as no rows)."""
    frames = []
    for day in days:
        path = partition_file(root, table, network, day)
        if path.exists():
            frames.append(read_file(path))
    if not frames:
        return pl.DataFrame(schema=spec(table).schema)
    return pl.concat(frames, how="vertical_relaxed")
