"""Per-address features over rolling windows of daily edges.

Aggregations are polars expressions; graph algorithms (PageRank, components) go to a
:class:`~analytics_platform.engines.base.GraphEngine` over integer-encoded vertices. Feature
catalog (window = the ``window_days`` days ending on ``date``, see ``domain.windows``):

| feature | definition |
|---|---|
| in_count / out_count | transfers received / sent |
| in_degree / out_degree | distinct senders / recipients (self excluded) |
| counterparties | distinct addresses sent to or received from (self excluded) |
| in_volume / out_volume / net_flow | sum received / sent / received - sent (native units) |
| max_in_amount / max_out_amount | largest single transfer received / sent |
| mean_out_amount / std_out_amount | mean and population std of sent transfer amounts |
| self_transfer_count | transfers from the address to itself |
| first_seen / last_seen | first / last transfer time in the window |
| active_days | distinct days with any transfer |
| pagerank | weighted PageRank (weights = window volume, damping 0.85) |
| component_id / component_size | weakly connected component (its smallest address) and size |
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import polars as pl

from analytics_platform.domain.schemas import ADDRESS_FEATURES, conform, empty
from analytics_platform.domain.windows import window_days
from analytics_platform.engines.base import GraphEngine


def compute_address_features(
    edges: pl.DataFrame,
    *,
    network: str,
    day: date,
    windows: Iterable[int],
    engine: GraphEngine,
) -> pl.DataFrame:
    """Features for every address active in each window ending on ``day``.

    ``edges`` are daily edges covering at least the largest window (extra days are ignored).
    """
    frames = []
    for window in sorted(set(windows)):
        first, last = window_days(day, window)
        in_window = edges.filter(pl.col("date").is_between(first, last))
        frames.append(
            _window_features(in_window, network=network, day=day, window=window, engine=engine)
        )
    if not frames:
        return empty(ADDRESS_FEATURES)
    return pl.concat(frames)


def _window_features(
    edges: pl.DataFrame, *, network: str, day: date, window: int, engine: GraphEngine
) -> pl.DataFrame:
    if edges.height == 0:
        return empty(ADDRESS_FEATURES)
    e = edges.lazy().with_columns(pl.col("amount_sum").cast(pl.Float64).alias("volume"))
    is_self = pl.col("from_address") == pl.col("to_address")

    out_side = e.group_by(pl.col("from_address").alias("address")).agg(
        pl.col("transfer_count").sum().alias("out_count"),
        pl.col("to_address").filter(~is_self).n_unique().alias("out_degree"),
        pl.col("volume").sum().alias("out_volume"),
        pl.col("amount_max").max().alias("max_out_amount"),
        pl.col("amount_sq_sum").sum().alias("_out_sq"),
        pl.col("transfer_count").filter(is_self).sum().alias("self_transfer_count"),
    )
    in_side = e.group_by(pl.col("to_address").alias("address")).agg(
        pl.col("transfer_count").sum().alias("in_count"),
        pl.col("from_address").filter(~is_self).n_unique().alias("in_degree"),
        pl.col("volume").sum().alias("in_volume"),
        pl.col("amount_max").max().alias("max_in_amount"),
    )
    # Both directions of every edge, for counterparties, time span and active days.
    incident = pl.concat(
        [
            e.select(
                pl.col("from_address").alias("address"),
                pl.col("to_address").alias("other"),
                "date",
                "first_time",
                "last_time",
            ),
            e.select(
                pl.col("to_address").alias("address"),
                pl.col("from_address").alias("other"),
                "date",
                "first_time",
                "last_time",
            ),
        ]
    )
    activity = incident.group_by("address").agg(
        pl.col("other")
        .filter(pl.col("other") != pl.col("address"))
        .n_unique()
        .alias("counterparties"),
        pl.col("first_time").min().alias("first_seen"),
        pl.col("last_time").max().alias("last_seen"),
        pl.col("date").n_unique().cast(pl.Int32).alias("active_days"),
    )
    feats = (
        activity.join(out_side, on="address", how="left")
        .join(in_side, on="address", how="left")
        .with_columns(
            pl.col(c).fill_null(0)
            for c in ("out_count", "out_degree", "in_count", "in_degree", "self_transfer_count")
        )
        .with_columns(
            pl.col(c).fill_null(0.0)
            for c in ("out_volume", "in_volume", "max_out_amount", "max_in_amount", "_out_sq")
        )
        .with_columns(
            (pl.col("in_volume") - pl.col("out_volume")).alias("net_flow"),
            pl.when(pl.col("out_count") > 0)
            .then(pl.col("out_volume") / pl.col("out_count"))
            .otherwise(0.0)
            .alias("mean_out_amount"),
        )
        .with_columns(
            pl.when(pl.col("out_count") > 0)
            .then(
                (pl.col("_out_sq") / pl.col("out_count") - pl.col("mean_out_amount") ** 2)
                .clip(lower_bound=0.0)
                .sqrt()
            )
            .otherwise(0.0)
            .alias("std_out_amount")
        )
        .sort("address")
        .collect()
    )

    graph = _graph_features(edges, feats["address"], engine)
    feats = feats.with_columns(
        pl.lit(network).alias("network"),
        pl.lit(day).alias("date"),
        pl.lit(window, dtype=pl.Int32).alias("window_days"),
        *graph,
    )
    return conform(feats, ADDRESS_FEATURES)


def _graph_features(
    edges: pl.DataFrame, addresses: pl.Series, engine: GraphEngine
) -> list[pl.Series]:
    """PageRank and components over the window graph; vertex id = rank of the sorted address."""
    n = addresses.len()
    index = pl.DataFrame({"address": addresses, "vid": np.arange(n, dtype=np.int64)})
    flows = (
        edges.lazy()
        .group_by("from_address", "to_address")
        .agg(pl.col("amount_sum").cast(pl.Float64).sum().alias("w"))
        .join(index.lazy(), left_on="from_address", right_on="address")
        .join(index.lazy(), left_on="to_address", right_on="address", suffix="_dst")
        .select(pl.col("vid").alias("src"), pl.col("vid_dst").alias("dst"), "w")
        .sort("src", "dst")
        .collect()
    )
    src, dst = flows["src"].to_numpy(), flows["dst"].to_numpy()
    # Zero-amount flows still connect: give them a tiny weight rather than dropping the edge.
    weight = np.maximum(flows["w"].to_numpy(), 1e-12)
    pagerank = engine.pagerank(src, dst, weight, n)
    comp = engine.weak_components(src, dst, n)
    sizes = np.bincount(comp, minlength=n)
    return [
        pl.Series("pagerank", pagerank, dtype=pl.Float64),
        addresses.gather(comp).alias("component_id"),
        pl.Series("component_size", sizes[comp], dtype=pl.Int64),
    ]
