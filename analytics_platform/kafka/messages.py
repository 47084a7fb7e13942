"""Kafka transfer messages: decode JSON payloads and classify every message exactly once.

Each message becomes one row with a ``status``:

- ``accepted``: a new transfer (validated like every other source: timestamps, amounts,
  addresses);
- ``rejected``: not JSON, not an object, a missing or mistyped field, an unknown network, or a
  value the transfer validation refuses; the row keeps the raw payload, field and reason;
- ``duplicate``: the same transfer as another message of the batch or as one already stored
  (same key and content). A stored transfer with the same key but other content is rejected.

Invariant per batch: ``read = accepted + rejected + duplicates``. Pure: polars in, polars out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import polars as pl

from analytics_platform.domain.schemas import MESSAGES
from analytics_platform.domain.validation import nearest_partition, validate_transfers

STATUSES = ("accepted", "rejected", "duplicate")
NO_DATE = date(1970, 1, 1)
"""The ``date`` of a rejected message whose block time is unknown."""

RAW_MESSAGES: dict[str, pl.DataType] = {
    "partition": pl.Int32(),
    "offset": pl.Int64(),
    "payload": pl.Binary(),
}

_STRING = (str,)
_INTEGER = (int,)
_NUMBER = (str, int, float)
REQUIRED_FIELDS: dict[str, tuple[type, ...]] = {
    "tx_hash": _STRING,
    # One message is one transfer: its index in the transaction (log index) is its identity.
    "transfer_index": _INTEGER,
    "block_time": (str, int),
    "from_address": _STRING,
    "to_address": _STRING,
    "amount": _NUMBER,
}
OPTIONAL_FIELDS: dict[str, tuple[type, ...]] = {
    "network": _STRING,
    "block_number": _INTEGER,
    "asset": _STRING,
}
_CONTENT = ("block_time", "from_address", "to_address", "asset", "amount")
_TYPE_NAMES = {str: "string", int: "integer", float: "number"}


def _type_error(value: object, allowed: tuple[type, ...]) -> str | None:
    """None when ``value`` has one of the ``allowed`` JSON types (booleans are not numbers)."""
    if isinstance(value, allowed) and not isinstance(value, bool):
        return None
    names = " or ".join(_TYPE_NAMES[t] for t in allowed)
    return f"expected {names}, got {type(value).__name__} {json.dumps(value)[:80]}"


def _as_text(name: str, value: object) -> str:
    if name == "block_time" and isinstance(value, int):
        return datetime.fromtimestamp(value, UTC).isoformat()
    if isinstance(value, float):
        return format(value, "f")
    return str(value)


def decode(raw: pl.DataFrame, network: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split raw messages (``RAW_MESSAGES``) into transfer records (text columns plus
    partition/offset) and rejects (``MESSAGES`` rows) for payloads that are not a JSON object
    with the fields of the message schema."""
    records: dict[str, list] = {
        k: [] for k in ("partition", "offset", *REQUIRED_FIELDS, *OPTIONAL_FIELDS)
    }
    rejects: list[dict] = []
    for partition, offset, payload in raw.select("partition", "offset", "payload").iter_rows():
        text = payload.decode("utf-8", errors="replace") if payload is not None else ""
        problem = None
        try:
            body = json.loads(text)
        except ValueError as exc:
            problem = ("payload", f"not JSON: {exc}")
        else:
            if not isinstance(body, dict):
                problem = ("payload", f"not a JSON object: {type(body).__name__}")
            else:
                problem = _field_problem(body, network)
        if problem:
            rejects.append(
                {
                    "partition": partition,
                    "offset": offset,
                    "field": problem[0],
                    "reason": f"{problem[0]}: {problem[1]}",
                    "payload": text,
                }
            )
            continue
        records["partition"].append(partition)
        records["offset"].append(offset)
        for name in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS):
            value = body.get(name)
            records[name].append(None if value is None else _as_text(name, value))
    decoded = pl.DataFrame(
        records,
        schema={
            "partition": pl.Int32(),
            "offset": pl.Int64(),
            **{name: pl.String() for name in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)},
        },
    )
    rejected = pl.DataFrame(
        rejects,
        schema={
            "partition": pl.Int32(),
            "offset": pl.Int64(),
            "field": pl.String(),
            "reason": pl.String(),
            "payload": pl.String(),
        },
    ).with_columns(pl.lit("rejected").alias("status"), pl.lit(network).alias("network"))
    return decoded, _conform(rejected)


def _field_problem(body: dict, network: str) -> tuple[str, str] | None:
    for name, allowed in REQUIRED_FIELDS.items():
        if body.get(name) is None:
            return name, "missing field"
        error = _type_error(body[name], allowed)
        if error:
            return name, error
    for name, allowed in OPTIONAL_FIELDS.items():
        if body.get(name) is not None:
            error = _type_error(body[name], allowed)
            if error:
                return name, error
    if body.get("network") not in (None, network):
        return "network", f"unknown network {body['network']!r} (this topic carries {network!r})"
    return None


