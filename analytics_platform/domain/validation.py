"""Turn raw transfer records into validated ``transfers`` rows plus dead letters.

Table-level problems (a missing column) raise :class:`TransferInputError` naming the field.
Row-level problems (unparsable timestamp or amount, an amount the column cannot keep exactly,
negative amount, malformed address, a block time outside the network's partitions, conflicting
duplicate key) reject that row into the dead-letter frame with the field, value and reason.
Exact duplicates are dropped and counted. Invariant: ``read = accepted + rejected +
duplicates``, where ``read`` is counted from the rows handed over, before any rule.

Every row ends in exactly one partition day, whatever the run's range (so a partition stays a
pure function of its inputs):

- a row with a block time inside the network's partitions belongs to that day;
- a row whose time is unparsable or outside the partitions (1970, 2100) is dead-lettered under
  its source file's day (the most common day among the file's rows inside the partitions) or,
  without one, the partition day nearest to it;
- a transfer's identity (tx_hash, transfer_index) is unique across the network: of copies with
  different content, the first read is the transfer (sources hand rows over in a fixed order:
  files by name then row, tables by time then content, Kafka by offset) and the others are
  dead-lettered on their own days, naming both days. Sources hand over the rows of other days
  that share an identity with the run's rows for that reason (files are read whole).
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
    read_by_day: dict[date, int] = field(default_factory=dict)
    """Rows handed over per partition day, counted before any rule (not derived from the
    outcome, so that ``read = accepted + rejected + duplicates`` can be checked)."""

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
            "read": self.read_by_day.get(day, 0),
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
    first_partition: date | None = None,
    last_partition: date | None = None,
    fallback_day: date | None = None,
) -> ValidationResult:
    """Validate raw transfer records for ``network``.

    ``passthrough`` raw columns (e.g. a message's partition and offset) are appended unchanged
    to the accepted and the rejected rows, so callers can trace every row to its record.

    ``first_partition`` / ``last_partition``: the network's partition days (start_date,
    end_date); a row dated outside them is dead-lettered (module docstring says under which
    day). When ``day`` is given, only the rows of the days ``day..last_day`` (``last_day``
    defaults to ``day``) are this run's: the others are not counted or returned, but still
    decide which copy of a transfer identity is the transfer. ``fallback_day`` (default
    ``day``): where a row goes that has neither a usable time nor a source file day.
    """
    fallback_day = fallback_day or day
    _check_input(raw, source, address_pattern)
    df = _normalised(raw, address_pattern)
    df = _with_days(df, first_partition, last_partition, fallback_day)
    run_days = pl.lit(True) if day is None else pl.col("_day").is_between(day, last_day or day)
    if day is not None:
        df = _run_rows(df, run_days)
    df = _first_failure(df, _rules(address_pattern, first_partition, last_partition))
    bad_rows = df.filter(pl.col("_field").is_not_null())
    good, exact, accepted, conflicting = _owners(df.filter(pl.col("_field").is_null()))

    # Only now keep the days of this run: rows of other days decided who owns an identity.
    if day is not None:
        df = df.filter(run_days)
        bad_rows, good, exact = (
            bad_rows.filter(run_days),
            good.filter(run_days),
            exact.filter(run_days),
        )
        accepted, conflicting = accepted.filter(run_days), conflicting.filter(run_days)
    read = df.height
    read_by_day = dict(df.group_by("_day").len().iter_rows()) if read else {}
    duplicates = good.height - exact.height
    duplicates_by_day = _duplicates_by_day(good, exact) if duplicates else {}

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
    rejected = _dead_letters(
        rejected, raw_columns, network=network, source=source, day=fallback_day
    )
    rejected = rejected.hstack(kept_rejected)
    if read != accepted.height + rejected.height + duplicates:
        raise AssertionError(
            f"validation lost rows: read {read} != accepted {accepted.height} + rejected "
            f"{rejected.height} + duplicates {duplicates}"
        )
    return ValidationResult(
        accepted=accepted,
        rejected=rejected,
        read=read,
        duplicates=duplicates,
        duplicates_by_day=duplicates_by_day,
        read_by_day=read_by_day,
    )


def _run_rows(df: pl.DataFrame, run_days: pl.Expr) -> pl.DataFrame:
    """The rows of the run's days, and the rows of other days that share a transaction with
    them: the first copy of an identity owns it, and a missing transfer index counts the
    transaction's rows. The rest is left out before the rules, so a day's run over files of
    many days validates that day's rows, not every file's."""
    in_run = df.filter(run_days)
    shared = df.filter(~run_days).join(in_run.select("tx_hash"), on="tx_hash", how="semi")
    return pl.concat([in_run, shared]).sort("_row")


def _check_input(raw: pl.DataFrame, source: str, address_pattern: str) -> None:
    """Refuse input without a required column, or an address pattern that is no regex."""
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


def _normalised(raw: pl.DataFrame, address_pattern: str) -> pl.DataFrame:
    """``raw`` with a row number, the optional columns, and parsed copies (``_time``,
    ``_amount``, ``_index_parsed``, lower-cased hex addresses) beside the raw text."""
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
    return df


def _with_days(
    df: pl.DataFrame,
    first_partition: date | None,
    last_partition: date | None,
    fallback_day: date | None,
) -> pl.DataFrame:
    """``_inside`` (the block time's day is a partition) and ``_day`` (the partition the row
    is filed under)."""
    # The day a row belongs to (see the module docstring): its block time's UTC day inside the
    # network's partitions; else its source file's day (SOURCE_FILE_COLUMN), else the partition
    # day nearest to it, else ``fallback_day``.
    own = pl.col("_time").dt.date()
    inside = own.is_not_null()
    if first_partition is not None:
        inside = inside & (own >= first_partition)
    if last_partition is not None:
        inside = inside & (own <= last_partition)
    # A file's day is the most common day of its rows (min, not first: a tie must not depend
    # on order). Without files there is no such day: the rows a run reads depend on its range.
    hint = pl.lit(None, dtype=pl.Date)
    if SOURCE_FILE_COLUMN in df.columns:
        hint = own.filter(inside).mode().min().over(SOURCE_FILE_COLUMN)
    nearest = own  # max/min_horizontal skip nulls: an unparsable time stays null
    if first_partition is not None:
        nearest = pl.max_horizontal(nearest, pl.lit(first_partition))
    if last_partition is not None:
        nearest = pl.min_horizontal(nearest, pl.lit(last_partition))
    nearest = pl.when(own.is_not_null()).then(nearest)
    return df.with_columns(
        inside.alias("_inside"),
        pl.when(inside)
        .then(own)
        .otherwise(pl.coalesce(hint, nearest, pl.lit(fallback_day, dtype=pl.Date)))
        .alias("_day"),
    )


def _rules(
    address_pattern: str, first_partition: date | None, last_partition: date | None
) -> list[tuple[str, pl.Expr, str | pl.Expr]]:
    """The rules a row must pass, as (field, failing, reason), in the order they are judged:
    the reason names the first bad field."""
    text = pl.col("_amount_text")
    return [
        ("tx_hash", pl.col("tx_hash").is_null() | (pl.col("tx_hash") == ""), "missing tx hash"),
        ("block_time", pl.col("_time").is_null(), "unparsable timestamp"),
        ("block_time", ~pl.col("_inside"), _outside_reason(first_partition, last_partition)),
        ("amount", pl.col("_amount").is_null(), _unparsable_amount(text)),
        (
            "amount",
            _beyond_scale(text, pl.col("_amount")),
            f"has more than {AMOUNT.scale} decimal places (the column keeps {AMOUNT.scale}; "
            "it would not be stored exactly)",
        ),
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


def _first_failure(
    df: pl.DataFrame, rules: list[tuple[str, pl.Expr, str | pl.Expr]]
) -> pl.DataFrame:
    """``_field`` and ``_reason`` of the first rule a row fails (null: it passes them all)."""
    field_expr = pl.lit(None, dtype=pl.String)
    reason_expr = pl.lit(None, dtype=pl.String)
    for field_name, bad, reason in reversed(rules):
        said = pl.lit(reason) if isinstance(reason, str) else reason
        field_expr = pl.when(bad.fill_null(True)).then(pl.lit(field_name)).otherwise(field_expr)
        reason_expr = pl.when(bad.fill_null(True)).then(said).otherwise(reason_expr)
    return df.with_columns(field_expr.alias("_field"), reason_expr.alias("_reason"))


def _owners(
    good: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The rows that passed the rules with their transfer index and parsed values, those
    without an exact copy read before them, the first copy of each identity (the transfer)
    and the conflicting later copies (dead letters)."""
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
    # One transfer per identity across every day handed over: the first copy read is the
    # transfer (sources hand rows over in a fixed order: files by name, tables by time, Kafka
    # by offset); exact copies are duplicates, the rest conflicts.
    key = ["tx_hash", "transfer_index"]
    exact = good.unique([*key, *content], keep="first", maintain_order=True)
    first_of_key = pl.int_range(pl.len()).over(key, order_by="_row") == 0
    exact = exact.with_columns(
        first_of_key.alias("_owner"),
        pl.col("_day").sort_by("_row").first().over(key).alias("_owner_day"),
    )
    accepted = exact.filter(pl.col("_owner"))
    conflicting = exact.filter(~pl.col("_owner")).with_columns(
        pl.lit("tx_hash,transfer_index").alias("_field"),
        pl.when(pl.col("_owner_day") == pl.col("_day"))
        .then(pl.lit("duplicate (tx_hash, transfer_index) with different content"))
        .otherwise(
            pl.format(
                "is stored on {} with other content: this copy, on {}, is a conflicting duplicate",
                pl.col("_owner_day"),
                pl.col("_day"),
            )
        )
        .alias("_reason"),
    )
    return good, exact, accepted, conflicting


