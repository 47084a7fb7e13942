"""``address_risk_scores``: every active address of a day scored by the champion risk model,
and by the challenger in shadow (stored, never alerting)."""

import dagster as dg
import polars as pl

from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import counts, days_of, record_days
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.lib.resources import ModelRegistryResource
from analytics_platform.pipeline.risk import SCORES, score_day
from analytics_platform.storage.model_registry import ALIASES


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    @dg.asset(
        **spec.asset(
            "address_risk_scores",
            "Every active address of the day scored by the champion risk model (probability, "
            "percentile, predicted pattern type, model version, feature-list hash, the "
            "features behind a flagged score) and by the challenger in shadow. Without a "
            "champion: no rows, rules only.",
            ins={
                "features": dg.AssetIn(spec.key("address_features")),
                "patterns": dg.AssetIn(spec.key("structural_patterns")),
                "edges": spec.risk_edges(),
            },
            checks=qc.ADDRESS_RISK_SCORES,
            kinds={"lightgbm", "mlflow"},
        )
    )
    @retry_only_transient
    def address_risk_scores(
        context: dg.AssetExecutionContext,
        features: pl.DataFrame,
        patterns: pl.DataFrame,
        edges: pl.DataFrame,
        model_registry: ModelRegistryResource,
    ):
        days = days_of(context)
        frames, versions = [], {}
        registry = model_registry.registry() if model_registry.has_store() else None
        for alias in ALIASES:
            version = registry.version_of(spec.name, alias) if registry else None
            if version is None:
                continue
            versions[alias] = version
            model = registry.load(spec.name, version)
            frames.append(
                score_day(model, features, patterns, edges, network=spec.name, alias=alias,
                          version=version, lookback=spec.net.risk_lookback_days)
            )  # fmt: skip
        if "champion" not in versions:
            context.log.warning(
                f"{spec.name}: no champion risk model; alerts come from the rules only "
                "(train one: analytics-platform model train)"
            )
        scores = pl.concat(frames) if frames else pl.DataFrame(schema=SCORES)
        record_days(
            context,
            scores,
            days,
            lambda day, rows: {
                "flagged": int(rows.filter(pl.col("flagged") & (pl.col("alias") == "champion"))
                               .height),
                "by_type": counts(rows.filter("flagged"), "pattern_type"),
            },
        )  # fmt: skip
        yield dg.Output(
            scores,
            metadata={
                "champion": versions.get("champion", "none"),
                "challenger": versions.get("challenger", "none"),
            },
        )
        yield from qc.results(
            spec.key("address_risk_scores"), qc.ADDRESS_RISK_SCORES, scores=scores
        )

    return address_risk_scores
