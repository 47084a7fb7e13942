"""Typology confidences fitted to analysts' dispositions.

A typology's ``confidence`` in the catalog is the share of its alerts analysts confirm (it
weights the typology in the case score, :mod:`domain.cases`); the catalog ships priors. Once a
team has worked cases, each typology's confidence is refitted to the cases in which it fired::

    fitted = (confirmed + weight * prior) / (cases + weight)

the confirmed share, pulled toward the catalog's prior while few cases back it (``weight``:
how many cases the prior is worth). A typology nobody has dispositioned keeps its prior.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

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
