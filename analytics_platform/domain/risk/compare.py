"""Rules, model and both, judged on the days after a cutoff (``evaluate --cutoff``).

The truth judged is the planted patterns not yet known at the cutoff (their last day is after
it), look-alikes of those days apart: what a model trained at the cutoff could not have seen.
Rules are the alerts raised after the cutoff (the patterns behind them, as an analyst sees a
case); the model flags an address for a type when one of its days after the cutoff reaches the
type's validation threshold; *both* is either. Each is scored per type at the account level
(``domain.evaluation.account_scores``).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics_platform.domain.evaluation import account_scores, alerted_patterns


def truth_after(truth: pl.DataFrame, spans: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """``truth`` (pattern_id, pattern_type, is_sar, address) of the patterns whose last day
    (``spans``: pattern_id, last_day) is after ``cutoff``."""
    later = spans.filter(pl.col("last_day") > cutoff).select("pattern_id")
    return truth.join(later, on="pattern_id", how="semi")


def rules_after(patterns: pl.DataFrame, alerts: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """The detections behind the alerts raised after ``cutoff``."""
    after = pl.col("date") > cutoff
    return alerted_patterns(patterns.filter(after), alerts.filter(after)).select(
        "pattern_type", "members"
    )


def model_after(flagged: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """One detection per (type, address) the model flagged after ``cutoff``."""
    return (
        flagged.filter(pl.col("date") > cutoff)
        .select("pattern_type", "address")
        .unique()
        .select("pattern_type", pl.concat_list("address").alias("members"))
    )


def side_by_side(truth: pl.DataFrame, rules: pl.DataFrame, model: pl.DataFrame) -> pl.DataFrame:
    """Per planted type: precision, recall and F1 of rules, model and both."""
    types = truth.select("pattern_type").unique()
    out = None
    for name, found in (("rules", rules), ("model", model), ("both", pl.concat([rules, model]))):
        scores = account_scores(truth, found).join(types, on="pattern_type", how="semi")
        part = scores.select(
            "pattern_type",
            *(pl.col(c).alias(f"{name}_{c}") for c in ("precision", "recall", "f1")),
            pl.col("decoy_hits").alias(f"{name}_decoys"),
        )
        out = part if out is None else out.join(part, on="pattern_type", how="full", coalesce=True)
    assert out is not None
    return out.sort("pattern_type")
