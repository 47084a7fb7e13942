"""How amounts, shares and durations read in an alert's explanation: as an analyst writes them.

Polars formats numbers without thousands separators and has no humanised durations, so the
amounts and shares go through Python's format mini-language (a batch per call, a few per alert
day).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import polars as pl


def _python_text(value: pl.Expr, write: Callable[[float], str]) -> pl.Expr:
    """``value`` (Float64) written by ``write``; null or not finite: null."""

    def written(v: float | None) -> str | None:
        return write(v) if v is not None and math.isfinite(v) else None

    return value.map_batches(
        lambda s: pl.Series([written(v) for v in s.to_list()], dtype=pl.String),
        return_dtype=pl.String,
    )


def _amount(value: float) -> str:
    if abs(value) >= 1:
        return f"{value:,.2f}"  # cents and thousands: 40,210.21
    return f"{value:.3g}" if value else "0"  # small values keep 3 digits: 0.00412


def amount_text(amount: pl.Expr) -> pl.Expr:
    """``amount`` as text: thousands separated with cents from 1 up, 3 significant digits
    below (a WETH amount of 0.00412 is not 0.00); null stays null."""
    return _python_text(amount.cast(pl.Float64), _amount)


def duration_text(seconds: pl.Expr) -> pl.Expr:
    """A span as it is said after "within": minutes under an hour, hours under two days, else
    days; none at all is "the same timestamp" (day-resolution data stamps a day's transfers
    alike, and "0 minutes" would claim a precision it does not have)."""
    return (
        pl.when(seconds == 0)
        .then(pl.lit("the same timestamp"))
        .when(seconds < 90)
        .then(pl.lit("a minute"))
        .when(seconds < 3600)
        .then(pl.format("{} minutes", (seconds / 60).round(0).cast(pl.Int64)))
        .when(seconds < 48 * 3600)
        .then(pl.format("{} hours", (seconds / 3600).round(1)))
        .otherwise(pl.format("{} days", (seconds / 86400).round(1)))
    )


def _percent(value: float) -> str:
    return f"{round(value * 100):,}%"  # thousands apart: a 32,410-fold return is 3,240,953%


def share_text(share: pl.Expr) -> pl.Expr:
    """A share (0..1, or its text from a pattern's details) as a whole percentage: "67%"; a
    ratio far above one keeps its thousands apart ("3,240,953%"); no number: null."""
    return _python_text(share.cast(pl.Float64, strict=False), _percent)


PATTERN_TYPE_TEXT = {
    "fan_in": "fan-in",
    "fan_out": "fan-out",
    "cycle": "cycle",
    "scatter_gather": "scatter-gather",
    "gather_scatter": "gather-scatter",
    "bipartite": "bipartite layering",
    "stack": "stack of layers",
    "layering_chain": "layering chain",
    "peel_chain": "peel chain",
    "rapid_pass_through": "rapid pass-through",
    "structuring": "structuring",
    "risky_proximity": "path to a risky address",
}
"""Each pattern type as an explanation names it ("a gather-scatter", not "a gather_scatter")."""


def pattern_type_text(pattern_type: pl.Expr) -> pl.Expr:
    """``pattern_type`` in words (:data:`PATTERN_TYPE_TEXT`); a type it does not know as is."""
    return pattern_type.replace(PATTERN_TYPE_TEXT)
