"""Asset factory: one asset graph per network, daily partitions (UTC).

``transfers`` (+ ``transfers_rejected``) -> ``daily_edges`` + ``address_activity`` ->
``address_features`` -> ``structural_patterns`` -> ``typology_alerts``, with
``address_labels`` (SCD2) beside them.
Every asset handles a range of days in one run (``BackfillPolicy.single_run``), or runs of
``backfill_days_per_run`` days each (``multi_run``) so a long backfill fans out across pods.
"""

import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import polars as pl

from analytics_platform.config import NetworkConfig, Settings
from analytics_platform.defs import checks as qc
from analytics_platform.defs.compute import CPU_TAGS, compute_pool, compute_tags
from analytics_platform.defs.resources import (
    GraphEngineResource,
    LakeResource,
    WarehouseResource,
)
from analytics_platform.domain import labels as label_logic
from analytics_platform.domain.activity import aggregate_address_activity
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.features import compute_address_features
from analytics_platform.domain.patterns import detect_patterns
from analytics_platform.domain.schemas import DEAD_LETTERS, TRANSFERS
from analytics_platform.domain.typologies import load_catalog, score_alerts
from analytics_platform.domain.validation import ValidationResult, validate_transfers
from analytics_platform.evidence_store import EVIDENCE_TOP, top_alerts_markdown, write_evidence
from analytics_platform.sources import read_files, read_source
from analytics_platform.storage import kafka_store
from analytics_platform.timing import StageTimer

PARTITION_EXPR = {"partition_expr": "date"}
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def partitions_for(net: NetworkConfig) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=net.start_date.isoformat(),
        end_date=(net.end_date + timedelta(days=1)).isoformat() if net.end_date else None,
        timezone="UTC",
    )


def _days(context: dg.AssetExecutionContext) -> list[date]:
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]


def _counts_by(df: pl.DataFrame, column: str) -> dg.MetadataValue:
    """Row counts per value of ``column`` as JSON metadata."""
    return dg.MetadataValue.json(dict(df.group_by(column).len().iter_rows()) if df.height else {})


def _by_day(df: pl.DataFrame, days: list[date]) -> dict[date, pl.DataFrame]:
    """``df`` split on its ``date`` column, one (possibly empty) frame for each of ``days``."""
    parts = {k[0]: g for k, g in df.partition_by("date", as_dict=True).items()} if df.height else {}
    return {d: parts.get(d, df.clear()) for d in days}


def _day_metadata(
    context: dg.AssetExecutionContext,
    df: pl.DataFrame,
    days: list[date],
    describe: Callable[[date, pl.DataFrame], dict[str, Any]] | None = None,
    asset_key: dg.AssetKey | None = None,
) -> dict[str, int]:
    """Metadata of each partition from that day's rows only (``dagster/row_count`` and
    ``describe(day, rows)``), so a day records the same figures in a run of any range.
    Returns the rows per day."""
    rows_per_day = {}
    for day, part in _by_day(df, days).items():
        metadata = {"dagster/row_count": dg.MetadataValue.int(part.height)}
        metadata.update(describe(day, part) if describe else {})
        context.add_asset_metadata(metadata, asset_key=asset_key, partition_key=day.isoformat())
        rows_per_day[day.isoformat()] = part.height
    return rows_per_day


def _stage_table(timer: StageTimer) -> str:
    """Seconds per feature stage as a Markdown table with a bar per stage."""
    total = timer.total or 1.0
    rows = ["| stage | seconds | share |", "|---|---:|---|"]
    for name, secs in sorted(timer.seconds.items(), key=lambda kv: -kv[1]):
        rows.append(f"| {name} | {secs:.2f} | {'█' * max(1, round(20 * secs / total))} |")
    return "\n".join(rows)


