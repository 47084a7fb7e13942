"""The features benchmark end to end (tiny size) and the incremental shape of the graph."""

import json
import subprocess
import sys

import dagster as dg

from analytics_platform.bench.features import format_table
from analytics_platform.config import load_settings
from analytics_platform.lib.loading import build_definitions


def test_bench_features_prints_one_json_object_with_every_engine(tmp_path):
    cmd = [
        sys.executable, "-m", "analytics_platform.cli", "bench", "features",
        "--transfers", "3000", "--addresses", "300", "--days", "3",
        "--engines", "cpu,gpu,warehouse,networkx", "--folder", str(tmp_path), "--json",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(proc.stdout)  # progress went to stderr
    results = {r["engine"]: r for r in report["results"]}
    assert results["cpu"]["status"] == "ok" and results["networkx"]["status"] == "ok"
    assert results["gpu"]["status"] in ("ok", "unavailable")
    cpu = results["cpu"]
    assert cpu["rows"] == results["networkx"]["rows"] > 0
    assert {"imports", "daily_pieces", "encode", "communities", "betweenness"} <= set(cpu["stages"])
    assert cpu["peak_rss_bytes"] > 0 and cpu["transfers_per_second"] > 0
    assert set(cpu["stage_peak_rss_bytes"]) == set(cpu["stages"])
    assert 0 < max(cpu["stage_peak_rss_bytes"].values()) <= cpu["peak_rss_bytes"] * 1.05
    assert cpu["speedup_vs_networkx"] > 0
    assert "cpu" in proc.stderr and "networkx" in proc.stderr
    # The window reduced in the warehouse: the pieces' load timed apart, the same features.
    warehouse = results["warehouse"]
    assert warehouse["status"] == "ok" and warehouse["rows"] == cpu["rows"]
    assert {"warehouse_load", "flows", "aggregate"} <= set(warehouse["stages"])
    assert warehouse["window_seconds"] < warehouse["seconds"]
    # The window is what one more day costs: not the pieces, their load or the imports.
    apart_stages = ("daily_pieces", "warehouse_load", "imports")
    apart = sum(warehouse["stages"][s] for s in apart_stages)
    assert abs(warehouse["seconds"] - apart - warehouse["window_seconds"]) < 1e-6
    # Its CPU time leaves out the CPU of the same stages (the pieces computed in the worker).
    for r in (cpu, warehouse):
        apart_cpu = sum(r["stage_cpu_seconds"].get(s, 0.0) for s in apart_stages)
        assert 0 < r["window_cpu_seconds"] < r["cpu_seconds"]
        assert abs(r["cpu_seconds"] - apart_cpu - r["window_cpu_seconds"]) < 1e-6
    assert cpu["stage_cpu_seconds"]["daily_pieces"] > 0
    assert report["parity"]["warehouse"]["ok"], report["parity"]["warehouse"]
    # A second run reuses the loaded store: no load, the same addresses. Its statements run in
    # passes of 100 addresses and its graph is cut to 50 pairs, which the report says.
    options = ["--addresses-per-pass", "100", "--max-graph-edges", "50"]
    again = subprocess.run(
        [*cmd[:-4], "warehouse", *cmd[-3:], *options], capture_output=True, text=True,
        timeout=300, check=True,
    )  # fmt: skip
    second = json.loads(again.stdout)
    reused = second["results"][0]
    assert "reusing the loaded store" in again.stderr
    assert "warehouse_load" not in reused["stages"] and reused["rows"] == warehouse["rows"]
    assert reused["graph_cut"]["kept"] == 50 < reused["graph_cut"]["pairs"]
    assert warehouse["graph_cut"] is None and second["addresses_per_pass"] == 100
    assert "graph cut to the edge budget: 50 of" in format_table(second)
    assert not any(tmp_path.glob("*/pieces-warehouse"))  # removed once loaded


def test_features_read_daily_pieces_never_raw_transfers(tmp_path):
    defs = build_definitions(load_settings({"ANALYTICS_HOME": str(tmp_path)}))
    graph = defs.resolve_asset_graph()
    features = graph.get(dg.AssetKey(["torus", "address_features"]))
    assert {k.path[-1] for k in features.parent_keys} == {
        "daily_edges",
        "address_activity",
        "address_labels",
    }


def test_the_input_is_written_in_spans_of_days_of_one_network(tmp_path, monkeypatch):
    """Past CHUNK_TRANSFERS the input is generated a span of days at a time: the spans share
    the network's addresses but not their draws, and cover every day once."""
    import polars as pl

    from analytics_platform.bench import features as bench

    monkeypatch.setattr(bench, "CHUNK_TRANSFERS", 1_000)
    data = bench.prepare_input(bench.BenchInput(3_000, 300, 6, 7), tmp_path)
    parts = [pl.read_parquet(p) for p in sorted((data / "transfers").glob("part-*.parquet"))]
    assert len(parts) == 3
    days = [sorted(p["date"].unique()) for p in parts]
    assert [d for span in days for d in span] == [
        bench.START + bench.timedelta(days=i) for i in range(6)
    ]
    senders = [set(p["from_address"]) for p in parts]
    assert len(senders[0] & senders[1]) > 0.5 * len(senders[1])  # the same users
    pairs = [p.select("from_address", "to_address").sort(pl.all()) for p in parts]
    assert not pairs[0].equals(pairs[1])  # drawn apart
    assert bench.prepare_input(bench.BenchInput(3_000, 300, 6, 7), tmp_path) == data  # reused
