"""The learned risk model in the product: labels from the team's verdicts, training on what the
warehouse stored, the daily scores, and the model's alerts beside the rules'.

Dagster-free: the ``risk_model`` / ``address_risk_scores`` assets, the ``model`` CLI and
``evaluate --cutoff`` all go through these functions, so each trains and scores one way.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import polars as pl

from analytics_platform.domain.risk.labels import LABELS, known_by
from analytics_platform.domain.risk.matrix import KEY, address_days
from analytics_platform.domain.risk.model import NONE, RiskModel, fit
from analytics_platform.domain.risk.relations import NEW_DAYS
from analytics_platform.domain.risk.training_set import TrainingSet, TrainingSettings, training_set
from analytics_platform.domain.schemas import ADDRESS_RISK_SCORES as SCORES
from analytics_platform.domain.schemas import ALERT_COLUMNS
from analytics_platform.domain.schemas import MODEL_MONITORING as MONITORING
from analytics_platform.domain.typologies import MODEL_TYPOLOGY

# -- labels -------------------------------------------------------------------------------


def verdict_labels(
    verdicts: pl.DataFrame, alerts: pl.DataFrame, patterns: pl.DataFrame
) -> pl.DataFrame:
    """Labels (:data:`LABELS`) from the analysts' latest verdicts (date, address,
    disposition, recorded_at): a confirmed case labels its address with the type of each
    pattern behind its alerts (or ``none`` when no pattern was: a feature typology); a
    dismissed case is a ``none`` label, a negative at full weight. Known when recorded."""
    if verdicts.height == 0:
        return pl.DataFrame(schema=LABELS)
    behind = (
        alerts.select("date", "address", "pattern_ids")
        .explode("pattern_ids", empty_as_null=True)
        .join(
            patterns.select("date", pl.col("pattern_id").alias("pattern_ids"), "pattern_type"),
            on=["date", "pattern_ids"],
            how="left",
        )
        .select("date", "address", pl.col("pattern_type").fill_null(NONE))
        .unique()
    )
    confirmed = pl.col("disposition") == "confirmed"
    return (
        verdicts.join(behind, on=["date", "address"], how="left")
        .select(
            "address",
            pl.when(confirmed)
            .then(pl.col("pattern_type").fill_null(NONE))
            .otherwise(pl.lit(NONE))
            .alias("pattern_type"),
            pl.col("date").alias("first_day"),
            pl.col("date").alias("last_day"),
            pl.col("recorded_at").dt.date().alias("known_at"),
            pl.format("verdict:{}", "disposition").alias("source"),
        )
        .unique()
        .sort("known_at", "address", "pattern_type")
        .cast(LABELS)
    )


def read_labels(path: str) -> pl.DataFrame:
    """A labels file (CSV or Parquet, local or ``s3://``) as :data:`LABELS`; a one-line error
    naming the file and the first missing column or bad value."""
    from analytics_platform.storage.files import read_file

    frame = read_file(path)
    missing = [c for c in LABELS if c not in frame.columns and c != "source"]
    if missing:
        raise ValueError(f"risk labels {path}: missing column(s) {', '.join(missing)}")
    if "source" not in frame.columns:
        frame = frame.with_columns(pl.lit("file").alias("source"))
    try:
        return frame.select(
            pl.col(c).cast(pl.String).str.to_date("%Y-%m-%d") if t == pl.Date() else pl.col(c)
            for c, t in LABELS.items()
        ).cast(LABELS)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"risk labels {path}: {str(exc).splitlines()[0]}") from None


def unknown_addresses(labels: pl.DataFrame, matrix: pl.DataFrame) -> int:
    """How many labelled addresses never appear in the data: counted and reported, not
    silently dropped (a label on another network, a typo)."""
    seen = matrix.select("address").unique()
    return labels.select("address").unique().join(seen, on="address", how="anti").height


# -- training -----------------------------------------------------------------------------


def training_set_on(
    history: dict[str, pl.DataFrame],
    labels: pl.DataFrame,
    cutoff: date,
    lookback: int | None = None,
    **lineage: Any,
) -> TrainingSet:
    """The training set of a model with ``cutoff``: ``history`` (the warehouse's
    ``address_features``, ``structural_patterns`` and ``daily_edges`` up to it) as the risk
    matrix (with ``lookback``, the relationship features of that many days too), and the
    labels known then (``domain.risk.training_set``). ``lineage`` is logged with the model."""
    matrix = address_days(
        history["address_features"],
        history["structural_patterns"],
        history["daily_edges"],
        lookback,
    )
    matrix = matrix.filter(pl.col("date") <= cutoff)
    first = matrix["date"].min()
    settings = TrainingSettings.for_history((cutoff - first).days + 1)
    known = known_by(labels, cutoff)
    return TrainingSet(
        training_set(matrix, known, cutoff, settings),
        known,
        cutoff,
        settings,
        {
            "training_first_day": first.isoformat(),
            "training_last_day": cutoff.isoformat(),
            "labels": known.height,
            "unknown_labelled_addresses": unknown_addresses(known, matrix),
            **lineage,
        },
    )


def train_on_set(training: TrainingSet, patterns: pl.DataFrame, alerts: pl.DataFrame) -> RiskModel:
    """A model fitted on ``training``, alerting for the types where its validation days chose
    it beside the rules (``patterns`` and ``alerts`` of those days: :func:`blend_on_validation`)."""
    model = fit(training.rows, training.labels, training.cutoff, training.settings)
    policies = blend_on_validation(
        model, training.validation_matrix, training.labels, patterns, alerts
    )
    alerting = tuple(t for t, how in sorted(policies.items()) if how in ("model", "either"))
    return dataclasses.replace(
        model, alerting=alerting, metrics={**model.metrics, "blend": policies}
    )


def blend_on_validation(
    model: RiskModel,
    matrix: pl.DataFrame,
    labels: pl.DataFrame,
    patterns: pl.DataFrame,
    alerts: pl.DataFrame,
) -> dict[str, str]:
    """Per pattern type, how the model's flags should join the rules' alerts
    (``compare.choose_blend``), judged on the validation days with the labels known at the
    cutoff: the model alerts for a type only where that beat the rules alone there."""
    from analytics_platform.domain.risk import compare

    cutoff = model.cutoff
    first = model.settings.validation_start(cutoff)
    window = matrix.filter(pl.col("date").is_between(first, cutoff))
    rules = alerts.filter(pl.col("typology") != MODEL_TYPOLOGY)
    return compare.choose_blend(
        compare.labels_as_truth(known_by(labels, cutoff), first, cutoff),
        compare.rules_between(patterns, rules, first, cutoff),
        compare.model_between(model.flagged(window), first, cutoff),
    )


# -- scoring ------------------------------------------------------------------------------


def score_day(
    model: RiskModel,
    features: pl.DataFrame,
    patterns: pl.DataFrame,
    edges: pl.DataFrame,
    *,
    network: str,
    alias: str,
    version: int,
    lookback: int | None = None,
) -> pl.DataFrame:
    """:data:`SCORES` rows of every address in ``features`` (one day's or several; ``edges``
    reaching ``lookback`` days before the first where the network sets one)."""
    if features.height == 0:
        return pl.DataFrame(schema=SCORES)
    matrix = address_days(features, patterns, edges, lookback)
    scores = model.scores(matrix).with_columns(
        (pl.col("probability").rank("max").over("date") / pl.len().over("date")).alias("percentile")
    )
    if model.alerting is not None:  # a type the validation days kept to the rules: no flag
        scores = scores.with_columns(
            pl.col("flagged") & pl.col("pattern_type").is_in(list(model.alerting))
        )
    flagged = matrix.join(scores.filter("flagged").select(KEY), on=list(KEY), how="semi")
    words = explanations(model, flagged)
    return (
        scores.join(words, on=list(KEY), how="left")
        .with_columns(
            pl.lit(network).alias("network"),
            pl.lit(alias).alias("alias"),
            pl.lit(version).alias("model_version"),
            pl.lit(model.feature_hash).alias("feature_hash"),
            pl.col("explanation").fill_null(""),
        )
        .select(list(SCORES))
        .cast(SCORES)
        .sort("date", "address")
    )


def explanations(model: RiskModel, matrix: pl.DataFrame, top: int = 3) -> pl.DataFrame:
    """address, date, explanation: the ``top`` features behind each row's score, worded."""
    if matrix.height == 0:
        return pl.DataFrame(schema=dict(address=pl.String, date=pl.Date, explanation=pl.String))
    parts = model.contributions(matrix, top=top).filter(pl.col("contribution") > 0)
    worded = [
        describe(feature, value, contribution)
        for feature, value, contribution in parts.select(
            "feature", "value", "contribution"
        ).iter_rows()
    ]
    return (
        parts.with_columns(pl.Series("words", worded, dtype=pl.String))
        .sort("address", "date", "rank")
        .group_by("address", "date", maintain_order=True)
        .agg(pl.col("words").str.join("; ").alias("explanation"))
    )


_WORDS = {
    "in_degree": "payers",
    "out_degree": "payees",
    "counterparties": "counterparties",
    "tx_count": "transfers",
    "volume_usd": "USD moved",
    "in_volume_usd": "USD received",
    "out_volume_usd": "USD sent",
}


def describe(feature: str, value: float, contribution: float) -> str:
    """One contribution in an analyst's words: ``14 payers in 30 days (+1.2)``."""
    sign = f"({contribution:+.1f})"
    shown = f"{value:,.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:.2f}"
    if feature.startswith(("member_", "centre_")):
        role, kind = feature.split("_", 1)
        what = "member of" if role == "member" else "centre of"
        return f"{what} {shown} {kind.replace('_', '-')} pattern(s) that day {sign}"
    for side in ("payee", "payer"):
        if feature.startswith(f"{side}_max_"):
            inner = feature.removeprefix(f"{side}_max_")
            who = "an address it paid" if side == "payee" else "an address that paid it"
            return f"{who} has {shown} {_plain(inner)} {sign}"
    return f"{shown} {_plain(feature)} {sign}"


_RELATION_WORDS = {
    "payer_counterparties": "payers",
    "payer_one_off": "payers seen once",
    "payer_regular": "regular payers",
    "payer_transfers": "transfers received",
    "payer_new": f"payers new in the last {NEW_DAYS} days",
    "payee_counterparties": "payees",
    "payee_one_off": "payees paid once",
    "payee_regular": "regular payees",
    "payee_transfers": "transfers sent",
    "payee_new": f"payees new in the last {NEW_DAYS} days",
    "payees_max_counterparties": "payers at the busiest address it paid",
    "payees_max_one_off": "one-off payers at an address it paid",
    "payees_one_off_to_collectors": "one-off payments to collectors of one-off payments",
    "payers_max_counterparties": "payees of the busiest address that paid it",
    "payers_max_one_off": "one-off payees of an address that paid it",
    "payers_one_off_to_collectors": "one-off payments from spreaders of one-off payments",
    "active_days": "active days",
    "age_days": "days since first seen",
}


def _plain(feature: str) -> str:
    name, _, days = feature.rpartition("_l")
    if name in _RELATION_WORDS and days.isdigit():
        return f"{_RELATION_WORDS[name]} in {days} days"
    name, _, window = feature.rpartition("_w")
    if not name or not window.isdigit():
        return feature.replace("_", " ")
    return f"{_WORDS.get(name, name.replace('_', ' '))} in {window} days"


# -- monitoring ---------------------------------------------------------------------------


def drift_rows(
    model: RiskModel,
    version: int,
    features: pl.DataFrame,
    patterns: pl.DataFrame,
    edges: pl.DataFrame,
    scores: pl.DataFrame,
    *,
    network: str,
    days: list[date],
    lookback: int | None = None,
) -> pl.DataFrame:
    """:data:`MODEL_MONITORING` rows of each of ``days``: the champion's stored scores and the
    matrix's watched features against the model's reference."""
    from analytics_platform.domain.risk import drift

    matrix = address_days(features, patterns, edges, lookback) if features.height else None
    rows = []
    for day in days:
        mine = scores.filter(
            (pl.col("date") == day)
            & (pl.col("alias") == "champion")
            & (pl.col("model_version") == version)
        )
        today = matrix.filter(pl.col("date") == day) if matrix is not None else None
        for column, ref in model.reference.items():
            if column == "score":
                values = mine["probability"].to_numpy()
            elif today is not None and column in today.columns:
                values = today[column].to_numpy()
            else:
                values = pl.Series([], dtype=pl.Float64).to_numpy()
            index = drift.psi(ref, values)
            rows.append((network, day, version, column, index, drift.status(index), len(values)))
    return pl.DataFrame(rows, schema=MONITORING, orient="row")


# -- alerts -------------------------------------------------------------------------------


def model_alerts(scores: pl.DataFrame, network: str) -> pl.DataFrame:
    """:data:`ALERT_COLUMNS` rows of the champion's flagged scores: typology
    :data:`MODEL_TYPOLOGY`, the predicted pattern type, the probability as the score."""
    rows = scores.filter((pl.col("alias") == "champion") & pl.col("flagged"))
    severity = (
        pl.when(pl.col("probability") >= 0.9).then(pl.lit("high"))
        .when(pl.col("probability") >= 0.6).then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )  # fmt: skip
    return (
        rows.select(
            pl.lit(network).alias("network"),
            "date",
            pl.format(
                "{}-{}-{}-{}", pl.lit(MODEL_TYPOLOGY), "date", "address", "model_version"
            ).alias("alert_id"),
            pl.lit(MODEL_TYPOLOGY).alias("typology"),
            "address",
            severity.alias("severity"),
            pl.col("probability").clip(0, 1).round(6).alias("score"),
            pl.lit([], dtype=pl.List(pl.String)).alias("pattern_ids"),
            pl.lit([], dtype=pl.List(pl.String)).alias("tx_hashes"),
            pl.format("model version {} ({})", "model_version", "feature_hash").alias("evidence"),
            pl.format(
                "risk model: likely {} ({}%): {}",
                "pattern_type",
                (pl.col("probability") * 100).round(0).cast(pl.Int64),
                "explanation",
            ).alias("explanation"),
            "pattern_type",
            pl.lit("model").alias("source"),
        )
        .select(list(ALERT_COLUMNS))
        .cast(ALERT_COLUMNS)
    )


def history_window(cutoff: date, days: int) -> tuple[date, date]:
    return cutoff - timedelta(days=days - 1), cutoff
