"""``address_labels``: the SCD2 label history, refreshed from the configured snapshot."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from analytics_platform.lib.assets.metadata import counts
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.lib.resources import WarehouseResource
from analytics_platform.pipeline.labels import refresh
from analytics_platform.storage.files import NoFilesError, read_files


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    @dg.asset(
        **spec.asset(
            "address_labels",
            "Address labels (exchange, mixer, sanctioned, scam...) as SCD type 2 history.",
            partitioned=False,
        )
    )
    @retry_only_transient
    def address_labels(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        history = warehouse.read_days(spec.name, "address_labels")
        path = spec.settings.labels_path
        if not path:
            context.log.warning("labels_path is not configured: keeping the current history")
            return dg.Output(history, metadata={"dagster/row_count": history.height})
        try:
            raw = read_files(path, "labels_path")
        except NoFilesError as exc:  # a configuration error: retrying will not help
            raise dg.Failure(str(exc), allow_retries=False) from exc
        merged = refresh(history, raw, spec.name, datetime.now(UTC))
        current = merged.filter(pl.col("is_current"))
        return dg.Output(
            merged,
            metadata={
                "dagster/row_count": merged.height,
                "current_labels": current.height,
                "by_category": counts(current, "category"),
            },
        )

    return address_labels
