"""ANALYTICS_PROFILE=production end to end: the whole asset graph against a real S3 endpoint
(moto server), Dagster storage on the machine's PostgreSQL, and the warehouse through the same
clickhouse-connect client code (chDB here, as no ClickHouse server runs on this machine).
Secrets set in the environment must not appear in what Dagster stores."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import psycopg2
import pytest
import yaml

from analytics_platform.config import load_settings
from analytics_platform.lake import manager as lake_manager
from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.tables import DAILY_TABLES
from analytics_platform_tests.conftest import START

ROOT = Path(__file__).resolve().parents[2]
S3_SECRET = "aws-SECRET-7d41c9e0"
PG_SECRET = "pg-SECRET-51b0a2f3"
SECRETS = (S3_SECRET, PG_SECRET)


@pytest.fixture
def production_env(home: Path, tmp_path: Path, s3_endpoint: str, postgres_db: dict, monkeypatch):
    """Production variables over a prepared 5-day network whose raw files are uploaded to S3."""
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    for path in sorted((home / "landing" / "torus").glob("*.parquet")):
        s3.upload_file(str(path), "lake", f"raw/torus/{path.name}")
    config = yaml.safe_load((home / "config.yaml").read_text())
    config["networks"]["torus"]["source"]["path"] = "s3://lake/raw/torus/transfers-*.parquet"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(ROOT / "deploy" / "compose" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {
        "ANALYTICS_PROFILE": "production",
        "ANALYTICS_CONFIG": str(tmp_path / "config.yaml"),
        "ANALYTICS_CLICKHOUSE_DSN": f"chdb://{tmp_path / 'warehouse'}",
        "ANALYTICS_S3_BUCKET": "lake",
        "ANALYTICS_S3_PREFIX": "prod",
        "AWS_REGION": "us-east-1",
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_HOST": postgres_db["host"],
        "DAGSTER_PG_PORT": str(postgres_db["port"]),
        "DAGSTER_PG_USER": postgres_db["user"],
        "DAGSTER_PG_PASSWORD": PG_SECRET,  # trust auth here: any password is accepted
        "DAGSTER_PG_DB": postgres_db["dbname"],
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    yield {"s3": s3, "pg": postgres_db}


def _pg_dump_text(pg: dict) -> str:
    """Every text value of every table in the Dagster database, concatenated."""
    with psycopg2.connect(**pg) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        tables = [r[0] for r in cur.fetchall()]
        chunks = []
        for table in tables:
            cur.execute(f'SELECT t::text FROM "{table}" t')  # names from the catalog above
            chunks += [r[0] for r in cur.fetchall()]
    return "\n".join(chunks)


@pytest.mark.slow
def test_production_profile_runs_the_whole_graph_on_s3_and_postgres(production_env):
    settings = load_settings()
    assert settings.profile == "production" and settings.lake_url == "s3://lake/prod"
    instance = instance_for(settings)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"

    refresh_labels(settings, "torus", instance=instance)
    last = START + timedelta(days=2)
    results = run_range(
        settings, "torus", START, last, chunk_days=3, instance=instance, progress=lambda _: None
    )
    assert len(results) == 1 and results[0].success

    # Dagster's runs and materialisations are in PostgreSQL.
    days = {(START + timedelta(days=i)).isoformat() for i in range(3)}
    for asset in DAILY_TABLES:
        assert days <= instance.get_materialized_partitions(dg.AssetKey(["torus", asset])), asset
    with psycopg2.connect(**production_env["pg"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE status = 'SUCCESS'")
        assert cur.fetchone()[0] == 2  # labels + the 3-day range

    # The lake is on S3: every daily table has its three day objects under the prefix.
    listed = production_env["s3"].list_objects_v2(Bucket="lake", Prefix="prod/")
    keys = {o["Key"] for o in listed.get("Contents", [])}
    for table in DAILY_TABLES:
        for day in days:
            assert f"prod/{table}/network=torus/date={day}/part-0.parquet" in keys, (table, day)
    assert any(k.startswith("prod/evidence/network=torus/") and k.endswith(".png") for k in keys)

    # The warehouse holds the same rows as the lake for a day.
    with ch.session(settings.clickhouse) as client:
        stored = client.command(
            "SELECT count() FROM torus.transfers WHERE date = {d:Date}",
            parameters={"d": START},
        )
    obj = production_env["s3"].get_object(
        Bucket="lake", Key=f"prod/transfers/network=torus/date={START.isoformat()}/part-0.parquet"
    )
    assert pl.read_parquet(obj["Body"].read()).height == stored > 0
    # The lake manager reads the S3 lake: three partitions per daily table, all agreeing.
    summary = lake_manager.summary(lake_manager.lake_of(settings), ["torus"])
    assert summary.filter(pl.col("table").is_in(DAILY_TABLES))["partitions"].to_list() == [3] * len(
        DAILY_TABLES
    )
    assert lake_manager.validate(settings, "torus")["ok"].all()

    # No secret reached run config, tags, logs or metadata.
    dumped = _pg_dump_text(production_env["pg"])
    assert "lake" in dumped and len(dumped) > 10_000  # the dump did see the runs
    for secret in SECRETS:
        assert secret not in dumped


def test_production_profile_refuses_sqlite_storage(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    settings = load_settings(
        {"ANALYTICS_PROFILE": "production", "CLICKHOUSE_HOST": "ch", "ANALYTICS_S3_BUCKET": "lake1"}
    )
    with pytest.raises(RuntimeError, match="needs Dagster storage on PostgreSQL"):
        instance_for(settings)
    monkeypatch.delenv("DAGSTER_HOME")
    with pytest.raises(RuntimeError, match="DAGSTER_HOME: the production profile needs"):
        instance_for(settings)


def test_the_resources_are_the_cores_connection_types_field_for_field():
    """The Dagster-free core (CLI, lake manager, evaluate) connects with ``ClickHouseTarget`` and
    ``LakeLocation``; the resources carry the same fields (copied by name) and the variables of
    each field are named once, in ``config``."""
    from dataclasses import fields

    from analytics_platform.config import CLICKHOUSE_VARIABLES, LAKE_VARIABLES, LakeLocation
    from analytics_platform.lib.resources import ClickHouseResource, LakeResource
    from analytics_platform.storage.clickhouse import ClickHouseTarget

    target = {f.name for f in fields(ClickHouseTarget)}
    assert set(ClickHouseResource.model_fields) == target
    assert set(CLICKHOUSE_VARIABLES) <= target
    location = {f.name for f in fields(LakeLocation)}
    assert set(LakeResource.model_fields) == location
    assert set(LAKE_VARIABLES) <= location
