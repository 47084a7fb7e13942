"""The lake manager on a real embedded warehouse and a local lake: summary, validate, report,
and a restore after the warehouse is deleted that gives back every table."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml

from analytics_platform.cli import main
from analytics_platform.config import load_settings
from analytics_platform.lake import manager as lake_manager
from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import lake
from analytics_platform.storage.tables import DAILY_TABLES, TABLES
from analytics_platform_tests.conftest import START

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


@pytest.fixture
def retention_lake(tmp_path: Path, monkeypatch):
    """Retention 3 days for aggregated tables, 2 for processed, 1 for raw, a 4-day feature
    window and a 2-day pattern span, over 10 days of (empty) lake files."""
    config = {
        "networks": {
            "torus": {
                "start_date": START.isoformat(),
                "windows": [4],
                "pattern_span_days": 2,
                "lake_retention": {"raw": 1, "processed": 2, "aggregated": 3},
            }
        }
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    for name in ("ANALYTICS_CONFIG", "ANALYTICS_LAKE_URL", "ANALYTICS_CLICKHOUSE_DSN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    root = lake_manager.lake_of(settings)
    days = [START + timedelta(days=i) for i in range(10)]
    tables = [t for tables in lake_manager.LAYERS.values() for t in tables]
    for table in tables:
        for day in days:
            empty = pl.DataFrame(schema=TABLES[table].schema)
            lake.write_atomic(empty, lake.partition_file(root, table, "torus", day))
    return settings, root, days


def test_cleanup_keeps_what_a_kept_partition_still_reads(retention_lake):
    settings, root, days = retention_lake
    as_of = days[-1]  # 10-10: aggregated keeps 10-08..10-10
    dry = lake_manager.cleanup(settings, "torus", as_of, dry_run=True)
    assert lake_manager.summary(root, ["torus"])["partitions"].unique().to_list() == [10]

    def kept(table: str) -> list[int]:
        rows = dry.filter((pl.col("table") == table) & (pl.col("action") == "keep"))
        return [d.day for d in rows["date"]]

    assert kept("typology_alerts") == [8, 9, 10]
    # Features of 10-08 read edges and activity from 10-05 on (4-day window) although their
    # own retention (2 days) would keep only 10-09 and 10-10.
    assert kept("daily_edges") == kept("address_activity") == [5, 6, 7, 8, 9, 10]
    # Transfers: every kept edge day and the 2-day span of kept patterns and alerts.
    assert kept("transfers") == [5, 6, 7, 8, 9, 10]
    assert kept("transfers_rejected") == [10]  # read by nothing
    reason = dry.filter((pl.col("table") == "daily_edges") & (pl.col("date") == days[4]))
    assert reason["reason"].item() == "input of address_features 2026-10-08 (4-day window)"

    lake_manager.cleanup(settings, "torus", as_of, dry_run=False)
    left = lake_manager.summary(root, ["torus"])
    by_table = dict(left.select("table", "partitions").iter_rows())
    assert by_table["daily_edges"] == 6 and by_table["transfers_rejected"] == 1
    assert by_table["typology_alerts"] == 3
    assert lake.list_days(root, "transfers", "torus")[0] == days[4]


def test_the_cleanup_job_applies_the_retention_on_its_schedule(retention_lake):
    import dagster as dg

    from analytics_platform.lib.loading import build_definitions

    settings, root, days = retention_lake
    defs = build_definitions(settings)
    # Loadable as a code location (an op named like its job is refused there, not here).
    dg.Definitions.validate_loadable(defs)
    schedule = defs.resolve_schedule_def("torus__lake_cleanup_schedule")
    assert schedule.cron_schedule == "0 3 * * 0"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    job = defs.resolve_job_def("torus__lake_cleanup")
    config = {"ops": {"torus__apply_lake_retention": {"config": {"as_of": days[-1].isoformat()}}}}
    result = job.execute_in_process(run_config=config)
    assert result.success
    left = dict(lake_manager.summary(root, ["torus"]).select("table", "partitions").iter_rows())
    assert left["typology_alerts"] == 3 and left["daily_edges"] == 6
    (output,) = [e for e in result.all_events if e.is_successful_output]
    metadata = output.event_specific_data.metadata
    tables = sum(len(t) for t in lake_manager.LAYERS.values())
    assert metadata["deleted"].value == tables * len(days) - sum(left.values()) > 0


def test_cleanup_refuses_a_future_as_of_or_a_plan_that_empties_a_table(retention_lake):
    settings, root, days = retention_lake
    today = days[-1] + timedelta(days=60)
    with pytest.raises(ValueError, match=r"^--as-of: 2999-12-31 is after today"):
        lake_manager.cleanup(settings, "torus", date(2999, 12, 31), dry_run=False, today=today)
    with pytest.raises(ValueError, match=r"deletes every partition of .*transfers \(10\)"):
        lake_manager.cleanup(settings, "torus", today, dry_run=False, today=today)
    assert lake_manager.summary(root, ["torus"])["partitions"].unique().to_list() == [10]
    plan = lake_manager.cleanup(settings, "torus", today, dry_run=True, force=True, today=today)
    assert plan.filter(pl.col("action") == "keep").height == 0
    # The CLI says it in one line and deletes nothing.
    assert main(["lake", "cleanup", "--as-of", "2999-12-31"]) == 2
    assert lake_manager.summary(root, ["torus"])["partitions"].unique().to_list() == [10]


def test_a_lake_path_with_a_quote_reads(tmp_path: Path):
    from analytics_platform.lake.sql import LakeSql

    root = tmp_path / "o'brien" / "lake"
    frame = pl.DataFrame({"tx_hash": ["0x1", "0x2"]})
    lake.write_atomic(frame, lake.partition_file(lake.lake_root(str(root)), "transfers", "torus",
                                                  START))  # fmt: skip
    sql = LakeSql(str(root), "torus")
    assert sql.query(f"SELECT count(*) AS n FROM {sql.table('transfers')}")["n"].item() == 2