def _duplicates_by_day(good: pl.DataFrame, exact: pl.DataFrame) -> dict[date, int]:
    """Per day, the exact copies of a transfer read after it."""
    return {
        d: int(n)
        for d, n in good.group_by("_day")
        .len()
        .join(exact.group_by("_day").len(), on="_day", how="left", suffix="_kept")
        .select("_day", pl.col("len") - pl.col("len_kept").fill_null(0))
        .iter_rows()
        if n
    }


def nearest_partition(day: date, first: date | None, last: date | None) -> date:
    """``day`` moved inside the partitions ``first..last`` (either end may be open): where a
    record dated ``day`` is filed when it has no partition of its own."""
    if first is not None:
        day = max(day, first)
    return min(day, last) if last is not None else day


def _outside_reason(first: date | None, last: date | None) -> pl.Expr:
    """Why a parsed block time has no partition: before the first or after the last one."""
    before = f"is before the network's first partition {first} (start_date)"
    after = f"is after the network's last partition {last}"
    if first is None:
        return pl.lit(after)
    return pl.when(pl.col("_time").dt.date() < first).then(pl.lit(before)).otherwise(pl.lit(after))


_PLAIN_DECIMAL = r"^[+-]?\d*\.?\d*$"


def _unparsable_amount(text: pl.Expr) -> pl.Expr:
    """A number too large for the column is said as such, not as unparsable."""
    digits = AMOUNT.precision - AMOUNT.scale
    too_large = text.str.contains(rf"^[+-]?0*\d{{{digits + 1},}}(\.\d*)?$")
    return (
        pl.when(too_large.fill_null(False))
        .then(
            pl.lit(
                f"has more than {digits} digits before the decimal point (the column keeps "
                f"{digits})"
            )
        )  # fmt: skip
        .otherwise(pl.lit("unparsable amount"))
    )


