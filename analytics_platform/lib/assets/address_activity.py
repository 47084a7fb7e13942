"""``address_activity``: per day and address, the mergeable pieces of temporal features."""

import dagster as dg
import polars as pl

from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import days_of, record_days
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    @dg.asset(
        **spec.asset(
            "address_activity",
            "Per day and address: transfer count, first/last time, within-day gap sums and "
            "active hours; the mergeable pieces of the rolling temporal features.",
            checks=qc.ADDRESS_ACTIVITY,
            ins={"transfers": dg.AssetIn(spec.key("transfers"))},
        )
    )
    @retry_only_transient
    def address_activity(context: dg.AssetExecutionContext, transfers: pl.DataFrame):
        activity = aggregate_address_activity(transfers)
        record_days(context, activity, days_of(context))
        yield dg.Output(activity)
        yield from qc.results(
            spec.key("address_activity"),
            qc.ADDRESS_ACTIVITY,
            activity=activity,
            transfers=transfers,
        )

    return address_activity
