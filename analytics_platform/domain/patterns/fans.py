"""Fan-out and fan-in: one centre and many distinct counterparties within ``fan_window``.

A sliding window over each centre's transfers finds the busiest window; centres above
``max_fan`` distinct counterparties over the span are services, not mules, and are skipped
(counted as ``<kind>_over_max_fan``).
"""

from __future__ import annotations

import polars as pl

from analytics_platform.domain.patterns.common import (
    Span,
    busiest_windows,
    finish,
    json_details,
    roles_list,
    with_one_off_share,
)
from analytics_platform.domain.patterns.limits import PatternLimits


def detect_fans(span: Span, kind: str, lim: PatternLimits) -> pl.DataFrame:
    t = span.t
    center, other = ("src", "dst") if kind == "fan_out" else ("dst", "src")
    sizes = t.group_by(center).agg(pl.col(other).n_unique().alias("n"))
    span.hit(f"{kind}_over_max_fan", int((sizes["n"] > lim.max_fan).sum()))
    candidates = sizes.filter(pl.col("n").is_between(lim.min_fan, lim.max_fan))[center]
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
