"""An output larger than memory: parts spilled to Parquet as they are made, read back in key
order, and written to the warehouse a batch at a time (real chDB)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from analytics_platform.domain.schemas import TRANSFERS
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.spilled_frames import SpilledFrames
from analytics_platform.storage.tables import spec
from analytics_platform_tests.graphs import transfers

D1 = date(2026, 10, 1)


def _day(offset: int, n: int) -> pl.DataFrame:
    """``n`` transfers on day ``D1 + offset``."""
    rows = transfers([(i, i + 1, 1.0 + i, 24 * offset + 1) for i in range(n)])
    return rows.with_columns(
        pl.format("0xd{}-{}", pl.lit(offset), pl.col("tx_hash")).alias("tx_hash")
    )


def test_parts_put_in_any_order_are_read_in_key_order(tmp_path):
    spilled = SpilledFrames(tmp_path, pl.Schema(TRANSFERS))
    parts = {(D1 + timedelta(days=d), w): _day(d, 3 + w) for d in (2, 0, 1) for w in (30, 7)}
    for key, frame in parts.items():
        spilled.put(key, frame)
    expected = pl.concat([parts[key] for key in sorted(parts)])
    assert spilled.scan().collect().equals(expected)
    assert spilled.part((D1, 30)).height == 33 and spilled.part((D1, 7)).equals(parts[D1, 7])
    with pytest.raises(ValueError, match=r"spilled part .* already written"):
        spilled.put((D1, 7), parts[D1, 7])
    with pytest.raises(ValueError, match="schema"):
        spilled.put((D1, 90), parts[D1, 7].drop("asset"))
    assert SpilledFrames(tmp_path / "none", pl.Schema(TRANSFERS)).scan().collect().is_empty()


def _stored(client) -> pl.DataFrame:
    return ch.read_days(
        client, "sp", "transfers", None, None, schema=spec("transfers").schema
    ).sort("tx_hash")


def test_a_lazy_frame_replaces_its_days_a_batch_at_a_time_as_a_frame_would(tmp_path, monkeypatch):
    days = [D1 + timedelta(days=d) for d in range(3)]
    frame = pl.concat([_day(0, 40), _day(2, 25)])  # nothing on the middle day
    with ch.session(f"chdb://{tmp_path / 'ch'}") as client:
        ch.ensure_table(client, "sp", spec("transfers").ddl("sp", ""))
        ch.replace_day_partitions(client, "sp", "transfers", _day(1, 5), days[1:2])
        # Batches of 7 rows: 65 rows in ten, one of them on two days.
        monkeypatch.setattr(ch, "INSERT_BATCH_BYTES", 8 * len(TRANSFERS) * 7)
        inserted, insert = [], client.insert_arrow
        monkeypatch.setattr(
            client, "insert_arrow", lambda t, a: (inserted.append(a.num_rows), insert(t, a))
        )
        written = ch.replace_day_partitions(client, "sp", "transfers", frame.lazy(), days)
        assert written == sum(inserted) == 65 and max(inserted) <= 7
        monkeypatch.undo()
        lazily = _stored(client)
        assert lazily.equals(frame.sort("tx_hash"))  # the middle day's old rows are gone too
        ch.replace_day_partitions(client, "sp", "transfers", frame, days)
        assert _stored(client).equals(lazily)
        # A row outside the days, in the last batch: an error naming it, and nothing replaced.
        stray = pl.concat([frame, _day(5, 1)]).lazy()
        with pytest.raises(ValueError, match=r"date: rows for 2026-10-06 are outside"):
            ch.replace_day_partitions(client, "sp", "transfers", stray, days)
        assert _stored(client).equals(lazily)
