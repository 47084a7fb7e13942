"""The lake manager on a real embedded warehouse and a local lake: summary, validate, report,
and a restore after the warehouse is deleted that gives back every table."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl

from analytics_platform import lake_manager
from analytics_platform.cli import main
from analytics_platform.config import load_settings
from analytics_platform.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.tables import DAILY_TABLES, TABLES

from .conftest import START

LAKE_TABLES = (*DAILY_TABLES, "address_labels")


def fingerprints(settings) -> dict[str, pl.DataFrame]:
    """Every lake-backed table as sorted row hashes (lists and floats included)."""
    out = {}
    with ch.session(settings.clickhouse) as client:
        for table in LAKE_TABLES:
            frame = pl.from_arrow(client.query_arrow(f"SELECT * FROM torus.`{table}`")).select(
                list(TABLES[table].schema)
            )
            out[table] = frame.hash_rows(seed=1).sort().to_frame()
    return out


def test_the_lake_rebuilds_a_deleted_warehouse(home: Path, tmp_path: Path, capsys):
    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    last = START + timedelta(days=1)
    run_range(settings, "torus", START, last, instance=instance, progress=lambda _: None)

    root = lake_manager.lake_of(settings)
    summary = lake_manager.summary(root, ["torus"])
    daily = summary.filter(pl.col("table").is_in(DAILY_TABLES))
    assert set(daily["table"]) == set(DAILY_TABLES)
    assert (daily["partitions"] == 2).all() and (daily["bytes"] > 0).all()
    assert daily["first"].unique().to_list() == [START] and daily["last"].unique().to_list() == [
        last
    ]
    assert summary.filter(pl.col("table") == "address_labels")["objects"].item() == 1

    checked = lake_manager.validate(settings, "torus")
    assert checked.height == 2 * len(DAILY_TABLES) + 1 and checked["ok"].all()

    before = fingerprints(settings)
    assert before["transfers"].height > 0 and before["typology_alerts"].height > 0
    shutil.rmtree(ch.embedded_path(settings.clickhouse.dsn))  # the warehouse is gone
    restored = lake_manager.restore(settings, "torus", progress=lambda _: None)
    assert set(restored["table"]) == set(LAKE_TABLES)
    after = fingerprints(settings)
    for table in LAKE_TABLES:
        assert after[table].equals(before[table]), table

    # A warehouse partition that goes missing is what validate reports.
    with ch.session(settings.clickhouse) as client:
        client.command(f"ALTER TABLE torus.transfers DROP PARTITION '{last.isoformat()}'")
    bad = lake_manager.validate(settings, "torus").filter(~pl.col("ok"))
    assert bad.select("table", "date", "warehouse_rows").rows() == [("transfers", last, 0)]
    assert main(["lake", "validate", "--network", "torus"]) == 1

    plot = tmp_path / "report.png"
    report = lake_manager.report(settings, "torus", days=30, plot=plot)
    assert report["date"].to_list() == [START, last]
    assert (report["transfers"] > 0).all() and (report["cases"] > 0).all()
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert main(["lake", "summary"]) == 0
    assert "structural_patterns" in capsys.readouterr().out
