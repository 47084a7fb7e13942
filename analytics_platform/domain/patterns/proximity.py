"""Proximity to labelled risky addresses (mixer, scam, sanctioned), up to 3 hops.

Funds are followed in time order: *downstream* of a risky address (it paid a, a paid b after,
...) and *upstream* of it (x paid y, y later paid the risky address). An address reached in
``h`` hops gets one pattern per direction, for its nearest risky counterparty, scored
``category weight * proximity_decay ** (h - 1)``; ``carried_ratio`` (details) is the smallest
ratio of consecutive hops' values along the path, smaller over larger, compared as ``hop_ratio``
compares them (native units within one asset, USD across priced assets, 0 across unpriced
ones; null for one hop). Exchanges and addresses with more than ``max_proximity_degree``
counterparties are not passed through (they pool unrelated funds);
the frontier is capped at ``proximity_budget`` paths per hop.
"""

from __future__ import annotations

import polars as pl

from analytics_platform.domain.patterns.details import json_details
from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.domain.patterns.span import Span, finish, low_degree

RISK_WEIGHT = {"sanctioned": 1.0, "mixer": 0.8, "scam": 0.7}


def detect_proximity(span: Span, lim: PatternLimits, risky: pl.DataFrame) -> pl.DataFrame:
    """``risky``: address, category (labels as of the day, any categories; others ignored)."""
    risky = (
        risky.filter(pl.col("category").is_in(list(RISK_WEIGHT)))
        .select(pl.col("address").alias("risky"), "category")
        .unique("risky")
    )
    if risky.height == 0 or span.t.height == 0:
        return finish(span.t.clear(), span, "risky_proximity")
    passable, skipped = low_degree(span.t, lim.max_proximity_degree)
    span.hit("proximity_hubs_not_passed", skipped)
    frames = [
        _follow(span, lim, risky, passable, downstream=True),
        _follow(span, lim, risky, passable, downstream=False),
    ]
    found = (
        pl.concat([f for f in frames if f.height], how="vertical")
        if any(f.height for f in frames)
        else pl.DataFrame()
    )
    return finish(found, span, "risky_proximity")


def _follow(span: Span, lim: PatternLimits, risky, passable, *, downstream: bool) -> pl.DataFrame:
    # Downstream walks edges forward in time from the risky address; upstream walks them
    # backward in time towards it. ``near`` is the end already on the path.
    near, far = ("src", "dst") if downstream else ("dst", "src")
    e = span.t.select(
        pl.col(near).alias("near"), pl.col(far).alias("far"), "time", "tx", "amt", "usd", "asset"
    )
    reached = _reached(span, lim, e, risky, passable, downstream=downstream)
    paths = pl.concat(reached).with_columns(
        (
            pl.col("category").replace_strict(RISK_WEIGHT, return_dtype=pl.Float64)
            * pl.lit(lim.proximity_decay).pow(pl.col("hops") - 1)
        ).alias("score")
    )
    nearest = (
        paths.with_columns(pl.col("t_max").dt.date().alias("day"))
        .sort(
            ["address", "day", "score", "hops", "t_max"],
            descending=[False, False, True, False, False],
        )
        .group_by("address", "day", maintain_order=True)
        .first()
    )
    # Members run from the subject address towards the risky one.
    subject_role = "sink" if downstream else "source"
    risky_role = "source" if downstream else "sink"
    return nearest.with_columns(
        pl.col("path").list.reverse().alias("members"),
        pl.concat_list(
            pl.lit(subject_role),
            pl.col("path").list.slice(1, pl.col("hops") - 1).list.eval(pl.lit("intermediate")),
            pl.lit(risky_role),
        ).alias("roles"),
        pl.col("txs").alias("tx_hashes"),
        pl.col("address").alias("center_address"),
        pl.col("amount").alias("total_amount"),
        pl.col("t_min").alias("first_time"),
        pl.col("t_max").alias("last_time"),
        pl.lit("downstream" if downstream else "upstream").alias("direction"),
        pl.col("carried_ratio").round(4),
    ).with_columns(json_details("risky", "category", "hops", "direction", "carried_ratio"))


