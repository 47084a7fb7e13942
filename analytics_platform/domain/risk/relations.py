"""What an address's payment relationships looked like over a long look-back, per address-day:
the risk model's view of slow patterns that no feature window of a week or a month shows.

A fan whose legs are months apart is one-off counterparties, each seen once, beside the
address's regular ones; its counterparties are themselves unusually connected (a payer into a
fan-in pays an address that many pay once). The strongest features of a model trained on
whole account histories are these (one-off counterparties, how connected the counterparties
are), so the matrix gets them over ``lookback`` days ending on each day: a pure function of
the ``daily_edges`` of those days.

Hand-written rather than a library call: the figures are group-bys over a sliding window of
pair-days, sliced by date (the rows are sorted once), so each day costs one pass over its
window's pairs.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

REGULAR_DAYS = 3
"""A pair paid on at least this many days of the look-back is a regular relationship."""
NEW_DAYS = 30
"""A pair first paid within this many days of the day is new."""
FUNNEL_ONE_OFFS = 3
"""An address paid once each by at least this many payers collects one-off payments."""

_SIDE_FIGURES = ("counterparties", "one_off", "regular", "transfers", "new")
_REACH_FIGURES = ("max_counterparties", "max_one_off", "one_off_to_collectors")
_OWN_FIGURES = ("active_days", "age_days")


def relation_names(lookback: int) -> list[str]:
    """The columns :func:`relation_features` adds, in a fixed order (``_l<days>``: a model
    trained on another look-back is refused data of this one by name)."""
    sides = [f"{side}_{f}" for side in ("payer", "payee") for f in _SIDE_FIGURES]
    reach = [f"{side}s_{f}" for side in ("payee", "payer") for f in _REACH_FIGURES]
    return [f"{n}_l{lookback}" for n in (*sides, *reach, *_OWN_FIGURES)]


def pair_days(edges: pl.DataFrame) -> pl.DataFrame:
    """date, from_address, to_address, transfers: one row per pair and day (assets summed),
    sorted by date."""
    return (
        edges.group_by("date", "from_address", "to_address")
        .agg(pl.col("transfer_count").sum().alias("transfers"))
        .sort("date", "from_address", "to_address")
    )


def relation_features(keys: pl.DataFrame, edges: pl.DataFrame, lookback: int) -> pl.DataFrame:
    """For each (address, date) of ``keys``, the :func:`relation_names` figures of the
    ``lookback`` days of ``edges`` (``daily_edges``) ending on that date: 0 where the address
    had no pair in them."""
    pairs = pair_days(edges)
    dates = pairs["date"]
    frames = []
    for day in sorted(keys["date"].unique().to_list()):
        first = day - timedelta(days=lookback - 1)
        lo = dates.search_sorted(first, side="left")
        hi = dates.search_sorted(day, side="right")
        wanted = keys.filter(pl.col("date") == day).select("address")
        frames.append(_of_window(pairs.slice(lo, hi - lo), wanted, day, lookback))
    names = relation_names(lookback)
    if not frames:
        return pl.DataFrame(
            schema={"address": pl.String, "date": pl.Date, **dict.fromkeys(names, pl.Float64)}
        )
    return pl.concat(frames).select("address", "date", *(pl.col(n).cast(pl.Float64) for n in names))


def _of_window(
    window: pl.DataFrame, wanted: pl.DataFrame, day: date, lookback: int
) -> pl.DataFrame:
    """One day's figures for the ``wanted`` addresses from the pair-days of its window."""
    new_since = day - timedelta(days=NEW_DAYS - 1)
    pairs = window.group_by("from_address", "to_address").agg(
        pl.col("transfers").sum(),
        pl.col("date").n_unique().alias("days"),
        (pl.col("date").min() >= new_since).alias("new"),
    )
    sides = {}
    for side, me in (("payer", "to_address"), ("payee", "from_address")):
        sides[side] = pairs.group_by(pl.col(me).alias("address")).agg(
            pl.len().alias(f"{side}_counterparties"),
            (pl.col("transfers") == 1).sum().alias(f"{side}_one_off"),
            (pl.col("days") >= REGULAR_DAYS).sum().alias(f"{side}_regular"),
            pl.col("transfers").sum().alias(f"{side}_transfers"),
            pl.col("new").sum().alias(f"{side}_new"),
        )
    # How connected the counterparties are: the most payers (one-off payers) among the
    # addresses it paid, and how many of its one-off payments went to collectors of one-offs.
    reach = []
    for side, me, other, their in (
        ("payee", "from_address", "to_address", "payer"),
        ("payer", "to_address", "from_address", "payee"),
    ):
        theirs = sides[their].select(
            pl.col("address").alias(other),
            pl.col(f"{their}_counterparties").alias("c"),
            pl.col(f"{their}_one_off").alias("o"),
        )
        reach.append(
            pairs.join(theirs, on=other)
            .group_by(pl.col(me).alias("address"))
            .agg(
                pl.col("c").max().alias(f"{side}s_max_counterparties"),
                pl.col("o").max().alias(f"{side}s_max_one_off"),
                ((pl.col("transfers") == 1) & (pl.col("o") >= FUNNEL_ONE_OFFS))
                .sum()
                .alias(f"{side}s_one_off_to_collectors"),
            )
        )
    own = (
        pl.concat(
            [
                window.select(pl.col("from_address").alias("address"), "date"),
                window.select(pl.col("to_address").alias("address"), "date"),
            ]
        )
        .group_by("address")
        .agg(
            pl.col("date").n_unique().alias("active_days"),
            (pl.lit(day) - pl.col("date").min()).dt.total_days().alias("age_days"),
        )
    )
    out = wanted
    for frame in (sides["payer"], sides["payee"], *reach, own):
        out = out.join(frame, on="address", how="left")
    suffix = f"_l{lookback}"
    return out.select(
        "address",
        pl.lit(day).alias("date"),
        *(pl.col(c).fill_null(0).alias(c + suffix) for c in out.columns if c != "address"),
    )
