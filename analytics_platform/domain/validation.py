"""Turn raw transfer records into validated ``transfers`` rows plus dead letters.

Table-level problems (a missing column) raise :class:`TransferInputError` naming the field.
Row-level problems (unparsable timestamp or amount, negative amount, malformed address,
conflicting duplicate key) reject that row into the dead-letter frame with the field, value and
reason. Exact duplicates are dropped and counted. Invariant: ``read = accepted + rejected +
duplicates``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from analytics_platform.domain.schemas import AMOUNT, DEAD_LETTERS, TRANSFERS, conform

SOURCE_FILE_COLUMN = "_source_file"
"""Optional raw column naming the file a row came from (set by file sources)."""
REQUIRED_COLUMNS = ("tx_hash", "block_time", "from_address", "to_address", "amount")
OPTIONAL_COLUMNS = {"transfer_index": pl.Int64(), "block_number": pl.Int64(), "asset": pl.String()}
_TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
)


class TransferInputError(ValueError):
    """Raised when a whole input cannot be read as transfers (names the field and value)."""


@dataclass(frozen=True)
class ValidationResult:
    accepted: pl.DataFrame
    rejected: pl.DataFrame
    read: int
    duplicates: int
    duplicates_by_day: dict[date, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "accepted": self.accepted.height,
            "rejected": self.rejected.height,
            "duplicates": self.duplicates,
        }

    def counts_on(self, day: date) -> dict[str, int]:
        """:attr:`counts` of one partition day."""
        accepted = int((self.accepted["date"] == day).sum())
        rejected = int((self.rejected["date"] == day).sum())
        duplicates = self.duplicates_by_day.get(day, 0)
        return {
            "read": accepted + rejected + duplicates,
            "accepted": accepted,
            "rejected": rejected,
            "duplicates": duplicates,
        }


def parse_timestamps(col: pl.Expr) -> pl.Expr:
    """Parse ISO-8601 strings (any of the common layouts, offset or naive=UTC) to UTC ms."""
    text = col.cast(pl.String).str.strip_chars()
    attempts = []
    for fmt in _TIME_FORMATS:
        tz_aware = "%#z" in fmt
        parsed = text.str.to_datetime(
            fmt, strict=False, time_unit="ms", time_zone="UTC" if tz_aware else None
        )
        if not tz_aware:
            parsed = parsed.dt.replace_time_zone("UTC")
        attempts.append(parsed)
    # A trailing 'Z' is not matched by %#z on every polars version: normalise it first.
    return pl.coalesce(attempts)


def _normalise_time_column(df: pl.DataFrame) -> pl.Expr:
    dtype = df.schema["block_time"]
    if isinstance(dtype, pl.Datetime):
        expr = pl.col("block_time")
        if dtype.time_zone is None:
            expr = expr.dt.replace_time_zone("UTC")
        return expr.dt.convert_time_zone("UTC").dt.cast_time_unit("ms")
    if dtype.is_integer():  # unix seconds
        return (
            pl.from_epoch(pl.col("block_time"), time_unit="s")
            .dt.replace_time_zone("UTC")
            .dt.cast_time_unit("ms")
        )
    text = pl.col("block_time").cast(pl.String).str.replace(r"Z$", "+00:00")
    return parse_timestamps(text)


def validate_transfers(
    raw: pl.DataFrame,
    *,
    network: str,
    address_pattern: str,
    source: str,
    day: date | None = None,
    last_day: date | None = None,
    passthrough: tuple[str, ...] = (),
) -> ValidationResult:
    """Validate raw transfer records for ``network``.

    ``passthrough`` raw columns (e.g. a message's partition and offset) are appended unchanged
    to the accepted and the rejected rows, so callers can trace every row to its record.

    When ``day`` is given, rows whose block time falls outside the days ``day..last_day``
    (``last_day`` defaults to ``day``) are not part of these partitions and are dropped before
    counting (they belong to other days). Rows whose time cannot be parsed are kept and
    dead-lettered under ``day``.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise TransferInputError(
            f"transfers input from {source!r} is missing required column {missing[0]!r} "
            f"(columns present: {sorted(raw.columns)})"
        )
    try:
        re.compile(address_pattern)
    except re.error as exc:
        raise TransferInputError(f"address_pattern: invalid regex {address_pattern!r}") from exc

    df = raw.with_row_index("_row")
    for name, dtype in OPTIONAL_COLUMNS.items():
        if name not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(name))
    df = df.with_columns(
        pl.col("tx_hash").cast(pl.String).str.strip_chars().alias("tx_hash"),
        pl.col("from_address").cast(pl.String).str.strip_chars().alias("from_address"),
        pl.col("to_address").cast(pl.String).str.strip_chars().alias("to_address"),
        pl.col("asset").cast(pl.String).fill_null("NATIVE").alias("asset"),
        pl.col("block_number").cast(pl.Int64, strict=False).alias("block_number"),
        pl.col("transfer_index").cast(pl.Int64, strict=False).alias("_index_parsed"),
        _normalise_time_column(raw).alias("_time"),
        pl.col("amount").cast(pl.String).str.strip_chars().alias("_amount_text"),
    ).with_columns(pl.col("_amount_text").cast(AMOUNT, strict=False).alias("_amount"))
    # EVM-style hex addresses compare case-insensitively (checksummed input): normalise them,
    # keeping the raw text for dead letters.
    hex_like = address_pattern.startswith("^0x")
    for side in ("from_address", "to_address"):
        norm = pl.col(side).str.to_lowercase() if hex_like else pl.col(side)
        df = df.with_columns(norm.alias(f"_{side}"))

    # The day a row belongs to: its block time's UTC day; a row whose time cannot be parsed is
    # attributed to the most common day of its source file (SOURCE_FILE_COLUMN) or, failing
    # that, to ``day``, so the same bad record is dead-lettered under one partition only.
    group = pl.col(SOURCE_FILE_COLUMN) if SOURCE_FILE_COLUMN in df.columns else pl.lit(0)
    hint = pl.col("_time").dt.date().drop_nulls().mode().first().over(group)
    df = df.with_columns(
        pl.coalesce(pl.col("_time").dt.date(), hint, pl.lit(day, dtype=pl.Date)).alias("_day")
    )
    if day is not None:
        df = df.filter(pl.col("_day").is_between(day, last_day or day))
    read = df.height

    # First failing rule wins; rules are ordered so the reason names the first bad field.
    rules: list[tuple[str, pl.Expr, str]] = [
        ("tx_hash", pl.col("tx_hash").is_null() | (pl.col("tx_hash") == ""), "missing tx hash"),
        ("block_time", pl.col("_time").is_null(), "unparsable timestamp"),
        ("amount", pl.col("_amount").is_null(), "unparsable amount"),
        ("amount", pl.col("_amount") < 0, "negative amount"),
        (
            "from_address",
            ~pl.col("_from_address").fill_null("").str.contains(address_pattern),
            f"malformed address (expected {address_pattern})",
        ),
        (
            "to_address",
            ~pl.col("_to_address").fill_null("").str.contains(address_pattern),
            f"malformed address (expected {address_pattern})",
        ),
        (
            "transfer_index",
            pl.col("transfer_index").is_not_null()
            & (pl.col("_index_parsed").is_null() | (pl.col("_index_parsed") < 0)),
            "transfer index is not a non-negative integer",
        ),
    ]
    field_expr = pl.lit(None, dtype=pl.String)
    reason_expr = pl.lit(None, dtype=pl.String)
    for field_name, bad, reason in reversed(rules):
        field_expr = pl.when(bad.fill_null(True)).then(pl.lit(field_name)).otherwise(field_expr)
        reason_expr = pl.when(bad.fill_null(True)).then(pl.lit(reason)).otherwise(reason_expr)
    df = df.with_columns(field_expr.alias("_field"), reason_expr.alias("_reason"))

    bad_rows = df.filter(pl.col("_field").is_not_null())
    good = df.filter(pl.col("_field").is_null())

    # A missing transfer index is the row's position within its transaction (input order).
    good = good.with_columns(
        pl.coalesce(
            pl.col("_index_parsed"),
            pl.int_range(pl.len()).over("tx_hash", order_by="_row").cast(pl.Int64),
        ).alias("transfer_index")
    )
    content = ["block_time", "from_address", "to_address", "asset", "amount"]
    good = good.with_columns(
        pl.col("_time").alias("block_time"),
        pl.col("_amount").alias("amount"),
        pl.col("_from_address").alias("from_address"),
        pl.col("_to_address").alias("to_address"),
    )
    exact = good.unique(["tx_hash", "transfer_index", *content], keep="first", maintain_order=True)
    duplicates = good.height - exact.height
    duplicates_by_day = (
        {
            d: int(n)
            for d, n in good.group_by("_day")
            .len()
            .join(exact.group_by("_day").len(), on="_day", suffix="_kept")
            .select("_day", pl.col("len") - pl.col("len_kept"))
            .iter_rows()
            if n
        }
        if duplicates
        else {}
    )
    first_of_key = pl.int_range(pl.len()).over(["tx_hash", "transfer_index"], order_by="_row") == 0
    accepted = exact.filter(first_of_key)
    conflicting = exact.filter(~first_of_key).with_columns(
        pl.lit("tx_hash,transfer_index").alias("_field"),
        pl.lit("duplicate (tx_hash, transfer_index) with different content").alias("_reason"),
    )

    kept_accepted = accepted.select(passthrough)
    accepted = conform(
        accepted.with_columns(
            pl.lit(network).alias("network"), pl.col("block_time").dt.date().alias("date")
        ),
        TRANSFERS,
    ).hstack(kept_accepted)
    rejected = pl.concat([bad_rows, conflicting], how="diagonal_relaxed")
    kept_rejected = rejected.select(passthrough)
    raw_columns = [c for c in raw.columns if c not in passthrough]
    rejected = _dead_letters(rejected, raw_columns, network=network, source=source, day=day)
    rejected = rejected.hstack(kept_rejected)
    assert read == accepted.height + rejected.height + duplicates
    return ValidationResult(
        accepted=accepted,
        rejected=rejected,
        read=read,
        duplicates=duplicates,
        duplicates_by_day=duplicates_by_day,
    )


