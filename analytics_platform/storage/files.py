"""Parquet and CSV files, local or ``s3://`` globs, read as raw frames (strings allowed): the
transfers of a files source, prices, labels and verdicts."""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from analytics_platform.domain.validation import SOURCE_FILE_COLUMN as SOURCE_FILE


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


class UnreadableFileError(ValueError):
    """A file of a configured path cannot be read (names the file and the reason, one line)."""


_DAY_IN_PATH = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class UnreadableFile:
    """A file that matched a source path but could not be read: truncated, empty, not the
    format its name says, not UTF-8. Its rows are unknown, so the file itself is quarantined."""

    path: str
    reason: str

    @property
    def day(self) -> date | None:
        """The day the file's path names (``transfers-2026-10-02.parquet``,
        ``date=2026-10-02/part-0.parquet``; the last date in the path), if any: the only day
        such a file can hold."""
        for text in reversed(_DAY_IN_PATH.findall(self.path)):
            try:
                return date.fromisoformat(text)
            except ValueError:
                continue
        return None

    def __str__(self) -> str:
        return f"cannot read {self.path}: {self.reason}"


def one_line(exc: BaseException) -> str:
    """The first line of an error (polars and drivers add hints and dumps after it)."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def list_files(pattern: str, field: str = "path") -> list[str]:
    """The files matching ``pattern`` (local glob or ``s3://`` glob), sorted by name, so every
    read hands rows over in the same order; none raises :class:`NoFilesError`."""
    if pattern.startswith("s3://"):
        import s3fs

        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint} if endpoint else {})
        try:
            files = sorted(f"s3://{key}" for key in fs.glob(pattern) if not key.endswith("/"))
        except FileNotFoundError:
            files = []
    else:
        files = sorted(f for f in glob.glob(pattern) if os.path.isfile(f))
    if not files:
        raise NoFilesError(f"{field}: no file matches {pattern!r}")
    return files


def read_file(path: str) -> pl.DataFrame:
    """One Parquet or CSV file (CSV as strings), local or on S3."""
    opts = _storage_options(path)
    if path.endswith((".csv", ".csv.gz")):
        if opts is None:
            return pl.read_csv(path, infer_schema=False)
        return pl.scan_csv(path, storage_options=opts, infer_schema=False).collect()
    if opts is None:
        return pl.read_parquet(path)
    return pl.scan_parquet(path, storage_options=opts).collect()


def read_each(pattern: str, field: str = "path") -> tuple[pl.DataFrame, list[UnreadableFile]]:
    """Every readable file matching ``pattern`` (with a ``SOURCE_FILE`` column naming it), in
    name order, and the files that could not be read with the reason in one line."""
    frames, unreadable = [], []
    for path in list_files(pattern, field):
        try:
            frame = read_file(path)
        except (pl.exceptions.PolarsError, OSError, UnicodeError) as exc:
            unreadable.append(UnreadableFile(path, one_line(exc)))
            continue
        frames.append(frame.with_columns(pl.lit(path).alias(SOURCE_FILE)))
    if not frames:
        return pl.DataFrame(schema={SOURCE_FILE: pl.String()}), unreadable
    return pl.concat(frames, how="diagonal_relaxed"), unreadable


def read_files(pattern: str, field: str = "path") -> pl.DataFrame:
    """Read every Parquet/CSV file matching ``pattern`` as strings-or-native columns.

    A pattern that matches nothing raises :class:`NoFilesError` naming ``field`` (the config
    key it came from): read as no rows, a mistyped path would store empty days. A file that
    cannot be read raises :class:`UnreadableFileError` naming it (prices, labels and verdicts
    are read whole; transfer sources quarantine such a file instead, see :func:`read_each`)."""
    frame, unreadable = read_each(pattern, field)
    if unreadable:
        raise UnreadableFileError(f"{field}: {unreadable[0]}")
    return frame
