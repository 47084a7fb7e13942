"""The Dagster webserver shows the asset graph with partitions and checks (GraphQL API)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from .conftest import dagster_process, free_port

QUERY = """
{
  assetNodes {
    assetKey { path }
    partitionDefinition { description }
    partitionKeysByDimension { partitionKeys }
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
}
"""


@pytest.mark.slow
def test_webserver_graphql_shows_graph_partitions_and_checks(home: Path):
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
        deps = {"/".join(k["path"]) for k in nodes["torus/typology_alerts"]["dependencyKeys"]}
        assert {
            "torus/structural_patterns",
            "torus/address_features",
            "torus/address_labels",
        } <= deps
        assert not nodes["torus/address_labels"]["partitionDefinition"]
