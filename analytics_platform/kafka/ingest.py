"""One ingestion run: read a topic from given offsets, store every message exactly once.

For each batch read: skip offsets already stored (a retry or replay), classify the rest
(``kafka.messages``: accepted / rejected / duplicate, duplicates also against transfers stored
earlier), store them in one atomic insert, and count. The ledger gets a ``started`` row per
partition before reading and a ``done`` row (with the offset reached, the counts and the days
that changed) after the last batch is stored, or ``failed`` with the error. Replayed offsets
count as duplicates, so for every range ``read = accepted + rejected + duplicates``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import polars as pl

from analytics_platform.config import KafkaSourceConfig, NetworkConfig
from analytics_platform.kafka import store as kafka_store
from analytics_platform.kafka.client import read_batches
from analytics_platform.kafka.messages import classify
from analytics_platform.storage import clickhouse as ch

COUNTS = ("read", "accepted", "rejected", "duplicates")


@dataclass
class PartitionProgress:
    start: int
    end: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    changed_days: set[date] = field(default_factory=set)


@dataclass
class IngestResult:
    """What a run stored: per partition its range, counts and changed days."""

    topic: str
    partitions: dict[int, PartitionProgress]
    seconds: float

    @property
    def reached(self) -> dict[int, int]:
        return {p: prog.end for p, prog in self.partitions.items()}

    @property
    def changed_days(self) -> list[date]:
        return sorted(set().union(*(p.changed_days for p in self.partitions.values())))

    @property
    def counts(self) -> dict[str, int]:
        return {k: sum(p.counts[k] for p in self.partitions.values()) for k in COUNTS}


def ingest_range(
    net: NetworkConfig,
    source: KafkaSourceConfig,
    target: ch.ClickHouseTarget,
    starts: dict[int, int],
    *,
    run_id: str,
    progress: Callable[[str], None] = print,
) -> IngestResult:
    """Ingest ``source`` from ``starts`` to the end of each partition into ``net``'s database."""
    t0 = time.perf_counter()
    db, topic, cluster = net.name, source.topic, target.cluster
    state = {p: PartitionProgress(start=o, end=o) for p, o in starts.items()}
    with ch.session(target) as client:
        kafka_store.ensure_tables(client, db, cluster)
        kafka_store.record_range(client, db, _ledger_rows(topic, state, run_id, "started"))
    try:
        for batch in read_batches(source, starts):
            _store_batch(net, source, target, batch, state, run_id)
            total = sum(p.counts["read"] for p in state.values())
            progress(f"{topic}: {total:,} messages read, offsets {_ranges(state)}")
    except Exception as exc:
        with ch.session(target) as client:
            kafka_store.record_range(
                client, db, _ledger_rows(topic, state, run_id, "failed", error=str(exc))
            )
        raise
    with ch.session(target) as client:
        kafka_store.record_range(client, db, _ledger_rows(topic, state, run_id, "done"))
    return IngestResult(topic=topic, partitions=state, seconds=time.perf_counter() - t0)


def _store_batch(
    net: NetworkConfig,
    source: KafkaSourceConfig,
    target: ch.ClickHouseTarget,
    batch: pl.DataFrame,
    state: dict[int, PartitionProgress],
    run_id: str,
) -> None:
    db, cluster = net.name, target.cluster
    ranges = {
        p: (lo, hi)
        for p, lo, hi in batch.group_by("partition")
        .agg(pl.col("offset").min().alias("lo"), pl.col("offset").max().alias("hi"))
        .iter_rows()
    }
    with ch.session(target) as client:
        seen = kafka_store.stored_offsets(client, db, source.topic, ranges, cluster)
        fresh = batch.join(seen, on=["partition", "offset"], how="anti")
        messages = classify(
            fresh,
            network=net.name,
            address_pattern=net.address_pattern,
            source=f"kafka:{source.topic}",
            stored=lambda hashes: kafka_store.stored_transfers(client, net.name, hashes, cluster),
            first_partition=net.row_bounds[0],
            last_partition=net.row_bounds[1],
            received=datetime.now(UTC).date(),
        )
        kafka_store.insert_messages(client, db, source.topic, messages, run_id)
    replayed = dict(seen.group_by("partition").len().iter_rows())
    for partition, lo, hi in ((p, lo, hi) for p, (lo, hi) in ranges.items()):
        prog = state.setdefault(partition, PartitionProgress(start=lo, end=lo))
        prog.end = max(prog.end, hi + 1)
        part = messages.filter(pl.col("partition") == partition)
        by = dict(part.group_by("status").len().iter_rows())
        prog.counts["read"] += part.height + replayed.get(partition, 0)
        prog.counts["accepted"] += by.get("accepted", 0)
        prog.counts["rejected"] += by.get("rejected", 0)
        prog.counts["duplicates"] += by.get("duplicate", 0) + replayed.get(partition, 0)
        prog.changed_days |= set(
            part.filter(pl.col("status") == "accepted")["date"].unique().to_list()
        )


def _ledger_rows(
    topic: str, state: dict[int, PartitionProgress], run_id: str, status: str, error: str = ""
) -> list[dict]:
    return [
        {
            "topic": topic,
            "partition": p,
            "start_offset": prog.start,
            "end_offset": prog.end,
            "run_id": run_id,
            "status": status,
            **prog.counts,
            "changed_days": sorted(prog.changed_days),
            "error": error[:2000],
        }
        for p, prog in sorted(state.items())
    ]


def _ranges(state: dict[int, PartitionProgress]) -> str:
    return ", ".join(f"{p}:[{s.start},{s.end})" for p, s in sorted(state.items()))
