"""Typology confidences fitted to analysts' dispositions.

A typology's ``confidence`` in the catalog is the share of its alerts analysts confirm (it
weights the typology in the case score, :mod:`domain.cases`); the catalog ships priors. Once a
team has worked cases, each typology's confidence is refitted to the cases in which it fired::

    fitted = (confirmed + weight * prior) / (cases + weight)

the confirmed share, pulled toward the catalog's prior while few cases back it (``weight``:
how many cases the prior is worth). A typology nobody has dispositioned keeps its prior.

The case score those confidences give (a noisy-OR of confidence x pattern score) ranks cases
but understates how often they are confirmed: a typology whose alerts are confirmed 9 times in
10 scores 0.9 x its pattern's score. A *score map* then maps the case score onto the share
of cases confirmed (:func:`fit_score_map`: an isotonic fit, monotone so the ranking stays),
pulled toward the score itself where few cases back a step (the same ``weight``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy.optimize import isotonic_regression

DISPOSITIONS = ("confirmed", "dismissed")
"""An analyst's verdict on a case: suspicious activity confirmed (filed, escalated) or not."""


OPTIONAL = ("note", "analyst")
"""Columns a dispositions file may add, kept as text."""


def validate_dispositions(raw: pl.DataFrame) -> pl.DataFrame:
    """date, address, disposition (and :data:`OPTIONAL` columns present); one verdict per
    case (address and day), the last row of a case wins (a file of dispositions is a log: a
    review that changed its mind comes later). Errors name the column and the first bad
    value."""
    missing = {"date", "address", "disposition"} - set(raw.columns)
    if missing:
        raise ValueError(f"dispositions: missing columns {sorted(missing)}")
    rows = raw.select(
        pl.col("date").cast(pl.String).str.to_date("%Y-%m-%d", strict=False).alias("date"),
        pl.col("address").cast(pl.String),
        pl.col("disposition").cast(pl.String).str.strip_chars().str.to_lowercase(),
        *(pl.col(c).cast(pl.String) for c in OPTIONAL if c in raw.columns),
        pl.col("date").cast(pl.String).alias("_raw_date"),
    )
    bad_date = rows.filter(pl.col("date").is_null())
    if bad_date.height:
        raise ValueError(
            f"dispositions.date: expected YYYY-MM-DD, got {bad_date['_raw_date'][0]!r}"
        )
    bad = rows.filter(~pl.col("disposition").is_in(DISPOSITIONS).fill_null(False))
    if bad.height:
        raise ValueError(
            f"dispositions.disposition: expected {' or '.join(DISPOSITIONS)}, got "
            f"{bad['disposition'][0]!r} (address {bad['address'][0]}, {bad['date'][0]})"
        )
    return rows.drop("_raw_date").unique(["date", "address"], keep="last", maintain_order=True)


def fit_confidences(
    alerts: pl.DataFrame,
    verdicts: pl.DataFrame,
    prior: Mapping[str, float],
    weight: float = 20.0,
) -> pl.DataFrame:
    """Per typology of ``prior``: ``cases`` (dispositioned cases in which it fired),
    ``confirmed``, ``prior`` and ``fitted``. ``alerts``: date, address, typology (stored
    ``typology_alerts``); ``verdicts``: :func:`validate_dispositions` of the team's file."""
    if weight <= 0:
        raise ValueError(f"weight: must be > 0, got {weight}")
    worked = (
        alerts.select("date", "address", "typology")
        .unique()
        .join(verdicts, on=["date", "address"])
        .group_by("typology")
        .agg(
            pl.len().alias("cases"),
            (pl.col("disposition") == "confirmed").sum().alias("confirmed"),
        )
    )
    priors = pl.DataFrame(
        {"typology": list(prior), "prior": [float(v) for v in prior.values()]},
        schema={"typology": pl.String, "prior": pl.Float64},
    )
    return (
        priors.join(worked, on="typology", how="left")
        .with_columns(pl.col("cases", "confirmed").fill_null(0).cast(pl.Int64))
        .with_columns(
            ((pl.col("confirmed") + weight * pl.col("prior")) / (pl.col("cases") + weight))
            .round(3)
            .clip(0.001, 1.0)
            .alias("fitted")
        )
        .sort("cases", "typology", descending=[True, False])
    )