def _beyond_scale(text: pl.Expr, parsed: pl.Expr) -> pl.Expr:
    """The amount text has a non-zero digit past the column's scale, so storing it would
    round it (``0.0000000000000000000001`` would be stored as 0). Exponent forms are checked
    through their float value: a non-zero number stored as zero."""
    plain = text.str.contains(_PLAIN_DECIMAL)
    extra = text.str.contains(rf"\.\d{{{AMOUNT.scale}}}\d*[1-9]")
    vanished = (parsed == 0) & (text.cast(pl.Float64, strict=False).fill_null(0) != 0)
    return pl.when(plain).then(extra).otherwise(vanished)


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
        # "field: reason value", or "field value reason" for a reason said of the value
        pl.when(pl.col("_reason").str.contains("^(is|has) "))
        .then(pl.format("{} {} {}", pl.col("_field"), value_expr.fill_null("''"), "_reason"))
        .otherwise(
            pl.format("{}: {} {}", pl.col("_field"), pl.col("_reason"), value_expr.fill_null("''"))
        )
        .alias("reason"),
    )
    return conform(out, DEAD_LETTERS)


__all__ = [
    "SOURCE_FILE_COLUMN",
    "TransferInputError",
    "ValidationResult",
    "nearest_partition",
    "validate_transfers",
]
