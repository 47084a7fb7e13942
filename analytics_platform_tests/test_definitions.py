"""The resolved definitions: a network as a component, and a snapshot of the asset graph so a
change to keys, deps, partition mappings, tags, pools, kinds or checks is a visible diff
(``UPDATE_SNAPSHOTS=1 pytest analytics_platform_tests/test_definitions.py`` rewrites it)."""

import json
import os
from pathlib import Path

import dagster as dg
import pytest
from dagster.components.testing import create_defs_folder_sandbox

from analytics_platform.config import ConfigError, load_settings
from analytics_platform.lib.loading import build_definitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions_torus.json"


def describe(defs: dg.Definitions) -> dict:
    """What a reviewer should see change: per asset, the graph and the metadata users rely on."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": {
                parent.to_user_string(): type(mapping).__name__ + _offsets(mapping)
                for parent in sorted(node.parent_keys, key=lambda k: k.to_user_string())
                for mapping in [graph.get_partition_mapping(key, parent)]
            },
            "partitioned": node.partitions_def is not None,
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "tags": {k: v for k, v in node.tags.items() if not k.startswith("dagster/kind/")},
            "pool": sorted(node.pools or ()),
            "op_tags": sorted(defs.resolve_assets_def(key).op.tags),
            "checks": sorted(c.name for c in node.check_keys),
            "retries": defs.resolve_assets_def(key).op.retry_policy is not None,
            "columns": len(node.metadata["dagster/column_schema"].columns)
            if "dagster/column_schema" in node.metadata
            else None,
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.jobs or []),
        "schedules": sorted(s.name for s in defs.schedules or []),
        "sensors": sorted(s.name for s in defs.sensors or []),
    }


def _offsets(mapping) -> str:
    if isinstance(mapping, dg.TimeWindowPartitionMapping):
        return f"({mapping.start_offset}, {mapping.end_offset})"
    return ""


def test_the_resolved_graph_matches_its_snapshot(tmp_path):
    got = describe(build_definitions(load_settings({"ANALYTICS_HOME": str(tmp_path)})))
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert got == json.loads(SNAPSHOT.read_text())


def component_defs(network_yaml: str) -> dg.Definitions:
    """A project whose defs folder holds the platform module and one ``NetworkPipeline``
    instance (defs.yaml), loaded as ``dg`` loads this project."""
    with create_defs_folder_sandbox() as sandbox:
        (sandbox.defs_folder_path / "platform.py").write_text(
            "from analytics_platform.defs.platform import platform  # noqa: F401\n"
        )
        folder = sandbox.defs_folder_path / "ether"
        folder.mkdir()
        (folder / "defs.yaml").write_text(
            "type: analytics_platform.lib.NetworkPipeline\n"
            f"attributes:\n  name: ether\n  network:\n{network_yaml}"
        )
        with sandbox.build_all_defs() as defs:
            return defs


NETWORK = "    start_date: 2026-10-01\n    windows: [7]\n    pattern_span_days: 2\n"
FILES = "    source: {kind: files, path: landing/*.csv}\n"


def input_mappings(graph, table: str) -> dict[str, dg.PartitionMapping]:
    """The partition mapping of each upstream table of network ``ether``'s ``table``."""
    key = dg.AssetKey(["ether", table])
    return {p.path[-1]: graph.get_partition_mapping(key, p) for p in graph.get(key).parent_keys}


def test_a_network_declared_as_a_component_yaml(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    defs = component_defs(NETWORK + FILES)
    graph = defs.resolve_asset_graph()
    mapping = input_mappings(graph, "structural_patterns")["transfers"]
    assert mapping.start_offset == -1  # pattern_span_days 2
    features = graph.get(dg.AssetKey(["ether", "address_features"]))
    assert "[7] days" in features.description.replace("(7,)", "[7]")
    assert {j.name for j in defs.jobs} == {
        "ether__daily", "ether__labels", "ether__calibrate", "ether__risk_model_train",
        "ether__risk_model_promote", "ether__risk_model_rollback",
    }  # fmt: skip


def test_a_network_that_judges_dormancy_reads_the_edges_before_its_span(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    graph = component_defs(NETWORK + "    dormancy_days: 5\n" + FILES).resolve_asset_graph()
    mapping = input_mappings(graph, "structural_patterns")["daily_edges"]
    assert (mapping.start_offset, mapping.end_offset) == (-6, 0)  # span 2 + 5 days before


def test_a_network_that_finds_funnels_reads_their_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    funnels = "    dormancy_days: 5\n    funnel_days: 30\n"
    graph = component_defs(NETWORK + funnels + FILES).resolve_asset_graph()
    mappings = input_mappings(graph, "structural_patterns")
    offsets = {
        parent: mappings[parent].start_offset for parent in ("transfers", "prices", "daily_edges")
    }
    # the funnels' 30 days of transfers (and their prices), and 5 days before them of edges
    assert offsets == {"transfers": -29, "prices": -29, "daily_edges": -34}


def test_the_lake_cleanup_keeps_what_the_asset_graph_reads(tmp_path, monkeypatch):
    """``lake_manager`` keeps inputs by its own table of upstreams and days (it runs without
    Dagster); it must be the partition mappings of the assets, with and without dormancy and
    funnels."""
    from analytics_platform.config import NetworkConfig
    from analytics_platform.lake.manager import _inputs

    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    for dormancy, funnel in ((None, None), (5, None), (5, 10)):
        graph = component_defs(
            "    start_date: 2026-10-01\n    windows: [7, 30]\n    pattern_span_days: 2\n"
            f"    dormancy_days: {dormancy or 'null'}\n    funnel_days: {funnel or 'null'}\n"
            "    source: {kind: files, path: landing/*.csv}\n"
        ).resolve_asset_graph()
        net = NetworkConfig(name="ether", windows=(7, 30), pattern_span_days=2,
                            dormancy_days=dormancy, funnel_days=funnel)  # fmt: skip
        for table, expected in _inputs(net).items():
            read = {
                (parent, 1 - m.start_offset)
                for parent, m in input_mappings(graph, table).items()
                if isinstance(m, dg.TimeWindowPartitionMapping)
            }
            assert read == set(expected), (table, dormancy, funnel)


def test_a_typo_in_the_component_yaml_names_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    with pytest.raises(Exception) as error:
        component_defs("    windos: [7]\n")
    # Dagster wraps the error with the component's path; the cause names key and value.
    cause = error.value
    while cause is not None and not isinstance(cause, ConfigError):
        cause = cause.__cause__ or cause.__context__
    assert str(cause) == "networks.ether.windos: unknown key (got [7])"
