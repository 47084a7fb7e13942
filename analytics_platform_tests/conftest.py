"""Shared fixtures: small synthetic networks and prepared embedded homes (real chDB)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine

from analytics_platform.kafka.broker import free_port  # noqa: F401 (tests import it from here)

warnings.filterwarnings("ignore", message=".*is currently in beta.*")

START = date(2026, 10, 1)


def clock_inside(day: date) -> time_machine.travel:
    """A clock from noon UTC of ``day``, ticking: a test whose expected days come from the date
    at import stays consistent with the platform's clock (newest partition, late-data horizon)
    when the run crosses midnight UTC."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), tick=True)


def small_config(days: int = 5, **kw):
    from analytics_platform.domain.synthetic import demo_config

    return demo_config(
        days=days,
        transfers_per_day=kw.pop("transfers_per_day", 2_000),
        addresses=kw.pop("addresses", 1_000),
        start=START,
        **kw,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    """A fresh ANALYTICS_HOME with a generated 5-day network and its config."""
    from analytics_platform.lib.demo import prepare

    h = tmp_path / "home"
    monkeypatch.setenv("ANALYTICS_HOME", str(h))
    monkeypatch.delenv("ANALYTICS_CLICKHOUSE_DSN", raising=False)
    monkeypatch.delenv("ANALYTICS_LAKE_URL", raising=False)
    monkeypatch.delenv("ANALYTICS_CONFIG", raising=False)
    prepare(h, small_config())
    yield h
    os.environ.pop("DAGSTER_HOME", None)


@contextmanager
def dagster_process(
    command: str, *args: str, env: dict, log: Path | None = None, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """A Dagster CLI of this venv (``dagster-webserver``, ``dagster``, ``dagster-daemon``) in its
    own process group, output to ``log``; killed with its children on exit (SIGKILL: processes
    started in the background here ignore SIGTERM)."""
    out = log.open("w") if log else None
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / command), *args],
        env=env,
        cwd=cwd,
        stdout=out or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if out else subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        if out:
            out.close()


@pytest.fixture
def s3_endpoint(monkeypatch):
    """A real S3 HTTP endpoint (moto server) with a bucket ``lake``; AWS variables set."""
    import boto3
    import requests
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    for k, v in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": url,
    }.items():
        monkeypatch.setenv(k, v)
    # moto keeps its buckets in process-wide state: start from and leave an empty store.
    requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket="lake")
    yield url
    requests.post(f"{url}/moto-api/reset", timeout=10)
    server.stop()


PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@pytest.fixture
def postgres_db():
    """A fresh, empty PostgreSQL database on the machine's server (dropped afterwards)."""
    import psycopg2

    try:
        admin = psycopg2.connect(dbname="postgres", connect_timeout=5, **PG)
    except psycopg2.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")
    admin.autocommit = True
    name = f"analytics_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield {**PG, "dbname": name}
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


def use_upstream_table(home: Path, rows) -> None:
    """Store ``rows`` (a polars frame of transfers) as the ClickHouse table
    ``upstream.transfers`` of ``home``'s warehouse and point the network ``torus`` at it."""
    import yaml

    from analytics_platform.config import load_settings
    from analytics_platform.storage import clickhouse as ch

    columns = ", ".join(f"{name} {ch.ch_type(dtype)}" for name, dtype in rows.schema.items())
    with ch.session(load_settings().clickhouse) as client:
        client.command("CREATE DATABASE IF NOT EXISTS upstream")
        client.command(
            f"CREATE TABLE upstream.transfers ({columns}) ENGINE = MergeTree ORDER BY block_time"
        )
        client.insert_arrow("upstream.transfers", rows.to_arrow())
    config = yaml.safe_load((home / "config.yaml").read_text())
    config["networks"]["torus"]["source"] = {"kind": "clickhouse", "table": "upstream.transfers"}
    (home / "config.yaml").write_text(yaml.safe_dump(config))
