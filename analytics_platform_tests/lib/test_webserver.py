"""The Dagster webserver shows the asset graph with partitions and checks (GraphQL API)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from analytics_platform_tests.conftest import dagster_process, free_port

QUERY = """
{
  assetNodes {
    assetKey { path }
    partitionDefinition { description }
    partitionKeysByDimension { partitionKeys }
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
    kinds
    owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
    metadataEntries {
      label
      ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
    }
  }
}
"""


@pytest.mark.slow
def test_webserver_graphql_shows_graph_partitions_checks_kinds_owners_and_columns(home: Path):
    port = free_port()
    env = {**os.environ, "ANALYTICS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home")}
    (home / "dagster_home").mkdir(exist_ok=True)
    (home / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dagster_process(
        "dagster-webserver",
        *("-m", "analytics_platform.definitions", "-h", "127.0.0.1", "-p", str(port)),
        env=env,
    ) as proc:
        url = f"http://127.0.0.1:{port}/graphql"
        deadline = time.time() + 120
        while True:
            try:
                reply = requests.post(url, json={"query": QUERY}, timeout=10)
                if reply.ok and "assetNodes" in reply.json().get("data", {}):
                    break
            except requests.ConnectionError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise AssertionError("webserver did not come up")
            time.sleep(1)
        nodes = {"/".join(n["assetKey"]["path"]): n for n in reply.json()["data"]["assetNodes"]}
        for name in (
            "transfers",
            "daily_edges",
            "address_features",
            "structural_patterns",
            "typology_alerts",
        ):
            node = nodes[f"torus/{name}"]
            assert node["partitionDefinition"] is not None
            assert len(node["partitionKeysByDimension"][0]["partitionKeys"]) == 5
            checks = {c["name"]: c["blocking"] for c in node["assetChecksOrError"]["checks"]}
            assert checks.get("schema") is True, name
            assert {"polars", "clickhouse", "parquet"} <= set(node["kinds"]), name
            assert node["owners"] == [{"team": "aml-data"}], name
            schema = {
                e["label"]: e
                for e in node["metadataEntries"]
                if e["label"] == "dagster/column_schema"
            }["dagster/column_schema"]["schema"]
            assert {"network", "date"} <= {c["name"] for c in schema["columns"]}, name
        alert_checks = nodes["torus/typology_alerts"]["assetChecksOrError"]["checks"]
        assert any("freshness" in c["name"] for c in alert_checks), alert_checks
        assert "igraph" in nodes["torus/address_features"]["kinds"]
        feature_columns = {
            c["name"]: c
            for e in nodes["torus/address_features"]["metadataEntries"]
            if e["label"] == "dagster/column_schema"
            for c in e["schema"]["columns"]
        }
        assert feature_columns["in_count"]["type"] == "Int64"
        assert "transfers received" in feature_columns["in_count"]["description"]
        deps = {"/".join(k["path"]) for k in nodes["torus/typology_alerts"]["dependencyKeys"]}
        assert {
            "torus/structural_patterns",
            "torus/address_features",
            "torus/address_labels",
        } <= deps
        assert not nodes["torus/address_labels"]["partitionDefinition"]
