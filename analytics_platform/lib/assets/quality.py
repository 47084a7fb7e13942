"""``quality``: each day's quality score, once its transfers are ingested and processed."""

import dagster as dg
import polars as pl

from analytics_platform.domain.schemas import QUALITY_SHARES
from analytics_platform.domain.scoring import partition_quality
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import days_of, numeric_values, record_days
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec

SCORES = ("score", *QUALITY_SHARES)


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    @dg.asset(
        **spec.asset(
            "quality",
            "Per day: the quality score of the partition, the mean of completeness, validity, "
            "uniqueness and timeliness of the raw transfers (transfers_quality) and the "
            "consistency of daily_edges and address_activity with them.",
            checks=qc.QUALITY,
            ins={
                "ingestion": dg.AssetIn(spec.key("transfers_quality")),
                "edges": dg.AssetIn(spec.key("daily_edges")),
                "activity": dg.AssetIn(spec.key("address_activity")),
            },
        )
    )
    @retry_only_transient
    def quality(
        context: dg.AssetExecutionContext,
        ingestion: pl.DataFrame,
        edges: pl.DataFrame,
        activity: pl.DataFrame,
    ):
        days = days_of(context)
        scored = partition_quality(ingestion, edges, activity, days)
        record_days(context, scored, days, numeric_values(SCORES))
        yield dg.Output(scored)
        yield from qc.results(
            spec.key("quality"),
            qc.QUALITY,
            quality=scored,
            min_score=spec.net.min_quality_score,
        )

    return quality
