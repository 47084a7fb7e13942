"""``typology_alerts``: scored, explained alerts with evidence pictures for each day's top."""

from collections.abc import Callable
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from analytics_platform.casework.evidence_store import top_cases_markdown, write_evidence
from analytics_platform.domain.typologies import load_catalog
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import counts, days_of, record_days
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.lib.resources import LakeResource
from analytics_platform.pipeline.alerts import alerts_for_days


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    # the patterns' transfers, for their evidence pictures: a funnel's reach back funnel_days
    span = spec.trailing(spec.net.pattern_transfer_days)

    @dg.asset(
        **spec.asset(
            "typology_alerts",
            "Suspicious-activity alerts by typology with severity, score, evidence and "
            "explanation.",
            checks=qc.TYPOLOGY_ALERTS,
            ins={
                "patterns": dg.AssetIn(spec.key("structural_patterns")),
                "features": dg.AssetIn(spec.key("address_features")),
                "transfers": dg.AssetIn(spec.key("transfers"), partition_mapping=span),
                "labels": dg.AssetIn(spec.key("address_labels")),
                "risk_scores": dg.AssetIn(spec.key("address_risk_scores")),
            },
        )
    )
    @retry_only_transient
    def typology_alerts(
        context: dg.AssetExecutionContext,
        patterns: pl.DataFrame,
        features: pl.DataFrame,
        transfers: pl.DataFrame,
        labels: pl.DataFrame,
        risk_scores: pl.DataFrame,
        lake: LakeResource,
    ):
        catalog = load_catalog(spec.settings.typologies_path)
        days = days_of(context)
        alerts = alerts_for_days(
            patterns,
            features,
            transfers,
            labels,
            network=spec.name,
            days=days,
            catalog=catalog,
            span_days=spec.net.pattern_span_days,
            case_budget=spec.net.case_budget,
            min_value=spec.net.alert_min_value,
            history_start=spec.net.start_date,
            risk_scores=risk_scores,
            model_confidence=spec.net.risk.confidence,
        )

        summary = _day_summary(spec, lake, patterns, transfers)
        record_days(context, alerts, days, summary)
        yield dg.Output(alerts, metadata={"catalog_version": catalog.version})
        yield from qc.results(
            spec.key("typology_alerts"),
            qc.TYPOLOGY_ALERTS,
            alerts=alerts,
            patterns=patterns,
            features=features,
            catalog=catalog,
        )

    return typology_alerts


def _day_summary(
    spec: NetworkSpec, lake: LakeResource, patterns: pl.DataFrame, transfers: pl.DataFrame
) -> Callable[[date, pl.DataFrame], dict[str, Any]]:
    """A day's alert metadata; the day's top cases get evidence pictures in the lake, whatever
    range the run covers."""

    def summary(day: date, rows: pl.DataFrame) -> dict[str, Any]:
        pictures = write_evidence(
            lake.root(), spec.name, rows, patterns, transfers, top=spec.net.evidence_per_day
        )
        return {
            "by_typology": counts(rows, "typology"),
            "by_severity": counts(rows, "severity"),
            "by_source": counts(rows, "source"),
            "cases": rows["case_id"].n_unique(),
            "cases_in_budget": rows.filter("in_budget")["case_id"].n_unique(),
            "top_cases": dg.MetadataValue.md(top_cases_markdown(rows, pictures)),
            "evidence_pictures": dg.MetadataValue.json(
                {alert_id: str(path) for alert_id, (path, _) in pictures.items()}
            ),
        }

    return summary