def build_network_assets(net: NetworkConfig, settings: Settings) -> list:
    """Assets and checks of one network, keyed ``<network>/<asset>``."""
    prefix = [net.name]
    parts = partitions_for(net)
    policy = (
        dg.BackfillPolicy.multi_run(max_partitions_per_run=net.backfill_days_per_run)
        if net.backfill_days_per_run
        else dg.BackfillPolicy.single_run()
    )
    key = lambda name: dg.AssetKey([*prefix, name])  # noqa: E731
    group = net.name
    cpu_tags = CPU_TAGS
    # Shared by every day-partitioned asset: one partitioning, one backfill policy, one group.
    daily = dict(
        partitions_def=parts,
        backfill_policy=policy,
        metadata=PARTITION_EXPR,
        group_name=group,
        op_tags=cpu_tags,
    )

    @dg.multi_asset(
        outs={
            "transfers": dg.AssetOut(
                key=key("transfers"),
                metadata=PARTITION_EXPR,
                group_name=group,
                description="Validated, de-duplicated token transfers, one partition per UTC day "
                "of block time.",
            ),
            "transfers_rejected": dg.AssetOut(
                key=key("transfers_rejected"),
                metadata=PARTITION_EXPR,
                group_name=group,
                description="Dead letters: raw records rejected during ingestion, with the "
                "field, value and reason.",
            ),
        },
        partitions_def=parts,
        backfill_policy=policy,
        check_specs=qc.specs(key("transfers"), qc.TRANSFERS),
        op_tags=cpu_tags,
        name=f"{net.name}__ingest_transfers",
    )
    def transfers(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        days = _days(context)
        if net.source is None:
            raise dg.Failure(
                f"source: network {net.name!r} has no transfer source configured "
                "(set networks.<name>.source in the config file)"
            )
        kafka_rejected = pl.DataFrame(schema=DEAD_LETTERS)
        if net.source.kind == "kafka":
            # Ingested (exactly once) by the Kafka sensor's runs into kafka_messages.
            cluster = warehouse.clickhouse.cluster
            with warehouse.session() as client:
                raw = kafka_store.read_accepted(client, net.name, days[0], days[-1], cluster)
                kafka_rejected = kafka_store.read_rejected(
                    client, net.name, days[0], days[-1], cluster
                )
            label = f"kafka:{net.source.kafka.topic}"
        else:
            raw = read_source(net.source, days[0], days[-1], warehouse.target())
            label = net.source.path or net.source.table or ""
        result = (
            validate_transfers(
                raw,
                network=net.name,
                address_pattern=net.address_pattern,
                source=label,
                day=days[0],
                last_day=days[-1],
            )
            if raw.height
            else ValidationResult(
                accepted=pl.DataFrame(schema=TRANSFERS),
                rejected=pl.DataFrame(schema=DEAD_LETTERS),
                read=0,
                duplicates=0,
            )
        )
        rejected = pl.concat([result.rejected, kafka_rejected])
        context.log.info(f"{net.name} {days[0]}..{days[-1]}: {result.counts}")

        def day_counts(day: date, rows: pl.DataFrame) -> dict[str, Any]:
            counts = result.counts_on(day)
            late = int((kafka_rejected["date"] == day).sum())
            counts.update(read=counts["read"] + late, rejected=counts["rejected"] + late)
            return {k: dg.MetadataValue.int(v) for k, v in counts.items()}

        per_day = _day_metadata(
            context, result.accepted, days, day_counts, asset_key=key("transfers")
        )
        _day_metadata(
            context,
            rejected,
            days,
            lambda _, rows: {"reasons": _counts_by(rows, "field")},
            asset_key=key("transfers_rejected"),
        )
        yield dg.Output(result.accepted, "transfers")
        yield dg.Output(rejected, "transfers_rejected")
        yield from qc.results(key("transfers"), qc.TRANSFERS, df=result.accepted, per_day=per_day)

    @dg.asset(
        key=key("daily_edges"),
        ins={"transfers": dg.AssetIn(key("transfers"))},
        **daily,
        check_specs=qc.specs(key("daily_edges"), qc.DAILY_EDGES),
        description="Per day, one row per (from, to, asset) flow: count, sum, max, times.",
    )
    def daily_edges(context: dg.AssetExecutionContext, transfers: pl.DataFrame):
        edges = aggregate_daily_edges(
            transfers,
            thresholds=net.reporting_thresholds,
            structuring_band=net.structuring_band,
        )
        _day_metadata(context, edges, _days(context))
        yield dg.Output(edges)
        yield from qc.results(key("daily_edges"), qc.DAILY_EDGES, edges=edges, transfers=transfers)

    @dg.asset(
        key=key("address_activity"),
        ins={"transfers": dg.AssetIn(key("transfers"))},
        **daily,
        check_specs=qc.specs(key("address_activity"), qc.ADDRESS_ACTIVITY),
        description="Per day and address: transfer count, first/last time, within-day gap sums "
        "and active hours; the mergeable pieces of the rolling temporal features.",
    )
    def address_activity(context: dg.AssetExecutionContext, transfers: pl.DataFrame):
        activity = aggregate_address_activity(transfers)
        _day_metadata(context, activity, _days(context))
        yield dg.Output(activity)
        yield from qc.results(
            key("address_activity"), qc.ADDRESS_ACTIVITY, activity=activity, transfers=transfers
        )

    @dg.asset(
        key=key("address_labels"),
        group_name=group,
        op_tags=cpu_tags,
        description="Address labels (exchange, mixer, sanctioned, scam...) as SCD type 2 history.",
    )
    def address_labels(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        history = warehouse.read_days(net.name, "address_labels")
        path = settings.labels_path
        if not path:
            context.log.warning("labels_path is not configured: keeping the current history")
            return dg.Output(history, metadata={"dagster/row_count": history.height})
        snapshot = read_files(path)
        if "network" in snapshot.columns:
            snapshot = snapshot.filter(pl.col("network") == net.name)
        snapshot = label_logic.normalise_snapshot(snapshot, network=net.name)
        merged = label_logic.merge_snapshot(history, snapshot, datetime.now(UTC))
        current = merged.filter(pl.col("is_current"))
        return dg.Output(
            merged,
            metadata={
                "dagster/row_count": merged.height,
                "current_labels": current.height,
                "by_category": _counts_by(current, "category"),
            },
        )

    max_window = net.max_window
    window_mapping = dg.TimeWindowPartitionMapping(
        start_offset=-(max_window - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
    )
    feature_engine = settings.features.engine

    @dg.asset(
        key=key("address_features"),
        ins={
            "edges": dg.AssetIn(key("daily_edges"), partition_mapping=window_mapping),
            "activity": dg.AssetIn(key("address_activity"), partition_mapping=window_mapping),
            "labels": dg.AssetIn(key("address_labels")),
        },
        **{**daily, "op_tags": compute_tags(feature_engine)},
        pool=compute_pool(feature_engine),
        check_specs=qc.specs(key("address_features"), qc.ADDRESS_FEATURES),
        description=f"Per-address features (the catalog in domain.feature_catalog) over rolling "
        f"windows of {net.windows} days ending at the partition day, on the "
        f"{feature_engine.upper()} engine.",
    )
    def address_features(
        context: dg.AssetExecutionContext,
        edges: pl.DataFrame,
        activity: pl.DataFrame,
        labels: pl.DataFrame,
        graph_engine: GraphEngineResource,
    ):
        choice = graph_engine.choose()
        if choice.fallback_reason:
            context.log.warning(
                f"GPU engine unavailable ({choice.fallback_reason}); computing on CPU"
            )
        timer = StageTimer()
        days = _days(context)
        frames = []
        for i, day in enumerate(days, 1):
            current = label_logic.labels_as_of(labels, day).select("address", "category")
            frames.append(
                compute_address_features(
                    edges,
                    activity,
                    current,
                    network=net.name,
                    day=day,
                    windows=net.windows,
                    engine=choice.engine,
                    params=graph_engine.params(),
                    timer=timer,
                )
            )
            context.log.info(f"features {day} ({i}/{len(days)}): {frames[-1].height} rows")
        features = pl.concat(frames)
        _day_metadata(
            context,
            features,
            days,
            lambda _, rows: {"rows_by_window": _counts_by(rows, "window_days")},
        )
        yield dg.Output(
            features,
            metadata={
                "engine_requested": choice.requested,
                "engine": choice.engine.name,
                "engine_fallback": choice.fallback_reason or "none",
                "windows": dg.MetadataValue.json(list(net.windows)),
                "stage_seconds": dg.MetadataValue.md(_stage_table(timer)),
            },
        )
        yield from qc.results(
            key("address_features"),
            qc.ADDRESS_FEATURES,
            features=features,
            day_edges=edges.filter(pl.col("date").is_in(days)),
        )

    # Patterns look back over pattern_span_days of transfers ending at the partition day.
    span_mapping = dg.TimeWindowPartitionMapping(
        start_offset=-(net.pattern_span_days - 1),
        end_offset=0,
        allow_nonexistent_upstream_partitions=True,
    )

    @dg.asset(
        key=key("structural_patterns"),
        ins={
            "transfers": dg.AssetIn(key("transfers"), partition_mapping=span_mapping),
            "labels": dg.AssetIn(key("address_labels")),
        },
        **daily,
        check_specs=qc.specs(key("structural_patterns"), qc.STRUCTURAL_PATTERNS),
        description="Structural patterns ending on the partition day (fan-in/out, cycles, "
        "scatter-gather, gather-scatter, bipartite, stacks, layering and peel chains, rapid "
        "pass-through, structuring, proximity to risky labels), with member addresses, roles, "
        "transfers, score and the limits hit.",
    )
    def structural_patterns(
        context: dg.AssetExecutionContext, transfers: pl.DataFrame, labels: pl.DataFrame
    ):
        days = _days(context)
        timer = StageTimer()
        frames, limits_by_day = [], {}
        for i, day in enumerate(days, 1):
            # A day's patterns come from its own horizon only (see domain.patterns).
            current = label_logic.labels_as_of(labels, day).select("address", "category")
            result = detect_patterns(
                transfers,
                network=net.name,
                day=day,
                span_days=net.pattern_span_days,
                exclude=current.filter(pl.col("category") == "exchange")["address"].to_list(),
                risky=current,
                limits=net.pattern_limits,
                reporting_thresholds=net.reporting_thresholds,
                structuring_band=net.structuring_band,
                timer=timer,
            )
            frames.append(result.patterns)
            limits_by_day[day] = result.limits_hit
            if result.limits_hit:
                context.log.warning(
                    f"pattern limits hit on {day} (work cut short): {result.limits_hit}"
                )
            context.log.info(f"patterns {day} ({i}/{len(days)}): {result.patterns.height}")
        patterns = pl.concat(frames)
        _day_metadata(
            context,
            patterns,
            days,
            lambda day, rows: {
                "by_type": _counts_by(rows, "pattern_type"),
                "limits_hit": dg.MetadataValue.json(limits_by_day[day]),
            },
        )
        yield dg.Output(
            patterns, metadata={"stage_seconds": dg.MetadataValue.md(_stage_table(timer))}
        )
        yield from qc.results(
            key("structural_patterns"),
            qc.STRUCTURAL_PATTERNS,
            patterns=patterns,
            transfers=transfers,
        )

    @dg.asset(
        key=key("typology_alerts"),
        ins={
            "patterns": dg.AssetIn(key("structural_patterns")),
            "features": dg.AssetIn(key("address_features")),
            "transfers": dg.AssetIn(key("transfers"), partition_mapping=span_mapping),
            "labels": dg.AssetIn(key("address_labels")),
        },
        **daily,
        check_specs=qc.specs(key("typology_alerts"), qc.TYPOLOGY_ALERTS),
        description="Suspicious-activity alerts by typology with severity, score, evidence and "
        "explanation.",
    )
    def typology_alerts(
        context: dg.AssetExecutionContext,
        patterns: pl.DataFrame,
        features: pl.DataFrame,
        transfers: pl.DataFrame,
        labels: pl.DataFrame,
        lake: LakeResource,
    ):
        catalog = load_catalog(settings.typologies_path)
        days = _days(context)
        frames = []
        for day in days:
            frames.append(
                score_alerts(
                    network=net.name,
                    day=day,
                    patterns=patterns.filter(pl.col("date") == day),
                    features=features.filter(pl.col("date") == day),
                    labels=label_logic.labels_as_of(labels, day),
                    transfers=transfers.filter(pl.col("date") == day),
                    catalog=catalog,
                )
            )
        alerts = pl.concat(frames)

        def day_summary(day: date, rows: pl.DataFrame) -> dict[str, Any]:
            # The top alerts of each day get evidence pictures, whatever range the run covers.
            pictures = write_evidence(
                lake.root(), net.name, rows, patterns, transfers, top=EVIDENCE_TOP
            )
            return {
                "by_typology": _counts_by(rows, "typology"),
                "by_severity": _counts_by(rows, "severity"),
                "top_alerts": dg.MetadataValue.md(top_alerts_markdown(rows, pictures)),
                "evidence_pictures": dg.MetadataValue.json(
                    {alert_id: str(path) for alert_id, (path, _) in pictures.items()}
                ),
            }

        _day_metadata(context, alerts, days, day_summary)
        yield dg.Output(alerts, metadata={"catalog_version": catalog.version})
        yield from qc.results(
            key("typology_alerts"),
            qc.TYPOLOGY_ALERTS,
            alerts=alerts,
            patterns=patterns,
            features=features,
        )

    return [
        transfers,
        daily_edges,
        address_activity,
        address_labels,
        address_features,
        structural_patterns,
        typology_alerts,
    ]
