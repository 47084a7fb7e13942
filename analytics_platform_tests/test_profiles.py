"""Profiles from the environment, ClickHouse cluster DDL, and secrets kept out of config."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from analytics_platform.config import load_settings
from analytics_platform.lib.loading import build_definitions
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.tables import spec

PRODUCTION = {
    "ANALYTICS_PROFILE": "production",
    "CLICKHOUSE_HOST": "ch.internal",
    "CLICKHOUSE_USER": "analytics",
    "CLICKHOUSE_PASSWORD": "s3cr3t-Pa55",
    "CLICKHOUSE_SECURE": "true",
    "CLICKHOUSE_CLUSTER": "analytics",
    "ANALYTICS_S3_BUCKET": "aml-lake",
    "ANALYTICS_S3_PREFIX": "prod/",
    "AWS_REGION": "eu-west-1",
}


def test_local_profile_is_the_embedded_default(tmp_path):
    settings = load_settings({"ANALYTICS_HOME": str(tmp_path)})
    assert settings.profile == "local"
    assert settings.clickhouse.dsn == f"chdb://{tmp_path / 'chdb'}"
    assert settings.lake_url == str(tmp_path / "lake")


def test_production_profile_reads_servers_from_the_environment():
    settings = load_settings(PRODUCTION)
    target = settings.clickhouse
    assert (target.host, target.effective_port, target.secure) == ("ch.internal", 8443, True)
    assert (target.username, target.database, target.cluster) == (
        "analytics",
        "default",
        "analytics",
    )
    assert settings.lake.url == "s3://aml-lake/prod" and settings.lake.region == "eu-west-1"
    # The password is usable but never printed.
    assert target.password == "s3cr3t-Pa55"
    assert "s3cr3t" not in repr(target) and "s3cr3t" not in target.describe()
    assert target.describe() == "https://analytics@ch.internal:8443/default"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"CLICKHOUSE_HOST": ""}, "CLICKHOUSE_HOST: required"),
        ({"ANALYTICS_S3_BUCKET": ""}, "ANALYTICS_S3_BUCKET: required"),
        ({"ANALYTICS_S3_BUCKET": "Bad_Bucket"}, "ANALYTICS_S3_BUCKET: not a valid bucket"),
        ({"CLICKHOUSE_PORT": "84x3"}, "CLICKHOUSE_PORT: expected a port number, got '84x3'"),
        ({"CLICKHOUSE_SECURE": "maybe"}, "CLICKHOUSE_SECURE: expected true or false"),
        ({"CLICKHOUSE_CLUSTER": "prod-1"}, "invalid CLICKHOUSE_CLUSTER 'prod-1'"),
        ({"ANALYTICS_PROFILE": "staging"}, "ANALYTICS_PROFILE: expected one of"),
        ({"ANALYTICS_EXECUTOR": "celery"}, "ANALYTICS_EXECUTOR: expected one of"),
    ],
)
def test_bad_production_settings_name_the_variable(change, message):
    with pytest.raises(ValueError, match=message):
        load_settings({**PRODUCTION, **change})


def test_dsn_passwords_are_redacted():
    target = ch.ClickHouseTarget(dsn="https://analytics:pw123@ch.internal:8443/default")
    assert target.describe() == "https://analytics:***@ch.internal:8443/default"
    assert "pw123" not in repr(target)


def test_production_definitions_hold_environment_variable_names_not_secrets(monkeypatch):
    for k, v in PRODUCTION.items():
        monkeypatch.setenv(k, v)
    defs = build_definitions(load_settings())
    resources = defs.resources
    clickhouse = resources["warehouse"].clickhouse
    # Dagster keeps the EnvVar (shown by name in the UI) and resolves it where the step runs.
    assert (
        isinstance(clickhouse.password, dg.EnvVar) and clickhouse.password == "CLICKHOUSE_PASSWORD"
    )
    assert isinstance(clickhouse.host, dg.EnvVar)
    io_manager = resources["io_manager"]
    assert isinstance(io_manager.clickhouse.password, dg.EnvVar)
    assert io_manager.lake.url == "s3://aml-lake/prod"


def test_cluster_ddl_is_replicated_on_cluster_with_a_distributed_read_table():
    statements = spec("transfers").ddl("torus", cluster="analytics")
    create, distributed = statements
    assert "CREATE TABLE IF NOT EXISTS `torus`.`transfers` ON CLUSTER `analytics`" in create
    assert "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/torus/transfers'" in create
    assert "PARTITION BY `date`" in create
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS `torus`.`transfers_all` ON CLUSTER `analytics` AS "
        "`torus`.`transfers` ENGINE = Distributed('analytics', 'torus', 'transfers')"
    )
    single = spec("transfers").ddl("torus")
    assert len(single) == 1 and "ON CLUSTER" not in single[0]
    assert "ENGINE = MergeTree" in single[0]


def test_writes_use_a_non_replicated_staging_twin_and_replace_whole_tables(tmp_path):
    """The staging table is created with explicit MergeTree keys read from system.tables (on a
    cluster ``CREATE TABLE .. AS`` would copy the replicated engine); unpartitioned tables are
    replaced partition ``tuple()`` at a time, also when the new content is empty."""
    labels = spec("address_labels")
    with ch.session(f"chdb://{tmp_path / 'chdb'}") as client:
        ch.ensure_table(client, "torus", labels.ddl("torus"))
        frame = _one_label(labels.schema)
        ch.replace_table(client, "torus", "address_labels", frame)
        assert client.command("SELECT count() FROM torus.address_labels") == 1
        ch.replace_table(client, "torus", "address_labels", frame.clear())
        assert client.command("SELECT count() FROM torus.address_labels") == 0
        leftovers = client.command(
            "SELECT count() FROM system.tables WHERE database = 'torus' AND name LIKE '%staging%'"
        )
        assert leftovers == 0


def _one_label(schema: dict) -> pl.DataFrame:
    from datetime import UTC, datetime

    values = {
        "network": "torus",
        "address": "0x" + "a" * 40,
        "label": "Example Exchange",
        "category": "exchange",
        "source": "test",
        "valid_from": datetime(2026, 1, 1, tzinfo=UTC),
        "is_current": True,
    }
    return pl.DataFrame({c: pl.Series([values.get(c)], dtype=t) for c, t in schema.items()})
