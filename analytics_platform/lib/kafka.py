"""Kafka ingestion in Dagster: the ``kafka_messages`` asset, its job and two sensors.

- ``<net>__kafka_sensor`` polls the topic's end offsets (never consumes; bounded to
  ``END_OFFSETS_TIMEOUT_S``, well inside the 60 s tick limit) and launches one ingestion run per
  new offset range from the offsets in its cursor; a failed run is launched again from the same
  start offsets (``analytics_platform.kafka.offsets``).
- ``<net>/kafka_messages`` is that run: it reads from its start offsets to the end of every
  partition and stores each message exactly once (``analytics_platform.kafka.ingest``).
- ``<net>__kafka_late_data`` reacts to each successful ingestion run and requests the daily
  partitions it changed, plus the pattern spans and feature windows that cover them within
  ``late_data_horizon_days`` (``analytics_platform.kafka.propagation``).
"""

# No `from __future__ import annotations` here: Dagster reads the asset's `config` annotation.
import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from analytics_platform.config import NetworkConfig
from analytics_platform.kafka import offsets
from analytics_platform.kafka import store as kafka_store
from analytics_platform.kafka.client import BrokerUnavailable, end_offsets
from analytics_platform.kafka.ingest import ingest_range
from analytics_platform.kafka.propagation import decode_days, encode_days, partitions_to_refresh
from analytics_platform.lib.assets.metadata import column_schema
from analytics_platform.lib.compute import CPU_TAGS
from analytics_platform.lib.resources import WarehouseResource

END_OFFSETS_TIMEOUT_S = 15.0


class KafkaRangeConfig(dg.Config):
    """Start offsets per partition (``{"0": 1200, ...}``). Empty: continue from the ledger."""

    starts: dict[str, int] = {}


def kafka_messages_asset(net: NetworkConfig) -> dg.AssetsDefinition:
    source = net.source.kafka  # type: ignore[union-attr]
    assert source is not None

    @dg.asset(
        key=dg.AssetKey([net.name, "kafka_messages"]),
        group_name=net.name,
        op_tags=CPU_TAGS,
        kinds={"kafka", "clickhouse"},
        owners=list(net.owners),
        tags={"analytics/network": net.name},
        metadata={"dagster/column_schema": column_schema("kafka_messages")},
        # No RetryPolicy: the sensor relaunches a failed range from the same start offsets,
        # so an outage fails fast instead of holding a run through backoff delays.
        description=f"Every message of Kafka topic {source.topic!r}, stored once: accepted "
        "transfers (by block-time day), rejected payloads with the reason (view "
        "kafka_dead_letters) and duplicates; the ledger kafka_ledger records each run's range.",
    )
    def kafka_messages(
        context: dg.AssetExecutionContext, config: KafkaRangeConfig, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        target = warehouse.target()
        starts = {int(p): int(o) for p, o in config.starts.items()}
        try:
            if not starts:
                starts = _resume_offsets(warehouse, net, source)
            context.log.info(f"{source.topic}: reading from offsets {starts}")
            result = ingest_range(
                net, source, target, starts, run_id=context.run.run_id, progress=context.log.info
            )
        except BrokerUnavailable as exc:
            raise dg.Failure(
                description=f"Kafka broker unavailable while reading {source.topic!r}: {exc}. "
                "Stored batches are kept; the sensor launches the range again from the same "
                "start offsets.",
                allow_retries=False,
            ) from exc
        context.instance.add_run_tags(
            context.run.run_id,
            {
                offsets.REACHED_TAG: json.dumps({str(p): o for p, o in result.reached.items()}),
                offsets.CHANGED_DAYS_TAG: encode_days(result.changed_days),
            },
        )
        rate = result.counts["read"] / result.seconds if result.seconds else 0.0
        return dg.MaterializeResult(
            metadata={
                **{k: dg.MetadataValue.int(v) for k, v in result.counts.items()},
                "offsets": dg.MetadataValue.md(_offsets_table(result)),
                "changed_days": dg.MetadataValue.json([d.isoformat() for d in result.changed_days]),
                "messages_per_second": dg.MetadataValue.float(round(rate, 1)),
            }
        )

    return kafka_messages


def _resume_offsets(warehouse: WarehouseResource, net: NetworkConfig, source) -> dict[int, int]:
    """Where the ledger says the topic was read to (``done`` ranges), else the start."""
    with warehouse.session() as client:
        ledger = kafka_store.read_ledger(client, net.name, warehouse.clickhouse.cluster)
    done = ledger.filter((ledger["status"] == "done") & (ledger["topic"] == source.topic))
    reached = dict(done.group_by("partition").agg(done["end_offset"].max()).iter_rows())
    watermarks = end_offsets(source, END_OFFSETS_TIMEOUT_S)
    return {p: max(int(reached.get(p, low)), low) for p, (low, _high) in watermarks.items()}


def _offsets_table(result) -> str:
    lines = [
        "| partition | from | to | read | accepted | rejected | duplicates |",
        "|---" * 7 + "|",
    ]
    for p, prog in sorted(result.partitions.items()):
        c = prog.counts
        lines.append(
            f"| {p} | {prog.start} | {prog.end} | {c['read']} | {c['accepted']} | "
            f"{c['rejected']} | {c['duplicates']} |"
        )
    return "\n".join(lines)


def kafka_ingest_job(net: NetworkConfig):
    return dg.define_asset_job(
        name=f"{net.name}__kafka_ingest",
        selection=dg.AssetSelection.assets([net.name, "kafka_messages"]),
        description=f"Ingest new messages of {net.name}'s Kafka topic from given offsets.",
        tags={"analytics/network": net.name},
    )


def _pending_run(context: dg.SensorEvaluationContext, run_key: str):
    runs = context.instance.get_runs(
        filters=dg.RunsFilter(tags={"dagster/run_key": run_key}), limit=1
    )
    if not runs:
        return None, None
    run = runs[0]
    if run.status == dg.DagsterRunStatus.SUCCESS:
        return "success", run.tags
    if run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
        return "failure", run.tags
    return "running", run.tags


def kafka_sensor(net: NetworkConfig, job) -> dg.SensorDefinition:
    source = net.source.kafka  # type: ignore[union-attr]
    assert source is not None
    op_name = f"{net.name}__kafka_messages"

    @dg.sensor(
        name=f"{net.name}__kafka_sensor",
        job=job,
        minimum_interval_seconds=source.sensor_interval_s,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"New messages on Kafka topic {source.topic!r}: one ingestion run per new "
        "offset range; the cursor holds the offsets, and each tick observes the consumer lag "
        "(lag_messages on kafka_messages).",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        cursor = offsets.Cursor.parse(context.cursor)
        status, tags = None, None
        if cursor.pending:
            status, tags = _pending_run(context, cursor.pending["run_key"])
        watermarks: dict | Exception
        try:
            watermarks = end_offsets(source, END_OFFSETS_TIMEOUT_S)
        except (BrokerUnavailable, ValueError) as exc:
            watermarks = exc
        decision = offsets.decide(source.topic, cursor, watermarks, status, tags)
        observed = _lag_observation(net.name, decision.cursor, watermarks)
        if decision.action == "skip":
            return dg.SensorResult(
                skip_reason=decision.reason,
                cursor=decision.cursor.dump(),
                asset_events=observed,
            )
        starts = {str(p): o for p, o in decision.starts.items()}
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=decision.run_key,
                    run_config={"ops": {op_name: {"config": {"starts": starts}}}},
                    tags={"analytics/kafka_topic": source.topic},
                )
            ],
            cursor=decision.cursor.dump(),
            asset_events=observed,
        )

    return _sensor