def classify(
    raw: pl.DataFrame,
    *,
    network: str,
    address_pattern: str,
    source: str,
    stored: pl.DataFrame | Callable[[list[str]], pl.DataFrame] | None = None,
    first_partition: date | None = None,
    last_partition: date | None = None,
    received: date | None = None,
) -> pl.DataFrame:
    """One ``MESSAGES`` row per raw message: accepted, rejected (with reason) or duplicate.

    ``stored``: transfers already stored (``TRANSFERS`` columns), or a function returning those
    with the given tx hashes; a message repeating one of them is a duplicate, or rejected when
    its content differs.

    ``first_partition`` / ``last_partition``: the network's partition days; ``received``: the
    day the messages arrived. A message dated before the first partition, after the last, or
    more than a day after it arrived (a clock that is wrong: its day has no partition yet) is
    rejected; a rejected message without a usable date is filed under the arrival day (within
    the partitions), so every message reaches a partition's dead letters.
    """
    if received is not None:
        ahead = received + timedelta(days=1)
        last_partition = min(last_partition, ahead) if last_partition else ahead
    fallback = (
        None if received is None else nearest_partition(received, first_partition, last_partition)
    )
    decoded, rejected_early = decode(raw, network)
    payloads = raw.select(
        pl.col("partition").cast(pl.Int32),
        pl.col("offset").cast(pl.Int64),
        pl.col("payload").cast(pl.String).alias("_payload"),
    )
    result = validate_transfers(
        decoded,
        network=network,
        address_pattern=address_pattern,
        source=source,
        passthrough=("partition", "offset"),
        first_partition=first_partition,
        last_partition=last_partition,
        fallback_day=fallback,
    )
    accepted = result.accepted
    rejected = result.rejected.select(
        "partition", "offset", "field", "reason", pl.col("date")
    ).with_columns(pl.lit("rejected").alias("status"), pl.lit(network).alias("network"))
    if callable(stored):
        stored = stored(accepted["tx_hash"].unique().to_list()) if accepted.height else None
    if stored is not None and stored.height and accepted.height:
        accepted, rejected = _against_stored(accepted, rejected, stored, network)
    rejected = rejected.join(payloads, on=["partition", "offset"], how="left").with_columns(
        pl.col("_payload").alias("payload")
    )
    duplicates = _duplicates(decoded, accepted, rejected, network)
    out = pl.concat(
        [
            _conform(accepted.with_columns(pl.lit("accepted").alias("status"))),
            _conform(rejected),
            _conform(rejected_early),
            _conform(duplicates),
        ],
        how="vertical",
    ).sort("partition", "offset")
    if fallback is not None:
        out = out.with_columns(
            pl.when(pl.col("date") == NO_DATE).then(fallback).otherwise("date").alias("date")
        )
    if out.height != raw.height:  # every message is classified exactly once
        raise AssertionError(f"classified {out.height} of {raw.height} messages")
    return out


def _duplicates(
    decoded: pl.DataFrame, accepted: pl.DataFrame, rejected: pl.DataFrame, network: str
) -> pl.DataFrame:
    """The decoded messages neither accepted nor rejected: copies of a transfer seen before."""
    taken = pl.concat(
        [accepted.select("partition", "offset"), rejected.select("partition", "offset")]
    )
    return (
        decoded.select("partition", "offset")
        .join(taken, on=["partition", "offset"], how="anti")
        .join(decoded.select("partition", "offset", "tx_hash"), on=["partition", "offset"])
        .select(
            "partition",
            "offset",
            "tx_hash",
            pl.lit("duplicate").alias("status"),
            pl.lit(network).alias("network"),
            pl.lit("tx_hash,transfer_index").alias("field"),
            pl.lit("repeats a transfer already seen").alias("reason"),
        )
    )


def _against_stored(
    accepted: pl.DataFrame, rejected: pl.DataFrame, stored: pl.DataFrame, network: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``accepted`` without the messages that repeat a stored transfer (duplicates) or
    conflict with one (other content: added to ``rejected`` with the reason)."""
    known = stored.select("tx_hash", "transfer_index", *_CONTENT).unique(
        ["tx_hash", "transfer_index"], keep="first"
    )
    matched = accepted.join(known, on=["tx_hash", "transfer_index"], how="inner", suffix="_stored")
    same = pl.all_horizontal([pl.col(c) == pl.col(f"{c}_stored") for c in _CONTENT])
    repeats = matched.filter(same).select("partition", "offset")
    conflicts = matched.filter(~same).select(
        "partition", "offset", pl.col("block_time_stored").dt.date().alias("_stored_day")
    )
    rejected = pl.concat(
        [
            rejected,
            accepted.join(conflicts, on=["partition", "offset"]).select(
                "partition",
                "offset",
                pl.lit("tx_hash,transfer_index").alias("field"),
                pl.format(
                    "tx_hash,transfer_index: conflicts with the stored transfer {},{} of {} "
                    "(other content; this copy is on {})",
                    "tx_hash",
                    "transfer_index",
                    "_stored_day",
                    "date",
                ).alias("reason"),
                "date",
                pl.lit("rejected").alias("status"),
                pl.lit(network).alias("network"),
            ),
        ],
        how="diagonal_relaxed",
    )
    accepted = accepted.join(
        pl.concat([repeats, conflicts.select("partition", "offset")]),
        on=["partition", "offset"],
        how="anti",
    )
    return accepted, rejected


def _conform(df: pl.DataFrame) -> pl.DataFrame:
    cols = []
    for name, dtype in MESSAGES.items():
        if name in df.columns:
            cols.append(pl.col(name).cast(dtype))
        elif name == "date":
            cols.append(pl.lit(NO_DATE, dtype=pl.Date()).alias(name))
        elif name in ("field", "reason", "payload"):
            cols.append(pl.lit("", dtype=dtype).alias(name))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return df.select(cols).with_columns(
        pl.col("date").fill_null(NO_DATE),
        pl.col("field").fill_null(""),
        pl.col("reason").fill_null(""),
        pl.col("payload").fill_null(""),
    )


def counts(messages: pl.DataFrame) -> dict[str, int]:
    """``read``, ``accepted``, ``rejected`` and ``duplicates`` of classified messages."""
    by = dict(messages.group_by("status").len().iter_rows())
    return {
        "read": messages.height,
        "accepted": by.get("accepted", 0),
        "rejected": by.get("rejected", 0),
        "duplicates": by.get("duplicate", 0),
    }