def _dead_letters(
    rows: pl.DataFrame, raw_columns: list[str], *, network: str, source: str, day: date | None
) -> pl.DataFrame:
    if rows.height == 0:
        return pl.DataFrame(schema=DEAD_LETTERS)
    value_expr = pl.lit(None, dtype=pl.String)
    for col in ("tx_hash", "from_address", "to_address", "transfer_index"):
        value_expr = (
            pl.when(pl.col("_field") == col).then(pl.col(col).cast(pl.String)).otherwise(value_expr)
        )
    value_expr = (
        pl.when(pl.col("_field") == "block_time")
        .then(pl.col("block_time").cast(pl.String))
        .when(pl.col("_field") == "amount")
        .then(pl.col("_amount_text"))
        .when(pl.col("_field") == "tx_hash,transfer_index")
        .then(pl.format("{},{}", pl.col("tx_hash"), pl.col("transfer_index")))
        .otherwise(value_expr)
    )
    fallback_day = day or date(1970, 1, 1)  # only when no day is known at all
    record = pl.struct([pl.col(c).cast(pl.String) for c in raw_columns]).struct.json_encode()
    out = rows.with_columns(
        pl.lit(network).alias("network"),
        pl.coalesce(pl.col("_day"), pl.lit(fallback_day)).alias("date"),
        pl.lit(source).alias("source"),
        record.alias("record"),
        pl.col("_field").alias("field"),
        value_expr.fill_null("").alias("value"),
        pl.format(
            "{}: {} {}", pl.col("_field"), pl.col("_reason"), value_expr.fill_null("''")
        ).alias("reason"),
    )
    return conform(out, DEAD_LETTERS)


__all__ = ["SOURCE_FILE_COLUMN", "TransferInputError", "ValidationResult", "validate_transfers"]