def unmatched(alerts: pl.DataFrame, verdicts: pl.DataFrame) -> int:
    """Verdicts (:func:`validate_dispositions`) on no stored case (a case recomputed away, or a
    typo in the file)."""
    cases = alerts.select("date", "address").unique()
    return verdicts.join(cases, on=["date", "address"], how="anti").height


ScoreMap = tuple[tuple[float, float], ...]
"""(case score, share confirmed) points, both increasing; :func:`apply_score_map` reads
between them."""


def fit_score_map(
    scores: Sequence[float], confirmed: Sequence[bool], weight: float = 20.0
) -> ScoreMap:
    """The case score mapped onto the share of cases confirmed: an isotonic (monotone)
    regression of ``confirmed`` on ``scores``, one point per step of it (the step's mean score
    and confirmed share), each share pulled toward the step's mean score by ``weight`` cases
    (a step few cases back stays near the score). Scipy's pool-adjacent-violators fit rather
    than a hand-written one."""
    if weight <= 0:
        raise ValueError(f"weight: must be > 0, got {weight}")
    cases = pl.DataFrame(
        {"x": np.asarray(scores, dtype=float), "y": np.asarray(confirmed, dtype=float)}
    )
    if cases.height == 0:
        return ()
    at = cases.group_by("x").agg(pl.col("y").mean(), pl.len().alias("n")).sort("x")
    at = at.with_columns(
        pl.Series("step", isotonic_regression(at["y"].to_numpy(), weights=at["n"].to_numpy()).x)
    )
    steps = (
        at.group_by("step")
        .agg(((pl.col("x") * pl.col("n")).sum() / pl.col("n").sum()).alias("x"), pl.col("n").sum())
        .sort("x")
    )
    steps = steps.with_columns(
        ((pl.col("n") * pl.col("step") + weight * pl.col("x")) / (pl.col("n") + weight))
        .cum_max()
        .clip(0.0, 1.0)
        .alias("share")
    )
    return tuple(
        (round(a, 6), round(b, 6)) for a, b in zip(steps["x"], steps["share"], strict=True)
    )


def apply_score_map(score: pl.Expr, points: ScoreMap) -> pl.Expr:
    """``score`` read through ``points`` (:func:`fit_score_map`), linearly between them and
    toward (0, 0) and (1, 1) beyond them; no points: the score itself."""
    if not points:
        return score
    xs = np.array([0.0, *(p[0] for p in points), 1.0])
    ys = np.array([0.0, *(p[1] for p in points), 1.0])
    return score.map_batches(
        lambda s: pl.Series(np.interp(s.to_numpy(), xs, ys)).round(6),
        return_dtype=pl.Float64,
    )


def validate_score_map(raw: object, where: str) -> ScoreMap:
    """A score map from configuration: ``[[score, share], ...]``, both in [0, 1], the scores
    increasing and the shares never decreasing (a map that reorders cases would override
    their ranking)."""
    try:
        points = tuple((float(a), float(b)) for a, b in (raw or ()))  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: expected [[score, share], ...], got {raw!r}") from exc
    for (a, b), (c, d) in zip(points, points[1:], strict=False):
        if not (c > a and d >= b):
            raise ValueError(
                f"{where}: scores must increase and shares never decrease, got {[a, b]} "
                f"then {[c, d]}"
            )
    if any(not (0 <= v <= 1) for point in points for v in point):
        raise ValueError(f"{where}: scores and shares must lie in [0, 1], got {list(points)}")
    return points
