"""The prepared transfer frame a detector sees (``Span``), integer ids, degrees and the
shape every detector's output takes (``finish``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numba
import numpy as np
import polars as pl

from analytics_platform.domain.prices import with_usd
from analytics_platform.domain.schemas import STRUCTURAL_PATTERNS, conform, empty


@dataclass
class PatternResult:
    patterns: pl.DataFrame
    limits_hit: dict[str, int] = field(default_factory=dict)


@dataclass
class Span:
    """The transfers a detector may look at (the day's horizon) and the day it reports."""

    t: pl.DataFrame  # row, tx, src, dst, time, amt, asset, usd
    network: str
    day: date
    hits: dict[str, int]
    _coded: tuple[pl.DataFrame, pl.Series] | None = None

    def coded(self) -> tuple[pl.DataFrame, pl.Series]:
        """:func:`address_ids` of ``t`` (computed once per span)."""
        if self._coded is None:
            self._coded = address_ids(self.t)
        return self._coded

    @property
    def start(self) -> datetime:
        """The first instant of the reported day (UTC)."""
        return datetime.combine(self.day, time(), tzinfo=UTC)

    def hit(self, limit: str, count: int = 1) -> None:
        if count:
            self.hits[limit] = self.hits.get(limit, 0) + int(count)


def prepare(
    transfers: pl.DataFrame, exclude: Iterable[str], prices: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Self-transfers and excluded service addresses dropped; short column names; ``usd``: the
    transfer's USD value at its day's price (null without one)."""
    excluded = pl.Series(list(exclude), dtype=pl.String).implode()
    if prices is not None:
        transfers = with_usd(transfers, prices, "amount", "usd")
    else:
        transfers = transfers.with_columns(pl.lit(None, pl.Float64).alias("usd"))
    return (
        transfers.lazy()
        .filter(pl.col("from_address") != pl.col("to_address"))
        .filter(~pl.col("from_address").is_in(excluded) & ~pl.col("to_address").is_in(excluded))
        .select(
            pl.col("tx_hash").alias("tx"),
            pl.col("from_address").alias("src"),
            pl.col("to_address").alias("dst"),
            pl.col("block_time").alias("time"),
            pl.col("amount").cast(pl.Float64).alias("amt"),
            pl.col("asset"),
            pl.col("usd"),
        )
        .sort("time", "tx")
        .with_row_index("row")
        .collect()
    )


def address_ids(t: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """``t`` as integers, for detectors whose joins and lists are cheaper on them: ``src``/
    ``dst`` become address ids (rank in address order), ``tx`` the transfer's row; with the
    addresses by id. Rows stay in ``t``'s order (``tx`` indexes ``t["tx"]``). ``usd`` and
    ``asset_id`` (the asset's rank) travel along for :func:`side_values`."""
    names = pl.concat([t["src"], t["dst"]]).unique().sort()
    index = pl.DataFrame({"a": names, "id": pl.int_range(names.len(), dtype=pl.UInt32, eager=True)})
    coded = (
        t.join(index.rename({"a": "src", "id": "s"}), on="src", how="left", maintain_order="left")
        .join(index.rename({"a": "dst", "id": "d"}), on="dst", how="left", maintain_order="left")
        .select(
            pl.col("s").alias("src"),
            pl.col("d").alias("dst"),
            pl.col("row").alias("tx"),
            "time",
            "amt",
            "usd",
            pl.col("asset").rank("dense").alias("asset_id"),
        )
    )
    return coded, names


@numba.njit(cache=True, nogil=True)
def on_path(nodes, depth, node):
    """Whether ``node`` is one of ``nodes[0..depth]`` (a walk's path so far)."""
    for k in range(depth + 1):  # noqa: SIM110 (numba compiles a loop, not any() of a generator)
        if nodes[k] == node:
            return True
    return False


def decode_ids(df: pl.DataFrame, values: dict[str, pl.Series]) -> pl.DataFrame:
    """Columns of integer positions (ids, transfer rows), or lists of them, replaced by the
    ``values`` at those positions."""
    if df.height == 0:
        return df.with_columns(
            pl.col(c).cast(pl.List(v.dtype) if isinstance(df.schema[c], pl.List) else v.dtype)
            for c, v in values.items()
        )
    keyed = df.with_row_index("_i")
    for column, lookup in values.items():
        if not isinstance(df.schema[column], pl.List):
            keyed = keyed.with_columns(pl.lit(lookup).gather(pl.col(column)).alias(column))
            continue
        decoded = (
            keyed.select("_i", column)
            .explode(column, empty_as_null=False)
            .select("_i", pl.lit(lookup).gather(pl.col(column)).alias(column))
            .group_by("_i", maintain_order=True)
            .agg(pl.col(column).drop_nulls())
        )
        keyed = (
            keyed.drop(column)
            .join(decoded, on="_i", how="left", maintain_order="left")
            .with_columns(pl.col(column).fill_null(pl.lit([], dtype=pl.List(lookup.dtype))))
        )
    return keyed.drop("_i").select(df.columns)


def walk_hops(found: np.ndarray, edges: pl.DataFrame, span: Span) -> pl.DataFrame:
    """Walks a compiled search found (rows of indices into ``edges``, -1 padded) as one row per
    hop, in walk order: walk, src, dst (addresses), tx (hash), time, amt, usd, asset_id. Only
    the hops kept are decoded."""
    hops = (found >= 0).sum(axis=1)
    flat = pl.DataFrame(
        {"walk": np.repeat(np.arange(found.shape[0]), hops), "edge": found[found >= 0]}
    )
    rows = flat.join(
        edges.select("src", "dst", "tx", "time", "amt", "usd", "asset_id")
        .with_row_index("edge")
        .with_columns(pl.col("edge").cast(pl.Int64)),
        on="edge",
        maintain_order="left",
    )
    names = span.coded()[1]
    return decode_ids(rows, {"src": names, "dst": names, "tx": span.t["tx"]})


def csr_offsets(keys: np.ndarray, n: int) -> np.ndarray:
    """Where each of the ids ``0..n-1`` starts in ``keys`` (sorted), plus the end: the rows of
    id ``i`` are ``offsets[i]:offsets[i + 1]``."""
    return np.searchsorted(keys, np.arange(n + 1)).astype(np.int64)


def degree(t: pl.DataFrame) -> pl.DataFrame:
    """Distinct counterparties per address (both directions) in the span."""
    pairs = pl.concat(
        [
            t.select(pl.col("src").alias("a"), pl.col("dst").alias("b")),
            t.select("dst", "src").rename({"dst": "a", "src": "b"}),
        ]
    )
    return pairs.group_by("a").agg(pl.col("b").n_unique().alias("degree"))


def low_degree(t: pl.DataFrame, max_degree: int) -> tuple[pl.Series, int]:
    """Addresses with at most ``max_degree`` counterparties, and how many were above it."""
    d = degree(t)
    return d.filter(pl.col("degree") <= max_degree)["a"], int((d["degree"] > max_degree).sum())


def busiest_windows(
    rows: pl.DataFrame, period: timedelta, size: pl.Expr, minimum: int, *extra: pl.Expr
) -> pl.DataFrame:
    """Per centre and day, the sliding window (``period``) over its transfers with the largest
    ``size`` (ties: the earliest), if at least ``minimum``.

    ``rows``: center, other, tx, amt, time, sorted by center and time. The result has size,
    others, tx_hashes, total_amount, first_time, last_time and the ``extra`` aggregations.
    """
    windows = rows.rolling(index_column="time", period=period, group_by="center").agg(
        size.alias("size"),
        pl.col("other").unique(maintain_order=True).alias("others"),
        pl.col("tx").alias("tx_hashes"),
        pl.col("amt").sum().alias("total_amount"),
        pl.col("time").min().alias("first_time"),
        pl.col("time").max().alias("last_time"),
        *extra,
    )
    return (
        windows.filter(pl.col("size") >= minimum)
        .with_columns(pl.col("last_time").dt.date().alias("day"))
        .sort(["center", "day", "size", "last_time"], descending=[False, False, True, False])
        .group_by("center", "day", maintain_order=True)
        .first()
    )


def pattern_id(network: str, pattern_type: str, tx_hashes: pl.Expr) -> pl.Expr:
    """Deterministic id: hash of network, type and the sorted transfer hashes."""
    key = pl.format(
        "{}|{}|{}", pl.lit(network), pl.lit(pattern_type), tx_hashes.list.sort().list.join(",")
    )
    return pl.format("{}-{}", pl.lit(pattern_type), key.hash(seed=20261123).cast(pl.String))


def finish(found: pl.DataFrame, span: Span, pattern_type: str) -> pl.DataFrame:
    """Patterns ending on ``span.day`` in the ``structural_patterns`` shape.

    ``found`` has members, roles, tx_hashes, center_address, total_amount, first_time,
    last_time, score and details (a JSON object of the values that define the pattern).
    """
    if found.height == 0:
        return empty(STRUCTURAL_PATTERNS)
    out = (
        found.filter(pl.col("last_time").dt.date() == span.day)
        .with_columns(
            pl.lit(span.network).alias("network"),
            pl.col("last_time").dt.date().alias("date"),
            pl.lit(pattern_type).alias("pattern_type"),
            pl.col("tx_hashes").list.len().cast(pl.Int64).alias("transfer_count"),
            pl.col("score").clip(0.0, 1.0),
            pl.lit(None, pl.Float64).alias("total_amount_usd"),  # see with_usd_totals
        )
        .with_columns(
            pattern_id(span.network, pattern_type, pl.col("tx_hashes")).alias("pattern_id")
        )
        .unique("pattern_id", keep="first", maintain_order=True)
    )
    return conform(out, STRUCTURAL_PATTERNS)