def _reached(
    span: Span,
    lim: PatternLimits,
    e: pl.DataFrame,
    risky: pl.DataFrame,
    passable: pl.Series,
    *,
    downstream: bool,
) -> list[pl.DataFrame]:
    """Hop by hop from the risky addresses over the edges ``e`` (near, far), through
    ``passable`` addresses only: per hop, the nearest path to each address reached (at most
    ``proximity_budget`` a hop, counted when cut)."""
    labelled = risky["risky"].implode()
    frontier = (
        e.join(risky, left_on="near", right_on="risky")
        .filter(~pl.col("far").is_in(labelled))
        .select(
            pl.col("near").alias("risky"),
            "category",
            pl.col("far").alias("address"),
            pl.concat_list("near", "far").alias("path"),
            pl.concat_list("tx").alias("txs"),
            pl.col("time").alias("t_edge"),
            pl.col("time").alias("t_min"),
            pl.col("time").alias("t_max"),
            pl.col("amt").alias("amount"),
            pl.col("usd").alias("amount_usd"),
            pl.col("asset").alias("hop_asset"),
            pl.lit(None, pl.Float64).alias("carried_ratio"),
            pl.lit(1).alias("hops"),
        )
    )
    reached = [frontier]
    for hop in range(2, lim.max_proximity_hops + 1):
        ok_time = (
            (pl.col("time") >= pl.col("t_edge"))
            if downstream
            else (pl.col("time") <= pl.col("t_edge"))
        )
        frontier = (
            frontier.filter(pl.col("address").is_in(passable.implode()))
            .join(e, left_on="address", right_on="near")
            .filter(
                ok_time
                & ~pl.col("path").list.contains(pl.col("far"))
                & ~pl.col("far").is_in(labelled)
            )
            .select(
                "risky",
                "category",
                pl.col("far").alias("address"),
                pl.concat_list("path", pl.concat_list("far")).alias("path"),
                pl.concat_list("txs", pl.concat_list("tx")).alias("txs"),
                pl.col("time").alias("t_edge"),
                pl.min_horizontal("t_min", "time").alias("t_min"),
                pl.max_horizontal("t_max", "time").alias("t_max"),
                pl.col("amt").alias("amount"),
                pl.col("usd").alias("amount_usd"),
                pl.col("asset").alias("hop_asset"),
                _carried().alias("carried_ratio"),
                pl.lit(hop).alias("hops"),
            )
            # Only the nearest (earliest found) path to each address per risky address matters.
            .unique(["risky", "address"], keep="first", maintain_order=True)
        )
        if frontier.height > lim.proximity_budget:
            span.hit("proximity_budget")
            frontier = frontier.head(lim.proximity_budget)
        reached.append(frontier)
        if frontier.height == 0:
            break
    return reached


def _carried() -> pl.Expr:
    """How well the value carried from hop to hop: the smallest ratio of consecutive hops'
    values, smaller over larger. A path whose hops move about the same value traces funds (at
    least half of what arrived went on, and what went on was not mostly other money); one
    whose amounts are unrelated is only contact. Values compare as in ``hop_ratio``: native
    amounts within one asset, USD where the asset changes and both hops are priced, else not
    at all (0: a hop that cannot be shown to carry the funds carries nothing). ``amount``,
    ``amount_usd`` and ``hop_asset`` are the previous hop's (nearer the risky address);
    ``amt``, ``usd`` and ``asset`` the new one's."""
    same = pl.col("asset") == pl.col("hop_asset")
    priced = pl.col("usd").is_not_null() & pl.col("amount_usd").is_not_null()
    before = pl.when(same).then(pl.col("amount")).when(priced).then(pl.col("amount_usd"))
    after = pl.when(same).then(pl.col("amt")).when(priced).then(pl.col("usd"))
    small, large = pl.min_horizontal(before, after), pl.max_horizontal(before, after)
    ratio = pl.when(large > 0).then(small / large).otherwise(0.0)
    return pl.min_horizontal(pl.col("carried_ratio").fill_null(float("inf")), ratio)
