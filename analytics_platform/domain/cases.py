"""Cases: every alert of one address on one day, scored together, ranked and cut by a budget.

An analyst works an address, not a typology: the alerts of an address on a day form one *case*.
Its score is a noisy-OR of its alerts, each weighted by its typology's ``confidence`` in the
catalog (the share of that typology's alerts analysts confirm)::

    case_score = 1 - prod_t (1 - confidence_t * max score of typology t)

so two independent typologies on one address rank above either alone, and a typology that is
often benign needs support from another to reach the top. A catalog refitted to verdicts
also carries a *score map* (``domain.calibration``): the stored ``case_score`` is then that
score read through it, the share of such cases analysts confirmed; the ranking is the same
either way (the map never reorders). Cases are ranked within the day
(score descending, address ascending: a stable order) and the network's ``case_budget`` (at
most N cases a day an analyst team can work) marks the ones above the cut ``in_budget``; the
rest stay stored, below the cut.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from analytics_platform.domain.calibration import ScoreMap, apply_score_map, fit_score_map
from analytics_platform.domain.schemas import TYPOLOGY_ALERTS, conform

DEFAULT_CONFIDENCE = 0.5


def case_id(network: str) -> pl.Expr:
    key = pl.format("{}|{}|{}", pl.lit(network), pl.col("date").cast(pl.String), pl.col("address"))
    return pl.format("case-{}", key.hash(seed=2207).cast(pl.String))


def noisy_or(alerts: pl.DataFrame, confidence: Mapping[str, float]) -> pl.DataFrame:
    """date, address, case_score: the noisy-OR of each case's typologies (their highest
    score, weighted by ``confidence``), before any score map."""
    weights = pl.DataFrame(
        {"typology": list(confidence), "_confidence": [float(v) for v in confidence.values()]},
        schema={"typology": pl.String, "_confidence": pl.Float64},
    )
    weight = pl.col("_confidence").fill_null(DEFAULT_CONFIDENCE)
    return (
        alerts.group_by("date", "address", "typology")
        .agg(pl.col("score").max())
        .join(weights, on="typology", how="left")
        .group_by("date", "address")
        .agg((1 - (1 - weight * pl.col("score")).product()).clip(0, 1).round(6).alias("case_score"))
    )


def fit_case_score_map(
    alerts: pl.DataFrame,
    verdicts: pl.DataFrame,
    confidence: Mapping[str, float],
    weight: float = 20.0,
) -> ScoreMap:
    """The score map (:func:`domain.calibration.fit_score_map`) of the dispositioned cases'
    noisy-OR under ``confidence``: ``alerts`` date, address, typology, score; ``verdicts``
    date, address, disposition."""
    worked = noisy_or(alerts, confidence).join(verdicts, on=["date", "address"])
    return fit_score_map(
        worked["case_score"], (worked["disposition"] == "confirmed").to_list(), weight
    )


def with_cases(
    alerts: pl.DataFrame,
    *,
    network: str,
    confidence: Mapping[str, float],
    budget: int | None = None,
    score_map: ScoreMap = (),
) -> pl.DataFrame:
    """``alerts`` (one day's or many) with ``case_id``, ``case_score`` (read through
    ``score_map`` where one is given), ``case_rank`` and ``in_budget``; ranks count within
    each day."""
    cases = (
        noisy_or(alerts, confidence)
        .rename({"case_score": "_raw"})
        .sort("date", pl.col("_raw"), "address", descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("date").alias("case_rank"))
        .with_columns(
            apply_score_map(pl.col("_raw"), score_map).alias("case_score"),
            (pl.col("case_rank") <= budget if budget is not None else pl.lit(True)).alias(
                "in_budget"
            ),
            case_id(network).alias("case_id"),
        )
        .drop("_raw")
    )
    return conform(alerts.join(cases, on=["date", "address"], how="left"), TYPOLOGY_ALERTS)


def case_table(alerts: pl.DataFrame) -> pl.DataFrame:
    """One row per case: its address, score, rank, the typologies that fired (strongest first),
    highest severity, alert count and explanations."""
    severity = pl.col("severity").replace_strict(
        {"low": 0, "medium": 1, "high": 2, "critical": 3}, return_dtype=pl.Int8
    )
    return (
        alerts.sort("score", "typology", descending=[True, False])
        .with_columns(severity.alias("_severity"))
        .group_by("network", "date", "case_id", "address", "case_score", "case_rank", "in_budget")
        .agg(
            pl.col("typology").unique(maintain_order=True).alias("typologies"),
            pl.col("severity").sort_by("_severity").last().alias("severity"),
            pl.len().alias("alerts"),
            pl.col("pattern_ids")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort()
            .alias("pattern_ids"),
            pl.col("explanation"),
        )
        .sort("date", "case_rank")
    )


def episodes(
    cases: pl.DataFrame, gap_days: int = 7, verdicts: pl.DataFrame | None = None
) -> pl.DataFrame:
    """An address's cases on nearby days as one piece of work, an *episode*: a case joins the
    address's episode when it comes within ``gap_days`` days of the episode's last case and no
    verdict has closed it (a verdict on a case closes its episode; a later alert opens a new
    one). Re-alerts then add to the work an analyst already has instead of queueing again.

    ``cases``: date, address, case_score, typologies (one row per case); ``verdicts``: date,
    address, disposition. One row per episode: address, episode (1, 2, ... per address),
    first, last, cases, typologies, best_score and disposition (its latest verdict; null while
    open), best first."""
    rows = cases.select("date", "address", "case_score", "typologies")
    if verdicts is not None:
        judged = verdicts.select("date", "address", "disposition")
        rows = rows.join(judged, on=["date", "address"], how="left")
    else:
        rows = rows.with_columns(pl.lit(None, pl.String).alias("disposition"))
    previous = pl.col("date").shift(1).over("address")
    starts = (
        previous.is_null()
        | ((pl.col("date") - previous).dt.total_days() > gap_days)
        | pl.col("disposition").shift(1).over("address").is_not_null()
    )
    return (
        rows.sort("address", "date")
        .with_columns(starts.cum_sum().over("address").cast(pl.Int32).alias("episode"))
        .group_by("address", "episode")
        .agg(
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
            pl.len().alias("cases"),
            pl.col("typologies")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique(maintain_order=True),
            pl.col("case_score").max().alias("best_score"),
            pl.col("disposition").drop_nulls().last(),
        )
        .sort(["best_score", "last", "address"], descending=[True, True, False])
    )
