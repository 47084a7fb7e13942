"""Time-ordered paths: layering / peel chains (cycles are in ``cycles``).

Paths are extended one hop at a time with a polars join: the next transfer leaves the last
address no earlier than the previous one arrived, through an address not yet on the path.

- layering chain: >= ``min_chain_hops`` hops through intermediates with at most
  ``max_chain_degree`` counterparties, each forwarded within ``chain_hop_window``. Only maximal
  chains are reported (no qualifying hop before the first or after the last).
- peel chain: a layering chain whose every hop passes on between ``peel_min_ratio`` and all of
  what arrived (the rest is peeled off elsewhere).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from analytics_platform.domain.patterns.common import Span, finish, json_details, low_degree
from analytics_platform.domain.patterns.limits import PatternLimits

_PATH = (
    "origin",
    "last",
    "t_first",
    "t_last",
    "nodes",
    "txs",
    "amt_first",
    "amt_last",
    "amt_total",
    "ratio_min",
    "ratio_max",
)


def _start(edges: pl.DataFrame) -> pl.DataFrame:
    return edges.select(
        pl.col("src").alias("origin"),
        pl.col("dst").alias("last"),
        pl.col("time").alias("t_first"),
        pl.col("time").alias("t_last"),
        pl.concat_list("src", "dst").alias("nodes"),
        pl.concat_list("tx").alias("txs"),
        pl.col("amt").alias("amt_first"),
        pl.col("amt").alias("amt_last"),
        pl.col("amt").alias("amt_total"),
        pl.lit(1.0).alias("ratio_min"),
        pl.lit(1.0).alias("ratio_max"),
    )


def _step(paths: pl.DataFrame, edges: pl.DataFrame, hop: timedelta, total: timedelta | None):
    ratio = pl.col("amt") / pl.col("amt_last")
    cond = (pl.col("time") >= pl.col("t_last")) & (
        pl.col("time") - pl.col("t_last") <= pl.duration(seconds=int(hop.total_seconds()))
    )
    if total is not None:
        cond &= pl.col("time") - pl.col("t_first") <= pl.duration(
            seconds=int(total.total_seconds())
        )
    return (
        paths.join(edges, left_on="last", right_on="src")
        .filter(cond)
        .with_columns(ratio.alias("ratio"))
    )


def _extend(step: pl.DataFrame) -> pl.DataFrame:
    return step.select(
        "origin",
        pl.col("dst").alias("last"),
        "t_first",
        pl.col("time").alias("t_last"),
        pl.concat_list("nodes", pl.concat_list("dst")).alias("nodes"),
        pl.concat_list("txs", pl.concat_list("tx")).alias("txs"),
        "amt_first",
        pl.col("amt").alias("amt_last"),
        (pl.col("amt_total") + pl.col("amt")).alias("amt_total"),
        pl.min_horizontal("ratio_min", "ratio").alias("ratio_min"),
        pl.max_horizontal("ratio_max", "ratio").alias("ratio_max"),
    )


def _budget(paths: pl.DataFrame, budget: int, span: Span, name: str) -> pl.DataFrame:
    if paths.height > budget:
        span.hit(name)
        return paths.sort("t_first", "txs").head(budget)
    return paths


def detect_chains(span: Span, lim: PatternLimits) -> pl.DataFrame:
    """Maximal layering chains; those that peel at every hop are typed ``peel_chain``."""
    t = span.t
    small, skipped = low_degree(t, lim.max_chain_degree)
    span.hit("chain_hubs_skipped", skipped)
    # Intermediates must be low-degree; the two ends may be anything.
    edges = t
    inner = small.implode()
    paths = _start(edges)
    chains: list[pl.DataFrame] = []
    for _ in range(lim.max_chain_hops - 1):
        step = _step(paths.filter(pl.col("last").is_in(inner)), edges, lim.chain_hop_window, None)
        step = step.filter(~pl.col("nodes").list.contains(pl.col("dst")))
        extended = step.select("txs").unique()
        # Paths that could not be extended end here.
        ended = paths.join(extended, on="txs", how="anti")
        chains.append(ended.filter(pl.col("txs").list.len() >= lim.min_chain_hops))
        paths = _budget(_extend(step), lim.path_budget, span, "chain_path_budget")
        if paths.height == 0:
            break
    chains.append(paths.filter(pl.col("txs").list.len() >= lim.min_chain_hops))
    chains = [c for c in chains if c.height]
    if not chains:
        return pl.concat(
            [
                finish(_start(t).clear().rename({"nodes": "members"}), span, k)
                for k in ("layering_chain", "peel_chain")
            ]
        )
    found = pl.concat(chains)
    # Maximal at the start too: drop chains whose first hop extends an earlier qualifying hop.
    first = found.select("origin", "t_first", pl.col("txs").list.first().alias("tx0"))
    before = (
        first.filter(pl.col("origin").is_in(inner))
        .join(
            edges.select(
                pl.col("dst").alias("origin"), pl.col("time").alias("tp"), pl.col("src").alias("p")
            ),
            on="origin",
        )
        .filter(
            (pl.col("tp") <= pl.col("t_first"))
            & (
                pl.col("t_first") - pl.col("tp")
                <= pl.duration(seconds=int(lim.chain_hop_window.total_seconds()))
            )
        )
        .select("tx0")
        .unique()
    )
    found = found.with_columns(pl.col("txs").list.first().alias("tx0")).join(
        before, on="tx0", how="anti"
    )
    hops = pl.col("txs").list.len()
    found = found.with_columns(
        pl.col("nodes").alias("members"),
        pl.concat_list(
            pl.lit("source"),
            pl.col("nodes").list.slice(1, hops - 1).list.eval(pl.lit("intermediate")),
            pl.lit("sink"),
        ).alias("roles"),
        pl.col("txs").alias("tx_hashes"),
        pl.col("origin").alias("center_address"),
        pl.col("amt_total").alias("total_amount"),
        pl.col("t_first").alias("first_time"),
        pl.col("t_last").alias("last_time"),
        hops.alias("hops"),
        (pl.col("amt_last") / pl.col("amt_first")).round(4).alias("kept_ratio"),
        (
            (pl.col("ratio_min") >= lim.peel_min_ratio)
            & (pl.col("ratio_max") <= 1.0)
            & (pl.col("ratio_min") < 1.0)
        ).alias("peels"),
    ).with_columns(
        (
            0.5 * ((pl.col("hops") - lim.min_chain_hops + 1) / lim.min_chain_hops).clip(0, 1)
            + 0.5 * pl.when(pl.col("peels")).then(1.0).otherwise(0.6)
        ).alias("score"),
        json_details("hops", "kept_ratio", "peels"),
    )
    return pl.concat(
        [
            finish(found.filter(~pl.col("peels")), span, "layering_chain"),
            finish(found.filter(pl.col("peels")), span, "peel_chain"),
        ]
    )
