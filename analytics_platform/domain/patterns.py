"""Structural pattern detection over a span of transfers: fan-in, fan-out and cycles.

Every detector is time-aware and bounded:

- fan-out / fan-in: one centre address sends to / receives from at least ``min_fan`` distinct
  counterparties within ``fan_window`` (a sliding window over the centre's transfers); centres
  above ``max_fan`` distinct counterparties are skipped and counted as a limit hit (they are
  services, not mules).
- cycle: a time-ordered chain of ``min_cycle_length``..``max_cycle_length`` hops through distinct
  addresses returning to its origin within ``cycle_window``, each hop passing on between
  ``min_hop_ratio`` and ``max_hop_ratio`` of the previous hop's amount. Addresses with more than
  ``max_cycle_degree`` recipients in the span are not expanded, and path enumeration stops at
  ``path_budget`` partial paths per step; both are reported when hit.

A pattern belongs to the partition day of its last transfer, so a span covering several days
never reports the same pattern for two partitions. Pattern ids are content hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from analytics_platform.domain.schemas import STRUCTURAL_PATTERNS, conform, empty


@dataclass(frozen=True)
class PatternLimits:
    min_fan: int = 6
    max_fan: int = 500
    fan_window: timedelta = timedelta(hours=24)
    min_cycle_length: int = 3
    max_cycle_length: int = 5
    cycle_window: timedelta = timedelta(hours=72)
    min_hop_ratio: float = 0.7
    max_hop_ratio: float = 1.05
    max_cycle_degree: int = 50
    path_budget: int = 2_000_000


@dataclass
class PatternResult:
    patterns: pl.DataFrame
    limits_hit: dict[str, int] = field(default_factory=dict)


def pattern_id(network: str, pattern_type: str, tx_hashes: pl.Expr) -> pl.Expr:
    """Deterministic id: hash of network, type and the sorted transfer hashes."""
    key = pl.format(
        "{}|{}|{}", pl.lit(network), pl.lit(pattern_type), tx_hashes.list.sort().list.join(",")
    )
    return pl.format("{}-{}", pl.lit(pattern_type), key.hash(seed=20261123).cast(pl.String))


def detect_patterns(
    transfers: pl.DataFrame,
    *,
    network: str,
    day: date,
    exclude: frozenset[str] | set[str] = frozenset(),
    limits: PatternLimits | None = None,
) -> PatternResult:
    """Detect patterns ending on ``day`` in ``transfers`` (which may cover earlier days too)."""
    limits = limits or PatternLimits()
    hits: dict[str, int] = {}
    t = (
        transfers.lazy()
        .filter(pl.col("from_address") != pl.col("to_address"))
        .filter(~pl.col("from_address").is_in(list(exclude)))
        .filter(~pl.col("to_address").is_in(list(exclude)))
        .select(
            "tx_hash",
            "block_time",
            "from_address",
            "to_address",
            pl.col("amount").cast(pl.Float64).alias("amt"),
        )
        .collect()
    )
    frames = [
        _fans(t, "fan_out", network, day, limits, hits),
        _fans(t, "fan_in", network, day, limits, hits),
        _cycles(t, network, day, limits, hits),
    ]
    patterns = (
        pl.concat([f for f in frames if f.height], how="vertical")
        if any(f.height for f in frames)
        else empty(STRUCTURAL_PATTERNS)
    )
    patterns = patterns.unique("pattern_id", keep="first").sort("pattern_type", "pattern_id")
    return PatternResult(patterns=patterns, limits_hit={k: v for k, v in hits.items() if v})


def _fans(
    t: pl.DataFrame, kind: str, network: str, day: date, lim: PatternLimits, hits: dict[str, int]
) -> pl.DataFrame:
    center, other = (
        ("from_address", "to_address") if kind == "fan_out" else ("to_address", "from_address")
    )
    sizes = t.group_by(center).agg(pl.col(other).n_unique().alias("n"))
    hits[f"{kind}_over_max_fan"] = int((sizes["n"] > lim.max_fan).sum())
    candidates = sizes.filter(pl.col("n").is_between(lim.min_fan, lim.max_fan))[center]
    if candidates.len() == 0:
        return empty(STRUCTURAL_PATTERNS)
    rows = (
        t.filter(pl.col(center).is_in(candidates.implode()))
        .rename({center: "center", other: "other"})
        .sort("center", "block_time")
    )
    windows = rows.rolling(index_column="block_time", period=lim.fan_window, group_by="center").agg(
        pl.col("other").n_unique().alias("fan"),
        pl.col("other").alias("others"),
        pl.col("tx_hash").alias("tx_hashes"),
        pl.col("amt").sum().alias("total_amount"),
        pl.col("block_time").min().alias("first_time"),
        pl.col("block_time").max().alias("last_time"),
    )
    best = (
        windows.filter(pl.col("fan") >= lim.min_fan)
        .sort(["center", "fan", "last_time"], descending=[False, True, False])
        .group_by("center", maintain_order=True)
        .first()
        .filter(pl.col("last_time").dt.date() == day)
    )
    if best.height == 0:
        return empty(STRUCTURAL_PATTERNS)
    span_s = (pl.col("last_time") - pl.col("first_time")).dt.total_seconds()
    window_s = lim.fan_window.total_seconds()
    leaf_role = "sink" if kind == "fan_out" else "source"
    center_role = "source" if kind == "fan_out" else "sink"
    out = (
        best.with_columns(
            pl.col("others").list.unique(maintain_order=True).alias("leaves"),
        )
        .with_columns(
            pl.lit(network).alias("network"),
            pl.lit(day).alias("date"),
            pl.lit(kind).alias("pattern_type"),
            pl.col("center").alias("center_address"),
            pl.concat_list(pl.col("center"), pl.col("leaves")).alias("members"),
            pl.concat_list(
                pl.lit(center_role),
                pl.col("leaves").list.eval(pl.lit(leaf_role)),
            ).alias("roles"),
            pl.col("tx_hashes").list.len().cast(pl.Int64).alias("transfer_count"),
            (
                0.5 * ((pl.col("fan") - lim.min_fan + 1) / lim.min_fan).clip(0.0, 1.0)
                + 0.5 * (1.0 - span_s / window_s).clip(0.0, 1.0)
            ).alias("score"),
        )
        .with_columns(pattern_id(network, kind, pl.col("tx_hashes")).alias("pattern_id"))
    )
    return conform(out, STRUCTURAL_PATTERNS)


def _cycles(
    t: pl.DataFrame, network: str, day: date, lim: PatternLimits, hits: dict[str, int]
) -> pl.DataFrame:
    degree = t.group_by("from_address").agg(pl.col("to_address").n_unique().alias("d"))
    hubs = degree.filter(pl.col("d") > lim.max_cycle_degree)["from_address"]
    hits["cycle_hubs_not_expanded"] = hubs.len()
    edges = t.filter(
        ~pl.col("from_address").is_in(hubs.implode()) & ~pl.col("to_address").is_in(hubs.implode())
    ).select(
        pl.col("from_address").alias("src"),
        pl.col("to_address").alias("dst"),
        pl.col("block_time").alias("t"),
        pl.col("tx_hash").alias("tx"),
        "amt",
    )
    if edges.height == 0:
        return empty(STRUCTURAL_PATTERNS)
    window = pl.duration(seconds=int(lim.cycle_window.total_seconds()))
    paths = edges.select(
        pl.col("src").alias("origin"),
        pl.col("dst").alias("last"),
        pl.col("t").alias("t_first"),
        pl.col("t").alias("t_last"),
        pl.concat_list("src", "dst").alias("nodes"),
        pl.concat_list("tx").alias("txs"),
        pl.col("amt").alias("amt_first"),
        pl.col("amt").alias("amt_last"),
        pl.col("amt").alias("amt_total"),
    )
    found: list[pl.DataFrame] = []
    for length in range(2, lim.max_cycle_length + 1):
        step = paths.join(edges, left_on="last", right_on="src").filter(
            (pl.col("t") >= pl.col("t_last"))
            & (pl.col("t") - pl.col("t_first") <= window)
            & (pl.col("amt") >= pl.col("amt_last") * lim.min_hop_ratio)
            & (pl.col("amt") <= pl.col("amt_last") * lim.max_hop_ratio)
        )
        closing = step.filter(pl.col("dst") == pl.col("origin"))
        if length >= lim.min_cycle_length and closing.height:
            found.append(
                closing.select(
                    pl.col("nodes").list.slice(0, length).alias("members"),
                    pl.concat_list("txs", pl.concat_list("tx")).alias("tx_hashes"),
                    pl.col("t_first").alias("first_time"),
                    pl.col("t").alias("last_time"),
                    (pl.col("amt_total") + pl.col("amt")).alias("total_amount"),
                    (pl.col("amt") / pl.col("amt_first")).alias("return_ratio"),
                )
            )
        if length == lim.max_cycle_length:
            break
        paths = step.filter(
            (pl.col("dst") != pl.col("origin")) & ~pl.col("nodes").list.contains(pl.col("dst"))
        ).select(
            "origin",
            pl.col("dst").alias("last"),
            "t_first",
            pl.col("t").alias("t_last"),
            pl.concat_list("nodes", pl.concat_list("dst")).alias("nodes"),
            pl.concat_list("txs", pl.concat_list("tx")).alias("txs"),
            "amt_first",
            pl.col("amt").alias("amt_last"),
            (pl.col("amt_total") + pl.col("amt")).alias("amt_total"),
        )
        if paths.height > lim.path_budget:
            hits["cycle_path_budget"] = hits.get("cycle_path_budget", 0) + 1
            paths = paths.sort("t_first").head(lim.path_budget)
        if paths.height == 0:
            break
    if not found:
        return empty(STRUCTURAL_PATTERNS)
    cycles = pl.concat(found).filter(pl.col("last_time").dt.date() == day)
    if cycles.height == 0:
        return empty(STRUCTURAL_PATTERNS)
    n = pl.col("members").list.len()
    out = cycles.with_columns(
        pl.lit(network).alias("network"),
        pl.lit(day).alias("date"),
        pl.lit("cycle").alias("pattern_type"),
        pl.col("members").list.first().alias("center_address"),
        pl.concat_list(
            pl.lit("source"), pl.col("members").list.slice(1).list.eval(pl.lit("intermediate"))
        ).alias("roles"),
        pl.col("tx_hashes").list.len().cast(pl.Int64).alias("transfer_count"),
        (0.6 * pl.col("return_ratio").clip(0.0, 1.0) + 0.4 * ((n - 1) / 5).clip(0.0, 1.0)).alias(
            "score"
        ),
    ).with_columns(pattern_id(network, "cycle", pl.col("tx_hashes")).alias("pattern_id"))
    return conform(out, STRUCTURAL_PATTERNS)
