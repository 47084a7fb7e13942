"""Storage: cross-process chDB locking, and the lake IO manager on a local folder and on a real
S3 HTTP endpoint (moto server)."""

from __future__ import annotations

import multiprocessing as mp
import time
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml
from filelock import FileLock, Timeout

from analytics_platform.cli import main
from analytics_platform.config import load_settings
from analytics_platform.lib.io_managers import LakeIOManager
from analytics_platform.lib.runner import RunFailedError, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import lake
from analytics_platform.storage.tables import INGEST_TABLES, spec
from analytics_platform_tests.conftest import START
from analytics_platform_tests.graphs import transfers

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)


def _writer(dsn: str, n: int, queue) -> None:
    try:
        for i in range(n):
            with ch.session(dsn) as client:
                client.command("CREATE DATABASE IF NOT EXISTS lk")
                client.command(
                    "CREATE TABLE IF NOT EXISTS lk.t (x Int64) ENGINE = MergeTree ORDER BY x"
                )
                client.command(f"INSERT INTO lk.t VALUES ({i})")
        queue.put("ok")
    except Exception as exc:  # pragma: no cover - reported to the parent
        queue.put(repr(exc))


def test_two_processes_take_turns_on_one_chdb_directory(tmp_path):
    dsn = f"chdb://{tmp_path / 'chdb'}"
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(dsn, 5, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert sorted(queue.get() for _ in procs) == ["ok", "ok"]
    with ch.session(dsn) as client:
        assert client.command("SELECT count() FROM lk.t") == 10


def _lock_is_free(dsn: str) -> bool:
    """Whether another process could take the directory's lock now (a second lock object
    opens the file apart, as another process would)."""
    other = FileLock(str(ch.embedded_path(dsn)) + ".lock", thread_local=False)
    try:
        other.acquire(timeout=0)
    except Timeout:
        return False
    other.release()
    return True


def test_an_idle_embedded_session_stays_open_a_moment_then_frees_the_directory(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(ch.IDLE_CLOSE_VARIABLE, "0.5")
    dsn = f"chdb://{tmp_path / 'chdb'}"
    # The mark of a process killed while it waited: ignored (its process is gone).
    gone = mp.get_context("spawn").Process(target=time.sleep, args=(0,))
    gone.start()
    gone.join()
    (tmp_path / f"chdb.waiting-{gone.pid}").touch()
    with ch.session(dsn) as first:
        first.command("CREATE DATABASE IF NOT EXISTS idle")
    assert not _lock_is_free(dsn)  # idle, still held: the next block reuses the client
    with ch.session(dsn) as again:
        assert again is first
        assert again.command("SELECT count() FROM system.databases WHERE name = 'idle'") == 1
    deadline = time.monotonic() + 10
    while not _lock_is_free(dsn) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _lock_is_free(dsn)
    with ch.session(dsn) as reopened:  # a new client on the same directory
        assert reopened is not first
        assert reopened.command("SELECT count() FROM system.databases WHERE name = 'idle'") == 1
    ch.close_idle_sessions()
    assert _lock_is_free(dsn)


def test_with_no_idle_time_a_session_closes_with_its_block(tmp_path, monkeypatch):
    monkeypatch.setenv(ch.IDLE_CLOSE_VARIABLE, "0")
    dsn = f"chdb://{tmp_path / 'chdb'}"
    with ch.session(dsn) as client:
        client.command("SELECT 1")
        assert not _lock_is_free(dsn)
    assert _lock_is_free(dsn)


def test_an_idle_session_gives_way_to_another_directory(tmp_path, monkeypatch):
    """chDB runs one directory per process: opening a second closes the idle first."""
    monkeypatch.setenv(ch.IDLE_CLOSE_VARIABLE, "60")
    first, second = f"chdb://{tmp_path / 'a'}", f"chdb://{tmp_path / 'b'}"
    with ch.session(first) as client:
        client.command("CREATE DATABASE IF NOT EXISTS only_a")
    with ch.session(second) as client:
        assert client.command("SELECT count() FROM system.databases WHERE name = 'only_a'") == 0
    assert _lock_is_free(first) and not _lock_is_free(second)
    ch.close_idle_sessions()
    assert _lock_is_free(second)


def _idle_holder(dsn: str, ready) -> None:
    """Opens the store, leaves its session idle (for up to two minutes) and waits."""
    import os

    os.environ[ch.IDLE_CLOSE_VARIABLE] = "120"
    with ch.session(dsn) as client:
        client.command("CREATE DATABASE IF NOT EXISTS held")
    ready.put("idle")
    time.sleep(300)


def test_an_idle_session_closes_as_soon_as_another_process_waits(tmp_path):
    dsn = f"chdb://{tmp_path / 'chdb'}"
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    holder = ctx.Process(target=_idle_holder, args=(dsn, ready), daemon=True)
    holder.start()
    try:
        assert ready.get(timeout=120) == "idle"
        assert not _lock_is_free(dsn)
        start = time.monotonic()
        with ch.session(dsn) as client:  # the holder's idle session makes way
            waited = time.monotonic() - start
            assert client.command("SELECT count() FROM system.databases WHERE name = 'held'") == 1
        assert waited < 60, f"waited {waited:.1f} s for an idle session of 120 s"
        assert holder.is_alive()  # it closed its session, not its process
    finally:
        holder.kill()
        holder.join(30)
        ch.close_idle_sessions()
    marks = list(tmp_path.glob("chdb.waiting-*"))
    assert marks == []


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_idle_time_is_named(tmp_path, monkeypatch, value):
    monkeypatch.setenv(ch.IDLE_CLOSE_VARIABLE, value)
    dsn = f"chdb://{tmp_path / 'chdb'}"
    with pytest.raises(ValueError, match=f"ANALYTICS_CHDB_IDLE_CLOSE_S.*{value!r}"):
        ch.session(dsn).__enter__()
    assert _lock_is_free(dsn)  # nothing was opened


def _roundtrip(root, lazy: bool = False) -> None:
    """Writes two days, then replaces one with no rows; ``lazy``: as ``LazyFrame``s (a spilled
    output), streamed into each day's file."""
    manager = LakeIOManager(root)
    frame = transfers([(1, 2, 1.5, 1), (2, 3, 2.5, 30)])  # one row on D1, one on D2
    given = (lambda f: f.lazy()) if lazy else (lambda f: f)
    key = dg.AssetKey(["torus", "transfers"])
    parts = dg.DailyPartitionsDefinition(start_date="2026-10-01")
    out = dg.build_output_context(
        asset_key=key,
        asset_partitions_def=parts,
        asset_partition_key_range=dg.PartitionKeyRange("2026-10-01", "2026-10-02"),
    )
    manager.handle_output(out, given(frame))
    assert lake.list_days(root, "transfers", "torus") == [D1, D2]
    # Replace one day: its file holds exactly the new rows.
    single = dg.build_output_context(
        asset_key=key, asset_partitions_def=parts, partition_key="2026-10-02"
    )
    manager.handle_output(single, given(frame.filter(pl.col("date") == D2).head(0)))
    emptied = lake.read_file(lake.partition_file(root, "transfers", "torus", D2))
    assert emptied.height == 0 and emptied.schema == frame.schema
    inp = dg.build_input_context(
        asset_key=key, asset_partitions_def=parts, partition_key="2026-10-01"
    )
    loaded = manager.load_input(inp)
    assert loaded.equals(frame.filter(pl.col("date") == D1))
    assert loaded.schema == spec("transfers").schema


@pytest.mark.parametrize("lazy", [False, True], ids=["frame", "lazy"])
def test_lake_io_manager_on_local_folder(tmp_path, lazy):
    _roundtrip(lake.lake_root(str(tmp_path / "lake")), lazy)
    leftovers = list((tmp_path / "lake").rglob("*.tmp"))
    assert leftovers == []


def test_lake_io_manager_on_s3(s3_endpoint, monkeypatch):
    # Endpoint and region from the lake settings (the production profile's resource), not env.
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    root = lake.lake_root("s3://lake/analytics", region="us-east-1", endpoint_url=s3_endpoint)
    _roundtrip(root, lazy=True)
    import boto3

    listed = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket="lake")
    keys = sorted(o["Key"] for o in listed["Contents"])
    assert keys == [
        "analytics/transfers/network=torus/date=2026-10-01/part-0.parquet",
        "analytics/transfers/network=torus/date=2026-10-02/part-0.parquet",
    ]


def test_a_table_from_an_earlier_release_gets_the_new_columns(tmp_path):
    """daily_edges stored before amount_usd existed: the next write adds the column, and the
    old rows read it as NULL (an unknown USD value, not 0)."""
    table = spec("daily_edges")
    old = {k: v for k, v in table.schema.items() if k != "amount_usd"}
    with ch.session(f"chdb://{tmp_path / 'chdb'}") as client:
        ch.ensure_table(
            client, "torus", [ch.table_ddl("torus", "daily_edges", old, order_by=table.order_by)]
        )
        client.command(
            "INSERT INTO torus.daily_edges (network, date, from_address, to_address, asset, "
            "transfer_count, amount_sum, amount_max, amount_min, amount_sq_sum, round_count, "
            "structuring_count, first_time, last_time) VALUES ('torus', '2026-10-01', 'a', 'b', "
            "'TOR', 1, 1.5, 1.5, 1.5, 2.25, 0, 0, '2026-10-01 00:00:00', '2026-10-01 00:00:00')"
        )
        added = ch.add_missing_columns(client, "torus", "daily_edges", table.schema, table.nullable)
        assert added == ["amount_usd"]
        assert (
            ch.add_missing_columns(client, "torus", "daily_edges", table.schema, table.nullable)
            == []
        )
        rows = ch.read_days(client, "torus", "daily_edges", schema=table.schema)
        assert rows["amount_usd"].to_list() == [None]


def test_a_source_path_that_matches_nothing_is_an_error_not_an_empty_day(
    home: Path, s3_endpoint, tmp_path: Path, capsys
):
    from analytics_platform.storage.files import NoFilesError, read_files

    with pytest.raises(NoFilesError, match=r"^source.path: no file matches '.*/nope-\*.csv'$"):
        read_files(str(tmp_path / "nope-*.csv"), "source.path")
    with pytest.raises(NoFilesError, match="labels_path: no file matches 's3://lake/nope/"):
        read_files("s3://lake/nope/*.parquet", "labels_path")
    # In a run: the ingestion step fails at once (no retries) and says which key is wrong.
    config = yaml.safe_load((home / "config.yaml").read_text())
    config["networks"]["torus"]["source"]["path"] = str(tmp_path / "landing-typo" / "*.parquet")
    (home / "config.yaml").write_text(yaml.safe_dump(config))
    settings = load_settings()
    with pytest.raises(RunFailedError, match="source.path: no file matches .*landing-typo"):
        run_range(
            settings, "torus", START, START, assets=list(INGEST_TABLES), progress=lambda _: None
        )
    # The CLI: one line naming the key, exit status 2, no traceback.
    day = START.isoformat()
    assert main(["ingest", "--network", "torus", "--start", day, "--end", day]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(
        "analytics-platform: error: torus 2026-10-01..2026-10-01: source.path"
    )
    assert not any("Traceback" in line for line in err)
