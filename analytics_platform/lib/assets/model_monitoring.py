"""``model_monitoring``: is the champion still looking at the data it learned from? Drift of
its score and top features, its alert volume, and the analysts' confirmed share."""

from datetime import date, timedelta

import dagster as dg
import polars as pl

from analytics_platform.domain.schemas import MODEL_MONITORING
from analytics_platform.domain.typologies import MODEL_TYPOLOGY
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import days_of, record_days
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.lib.resources import LakeResource, ModelRegistryResource
from analytics_platform.pipeline.risk import drift_rows


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    @dg.asset(
        **spec.asset(
            "model_monitoring",
            "The champion risk model watched daily: population stability index (10 bins; "
            "warn at 0.1, fail at 0.25) of its score and 20 most important features against "
            "its validation days, its alert volume beside the rules', and the confirmed share "
            "of the cases analysts reviewed over 30 days. Numeric metadata for the Plots tab.",
            checks=qc.MODEL_MONITORING,
            ins={
                "scores": dg.AssetIn(spec.key("address_risk_scores")),
                "alerts": dg.AssetIn(spec.key("typology_alerts")),
                "features": dg.AssetIn(spec.key("address_features")),
                "patterns": dg.AssetIn(spec.key("structural_patterns")),
                "edges": spec.risk_edges(),
            },
            kinds={"mlflow"},
        )
    )
    @retry_only_transient
    def model_monitoring(
        context: dg.AssetExecutionContext,
        scores: pl.DataFrame,
        alerts: pl.DataFrame,
        features: pl.DataFrame,
        patterns: pl.DataFrame,
        edges: pl.DataFrame,
        model_registry: ModelRegistryResource,
        lake: LakeResource,
    ):
        days = days_of(context)
        champion = scores.filter(pl.col("alias") == "champion")
        frames = []
        # The version that scored each day (not today's champion): a day's drift is judged
        # against the reference of the model that scored it, whenever it is recomputed.
        registry = model_registry.registry() if champion.height else None
        for version in sorted(champion["model_version"].unique().to_list()):
            assert registry is not None
            model = registry.load(spec.name, version)
            scored_days = sorted(
                champion.filter(pl.col("model_version") == version)["date"].unique().to_list()
            )
            frames.append(
                drift_rows(model, version, features, patterns, edges, scores,
                           network=spec.name, days=scored_days,
                           lookback=spec.net.risk_lookback_days)
            )  # fmt: skip
        rows = pl.concat(frames) if frames else pl.DataFrame(schema=MODEL_MONITORING)
        # without a champion there is nothing to watch: no verdicts read (DuckDB) for it
        verdicts = _verdicts(lake, spec.name) if champion.height else None
        record_days(
            context, rows, days, lambda day, part: _figures(day, part, scores, alerts, verdicts)
        )
        yield dg.Output(rows)
        yield from qc.results(spec.key("model_monitoring"), qc.MODEL_MONITORING, rows=rows)

    return model_monitoring


def _verdicts(lake: LakeResource, network: str) -> pl.DataFrame:
    """The cases' latest verdicts: people's input, read as they stand when the day runs."""
    from analytics_platform.casework import dispositions
    from analytics_platform.lake.sql import LakeSql

    return dispositions.current(LakeSql(str(lake.root()), network))


def _figures(
    day: date,
    part: pl.DataFrame,
    scores: pl.DataFrame,
    alerts: pl.DataFrame,
    verdicts: pl.DataFrame | None,
) -> dict:
    today = scores.filter((pl.col("date") == day) & (pl.col("alias") == "champion"))
    day_alerts = alerts.filter(pl.col("date") == day)
    features = part.filter(pl.col("column") != "score")["psi"].drop_nulls()
    score = part.filter(pl.col("column") == "score")["psi"].drop_nulls()
    figures: dict = {
        "model_alerts": day_alerts.filter(pl.col("typology") == MODEL_TYPOLOGY).height,
        "rule_alerts": day_alerts.filter(pl.col("typology") != MODEL_TYPOLOGY).height,
    }
    if verdicts is None:
        return figures
    recent = verdicts.filter(pl.col("date").is_between(day - timedelta(days=29), day))
    confirmed = recent.filter(pl.col("disposition") == "confirmed").height
    figures |= {
        "scored_addresses": today.height,
        "flagged_addresses": today.filter("flagged").height,
        "reviewed_cases_30d": recent.height,
    }
    if score.len():
        figures["psi_score"] = dg.MetadataValue.float(round(float(score[0]), 4))
    if features.len():
        figures["psi_features_max"] = dg.MetadataValue.float(round(float(features.max()), 4))
    if recent.height:
        figures["confirmed_share_30d"] = dg.MetadataValue.float(round(confirmed / recent.height, 4))
    return figures
