"""Warehouse table specs: schema, sort key, partitioning and nullable columns per table."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analytics_platform.domain import feature_catalog
from analytics_platform.domain import schemas as s
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.clickhouse import distributed_ddl, table_ddl

KAFKA_MESSAGES: dict[str, pl.DataType] = {
    "topic": pl.String(),
    **s.MESSAGES,
    "run_id": pl.String(),
    "ingested_at": s.TIMESTAMP,
    "ingest_month": pl.UInt32(),
}
"""Every Kafka message read, once: accepted transfers, rejected payloads, duplicates. One
insert per batch into one ``ingest_month`` partition, so a batch is stored whole or not at all."""

KAFKA_LEDGER: dict[str, pl.DataType] = {
    "topic": pl.String(),
    "partition": pl.Int32(),
    "start_offset": pl.Int64(),
    "end_offset": pl.Int64(),
    "run_id": pl.String(),
    "status": pl.String(),
    "read": pl.Int64(),
    "accepted": pl.Int64(),
    "rejected": pl.Int64(),
    "duplicates": pl.Int64(),
    "changed_days": pl.List(pl.Date()),
    "error": pl.String(),
    "recorded_at": s.TIMESTAMP,
}
"""Offset ranges per run: ``started``, then ``done`` (only after its messages are stored) or
``failed``. ``end_offset`` is exclusive: the offset the run reached."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: dict[str, pl.DataType]
    order_by: tuple[str, ...]
    partitioned: bool = True
    nullable: tuple[str, ...] = ()
    partition_column: str = "date"
    indexes: tuple[tuple[str, str], ...] = ()

    def ddl(self, database: str, cluster: str = "") -> list[str]:
        """The statements that create the table (and on a cluster its distributed twin)."""
        statements = [
            table_ddl(
                database,
                self.name,
                self.schema,
                order_by=self.order_by,
                partition_by=self.partition_column if self.partitioned else None,
                nullable=self.nullable,
                cluster=cluster,
                indexes=self.indexes,
            )
        ]
        if cluster:
            statements.append(distributed_ddl(database, self.name, cluster))
        return statements


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "transfers", s.TRANSFERS, ("tx_hash", "transfer_index"), nullable=("block_number",)
        ),
        TableSpec("transfers_rejected", s.DEAD_LETTERS, ("source", "field")),
        TableSpec(
            "transfers_quality",
            s.TRANSFERS_QUALITY,
            ("source",),
            nullable=("completeness", "validity", "uniqueness", "timeliness", "score"),
        ),
        TableSpec(
            "daily_edges",
            s.DAILY_EDGES,
            ("from_address", "to_address", "asset"),
            nullable=("amount_usd",),
        ),
        TableSpec("prices", s.PRICES, ("asset",), nullable=("decimals",)),
        TableSpec(
            "quality",
            s.QUALITY,
            ("network",),
            nullable=(*s.QUALITY_SHARES, "score"),
        ),
        TableSpec("address_activity", s.ADDRESS_ACTIVITY, ("address",), nullable=("gap_min_s",)),
        TableSpec(
            "address_features",
            s.ADDRESS_FEATURES,
            ("window_days", "address"),
            nullable=feature_catalog.NULLABLE,
        ),
        TableSpec(
            "structural_patterns",
            s.STRUCTURAL_PATTERNS,
            ("pattern_type", "pattern_id"),
            nullable=("total_amount_usd",),
        ),
        TableSpec("address_risk_scores", s.ADDRESS_RISK_SCORES, ("alias", "address")),
        TableSpec("typology_alerts", s.TYPOLOGY_ALERTS, ("typology", "alert_id")),
        TableSpec("model_monitoring", s.MODEL_MONITORING, ("column",), nullable=("psi",)),
        TableSpec(
            "kafka_messages",
            KAFKA_MESSAGES,
            ("date", "topic", "partition", "offset"),
            nullable=tuple(
                c for c in s.MESSAGES if c in s.TRANSFERS and c not in ("network", "date")
            ),
            partition_column="ingest_month",
            indexes=(("offset", "minmax"), ("tx_hash", "bloom_filter")),
        ),
        TableSpec(
            "kafka_ledger", KAFKA_LEDGER, ("topic", "partition", "recorded_at"), partitioned=False
        ),
        TableSpec(
            "address_labels",
            s.ADDRESS_LABELS,
            ("address", "source", "valid_from"),
            partitioned=False,
            nullable=("valid_to",),
        ),
    )
}


DAILY_TABLES: tuple[str, ...] = (
    "prices",
    "transfers",
    "transfers_rejected",
    "transfers_quality",
    "daily_edges",
    "address_activity",
    "quality",
    "address_features",
    "structural_patterns",
    "address_risk_scores",
    "typology_alerts",
    "model_monitoring",
)
"""The day-partitioned assets of a network, in graph order (each is also a warehouse table)."""

INGEST_TABLES: tuple[str, ...] = ("transfers", "transfers_rejected", "transfers_quality")
"""The outputs of one ingestion step (selected together)."""


def spec(name: str) -> TableSpec:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"table: no warehouse table spec for {name!r}") from None


def read_table(
    target: ch.ClickHouseTarget, network: str, table: str, first=None, last=None
) -> pl.DataFrame:
    """The stored rows of ``network``'s ``table`` on ``first..last`` (either bound optional;
    an empty frame of its schema when the table does not exist yet), on a cluster through its
    distributed table."""
    with ch.session(target) as client:
        return ch.read_days(
            client, network, table, first, last, schema=spec(table).schema, cluster=target.cluster
        )
