"""``daily_edges``: one row per (from, to, asset) and day."""

import dagster as dg
import polars as pl

from analytics_platform.defs import checks as qc
from analytics_platform.defs.network.metadata import days_of, record_days
from analytics_platform.defs.network.spec import NetworkSpec
from analytics_platform.domain.edges import aggregate_daily_edges


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    @dg.asset(
        **spec.asset(
            "daily_edges",
            "Per day, one row per (from, to, asset) flow: count, sum, max, times.",
            checks=qc.DAILY_EDGES,
            ins={"transfers": dg.AssetIn(spec.key("transfers"))},
        )
    )
    def daily_edges(context: dg.AssetExecutionContext, transfers: pl.DataFrame):
        edges = aggregate_daily_edges(
            transfers,
            thresholds=spec.net.reporting_thresholds,
            structuring_band=spec.net.structuring_band,
        )
        record_days(context, edges, days_of(context))
        yield dg.Output(edges)
        yield from qc.results(
            spec.key("daily_edges"), qc.DAILY_EDGES, edges=edges, transfers=transfers
        )

    return daily_edges
