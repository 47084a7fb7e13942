"""``quality``: each day's quality score, once its transfers are ingested and processed."""

import dagster as dg
import polars as pl

from analytics_platform.defs import checks as qc
from analytics_platform.defs.network.metadata import days_of, record_days
from analytics_platform.defs.network.retries import retry_only_transient
from analytics_platform.defs.network.spec import NetworkSpec
from analytics_platform.domain.scoring import partition_quality

SCORES = ("score", "completeness", "validity", "uniqueness", "timeliness", "consistency")


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
        # Numeric per-day metadata: the UI's Plots tab charts each share over partitions.
        record_days(
            context,
            scored,
            days,
            lambda _, row: {
                name: dg.MetadataValue.float(value)
                for name, value in (
                    row.select(SCORES).row(0, named=True) if row.height else {}
                ).items()
                if value is not None
            },
        )
        yield dg.Output(scored)
        yield from qc.results(
            spec.key("quality"),
            qc.QUALITY,
            quality=scored,
            min_score=spec.net.min_quality_score,
        )

    return quality
