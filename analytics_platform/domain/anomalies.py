"""Volume anomalies: a day's transfer figures against the trailing partitions.

Per network and day: ``transfers`` (accepted), ``active_addresses`` (distinct senders and
recipients), ``rejected_share`` (rejected / read) and ``volume:<asset>`` (native units). Each is
compared with the same figure over the previous ``lookback`` days by a robust z-score: the
distance from their median in units of 1.4826 x MAD (the standard deviation for normal data),
so one earlier outlier does not hide the next. A figure is anomalous above ``threshold``.

Counts and volumes are compared on a log scale (``log1p``): they vary multiplicatively, and a
day's volume is dominated by a few large transfers, whose tail would otherwise flag ordinary
days. The spread has a floor so that a steady history does not turn an ordinary wobble into an
alert: 0.05 on the log scale (about 5 %) for counts, 0.2 (about 22 %) for volumes, whose
daily swings of a fifth are ordinary for a token, and 0.01 for the rejected share.
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl

METRICS_SCHEMA = {"date": pl.Date, "metric": pl.String, "value": pl.Float64}
SHARES = ("rejected_share",)  # compared as they are; everything else on a log scale
FLOOR = {"rejected_share": 0.01}  # one bad row in a quiet day is not an anomaly
LOG_FLOOR = 0.05  # counts
VOLUME_LOG_FLOOR = 0.2  # volumes: "volume:<asset>"


def transfer_metrics(accepted: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """(date, metric, value) of every day present in ``accepted`` or ``rejected``."""
    counts = accepted.group_by("date").agg(
        pl.len().cast(pl.Float64).alias("transfers"),
        pl.concat_list("from_address", "to_address")
        .explode(empty_as_null=True)
        .n_unique()
        .cast(pl.Float64)
        .alias("active_addresses"),
    )
    bad = rejected.group_by("date").agg(pl.len().cast(pl.Float64).alias("rejected"))
    volumes = accepted.group_by("date", "asset").agg(
        pl.col("amount").cast(pl.Float64).sum().alias("value")
    )
    return metrics_frame(counts, bad, volumes)


def metrics_frame(counts: pl.DataFrame, bad: pl.DataFrame, volumes: pl.DataFrame) -> pl.DataFrame:
    """(date, metric, value) from per-day counts (date, transfers, active_addresses), rejected
    rows (date, rejected) and volumes (date, asset, value), however they were aggregated."""
    days = pl.concat([counts.select("date"), bad.select("date")]).unique()
    if days.height == 0:
        return pl.DataFrame(schema=METRICS_SCHEMA)
    per_day = (
        days.join(counts, on="date", how="left")
        .join(bad, on="date", how="left")
        .with_columns(pl.col("transfers", "active_addresses", "rejected").fill_null(0.0))
        .with_columns(
            pl.when(pl.col("transfers") + pl.col("rejected") > 0)
            .then(pl.col("rejected") / (pl.col("transfers") + pl.col("rejected")))
            .otherwise(0.0)
            .alias("rejected_share")
        )
        .unpivot(
            ["transfers", "active_addresses", "rejected_share"],
            index="date",
            variable_name="metric",
        )
    )
    return pl.concat(
        [
            per_day.select(pl.col(c).cast(t) for c, t in METRICS_SCHEMA.items()),
            volumes.select("date", pl.format("volume:{}", "asset").alias("metric"), "value").select(
                pl.col(c).cast(t) for c, t in METRICS_SCHEMA.items()
            ),
        ]
    )


def robust_z(value: float, history: list[float], metric: str = "") -> tuple[float, float]:
    """(z, median of ``history``) of ``value``; on the log scale unless ``metric`` is a share."""
    scale = (lambda x: x) if metric in SHARES else math.log1p
    ordered = sorted(scale(h) for h in history)
    median = _median(ordered)
    mad = _median(sorted(abs(h - median) for h in ordered))
    floor = VOLUME_LOG_FLOOR if metric.startswith("volume:") else FLOOR.get(metric, LOG_FLOOR)
    spread = max(1.4826 * mad, floor)
    return (scale(value) - median) / spread, _median(sorted(history))


def _median(ordered: list[float]) -> float:
    n = len(ordered)
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2


def anomalies_on(
    day: date,
    metrics: pl.DataFrame,
    *,
    lookback: int = 28,
    threshold: float = 3.5,
    min_history: int = 7,
) -> list[dict]:
    """The figures of ``day`` in ``metrics`` (which holds the trailing days too) whose robust
    z-score against the previous ``lookback`` days exceeds ``threshold``; none while fewer
    than ``min_history`` earlier days exist. A metric absent on a day (no volume of that asset)
    counts as 0 there."""
    days = sorted(d for d in metrics["date"].unique().to_list() if d < day)[-lookback:]
    if len(days) < min_history:
        return []
    today = dict(metrics.filter(pl.col("date") == day).select("metric", "value").iter_rows())
    found = []
    for metric in sorted(set(metrics.filter(pl.col("date").is_in(days + [day]))["metric"])):
        rows = dict(
            metrics.filter((pl.col("metric") == metric) & pl.col("date").is_in(days))
            .select("date", "value")
            .iter_rows()
        )
        history = [rows.get(d, 0.0) for d in days]
        value = today.get(metric, 0.0)
        z, median = robust_z(value, history, metric)
        if abs(z) > threshold and math.isfinite(z):
            found.append(
                {
                    "metric": metric,
                    "value": _sig(value),
                    "median": _sig(median),
                    "z": round(z, 2),
                    "history_days": len(days),
                }
            )
    return found


def _sig(x: float, digits: int = 6) -> float:
    """``x`` to ``digits`` significant digits: figures that print the same whichever way the
    float sums were ordered."""
    return float(f"{x:.{digits}g}")
