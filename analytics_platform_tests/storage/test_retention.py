"""Warehouse retention: ClickHouse TTLs per table, older inputs read from the lake (issue 16).

On a real embedded warehouse: a network keeps ``daily_edges`` and ``address_activity`` only a
few days in ClickHouse; after the TTL has deleted the old days, the last day's features are
recomputed from a window that reaches past the warehouse's horizon, and must come out the same.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml

from analytics_platform.config import load_settings, parse_network
from analytics_platform.lake import manager as lake_manager
from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.retention import split_at_horizon, today_utc, warehouse_horizon
from analytics_platform.storage.tables import TABLES
from analytics_platform_tests.conftest import START
from analytics_platform_tests.lib.test_determinism import _fingerprint

D = date(2026, 3, 10)


def test_the_horizon_keeps_a_day_of_margin_before_the_ttl():
    # TTL date + 30 days: on D, days up to D - 30 may be gone; D - 29 is read from the lake too.
    assert warehouse_horizon(30, D) == D - timedelta(days=28)
    assert warehouse_horizon(None, D) is None
    h = D - timedelta(days=28)
    assert split_at_horizon(h - timedelta(5), h + timedelta(3), h) == (
        (h - timedelta(5), h - timedelta(1)),
        (h, h + timedelta(3)),
    )
    assert split_at_horizon(h, h + timedelta(3), h) == (None, (h, h + timedelta(3)))
    assert split_at_horizon(h - timedelta(9), h - timedelta(2), h) == (
        (h - timedelta(9), h - timedelta(2)),
        None,
    )
    assert split_at_horizon(h - timedelta(9), h, None) == (None, (h - timedelta(9), h))


def test_only_day_partitioned_tables_take_a_warehouse_retention():
    assert parse_network("torus", {"warehouse_retention": {"address_features": 30}})
    with pytest.raises(ValueError, match="'kafka_ledger' is not a day-partitioned table"):
        parse_network("torus", {"warehouse_retention": {"kafka_ledger": 30}})


def _features_of(settings, day: date) -> pl.DataFrame:
    with ch.session(settings.clickhouse) as client:
        schema = TABLES["address_features"].schema
        return ch.read_days(client, "torus", "address_features", day, day, schema=schema)


def test_inputs_past_the_warehouse_retention_are_read_from_the_lake(home: Path):
    last = START + timedelta(days=4)
    # Keep the processed tables just long enough that START..START+2 fall past the horizon.
    keep = (today_utc() - (START + timedelta(days=3))).days + 2
    config = yaml.safe_load((home / "config.yaml").read_text())
    config["networks"]["torus"]["warehouse_retention"] = {
        "daily_edges": keep,
        "address_activity": keep,
    }
    (home / "config.yaml").write_text(yaml.safe_dump(config))
    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    run_range(settings, "torus", START, last, instance=instance, progress=lambda _: None)
    before = _features_of(settings, last)
    assert before.height > 0

    with ch.session(settings.clickhouse) as client:
        assert ch.day_ttl(client, "torus", "daily_edges") == f"date + toIntervalDay({keep})"
        assert ch.day_ttl(client, "torus", "address_features") is None
        for table in ("daily_edges", "address_activity"):
            client.command(f"OPTIMIZE TABLE torus.{table} FINAL")  # the TTL merge, now
        kept = ch.query_frame(client, "SELECT DISTINCT date FROM torus.daily_edges ORDER BY date")
    # The TTL removed what lies past retention; the lake still has every day.
    assert kept["date"].to_list() == [START + timedelta(days=i) for i in (2, 3, 4)]
    checked = lake_manager.validate(settings, "torus")
    assert checked["ok"].all()
    assert not checked.filter(pl.col("table") == "daily_edges")["in_warehouse"].head(3).any()

    # The last day again: its 5-day window reads START..START+2 from the lake.
    run_range(
        settings, "torus", last, last, assets=["address_features"], instance=instance,
        progress=lambda _: None,
    )  # fmt: skip
    (rows_a, hash_a, sums_a), (rows_b, hash_b, sums_b) = map(
        _fingerprint, (before, _features_of(settings, last))
    )
    assert (rows_a, hash_a) == (rows_b, hash_b)
    assert sums_a == pytest.approx(sums_b, rel=1e-9, abs=1e-9)  # float sums: any row order
