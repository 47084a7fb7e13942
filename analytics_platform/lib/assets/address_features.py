"""``address_features``: graph features over rolling windows, each window reduced in the
warehouse (``storage.window_sql``) and its graph run on the configured engine."""

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory

import dagster as dg
import polars as pl

from analytics_platform.config import ConfigError, FeatureSettings
from analytics_platform.domain.features import GraphCut
from analytics_platform.domain.schemas import ADDRESS_FEATURES, empty
from analytics_platform.domain.windows import days_from
from analytics_platform.engines.choice import EngineChoice
from analytics_platform.engines.timing import StageTimer
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import counts, days_of, record_days, stage_table
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.lib.resources import GraphEngineResource, LakeResource, WarehouseResource
from analytics_platform.pipeline.features import edges_of_days, features_by_window
from analytics_platform.storage import lake as lake_store
from analytics_platform.storage.retention import today_utc, warehouse_horizon
from analytics_platform.storage.spilled_frames import SpilledFrames
from analytics_platform.storage.window_sql import WINDOW_TABLES, SpillSettings


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    net, engine = spec.net, spec.settings.features.engine
    window = spec.trailing(net.max_window)

    @dg.asset(
        **spec.asset(
            "address_features",
            f"Per-address features (the catalog in domain.feature_catalog) over rolling windows "
            f"of {net.windows} days ending at the partition day: each window's daily pieces "
            f"reduced in the warehouse by SQL, its graph on the {engine.upper()} engine.",
            checks=qc.ADDRESS_FEATURES,
            engine=engine,
            kinds=("cugraph", "cudf") if engine == "gpu" else ("igraph",),
            ins={"labels": dg.AssetIn(spec.key("address_labels"))},
            # Read in the warehouse, not loaded: the window's rows never come into the process.
            deps=[
                dg.AssetDep(spec.key(table), partition_mapping=window) for table in WINDOW_TABLES
            ],
        )
    )
    @retry_only_transient
    def address_features(
        context: dg.AssetExecutionContext,
        labels: pl.DataFrame,
        warehouse: WarehouseResource,
        lake: LakeResource,
        graph_engine: GraphEngineResource,
    ):
        choice = graph_engine.choose(engine)  # the engine its tags and pool were built for
        if choice.fallback_reason:
            context.log.warning(f"GPU engine unavailable ({choice.fallback_reason}); using CPU")
        days, timer = days_of(context), StageTimer()
        target, read_lake = warehouse.target(), _lake_reader(context, lake, net.name)
        # Days past a table's warehouse retention are read from the lake, as every input is.
        horizons = {
            t: warehouse_horizon(net.warehouse_retention.get(t), today_utc()) for t in WINDOW_TABLES
        }
        cuts: list[GraphCut] = []
        # Each window's rows go to disk as they are made, and the IO managers write them day
        # by day: a chain's day (three windows of 10M addresses, about 8 GiB each) never
        # stands whole in memory. The folder outlives the output's storing: Dagster stores
        # an Output before it resumes the step.
        with TemporaryDirectory(
            prefix="address_features-", dir=_spill_folder(spec.settings.features)
        ) as folder:
            spilled = SpilledFrames(Path(folder), pl.Schema(ADDRESS_FEATURES))

            def keep(day: date, size: int, rows: pl.DataFrame) -> None:
                context.log.info(f"features {day}, {size}-day window: {rows.height} rows")
                spilled.put((day, size), rows)

            features_by_window(
                warehouse.session, net.name, labels, keep=keep, network=net.name, days=days,
                windows=net.windows, engine=choice.engine, params=graph_engine.params(),
                timer=timer, cluster=target.cluster, horizons=horizons, read_lake=read_lake,
                in_process=target.embedded, cuts=cuts, spill=_spill(spec.settings.features),
            )  # fmt: skip
            _warn_of_cuts(context, cuts)
            _record_days(context, spilled, days, cuts)
            metadata = _run_metadata(spec, choice, graph_engine, timer)
            yield dg.Output(spilled.scan(), metadata=metadata)

            def edges_of(day: date) -> pl.DataFrame:
                return edges_of_days(
                    warehouse.session, net.name, day, day, cluster=target.cluster,
                    horizon=horizons["daily_edges"], read_lake=read_lake,
                )  # fmt: skip

            yield from qc.results_by_part(
                spec.key("address_features"), qc.ADDRESS_FEATURES,
                _check_parts(spilled, days, edges_of),
            )  # fmt: skip

    return address_features


