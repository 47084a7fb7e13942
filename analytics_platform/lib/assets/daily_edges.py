"""``daily_edges``: one row per (from, to, asset) and day."""

import dagster as dg
import polars as pl

from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import days_of, record_days
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    @dg.asset(
        **spec.asset(
            "daily_edges",
            "Per day, one row per (from, to, asset) flow: count, sum, max, times.",
            checks=qc.DAILY_EDGES,
            ins={
                "transfers": dg.AssetIn(spec.key("transfers")),
                "prices": dg.AssetIn(spec.key("prices")),
            },
        )
    )
    @retry_only_transient
    def daily_edges(
        context: dg.AssetExecutionContext, transfers: pl.DataFrame, prices: pl.DataFrame
    ):
        edges = aggregate_daily_edges(
            transfers,
            thresholds=spec.net.reporting_thresholds,
            structuring_band=spec.net.structuring_band,
            prices=prices,
            threshold_usd=spec.net.reporting_threshold_usd,
        )
        record_days(
            context,
            edges,
            days_of(context),
            lambda _, rows: {
                # Summed in sorted order: the same figure whatever order the rows came in.
                "volume_usd": dg.MetadataValue.float(
                    round(float(rows["amount_usd"].drop_nulls().sort().sum()), 2)
                ),
                "unpriced_edges": dg.MetadataValue.int(rows["amount_usd"].null_count()),
            },
        )
        yield dg.Output(edges)
        yield from qc.results(
            spec.key("daily_edges"),
            qc.DAILY_EDGES,
            edges=edges,
            transfers=transfers,
            prices=prices,
            prices_configured=spec.net.prices_path is not None,
            max_transfer_usd=spec.net.max_transfer_usd,
        )

    return daily_edges
