"""Rapid pass-through and structuring: how one address moves money, not the shape around it.

- rapid pass-through (layering): an address pays out ``min_pass_ratio``..``max_pass_ratio``
  of what it received, every payment within ``pass_window`` of the receipt before it, so its
  balance is left near zero.
- structuring (threshold evasion): >= ``min_structuring`` transfers by one sender (or to one
  recipient) within ``structuring_window``, each just under the asset's reporting threshold
  (``[T * (1 - band), T)``, native units per asset).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from analytics_platform.domain.edges import is_structuring_amount, is_structuring_usd
from analytics_platform.domain.patterns.details import json_details, roles_list
from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.domain.patterns.span import Span, busiest_windows, decode_ids, finish
from analytics_platform.domain.patterns.values import (
    comparable_ratio,
    in_ratio_unit,
    ratio_unit,
    side_helpers,
    side_values,
)


def detect_pass_through(span: Span, lim: PatternLimits) -> pl.DataFrame:
    t, names = span.coded()
    flows = _passed_through(t, lim)
    flows = decode_ids(
        flows,
        {
            "senders": names,
            "recipients": names,
            "address": names,
            "tx_in": span.t["tx"],
            "tx_out": span.t["tx"],
        },
    )
    members, roles = roles_list(
        (pl.col("senders"), "source"),
        (pl.concat_list("address"), "intermediate"),
        (pl.col("recipients"), "sink"),
    )
    hold = pl.col("max_hold_s") / lim.pass_window.total_seconds()
    found = flows.with_columns(
        members.alias("members"),
        roles.alias("roles"),
        pl.col("address").alias("center_address"),
        pl.concat_list("tx_in", "tx_out").alias("tx_hashes"),
        (
            0.5 * (1 - hold).clip(0, 1)
            + 0.5 * (1 - (1 - pl.col("pass_ratio")).abs() * 10).clip(0, 1)
        ).alias("score"),
        (pl.col("max_hold_s") / 3600).round(2).alias("max_hold_hours"),
        pl.col("pass_ratio").round(4),
    ).with_columns(
        json_details("amount_in", "amount_out", "pass_ratio", "pass_unit", "max_hold_hours")
    )
    return finish(found, span, "rapid_pass_through")


def _passed_through(t: pl.DataFrame, lim: PatternLimits) -> pl.DataFrame:
    """Per address and day of its payments, when every payment draws on a receipt within
    ``pass_window`` and the ratio passed on is in the limits: its senders, recipients,
    transfers, values and longest hold (coded ids)."""
    ins = t.select(
        pl.col("dst").alias("address"),
        pl.col("src").alias("sender"),
        pl.col("time").alias("t_in"),
        pl.col("tx").alias("tx_in"),
        "amt",
        "usd",
        "asset_id",
    )
    outs = t.select(
        pl.col("src").alias("address"),
        pl.col("dst").alias("recipient"),
        pl.col("time").alias("t_out"),
        pl.col("tx").alias("tx_out"),
        "amt",
        "usd",
        "asset_id",
    )
    both = ins.select("address").unique().join(outs.select("address").unique(), on="address")
    outs = outs.join(both, on="address").sort("t_out")
    ins = ins.join(both, on="address").sort("t_in")
    # The receipt each payment draws on: the latest one before it, if within pass_window.
    matched = outs.join_asof(
        ins.select("address", "t_in", pl.col("t_in").alias("t_matched")),
        left_on="t_out",
        right_on="t_in",
        by="address",
        strategy="backward",
        check_sortedness=False,
        tolerance=lim.pass_window,
    )
    # One pattern per address and day of its payments.
    per = (
        matched.with_columns(pl.col("t_out").dt.date().alias("day"))
        .group_by("address", "day")
        .agg(
            *side_values("amount_out"),
            pl.col("t_matched").is_null().sum().alias("unmatched"),
            (pl.col("t_out") - pl.col("t_matched")).dt.total_seconds().max().alias("max_hold_s"),
            pl.col("recipient").unique(maintain_order=True).alias("recipients"),
            pl.col("tx_out").alias("tx_out"),
            pl.col("t_out").max().alias("last_time"),
            pl.col("t_out").min().alias("first_out"),
        )
        .filter(pl.col("unmatched") == 0)
    )
    got = _receipts_drawn_on(ins, per, lim)
    flows = (
        per.join(got, on=["address", "day"])
        .with_columns(
            comparable_ratio("amount_out", "amount_in").alias("pass_ratio"),
            ratio_unit("amount_out", "amount_in").alias("pass_unit"),
            (pl.col("amount_in") + pl.col("amount_out")).alias("total_amount"),
        )
        .with_columns(in_ratio_unit("amount_out", "amount_in"))
        .drop(side_helpers("amount_in", "amount_out"))
        .filter(
            pl.col("pass_ratio").is_between(lim.min_pass_ratio, lim.max_pass_ratio)
            & (pl.col("amount_in") >= lim.min_pass_amount)
        )
        .with_columns(pl.col("recipients").list.set_difference("senders"))
        .sort("address", "day")
    )
    return flows


def _receipts_drawn_on(ins: pl.DataFrame, per: pl.DataFrame, lim: PatternLimits) -> pl.DataFrame:
    """Per address and day of ``per``, the receipts its payments draw on: from ``pass_window``
    before the first payment to the last (earlier ones are old balance)."""
    window = pl.duration(seconds=int(lim.pass_window.total_seconds()))
    return (
        ins.join(per.select("address", "day", "first_out", "last_time"), on="address")
        .filter(
            (pl.col("t_in") >= pl.col("first_out") - window)
            & (pl.col("t_in") <= pl.col("last_time"))
        )
        .group_by("address", "day")
        .agg(
            *side_values("amount_in"),
            pl.col("sender").unique(maintain_order=True).alias("senders"),
            pl.col("tx_in").alias("tx_in"),
            pl.col("t_in").min().alias("first_time"),
        )
    )


def detect_structuring(
    span: Span,
    lim: PatternLimits,
    thresholds: Mapping[str, float],
    band: float,
    threshold_usd: float | None = None,
) -> pl.DataFrame:
    if not thresholds and threshold_usd is None:
        return finish(span.t.clear(), span, "structuring")
    native = is_structuring_amount(pl.col("amt"), pl.col("asset"), thresholds, band).fill_null(
        False
    )
    # A transfer just under the native threshold is judged in native units; otherwise by USD.
    near = span.t.with_columns(native.alias("_native")).filter(
        pl.col("_native") | is_structuring_usd(pl.col("usd"), threshold_usd, band)
    )
    frames = []
    for center, other, center_role, other_role in (
        ("src", "dst", "source", "sink"),
        ("dst", "src", "sink", "source"),
    ):
        rows = near.rename({center: "center", other: "other"}).sort("center", "time")
        best = busiest_windows(
            rows,
            lim.structuring_window,
            pl.len(),
            lim.min_structuring,
            pl.col("asset").first().alias("asset"),
            pl.col("_native").all().alias("_native"),
        ).rename({"size": "count"})
        members, roles = roles_list(
            (pl.concat_list("center"), center_role), (pl.col("others"), other_role)
        )
        frames.append(
            best.with_columns(
                members.alias("members"),
                roles.alias("roles"),
                pl.col("center").alias("center_address"),
                pl.when(pl.col("_native"))
                .then(
                    pl.col("asset").replace_strict(
                        dict(thresholds), default=None, return_dtype=pl.Float64
                    )
                )
                .otherwise(pl.lit(threshold_usd, pl.Float64))
                .alias("threshold"),
                pl.when(pl.col("_native"))
                .then(pl.col("asset"))
                .otherwise(pl.lit("USD"))
                .alias("threshold_unit"),
                pl.lit("sent" if center == "src" else "received").alias("side"),
                (
                    0.5
                    + 0.5
                    * ((pl.col("count") - lim.min_structuring + 1) / lim.min_structuring).clip(0, 1)
                ).alias("score"),
            ).with_columns(json_details("count", "threshold", "threshold_unit", "asset", "side"))
        )
    return finish(pl.concat(frames, how="diagonal_relaxed"), span, "structuring")
