"""``typology_alerts``: each partition day's patterns and features scored by the catalog."""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics_platform.domain import labels as label_logic
from analytics_platform.domain.typologies import Catalog, score_alerts


def alerts_for_days(
    patterns: pl.DataFrame,
    features: pl.DataFrame,
    transfers: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    network: str,
    days: list[date],
    catalog: Catalog,
) -> pl.DataFrame:
    """Alerts of every day in ``days``, each from that day's rows and labels only."""
    on = pl.col("date")
    return pl.concat(
        score_alerts(
            network=network,
            day=day,
            patterns=patterns.filter(on == day),
            features=features.filter(on == day),
            labels=label_logic.labels_as_of(labels, day),
            transfers=transfers.filter(on == day),
            catalog=catalog,
        )
        for day in days
    )
