"""The Kafka sensors under a real ``dagster dev`` (webserver + daemon), driven and observed the
way the UI does, through GraphQL: start the sensors, produce messages, and see the sensor's
ticks with their cursor, the ingestion run it launched and the daily runs that followed."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from analytics_platform.kafka.broker import produce
from analytics_platform_tests.conftest import dagster_process, free_port
from analytics_platform_tests.kafka.test_ingest import LATEST, TOPIC, broker, kafka_home, message  # noqa: F401

SENSOR = """
query($s: SensorSelector!) {
  sensorOrError(sensorSelector: $s) {
    ... on Sensor { name sensorState { status ticks(limit: 1000) { status cursor runIds } } }
    ... on PythonError { message }
  }
}
"""
START = """
mutation($s: SensorSelector!) {
  startSensor(sensorSelector: $s) {
    ... on Sensor { sensorState { status } }
    ... on PythonError { message }
  }
}
"""
RUNS = """
query($tags: [ExecutionTag!]) {
  runsOrError(filter: {tags: $tags}) {
    ... on Runs { results { runId status jobName tags { key value } } }
  }
}
"""


@pytest.mark.slow
def test_ui_shows_the_kafka_sensor_cursor_and_the_runs_it_launched(
    broker,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    home = kafka_home(tmp_path, monkeypatch, broker.bootstrap, sensor_interval_s=2)
    dagster_home = home / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    # The runs' steps in their run's process: what is tested is the sensors and what the UI
    # shows of them, not the executor (a process per step doubled this test's time).
    env = {
        **os.environ,
        "ANALYTICS_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "ANALYTICS_EXECUTOR": "in_process",
    }
    url = f"http://127.0.0.1:{port}/graphql"

    def gql(query: str, **variables):
        reply = requests.post(url, json={"query": query, "variables": variables}, timeout=30)
        reply.raise_for_status()
        return reply.json()["data"]

    def selector(name: str) -> dict:
        return {
            "repositoryLocationName": "analytics_platform.definitions",
            "repositoryName": "__repository__",
            "sensorName": name,
        }

    def wait(predicate, what: str, timeout: float = 240):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(
                    f"dagster dev exited: {(tmp_path / 'dagster-dev.log').read_text()[-2000:]}"
                )
            try:
                value = predicate()
            except (requests.ConnectionError, KeyError, TypeError):
                value = None
            if value:
                return value
            time.sleep(1)
        raise AssertionError(f"timed out waiting for {what}")

    with dagster_process(
        "dagster",
        *("dev", "-m", "analytics_platform.definitions", "-h", "127.0.0.1", "-p", str(port)),
        env=env,
        log=tmp_path / "dagster-dev.log",
        cwd=tmp_path,
    ) as proc:
        wait(lambda: gql(SENSOR, s=selector("torus__kafka_sensor"))["sensorOrError"], "the UI")
        for name in ("torus__kafka_sensor", "torus__kafka_late_data"):
            started = gql(START, s=selector(name))["startSensor"]
            assert started["sensorState"]["status"] == "RUNNING", started
        day = LATEST
        produce(broker.bootstrap, TOPIC, [message(i, day) for i in range(400)])

        def ingest_succeeded():
            runs = gql(RUNS, tags=[{"key": "dagster/sensor_name", "value": "torus__kafka_sensor"}])
            results = runs["runsOrError"]["results"]
            return [r for r in results if r["status"] == "SUCCESS"]

        (ingest,) = wait(ingest_succeeded, "the ingestion run")
        assert ingest["jobName"] == "torus__kafka_ingest"

        def daily_succeeded():
            runs = gql(
                RUNS, tags=[{"key": "analytics/kafka_ingest_run", "value": ingest["runId"]}]
            )["runsOrError"]["results"]
            done = [r for r in runs if r["status"] == "SUCCESS"]
            return done if done and len(done) == len(runs) else None

        daily = wait(daily_succeeded, "the daily runs for the changed day")
        keys = {t["value"] for r in daily for t in r["tags"] if t["key"] == "dagster/partition"}
        assert day.isoformat() in keys

        ticks = gql(SENSOR, s=selector("torus__kafka_sensor"))["sensorOrError"]["sensorState"][
            "ticks"
        ]
        # Every tick since the sensor started (a busy machine makes many ticks while the daily
        # runs go; the launching one must not scroll out of the window).
        launched = [t for t in ticks if t["runIds"]]
        assert [t["runIds"] for t in launched] == [[ingest["runId"]]]  # exactly one run
        # The newest tick may still be in flight (STARTED, no cursor yet): read the newest one
        # the daemon finished; no tick may have failed.
        assert not [t for t in ticks if t["status"] == "FAILURE"], ticks
        finished = [t for t in ticks if t["status"] in ("SUCCESS", "SKIPPED")]
        cursor = json.loads(finished[0]["cursor"])
        assert cursor["pending"] is None or cursor["pending"]["run_key"]
        assert sum(cursor["seen"].values()) > 0 and set(cursor) == {"next", "seen", "pending"}
        final = wait(
            lambda: [
                json.loads(t["cursor"])
                for t in gql(SENSOR, s=selector("torus__kafka_sensor"))["sensorOrError"][
                    "sensorState"
                ]["ticks"]
                if t["cursor"] and sum(json.loads(t["cursor"])["next"].values()) == 400
            ],
            "a cursor at the offsets the run reached",
        )
        assert final[0]["pending"] is None
