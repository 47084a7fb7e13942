"""The daily schedule targets the previous UTC day; a CSV source from outside the project runs
through the whole graph."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import yaml

from analytics_platform.config import load_settings
from analytics_platform.lib.loading import build_definitions
from analytics_platform.lib.runner import instance_for, run_range
from analytics_platform.storage import clickhouse as ch

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def test_daily_schedule_requests_the_previous_day(home: Path):
    defs = build_definitions(load_settings())
    schedule = defs.resolve_schedule_def("torus__daily_schedule")
    assert schedule.job_name == "torus__daily"
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 10, 4, 0, 30, tzinfo=UTC)
    )
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == ["2026-10-03"]


def test_amlsim_csv_through_the_graph(tmp_path: Path, monkeypatch):
    source = DATASETS / "amlsim_s1" / "transfers.csv.gz"
    if not source.exists():
        import pytest

        pytest.skip(f"{source} not present")
    home = tmp_path / "aml"
    home.mkdir()
    (home / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "networks": {
                    "amlsim": {
                        "start_date": "2017-01-01",
                        "end_date": "2017-01-03",
                        # two years of transfers behind a network of three days
                        "source": {
                            "kind": "files",
                            "path": str(source),
                            "outside_partitions": "ignore",
                        },
                        "address_pattern": r"^acct_\d+$",
                        "windows": [7],
                    }
                }
            }
        )
    )
    monkeypatch.setenv("ANALYTICS_HOME", str(home))
    settings = load_settings()
    (result,) = run_range(
        settings,
        "amlsim",
        date(2017, 1, 1),
        date(2017, 1, 3),
        instance=instance_for(settings),
        progress=lambda _: None,
    )
    assert result.success
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []
    with ch.session(settings.clickhouse) as client:
        n = client.command("SELECT count() FROM amlsim.transfers")
        rejected = client.command("SELECT count() FROM amlsim.transfers_rejected")
        features = client.command("SELECT count() FROM amlsim.address_features")
    assert n > 500 and rejected == 0 and features > 0
