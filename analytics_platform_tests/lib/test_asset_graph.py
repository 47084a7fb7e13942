"""Real Dagster runs on real chDB and a real local lake."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from analytics_platform.config import load_settings
from analytics_platform.engines.gpu import gpu_unavailable_reason
from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import lake
from analytics_platform.storage.tables import DAILY_TABLES, INGEST_TABLES
from analytics_platform_tests.conftest import START, use_upstream_table

DAILY = list(DAILY_TABLES)


def counts(settings, table: str) -> dict[date, int]:
    with ch.session(settings.clickhouse) as client:
        frame = ch.query_frame(
            client, f"SELECT date, count() AS n FROM torus.`{table}` GROUP BY date"
        )
    return dict(frame.iter_rows())


def lake_rows(settings, table: str, day: date) -> int:
    path = lake.partition_file(lake.lake_root(settings.lake_url), table, "torus", day)
    return lake.read_file(path).height


def test_three_day_backfill_materialises_every_asset_and_checks_pass(home: Path):
    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    last = START + timedelta(days=2)
    # Two runs (2 days + 1 day), as a chunked backfill makes them.
    results = run_range(
        settings, "torus", START, last, chunk_days=2, instance=instance, progress=lambda _: None
    )
    assert len(results) == 2 and all(r.success for r in results)
    days = [(START + timedelta(days=i)).isoformat() for i in range(3)]
    for asset in DAILY:
        materialised = instance.get_materialized_partitions(dg.AssetKey(["torus", asset]))
        assert set(days) <= materialised, asset
    evaluations = [e for r in results for e in r.get_asset_check_evaluations()]
    failed = [e.check_name for e in evaluations if not e.passed]
    assert len(evaluations) >= 13 and failed == []
    for table in ("transfers", "daily_edges", "address_features", "typology_alerts"):
        per_day = counts(settings, table)
        assert all(per_day.get(START + timedelta(days=i), 0) > 0 for i in range(3)), table
        assert lake_rows(settings, table, START) == per_day[START]
    # The four planted bad rows of day one reached the dead-letter table once, although both
    # runs read every landing file (the unparsable timestamp belongs to its file's day).
    assert counts(settings, "transfers_rejected") == {START: 4}
    # Each day's quality score: the bad values lower day one's validity; nothing was absent.
    with ch.session(settings.clickhouse) as client:
        scores = ch.query_frame(
            client, "SELECT * FROM torus.transfers_quality ORDER BY date"
        ).with_columns(pl.col("date").cast(pl.Date))
    first, *rest = scores.iter_rows(named=True)
    assert first["rejected"] == 4 and first["completeness"] == 1.0
    assert first["validity"] == round(first["accepted"] / (first["read"] - first["duplicates"]), 6)
    assert first["validity"] < 1.0 and first["timeliness"] is None
    assert [r["score"] for r in rest] == [1.0, 1.0] and first["score"] < 1.0
    scored = instance.get_latest_materialization_event(
        dg.AssetKey(["torus", "transfers_quality"])
    ).asset_materialization.metadata
    assert 0 < scored["score"].value <= 1.0  # numeric: the UI's Plots tab charts it
    # The top alerts' evidence pictures are in the lake and linked from the metadata.
    alerts_mat = instance.get_latest_materialization_event(
        dg.AssetKey(["torus", "typology_alerts"])
    )
    meta = alerts_mat.asset_materialization.metadata
    pictures = meta["evidence_pictures"].value
    assert pictures and all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in pictures.values())
    assert "data:image/png;base64," in meta["top_cases"].value


def test_rematerialising_a_partition_three_times_never_duplicates(home: Path):
    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    day = START + timedelta(days=1)
    seen = []
    for _ in range(3):
        run_range(settings, "torus", day, day, instance=instance, progress=lambda _: None)
        seen.append(
            {t: (counts(settings, t).get(day, 0), lake_rows(settings, t, day)) for t in DAILY}
        )
    assert seen[0] == seen[1] == seen[2]
    assert seen[0]["transfers"][0] > 0 and seen[0]["transfers"][0] == seen[0]["transfers"][1]


def test_empty_day_warns_through_row_count_check(home: Path):
    settings = load_settings()
    day = START + timedelta(days=3)
    (home / "landing" / "torus" / f"transfers-{day.isoformat()}.parquet").unlink()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    (result,) = run_range(
        settings,
        "torus",
        day,
        day,
        assets=list(INGEST_TABLES),
        instance=instance,
        progress=lambda _: None,
    )
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evals["row_count"].passed
    assert evals["row_count"].severity == dg.AssetCheckSeverity.WARN
    assert all(e.passed for name, e in evals.items() if name != "row_count")


def test_ingest_from_a_source_clickhouse_table(home: Path, monkeypatch):
    settings = load_settings()
    raw = pl.read_parquet(home / "landing" / "torus" / f"transfers-{START.isoformat()}.parquet")
    good = raw.filter(~pl.col("tx_hash").str.starts_with("0xbad")).with_columns(
        pl.col("block_time").str.to_datetime(time_zone="UTC").dt.cast_time_unit("ms"),
        pl.col("amount").cast(pl.Decimal(38, 18)),
    )
    use_upstream_table(home, good)
    settings = load_settings()
    run_range(
        settings,
        "torus",
        START,
        START,
        assets=list(INGEST_TABLES),
        progress=lambda _: None,
    )
    assert counts(settings, "transfers")[START] == good.height


@pytest.mark.slow
def test_two_concurrent_runs_share_the_embedded_store(home: Path):
    env = {**os.environ, "ANALYTICS_HOME": str(home)}
    cli = [sys.executable, "-m", "analytics_platform.cli"]
    subprocess.run([*cli, "labels"], env=env, check=True, capture_output=True)
    procs = [
        subprocess.Popen(
            [*cli, "materialize", "--date", (START + timedelta(days=i)).isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in (0, 1)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    per_day = counts(load_settings(), "typology_alerts")
    assert START in per_day and START + timedelta(days=1) in per_day


@pytest.mark.skipif(gpu_unavailable_reason() is None, reason="a GPU is available")
def test_gpu_engine_without_gpu_falls_back_when_configured_and_records_it(home: Path):
    config = home / "config.yaml"
    config.write_text(config.read_text() + "features: {engine: gpu, fallback_to_cpu: true}\n")
    settings = load_settings()
    assert settings.features.engine == "gpu"
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    (result,) = run_range(
        settings, "torus", START, START, instance=instance, progress=lambda _: None
    )
    assert result.success
    event = instance.get_latest_materialization_event(dg.AssetKey(["torus", "address_features"]))
    metadata = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    assert metadata["engine_requested"] == "gpu" and metadata["engine"] == "cpu"
    assert metadata["engine_fallback"] == gpu_unavailable_reason()
    assert "communities" in metadata["stage_seconds"]
