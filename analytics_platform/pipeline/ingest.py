"""``transfers``: raw rows from the configured source, validated and de-duplicated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import polars as pl

from analytics_platform.config import NetworkConfig
from analytics_platform.domain.anomalies import anomalies_on, transfer_metrics
from analytics_platform.domain.schemas import DEAD_LETTERS, TRANSFERS
from analytics_platform.domain.scoring import day_quality, quality_frame
from analytics_platform.domain.validation import (
    ValidationResult,
    nearest_partition,
    validate_transfers,
)
from analytics_platform.kafka import store as kafka_store
from analytics_platform.pipeline.sources import read_source
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.files import UnreadableFile


@dataclass(frozen=True)
class RawTransfers:
    """What a source gave for a range of days: rows to validate, rows the source already
    rejected (Kafka messages that failed at ingestion) and a label naming the source."""

    rows: pl.DataFrame
    rejected: pl.DataFrame
    source: str
    unreadable: tuple[UnreadableFile, ...] = ()
    """Files of the source that could not be read (quarantined by :func:`ingest`)."""


@dataclass(frozen=True)
class Ingested:
    accepted: pl.DataFrame
    rejected: pl.DataFrame
    result: ValidationResult
    source_rejected: pl.DataFrame

    def counts_on(self, day: date) -> dict[str, int]:
        """read / accepted / rejected / duplicates of one partition day (source rejects too)."""
        counts = self.result.counts_on(day)
        late = int((self.source_rejected["date"] == day).sum())
        counts.update(read=counts["read"] + late, rejected=counts["rejected"] + late)
        return counts


def read_raw(net: NetworkConfig, first: date, last: date, warehouse: ch.ClickHouseTarget):
    """Raw rows of ``net`` for days ``first..last``: Kafka messages the sensor ingested into
    the warehouse, or the configured files / ClickHouse table."""
    if net.source is None:
        raise ValueError(
            f"source: network {net.name!r} has no transfer source configured "
            "(set networks.<name>.source in the config file)"
        )
    if net.source.kind == "kafka":
        assert net.source.kafka is not None
        with ch.session(warehouse) as client:
            rows = kafka_store.read_accepted(client, net.name, first, last, warehouse.cluster)
            rejected = kafka_store.read_rejected(client, net.name, first, last, warehouse.cluster)
        return RawTransfers(rows, rejected, f"kafka:{net.source.kafka.topic}")
    rows, unreadable = read_source(net.source, first, last, warehouse, net.row_bounds)
    return RawTransfers(
        rows,
        pl.DataFrame(schema=DEAD_LETTERS),
        net.source.path or net.source.table or "",
        tuple(unreadable),
    )


def quarantined(net: NetworkConfig, raw: RawTransfers, days: list[date]) -> pl.DataFrame:
    """One dead letter per unreadable file of ``raw`` filed on one of ``days`` (field
    ``file``, the path as value): its rows are unknown, so the file itself is the record,
    filed on the day its path names, else the first partition (moved inside the partitions).
    It leaves once the file is mended or removed and the day is materialised again."""
    filed = ((f, nearest_partition(f.day or net.start_date, net.start_date, net.end_date))
             for f in raw.unreadable)  # fmt: skip
    rows = [
        {
            "network": net.name,
            "date": day,
            "source": raw.source,
            "record": json.dumps({"file": f.path}),
            "field": "file",
            "value": f.path,
            "reason": f"file {f.path} is unreadable, quarantined: {f.reason}",
        }
        for f, day in filed
        if day in days
    ]
    return pl.DataFrame(rows, schema=DEAD_LETTERS)


def files_holding(unreadable: tuple[UnreadableFile, ...], day: date) -> list[UnreadableFile]:
    """The unreadable files that may hold rows of ``day``: those naming it or naming no day."""
    return [f for f in unreadable if f.day in (None, day)]


def volume_anomalies(
    net: NetworkConfig, got: Ingested, days: list[date], stored: pl.DataFrame
) -> dict[date, list[dict]]:
    """Per day of the run, its anomalous figures against the trailing days: ``stored``
    (metrics of days before the run, from the warehouse) and the run's own earlier days."""
    metrics = pl.concat([stored, transfer_metrics(got.accepted, got.rejected)])
    return {
        day: anomalies_on(
            day,
            metrics,
            lookback=net.anomaly_lookback_days,
            threshold=net.anomaly_threshold,
        )
        for day in days
    }


def ingest(net: NetworkConfig, raw: RawTransfers, days: list[date]) -> Ingested:
    """Validate ``raw`` into the transfers of ``days`` and their dead letters."""
    result = (
        validate_transfers(
            raw.rows,
            network=net.name,
            address_pattern=net.address_pattern,
            source=raw.source,
            day=days[0],
            last_day=days[-1],
            first_partition=net.row_bounds[0],
            last_partition=net.row_bounds[1],
        )
        if raw.rows.height
        else ValidationResult(
            accepted=pl.DataFrame(schema=TRANSFERS),
            rejected=pl.DataFrame(schema=DEAD_LETTERS),
            read=0,
            duplicates=0,
        )
    )
    # rejected before validation: by the source (Kafka) or as an unreadable file
    source_rejected = pl.concat([raw.rejected, quarantined(net, raw, days)])
    rejected = pl.concat([result.rejected, source_rejected])
    return Ingested(result.accepted, rejected, result, source_rejected)


def timeliness(
    net: NetworkConfig, first: date, last: date, warehouse: ch.ClickHouseTarget
) -> dict[date, float]:
    """Per day, the share of transfers ingested within the network's target (Kafka sources,
    which record when each message arrived; nothing for files and tables)."""
    if net.source is None or net.source.kind != "kafka":
        return {}
    with ch.session(warehouse) as client:
        return kafka_store.timely_shares(
            client, net.name, first, last, net.timeliness_target_minutes * 60, warehouse.cluster
        )


def quality(
    net: NetworkConfig, got: Ingested, days: list[date], source: str, timely: dict[date, float]
) -> pl.DataFrame:
    """The ``transfers_quality`` rows of ``days`` (``domain.scoring``)."""
    on = pl.col("date")
    return quality_frame(
        [
            day_quality(
                network=net.name,
                day=day,
                source=source,
                counts=got.counts_on(day),
                rejected=got.rejected.filter(on == day),
                timely=timely.get(day),
            )
            for day in days
        ]
    )
