"""``address_features``: graph features over rolling windows, on the configured engine."""

import dagster as dg
import polars as pl

from analytics_platform.engines.timing import StageTimer
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import counts, days_of, record_days, stage_table
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.lib.resources import GraphEngineResource
from analytics_platform.pipeline.features import features_for_days


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    net, engine = spec.net, spec.settings.features.engine
    window = spec.trailing(net.max_window)

    @dg.asset(
        **spec.asset(
            "address_features",
            f"Per-address features (the catalog in domain.feature_catalog) over rolling windows "
            f"of {net.windows} days ending at the partition day, on the {engine.upper()} engine.",
            checks=qc.ADDRESS_FEATURES,
            engine=engine,
            kinds=("cugraph", "cudf") if engine == "gpu" else ("igraph",),
            ins={
                "edges": dg.AssetIn(spec.key("daily_edges"), partition_mapping=window),
                "activity": dg.AssetIn(spec.key("address_activity"), partition_mapping=window),
                "labels": dg.AssetIn(spec.key("address_labels")),
            },
        )
    )
    @retry_only_transient
    def address_features(
        context: dg.AssetExecutionContext,
        edges: pl.DataFrame,
        activity: pl.DataFrame,
        labels: pl.DataFrame,
        graph_engine: GraphEngineResource,
    ):
        choice = graph_engine.choose(engine)  # the engine its tags and pool were built for
        if choice.fallback_reason:
            context.log.warning(f"GPU engine unavailable ({choice.fallback_reason}); using CPU")
        days, timer = days_of(context), StageTimer()
        features = features_for_days(
            edges, activity, labels, network=net.name, days=days, windows=net.windows,
            engine=choice.engine, params=graph_engine.params(), timer=timer,
            progress=lambda day, rows: context.log.info(f"features {day}: {rows} rows"),
        )  # fmt: skip
        record_days(
            context, features, days, lambda _, rows: {"rows_by_window": counts(rows, "window_days")}
        )
        yield dg.Output(
            features,
            metadata={
                "engine_requested": choice.requested,
                "engine": choice.engine.name,
                "engine_fallback": choice.fallback_reason or "none",
                "windows": dg.MetadataValue.json(list(net.windows)),
                "stage_seconds": stage_table(timer),
            },
        )
        yield from qc.results(
            spec.key("address_features"),
            qc.ADDRESS_FEATURES,
            features=features,
            day_edges=edges.filter(pl.col("date").is_in(days)),
        )

    return address_features