def _lag_observation(
    network: str, cursor: offsets.Cursor, watermarks: dict | Exception
) -> list[dg.AssetObservation]:
    """Consumer lag as an observation of the topic's asset (the UI charts it per tick); none
    when the broker did not answer."""
    if isinstance(watermarks, Exception):
        return []
    behind = offsets.lag(cursor, watermarks)
    return [
        dg.AssetObservation(
            asset_key=dg.AssetKey([network, "kafka_messages"]),
            metadata={
                "lag_messages": sum(behind.values()),
                "lag_by_partition": dg.MetadataValue.json({str(p): n for p, n in behind.items()}),
            },
        )
    ]


def late_data_sensor(net: NetworkConfig, ingest_job, daily_job) -> dg.RunStatusSensorDefinition:
    source = net.source.kafka  # type: ignore[union-attr]
    assert source is not None

    @dg.run_status_sensor(
        name=f"{net.name}__kafka_late_data",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[ingest_job],
        request_job=daily_job,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="After each ingestion: re-materialise the days it changed, and the pattern "
        f"spans and feature windows covering them within {source.late_data_horizon_days} days.",
    )
    def _sensor(context: dg.RunStatusSensorContext):
        run = context.dagster_run
        changed = decode_days(run.tags.get(offsets.CHANGED_DAYS_TAG, ""))
        plan = partitions_to_refresh(
            changed,
            latest_day=datetime.now(UTC).date() - timedelta(days=1),
            first_day=net.start_date,
            last_day=net.end_date,
            span_days=net.pattern_history_days,
            max_window=net.max_window,
            horizon_days=source.late_data_horizon_days,
        )
        if not plan:
            return dg.SkipReason(f"run {run.run_id[:8]} changed no daily partition")
        return [
            dg.RunRequest(
                run_key=f"{run.run_id}:{day.isoformat()}",
                partition_key=day.isoformat(),
                asset_selection=[dg.AssetKey([net.name, a]) for a in assets],
                tags={"analytics/kafka_ingest_run": run.run_id},
            )
            for day, assets in plan.items()
        ]

    return _sensor
