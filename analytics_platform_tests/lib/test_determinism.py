"""A partition is a pure function of its upstream partitions.

The same generated network (8 days, every planted type) is stored twice from the same landing
files and config: once by one ranged run over all days, once day by day, with the same champion
risk model (trained on a first pass, in a registry both stores share, with a 3-day relationship
look-back). Every daily table must hold the same rows per day in both stores, and every
asset's per-day metadata must agree.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from analytics_platform.config import load_settings
from analytics_platform.lib.demo import prepare
from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.tables import DAILY_TABLES, TABLES
from analytics_platform_tests.conftest import START, small_config

DAYS = 8
# Metadata about the run or the store rather than the partition's content: stage timings,
# where the store is (two homes here) and the IO manager's select statement for the run's slice.
RUN_METADATA = {"stage_seconds", "warehouse", "lake_path", "Query"}


def _store(
    home: Path, chunk_days: int, monkeypatch, assets: list[str] | None = None
) -> tuple[dict, dict]:
    monkeypatch.setenv("ANALYTICS_HOME", str(home))
    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    last = START + timedelta(days=DAYS - 1)
    results = run_range(
        settings,
        "torus",
        START,
        last,
        assets=assets,
        chunk_days=chunk_days,
        instance=instance,
        progress=lambda _: None,
    )
    assert all(r.success for r in results)
    tables = {}
    with ch.session(settings.clickhouse) as client:
        for table in DAILY_TABLES:
            tables[table] = ch.read_days(
                client, "torus", table, schema=TABLES[table].schema, cluster=""
            )
    metadata = {}
    for table in DAILY_TABLES:
        key = dg.AssetKey(["torus", table])
        for i in range(DAYS):
            day = (START + timedelta(days=i)).isoformat()
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
            ).records
            assert records, (table, day)
            meta = records[0].asset_materialization.metadata
            # Paths into the store (evidence pictures) name the home: compare them without it.
            metadata[(table, day)] = {
                k: str(v.value).replace(str(home), "<home>")
                for k, v in meta.items()
                if k not in RUN_METADATA
            }
    return tables, metadata


def _train_champion(home: Path, cfg) -> None:
    """A model trained on the first pass's store and the planted patterns, made champion."""
    from analytics_platform.domain.risk.labels import planted_labels
    from analytics_platform.domain.synthetic import generate
    from analytics_platform.pipeline import model_ops

    net = generate(cfg)
    truth = net.ground_truth
    planted_labels(
        truth.select("pattern_id", "pattern_type", pl.lit(True).alias("is_sar"), "address"),
        truth.select("pattern_id", "tx_hashes")
        .unique("pattern_id")
        .explode("tx_hashes", empty_as_null=True)
        .rename({"tx_hashes": "tx_hash"}),
        net.transfers.select("tx_hash", "block_time"),
    ).write_csv(home / "labels-planted.csv")  # fmt: skip
    settings = load_settings()
    model_ops.train_model(
        settings, "torus", by="test", labels_path=str(home / "labels-planted.csv"),
        alias="champion", progress=lambda _: None,
    )  # fmt: skip


def _fingerprint(df: pl.DataFrame) -> tuple[int, int, dict[str, float]]:
    """Row count, an order-free hash of the non-float columns, and the sum of each float."""
    floats = [c for c, t in df.schema.items() if t in (pl.Float32, pl.Float64)]
    others = [c for c in df.columns if c not in floats]
    row_hashes = df.select(others).hash_rows(seed=1).sort()
    digest = int(pl.DataFrame({"h": row_hashes}).hash_rows(seed=2).sum()) if df.height else 0
    sums = {c: float(df[c].fill_nan(0).sum() or 0.0) for c in floats}
    return df.height, digest, sums


@pytest.mark.slow
def test_ranged_run_and_day_by_day_runs_store_identical_partitions(tmp_path: Path, monkeypatch):
    cfg = small_config(days=DAYS, transfers_per_day=1_500, addresses=600)
    ranged_home, daily_home = tmp_path / "ranged", tmp_path / "daily"
    prepare(ranged_home, cfg)
    # The model reads 3 days of relationships before each day: a day scored alone must read
    # the same pair history as inside the range.
    config = yaml.safe_load((ranged_home / "config.yaml").read_text())
    config["networks"]["torus"]["risk"] = {"lookback_days": 3}
    (ranged_home / "config.yaml").write_text(yaml.safe_dump(config))
    # The same config (and so the same landing files) for both stores.
    daily_home.mkdir()
    shutil.copy(ranged_home / "config.yaml", daily_home / "config.yaml")

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'registry.db'}")
    _store(ranged_home, DAYS, monkeypatch)  # the rules alone: what the model learns from
    _train_champion(ranged_home, cfg)
    # the model's assets again over the same range, now with the champion
    scored = ["address_risk_scores", "typology_alerts", "model_monitoring"]
    ranged, ranged_meta = _store(ranged_home, DAYS, monkeypatch, scored)
    daily, daily_meta = _store(daily_home, 1, monkeypatch)

    compared, differences = 0, []
    for table in DAILY_TABLES:
        assert ranged[table].schema == daily[table].schema
        for i in range(DAYS):
            day = START + timedelta(days=i)
            a = ranged[table].filter(pl.col("date") == day)
            b = daily[table].filter(pl.col("date") == day)
            (rows_a, hash_a, sums_a), (rows_b, hash_b, sums_b) = _fingerprint(a), _fingerprint(b)
            where = f"{table} {day}"
            if rows_a != rows_b:
                differences.append(f"{where}: {rows_a} rows ranged vs {rows_b} day by day")
            elif hash_a != hash_b:
                differences.append(f"{where}: non-float columns differ")
            differences += [
                f"{where}: sum of {column} {total} vs {sums_b[column]}"
                for column, total in sums_a.items()
                if total != pytest.approx(sums_b[column], rel=1e-9, abs=1e-9)
            ]
            compared += rows_a
    assert not differences, "\n".join(differences)
    # Every table was filled and every planted type reached the patterns.
    assert all(ranged[t].height for t in DAILY_TABLES if t != "transfers_rejected")
    assert compared > 10_000
    meta_differences = [
        (key, name, value, daily_meta[key].get(name))
        for key, values in ranged_meta.items()
        for name, value in values.items()
        if daily_meta[key].get(name) != value
    ]
    assert not meta_differences, "\n".join(map(str, meta_differences))
    assert ranged_meta == daily_meta