def _run_metadata(
    spec: NetworkSpec, choice: EngineChoice, graph_engine: GraphEngineResource, timer: StageTimer
) -> dict:
    """The run's metadata: the engine asked for and used, the windows, the settings that
    shape the work, and the stages' seconds."""
    features = spec.settings.features
    return {
        "engine_requested": choice.requested,
        "engine": choice.engine.name,
        "engine_fallback": choice.fallback_reason or "none",
        "windows": dg.MetadataValue.json(list(spec.net.windows)),
        "graph_edge_budget": graph_engine.max_graph_edges or "none",
        "spill_memory_ratio": features.spill_memory_ratio,
        "addresses_per_pass": features.addresses_per_pass,
        "stage_seconds": stage_table(timer),
    }


def _record_days(
    context: dg.AssetExecutionContext,
    spilled: SpilledFrames,
    days: list[date],
    cuts: list[GraphCut],
) -> None:
    """Each day's metadata from its own rows (``record_days``), counted on two columns of the
    spilled parts: rows by window and the graph cuts."""
    record_days(
        context,
        spilled.scan().select("date", "window_days").collect(),
        days,
        lambda day, rows: {
            "rows_by_window": counts(rows, "window_days"),
            **_cut_metadata([c for c in cuts if c.day == day]),
        },
    )


def _check_parts(
    spilled: SpilledFrames, days: list[date], edges_of: Callable[[date], pl.DataFrame]
) -> Iterator[tuple[str, dict]]:
    """The checks' inputs one window at a time (a day without any: its active addresses
    against no features). Each day's edges are read as its windows are checked, so a ranged
    run holds one day's, not the run's (9.9M edges' dates and addresses: 0.81 GiB in polars)."""
    for day in days:
        edges = edges_of(day)
        keys = [key for key in spilled.ordered_keys() if key[0] == day]
        if not keys:
            yield str(day), {"features": empty(ADDRESS_FEATURES), "day_edges": edges}
        for key in keys:
            yield f"{day} {key[1]}-day window", {"features": spilled.part(key), "day_edges": edges}


def _warn_of_cuts(context: dg.AssetExecutionContext, cuts: list[GraphCut]) -> None:
    """One warning per window whose graph passed the edge budget."""
    for cut in cuts:
        context.log.warning(
            f"{cut.day} {cut.window}-day window: {cut.pairs} pairs pass the edge budget; "
            f"the graph features use the {cut.kept} heaviest (volume >= {cut.weight_floor:g})"
        )


def _cut_metadata(cuts: list[GraphCut]) -> dict:
    """A day's metadata about its windows over the edge budget (``graph_windows_cut``: 0 when
    none, which the Plots tab charts; ``graph_cut``: pairs, kept and volume floor by window)."""
    metadata: dict = {"graph_windows_cut": dg.MetadataValue.int(len(cuts))}
    if cuts:
        metadata["graph_cut"] = dg.MetadataValue.json(
            {
                str(c.window): {"pairs": c.pairs, "kept": c.kept, "floor": c.weight_floor}
                for c in cuts
            }
        )
    return metadata


def _lake_reader(context: dg.AssetExecutionContext, lake: LakeResource, network: str):
    """Reads days of a daily table from the lake (those past the warehouse's retention)."""
    root = lake.root()

    def read(table: str, first: date, last: date) -> pl.DataFrame:
        context.log.info(f"{network}.{table} {first}..{last}: past retention, from the lake")
        return lake_store.read_days(root, table, network, days_from(first, last))

    return read


def _spill_folder(features: FeatureSettings) -> str | None:
    """``features.spill_folder``, checked where the step runs (the config is also read where
    the folder need not exist: the webserver, the daemon)."""
    folder = features.spill_folder
    if folder is not None and not Path(folder).is_dir():
        raise ConfigError(f"features.spill_folder: no such folder here (got {folder!r})")
    return folder


def _spill(features: FeatureSettings) -> SpillSettings:
    """The window statements' memory settings from the ``features`` config."""
    return SpillSettings(
        memory_ratio=features.spill_memory_ratio, addresses_per_pass=features.addresses_per_pass
    )
