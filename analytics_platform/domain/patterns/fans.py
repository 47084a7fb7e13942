"""Fan-out and fan-in: one centre and many distinct counterparties within ``fan_window``.

A sliding window over each centre's transfers finds the busiest window; centres above
``max_fan`` distinct counterparties over the span are services, not mules, and are skipped
(counted as ``<kind>_over_max_fan``). Where a network sets ``funnel_days``, fan-ins are funnels
instead (:func:`detect_funnels`): one-off payments from dormant accounts, over months.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import polars as pl

from analytics_platform.domain.patterns.details import json_details, roles_list, with_one_off_share
from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.domain.patterns.span import Span, busiest_windows, finish


def detect_fans(span: Span, kind: str, lim: PatternLimits) -> pl.DataFrame:
    t = span.t
    center, other = ("src", "dst") if kind == "fan_out" else ("dst", "src")
    candidates = _below_max_fan(span, t, kind, lim).filter(pl.col("n") >= lim.min_fan)[center]
    rows = (
        t.filter(pl.col(center).is_in(candidates.implode()))
        .rename({center: "center", other: "other"})
        .sort("center", "time")
    )
    if rows.height == 0:
        return finish(rows.clear(), span, kind)
    best = busiest_windows(rows, lim.fan_window, pl.col("other").n_unique(), lim.min_fan).rename(
        {"size": "fan", "others": "leaves"}
    )
    best = with_one_off_share(best, t, "leaves")
    span_s = (pl.col("last_time") - pl.col("first_time")).dt.total_seconds()
    leaf_role, center_role = ("sink", "source") if kind == "fan_out" else ("source", "sink")
    members, roles = roles_list(
        (pl.concat_list("center"), center_role), (pl.col("leaves"), leaf_role)
    )
    found = best.with_columns(
        pl.col("center").alias("center_address"),
        members.alias("members"),
        roles.alias("roles"),
        (
            0.5 * ((pl.col("fan") - lim.min_fan + 1) / lim.min_fan).clip(0.0, 1.0)
            + 0.5 * (1.0 - span_s / lim.fan_window.total_seconds()).clip(0.0, 1.0)
        ).alias("score"),
        (span_s / 3600).round(2).alias("span_hours"),
    ).with_columns(json_details("fan", "span_hours", "one_off_share"))
    return finish(found, span, kind)


def _below_max_fan(span: Span, t: pl.DataFrame, kind: str, lim: PatternLimits) -> pl.DataFrame:
    """The centres of ``t``'s transfers (senders of a fan-out, recipients of a fan-in) with
    their ``n`` distinct counterparties, those over ``max_fan`` dropped and counted as
    ``<kind>_over_max_fan``."""
    center, other = ("src", "dst") if kind == "fan_out" else ("dst", "src")
    sizes = t.group_by(center).agg(pl.col(other).n_unique().alias("n"))
    span.hit(f"{kind}_over_max_fan", int((sizes["n"] > lim.max_fan).sum()))
    return sizes.filter(pl.col("n") <= lim.max_fan)


def _funnel_leg() -> pl.Expr:
    """A new pair (no payment in the relationship look-back) from a payer that had paid no one."""
    return (pl.col("new_pair") & pl.col("payer_dormant")).fill_null(False)


def detect_funnels(
    memory: Span,
    span: Span,
    judge: Callable[[pl.DataFrame], pl.DataFrame],
    lim: PatternLimits,
    *,
    dormancy_days: int,
    funnel_days: int,
) -> pl.DataFrame:
    """Funnel accounts (``fan_in``): a collector paid once each by at least ``min_fan``
    accounts that had paid no one for ``dormancy_days`` (FinCEN's funnel account; FFIEC's
    dormant account activity), however slowly: the payments may spread over the whole
    ``memory`` (the ``funnel_days`` ending with the day), as lent accounts or victims pay in
    one at a time beside the collector's own regular traffic, which never counts.

    Reported on the day of a new such payment. Not funnels: collectors paid by more than
    ``max_fan`` accounts within ``span`` (businesses; counted as ``fan_in_over_max_fan``), and
    payers that one account newly funded (a new pair, see :func:`leg_dormancy`,
    within ``dormancy_days`` before they paid) together with another payer of the same
    collector: that is the gather side of a scatter-gather, which its own detector reports.
    ``judge``: :func:`leg_dormancy` flags of some of ``memory``'s transfers.
    """
    t = memory.t
    today = judge(t.filter(pl.col("time").dt.date() == memory.day))
    collectors = today.filter(_funnel_leg())["dst"].unique()
    paid = span.t.filter(pl.col("dst").is_in(collectors.implode()))
    collectors = _below_max_fan(span, paid, "fan_in", lim)["dst"]
    legs = judge(t.filter(pl.col("dst").is_in(collectors.implode()))).filter(_funnel_leg())
    gathered = _scatter_gather_payers(legs, t, judge, dormancy_days)
    legs = legs.join(gathered, on=["dst", "src"], how="anti").sort("time", "tx")
    found = (
        legs.group_by("dst")
        .agg(
            pl.col("src").unique(maintain_order=True).alias("leaves"),
            pl.col("tx").alias("tx_hashes"),
            pl.col("amt").sum().alias("total_amount"),
            pl.col("time").min().alias("first_time"),
            pl.col("time").max().alias("last_time"),
        )
        .with_columns(pl.col("leaves").list.len().alias("fan"))
        .filter(pl.col("fan") >= lim.min_fan)
        .rename({"dst": "center"})
    )
    if found.height == 0:
        return finish(found.clear(), span, "fan_in")
    found = with_one_off_share(found, t, "leaves")
    span_s = (pl.col("last_time") - pl.col("first_time")).dt.total_seconds()
    members, roles = roles_list((pl.concat_list("center"), "sink"), (pl.col("leaves"), "source"))
    found = found.with_columns(
        pl.col("center").alias("center_address"),
        members.alias("members"),
        roles.alias("roles"),
        # every leg already woke a dormant payer: a funnel starts at one half, growing with size
        (0.5 + 0.5 * ((pl.col("fan") - lim.min_fan + 1) / lim.min_fan).clip(0.0, 1.0)).alias(
            "score"
        ),
        (span_s / 3600).round(2).alias("span_hours"),
        pl.lit(funnel_days).alias("funnel_days"),
    ).with_columns(json_details("fan", "span_hours", "one_off_share", "funnel_days"))
    return finish(found, span, "fan_in")


def _scatter_gather_payers(
    legs: pl.DataFrame,
    t: pl.DataFrame,
    judge: Callable[[pl.DataFrame], pl.DataFrame],
    dormancy_days: int,
) -> pl.DataFrame:
    """(dst, src) of the funnel ``legs`` whose payer one account newly paid (a new pair in
    ``t``) within ``dormancy_days`` before it paid, as it did another payer of that collector."""
    funded = (
        judge(t.filter(pl.col("dst").is_in(legs["src"].unique().implode())))
        .filter(pl.col("new_pair").fill_null(False))
        .select(
            pl.col("src").alias("funder"),
            pl.col("dst").alias("src"),
            pl.col("time").alias("funded"),
        )
    )
    return (
        legs.join(funded, on="src")
        .filter(
            pl.col("funded").is_between(
                pl.col("time") - timedelta(days=dormancy_days), pl.col("time")
            )
        )
        .group_by("dst", "funder")
        .agg(pl.col("src").unique())
        .filter(pl.col("src").list.len() >= 2)
        .explode("src", empty_as_null=False)
        .select("dst", "src")
    )
