"""The Dagster daemon on PostgreSQL storage runs a 3-partition backfill through the queued run
coordinator of ``deploy/compose/dagster.yaml``, whose tag limit holds GPU-tagged runs to one at
a time. Real processes: ``dagster job backfill`` submits, ``dagster-daemon run`` launches."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from analytics_platform_tests.conftest import START, dagster_process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TIMEOUT_S = 420


def _wait(predicate, timeout: float, what: str, poll: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.mark.slow
def test_daemon_runs_a_gpu_backfill_one_run_at_a_time(
    home: Path, tmp_path, postgres_db, monkeypatch
):
    # The GPU engine is configured (runs are GPU-tagged); no GPU here, so it falls back to CPU.
    config = yaml.safe_load((home / "config.yaml").read_text())
    config["features"] = {"engine": "gpu", "fallback_to_cpu": True}
    (home / "config.yaml").write_text(yaml.safe_dump(config))
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(ROOT / "deploy" / "compose" / "dagster.yaml", dagster_home / "dagster.yaml")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {
                        "python_module": {
                            "module_name": "analytics_platform.definitions",
                            "working_directory": str(ROOT),
                            "location_name": "analytics_platform",
                        }
                    }
                ]
            }
        )
    )
    env = {
        **os.environ,
        "ANALYTICS_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_HOST": postgres_db["host"],
        "DAGSTER_PG_PORT": str(postgres_db["port"]),
        "DAGSTER_PG_USER": postgres_db["user"],
        "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
        "DAGSTER_PG_DB": postgres_db["dbname"],
        "ANALYTICS_EXECUTOR": "in_process",
    }
    for key in [k for k in env if k.startswith("DAGSTER_")]:
        monkeypatch.setenv(key, env[key])
    instance = dg.DagsterInstance.get()
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"

    days = [(START + timedelta(days=i)).isoformat() for i in range(3)]
    with dagster_process(
        "dagster-daemon",
        *("run", "-w", str(workspace)),
        env=env,
        log=tmp_path / "daemon.log",
        cwd=tmp_path,
    ):
        submit = subprocess.run(
            [
                str(BIN / "dagster"),
                "job",
                "backfill",
                "-w",
                str(workspace),
                "-j",
                "torus__daily",
                "--partitions",
                ",".join(days),
                "--noprompt",
            ],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert submit.returncode == 0, submit.stdout + submit.stderr

        def finished():
            runs = instance.get_runs()
            done = [r for r in runs if r.is_finished]
            return runs if len(runs) == 3 and len(done) == 3 else None

        runs = _wait(finished, TIMEOUT_S, "three finished backfill runs")

    assert all(r.is_success for r in runs), (tmp_path / "daemon.log").read_text()[-3000:]
    assert sorted(r.tags["dagster/partition"] for r in runs) == days
    assert all(r.tags["analytics/compute"] == "gpu" for r in runs)
    assert all("dagster/backfill" in r.tags for r in runs)
    # Every run went through the queue, and no two GPU runs were ever in progress together.
    records = sorted(instance.get_run_records(), key=lambda r: r.start_time)
    assert len(records) == 3
    for earlier, later in zip(records, records[1:], strict=False):
        assert earlier.end_time <= later.start_time, "two GPU-tagged runs overlapped"
    enqueued = []
    for r in runs:
        events = [e for e in instance.all_logs(r.run_id) if e.dagster_event]
        kinds = {e.dagster_event.event_type_value for e in events}
        assert {"PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_SUCCESS"} <= kinds
        enqueued += [
            e.timestamp for e in events if e.dagster_event.event_type_value == "PIPELINE_ENQUEUED"
        ]
    # All three waited in the queue together: the tag limit, not the submitter, serialised them.
    assert max(enqueued) < records[0].end_time
    for asset in ("transfers", "address_features", "typology_alerts"):
        done = instance.get_materialized_partitions(dg.AssetKey(["torus", asset]))
        assert set(days) <= done, asset
