"""The Dagster-free work of the assets (``analytics_platform.pipeline``)."""

from datetime import UTC, date, datetime

import polars as pl

from analytics_platform.config import NetworkConfig
from analytics_platform.domain.patterns import detect_patterns
from analytics_platform.domain.schemas import ADDRESS_LABELS, DEAD_LETTERS, TRANSFERS
from analytics_platform.domain.synthetic import SyntheticConfig, generate
from analytics_platform.engines.timing import StageTimer
from analytics_platform.pipeline.ingest import RawTransfers, ingest
from analytics_platform.pipeline.labels import current_on, refresh, service_addresses
from analytics_platform.pipeline.patterns import patterns_for_days

A, B = "0x" + "a" * 40, "0x" + "b" * 40
D1, D2 = date(2026, 10, 1), date(2026, 10, 2)


def row(tx: str, when: str, amount: str = "1.5") -> dict:
    return {
        "tx_hash": tx,
        "transfer_index": "0",
        "block_time": when,
        "from_address": A,
        "to_address": B,
        "asset": "TOR",
        "amount": amount,
    }


def test_ingest_counts_each_day_with_the_sources_own_rejects():
    raw = pl.DataFrame(
        [
            row("0x1", "2026-10-01T10:00:00Z"),
            row("0x1", "2026-10-01T10:00:00Z"),  # duplicate
            row("0x2", "2026-10-02T10:00:00Z"),
            row("0x3", "2026-10-02T11:00:00Z", amount="-1"),  # rejected
        ]
    )
    late = pl.DataFrame(
        [{"network": "torus", "date": D2, "source": "kafka:t", "record": "{}", "field": "amount",
          "value": "x", "reason": "not a number"}],
        schema=DEAD_LETTERS,
    )  # fmt: skip
    got = ingest(NetworkConfig(name="torus"), RawTransfers(raw, late, "test"), [D1, D2])
    assert got.accepted["tx_hash"].sort().to_list() == ["0x1", "0x2"]
    assert got.counts_on(D1) == {"read": 2, "accepted": 1, "rejected": 0, "duplicates": 1}
    assert got.counts_on(D2) == {"read": 3, "accepted": 1, "rejected": 2, "duplicates": 0}
    assert got.rejected.height == 2


def test_exchanges_are_left_out_only_from_the_day_they_are_labelled():
    label = {"label": "Ex", "category": "exchange", "source": "intel"}
    snapshot = pl.DataFrame(
        [{**label, "address": A, "network": "torus"}, {**label, "address": B, "network": "other"}]
    )
    history = refresh(
        pl.DataFrame(schema=ADDRESS_LABELS), snapshot, "torus", datetime(2026, 10, 2, tzinfo=UTC)
    )
    none = pl.DataFrame(schema=TRANSFERS)
    assert service_addresses(current_on(history, D1), none) == []
    assert service_addresses(current_on(history, D2), none) == [A]


def test_each_days_patterns_are_those_of_the_day_alone():
    net_data = generate(
        SyntheticConfig(start=D1, days=4, addresses=400, transfers_per_day=800, seed=3)
    )
    net = NetworkConfig(name="torus", pattern_span_days=2)
    labels = pl.DataFrame(schema=ADDRESS_LABELS)
    days = [date(2026, 10, 3), date(2026, 10, 4)]
    together = patterns_for_days(net_data.transfers, labels, net, days, StageTimer())
    assert set(together.limits_hit) == set(days)
    for day in days:
        alone = detect_patterns(net_data.transfers, network="torus", day=day, span_days=2)
        mine = together.patterns.filter(pl.col("date") == day)
        assert mine.height > 0
        assert sorted(mine["pattern_id"]) == sorted(alone.patterns["pattern_id"])
