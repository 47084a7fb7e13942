"""Hostile but realistic input: every row a source hands over ends in exactly one place (a
partition or the dead letters, with the reason), whatever the run's shape, and reruns change
nothing; the tools refuse what would lose or mix data, in one line."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml

from analytics_platform.config import ConfigError, load_settings, parse_network
from analytics_platform.domain.quality import counts_add_up
from analytics_platform.domain.validation import validate_transfers
from analytics_platform.kafka.messages import classify
from analytics_platform.lib.runner import run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.files import UnreadableFileError, read_each, read_files
from analytics_platform.storage.tables import INGEST_TABLES, TABLES
from analytics_platform_tests.conftest import use_upstream_table
from analytics_platform_tests.hostile import DAY2, DAY3, DAYS, START, write_hostile_home

A, B = "0x" + "a" * 40, "0x" + "b" * 40
PATTERN = r"^0x[0-9a-f]{40}$"
END = START + timedelta(days=DAYS - 1)


def raw(tx: str, when: str, amount: str = "1.5", file: str = "f.parquet", index: int = 0):
    return {
        "tx_hash": tx,
        "transfer_index": index,
        "block_time": when,
        "from_address": A,
        "to_address": B,
        "asset": "TOR",
        "amount": amount,
        "_source_file": file,
    }


def validate(rows, day, last_day=None, **kw):
    bounds = {"first_partition": START, "last_partition": END, **kw}
    return validate_transfers(
        pl.DataFrame(rows),
        network="torus",
        address_pattern=PATTERN,
        source="test",
        day=day,
        last_day=last_day,
        **bounds,
    )


# --- validation: each rule alone ------------------------------------------------------------


def test_rows_outside_the_partitions_are_dead_lettered_under_their_files_day():
    rows = [
        raw("0x1", f"{DAY2}T10:00:00Z", file="day2.parquet"),
        raw("0x2", "1970-01-01T00:00:00Z", file="day2.parquet"),
        raw("0x3", "2100-01-01T00:00:00Z", file="day2.parquet"),
        raw("0x4", "2100-01-01T00:00:00Z", file="only-future.parquet"),  # no day: the nearest
    ]
    for day in (START, DAY2, END):
        r = validate(rows, day)
        assert r.read == r.accepted.height + r.rejected.height + r.duplicates
    day2 = validate(rows, DAY2)
    reasons = dict(zip(day2.rejected["value"], day2.rejected["reason"], strict=True))
    assert reasons["1970-01-01T00:00:00Z"] == (
        "block_time 1970-01-01T00:00:00Z is before the network's first partition 2026-10-01 "
        "(start_date)"
    )
    assert "is after the network's last partition 2026-10-03" in reasons["2100-01-01T00:00:00Z"]
    assert validate(rows, END).rejected["record"].str.contains("only-future").to_list() == [True]
    # Each row in exactly one partition, whatever the run's range.
    whole = validate(rows, START, END)
    assert whole.read == 4 and whole.read_by_day == {DAY2: 3, END: 1}


def test_outside_rows_are_left_to_the_source_when_the_config_says_ignore():
    r = validate(
        [raw("0x2", "1970-01-01T00:00:00Z")], START, first_partition=None, last_partition=None
    )
    assert r.read == 0


def test_a_transfer_copied_to_another_day_is_stored_once_and_the_copy_names_both_days():
    rows = [
        raw("0x1", f"{START}T10:00:00Z", file="day1.parquet"),
        raw("0x1", f"{DAY2}T12:00:00Z", file="day2.parquet"),  # same identity, new time
        raw("0x1", f"{DAY2}T12:00:00Z", file="day2.parquet"),  # and an exact copy of that
    ]
    day1, day2, both = validate(rows, START), validate(rows, DAY2), validate(rows, START, DAY2)
    assert day1.accepted["tx_hash"].to_list() == ["0x1"] and day1.rejected.height == 0
    assert day2.accepted.height == 0 and day2.rejected.height == 1 and day2.duplicates == 1
    assert day2.rejected["reason"][0] == (
        "tx_hash,transfer_index 0x1,0 is stored on 2026-10-01 with other content: this copy, "
        "on 2026-10-02, is a conflicting duplicate"
    )
    assert both.counts == {"read": 3, "accepted": 1, "rejected": 1, "duplicates": 1}
    assert both.counts_on(DAY2) == day2.counts and both.counts_on(START) == day1.counts


@pytest.mark.parametrize(
    ("amount", "said"),
    [
        ("0.0000000000000000000001", "has more than 18 decimal places"),
        ("1.0000000000000000001", "has more than 18 decimal places"),
        ("1e-22", "has more than 18 decimal places"),
        ("999999999999999999999", "has more than 20 digits before the decimal point"),
    ],
)
def test_amounts_the_column_cannot_keep_exactly_are_rejected(amount, said):
    r = validate([raw("0x1", f"{START}T10:00:00Z", amount=amount)], START)
    assert r.accepted.height == 0
    assert (
        r.rejected["reason"][0]
        == f"amount {amount} {said}" + r.rejected["reason"][0].split(said, 1)[1]
    )


def test_amounts_with_trailing_zeros_or_at_the_limits_are_kept_exactly():
    amounts = ["1.000000000000000000000", "99999999999999999999.5", "0.000000000000000001"]
    r = validate(
        [raw(f"0x{i}", f"{START}T10:00:00Z", amount=a) for i, a in enumerate(amounts)], START
    )
    assert r.rejected.height == 0
    assert r.accepted["amount"].to_list() == [Decimal(a) for a in amounts]


def test_the_counts_check_fails_when_a_day_loses_rows():
    good = pl.DataFrame({"date": [START], "read": [5], "accepted": [3], "rejected": [1],
                         "duplicates": [1]})  # fmt: skip
    assert counts_add_up(good).passed
    lost = good.with_columns(pl.col("read") + 2)
    outcome = counts_add_up(lost)
    assert not outcome.passed and "2026-10-01: read 7 != 3 accepted + 1 rejected" in (
        outcome.description
    )


def test_kafka_messages_from_the_future_or_without_a_time_reach_the_arrival_days_letters():
    received = date(2026, 10, 2)
    messages = [
        {"tx_hash": f"0x{i}", "transfer_index": 0, "block_time": t, "from_address": A,
         "to_address": B, "amount": "1"}
        for i, t in enumerate(
            [f"{received}T10:00:00Z", "2100-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "soon"]
        )
    ]  # fmt: skip
    import json

    batch = pl.DataFrame(
        {
            "partition": [0] * 5,
            "offset": list(range(5)),
            "payload": [json.dumps(m).encode() for m in messages] + [b"{not json"],
        },
        schema={"partition": pl.Int32(), "offset": pl.Int64(), "payload": pl.Binary()},
    )
    out = classify(
        batch, network="torus", address_pattern=PATTERN, source="kafka:t",
        first_partition=START, last_partition=None, received=received,
    )  # fmt: skip
    by_offset = {r["offset"]: r for r in out.iter_rows(named=True)}
    assert by_offset[0]["status"] == "accepted"
    assert "is after the network's last partition 2026-10-03" in by_offset[1]["reason"]
    assert "is before the network's first partition" in by_offset[2]["reason"]
    assert {by_offset[i]["status"] for i in (1, 2, 3, 4)} == {"rejected"}
    # Every message is filed under a partition day, none under 1970 or 2100: the nearest one
    # (the day after arrival is the last a message may claim), else the arrival day.
    dates = [by_offset[i]["date"] for i in (1, 2, 3, 4)]
    assert dates == [received + timedelta(days=1), START, received, received]


# --- files: one bad file is named and quarantined -------------------------------------------


def test_unreadable_files_are_named_in_one_line_and_the_rest_is_read(tmp_path: Path):
    pl.DataFrame({"a": ["1"]}).write_csv(tmp_path / "good-2026-10-01.csv")
    (tmp_path / "latin1-2026-10-02.csv").write_bytes(b"a\ncaf\xe9\xff\xfe\n")
    frame, unreadable = read_each(str(tmp_path / "*.csv"), "source.path")
    assert frame.height == 1
    (bad,) = unreadable
    assert bad.day == date(2026, 10, 2) and "\n" not in bad.reason and bad.reason
    with pytest.raises(UnreadableFileError, match=r"^labels_path: cannot read .*latin1-2026-10-02"):
        read_files(str(tmp_path / "*.csv"), "labels_path")


# --- the whole ingestion on a hostile landing folder -----------------------------------------


def _tables(settings) -> dict[str, pl.DataFrame]:
    with ch.session(settings.clickhouse) as client:
        return {
            t: ch.read_days(client, "torus", t, schema=TABLES[t].schema, cluster="").sort(pl.all())
            for t in INGEST_TABLES
        }


def assert_same(tables: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    for name, frame in expected.items():
        assert tables[name].equals(frame), name


def test_hostile_landing_every_row_ends_in_exactly_one_place(tmp_path: Path, monkeypatch):
    hostile = write_hostile_home(tmp_path)
    monkeypatch.setenv("ANALYTICS_HOME", str(hostile.home))
    for name in ("ANALYTICS_CONFIG", "ANALYTICS_LAKE_URL", "ANALYTICS_CLICKHOUSE_DSN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()

    def ingest(first: date, last: date, chunk_days: int = 1):
        return run_range(
            settings, "torus", first, last, assets=list(INGEST_TABLES), chunk_days=chunk_days,
            progress=lambda _: None,
        )  # fmt: skip

    results = ingest(START, END)
    stored = _tables(settings)
    transfers, letters, quality = (
        stored["transfers"], stored["transfers_rejected"], stored["transfers_quality"]
    )  # fmt: skip

    # 1. Rows outside every partition: dead letters of their file's day, with the reason.
    for tx, when in hostile.outside.items():
        (letter,) = letters.filter(pl.col("record").str.contains(tx)).iter_rows(named=True)
        assert letter["date"] == DAY2 and letter["field"] == "block_time"
        assert letter["value"] == when and "the network's" in letter["reason"]
        assert tx not in transfers["tx_hash"].to_list()
    # 2. The copied transfer is stored once, on its first day; the copy names both days.
    tx, index = hostile.copied
    kept = transfers.filter((pl.col("tx_hash") == tx) & (pl.col("transfer_index") == index))
    assert kept["date"].to_list() == [START]
    (copy,) = letters.filter(pl.col("value") == f"{tx},{index}").iter_rows(named=True)
    assert copy["date"] == DAY2 and f"stored on {START}" in copy["reason"]
    # 3. Unreadable files: quarantined on the day they name, or the first partition.
    quarantined = dict(letters.filter(pl.col("field") == "file").select("value", "date").rows())
    assert quarantined == {str(hostile.truncated): DAY3, str(hostile.empty): START}
    # 4. Amounts the column cannot keep are rejected; an implausible one is stored and flagged.
    for tx, amount in hostile.unexact.items():
        (letter,) = letters.filter(pl.col("record").str.contains(tx)).iter_rows(named=True)
        assert letter["field"] == "amount" and letter["value"] == amount
    assert hostile.huge in transfers["tx_hash"].to_list()

    # read = accepted + rejected + duplicates on every day, and the reads add up to every row
    # of the readable files plus one record per unreadable file.
    assert counts_add_up(quality).passed
    assert quality["read"].sum() == hostile.rows_in_files + 2
    assert quality["read"].sum() == (
        transfers.height + letters.height + quality["duplicates"].sum()
    )
    checks = {}
    for result in results:
        for evaluation in result.get_asset_check_evaluations():
            checks.setdefault(evaluation.check_name, []).append(evaluation)
    assert all(e.passed for e in checks["counts_add_up"])
    # The empty file names no day: every day may miss rows, so every day's check fails.
    assert [e.passed for e in checks["source_files_readable"]] == [False] * DAYS
    assert str(hostile.empty) in checks["source_files_readable"][0].description
    plausible = {e.passed for e in checks["amounts_plausible"]}
    assert plausible == {True, False}
    assert any(hostile.huge in (e.description or "") for e in checks["amounts_plausible"])

    # Reruns change nothing; a ranged run stores what the single days stored.
    ingest(DAY2, DAY2)
    assert_same(_tables(settings), stored)
    ingest(START, END, chunk_days=DAYS)
    assert_same(_tables(settings), stored)

    # Mending the file brings its rows in and its dead letter leaves.
    hostile.truncated.unlink()
    ingest(DAY3, DAY3)
    after = _tables(settings)["transfers_rejected"]
    assert str(hostile.truncated) not in after["value"].to_list()


def test_a_source_table_hands_over_outside_rows_and_other_days_copies(home: Path):
    config = yaml.safe_load((home / "config.yaml").read_text())
    net = config["networks"]["torus"]
    first = date.fromisoformat(str(net["start_date"]))
    last = date.fromisoformat(str(net["end_date"]))
    rows = (
        pl.DataFrame(
            [
                raw("0x1", f"{first}T10:00:00Z"),
                raw("0x1", f"{first + timedelta(days=1)}T10:00:00Z"),  # a conflicting copy
                raw("0x2", "1970-01-01T00:00:00Z"),
                raw("0x3", "2100-01-01T00:00:00Z"),
            ]
        )
        .drop("_source_file")
        .with_columns(
            pl.col("block_time").str.to_datetime(time_zone="UTC").dt.cast_time_unit("ms"),
            pl.col("amount").cast(pl.Decimal(38, 18)),
        )
    )
    use_upstream_table(home, rows)
    settings = load_settings()
    second = first + timedelta(days=1)
    for day in (second, first, last):
        run_range(settings, "torus", day, day, assets=list(INGEST_TABLES),
                  progress=lambda _: None)  # fmt: skip
    stored = _tables(settings)
    assert stored["transfers"]["tx_hash"].to_list() == ["0x1"]
    letters = {
        r["value"][:10]: r["date"] for r in stored["transfers_rejected"].iter_rows(named=True)
    }
    assert letters == {"0x1,0": second, "1970-01-01": first, "2100-01-01": last}
    assert counts_add_up(stored["transfers_quality"]).passed


# --- the tools --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"end_date": "2026-09-01"}, "networks.torus.end_date: 2026-09-01 is before start_date"),
        ({"address_pattern": "^(0x"}, "networks.torus.address_pattern: invalid regex '^(0x'"),
        ({"schedule_cron": "61 * * *"}, "networks.torus.schedule_cron: invalid cron expression"),
        ({"windows": [7, 7, 30]}, "networks.torus.windows: window 7 is listed twice"),
        ({"case_budget": 10**15}, "networks.torus.case_budget: Input should be less than"),
        ({"evidence_per_day": -1}, "networks.torus.evidence_per_day: Input should be greater"),
    ],
)
def test_config_mistakes_are_one_line_naming_the_key(change, said):
    with pytest.raises(ConfigError) as caught:
        parse_network("torus", {"start_date": "2026-10-01", **change})
    assert str(caught.value).startswith(said) and "\n" not in str(caught.value)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "analytics_platform.cli", *args],
        env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        ("address", "0xabc", "--days", "-5"),
        ("cases", "--top", "-1"),
        ("materialize", "--date", "2026-10-01", "--chunk-days", "0"),
    ],  # fmt: skip
)
def test_non_positive_counts_are_refused_in_one_line(args):
    done = _cli(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "expected at least 1" in done.stderr


def test_an_unreachable_warehouse_is_one_line_without_the_password(home: Path):
    from analytics_platform_tests.conftest import free_port

    dsn = f"http://analyst:hunter2@127.0.0.1:{free_port()}/default"
    done = _cli("materialize", "--date", "2026-10-01", env={"ANALYTICS_CLICKHOUSE_DSN": dsn})
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("analytics-platform: error: warehouse: cannot reach http://analyst:***@")
    assert "hunter2" not in done.stderr


def test_an_unreadable_file_on_s3_is_named_and_the_others_read(s3_endpoint):
    import io

    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    good = io.BytesIO()
    pl.DataFrame({"tx_hash": ["0x1", "0x2"]}).write_parquet(good)
    s3.put_object(Bucket="lake", Key="raw/transfers-2026-10-01.parquet", Body=good.getvalue())
    s3.put_object(Bucket="lake", Key="raw/transfers-2026-10-02.parquet", Body=b"PAR1 cut")
    frame, unreadable = read_each("s3://lake/raw/*.parquet", "source.path")
    assert frame["tx_hash"].to_list() == ["0x1", "0x2"]
    assert frame["_source_file"].unique().to_list() == [
        "s3://lake/raw/transfers-2026-10-01.parquet"
    ]
    (bad,) = unreadable
    assert bad.path == "s3://lake/raw/transfers-2026-10-02.parquet"
    assert bad.day == date(2026, 10, 2) and "\n" not in bad.reason
