"""``typology_alerts``: each partition day's patterns and features scored by the catalog."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from analytics_platform.domain import labels as label_logic
from analytics_platform.domain.typologies import Catalog, score_alerts
from analytics_platform.pipeline.labels import current_on, service_addresses
from analytics_platform.pipeline.risk import model_alerts


def alerts_for_days(
    patterns: pl.DataFrame,
    features: pl.DataFrame,
    transfers: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    network: str,
    days: list[date],
    catalog: Catalog,
    span_days: int = 1,
    case_budget: int | None = None,
    min_value: float | None = None,
    history_start: date | None = None,
    risk_scores: pl.DataFrame | None = None,
    model_confidence: float = 0.0,
) -> pl.DataFrame:
    """Alerts of every day in ``days``, each from that day's rows and labels only; addresses
    attributed to services over the day's ``span_days`` horizon (as the patterns saw them) are
    never alerted. ``risk_scores`` (``address_risk_scores``): the champion's flagged addresses
    become model alerts weighted ``model_confidence`` in the case score."""
    on = pl.col("date")

    def services(day: date) -> list[str]:
        horizon = transfers.filter(on.is_between(day - timedelta(days=span_days - 1), day))
        return service_addresses(current_on(labels, day), horizon)

    return pl.concat(
        score_alerts(
            network=network,
            day=day,
            patterns=patterns.filter(on == day),
            features=features.filter(on == day),
            labels=label_logic.labels_as_of(labels, day),
            transfers=transfers.filter(on == day),
            catalog=catalog,
            case_budget=case_budget,
            services=services(day),
            min_value=min_value,
            history_start=history_start,
            model_alerts=None
            if risk_scores is None
            else model_alerts(risk_scores.filter(on == day), network),
            model_confidence=model_confidence,
        )
        for day in days
    )
