"""What every asset of one network shares: keys, partitions, backfill policy, the metadata a
Dagster user looks for (kinds, owners, tags, column schema), retries and placement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

import dagster as dg

from analytics_platform.config import NetworkConfig, Settings
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import column_schema
from analytics_platform.lib.compute import compute_pool, compute_tags

# Steps read and write ClickHouse and the lake: a dropped connection or a throttled S3 call
# is worth two more tries, a little later each time.
SERVER_RETRIES = dg.RetryPolicy(max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL)


@dataclass(frozen=True)
class NetworkSpec:
    net: NetworkConfig
    settings: Settings

    @property
    def name(self) -> str:
        return self.net.name

    def key(self, asset: str) -> dg.AssetKey:
        return dg.AssetKey([self.net.name, asset])

    @cached_property
    def partitions(self) -> dg.DailyPartitionsDefinition:
        net = self.net
        return dg.DailyPartitionsDefinition(
            start_date=net.start_date.isoformat(),
            end_date=(net.end_date + timedelta(days=1)).isoformat() if net.end_date else None,
            timezone="UTC",
        )

    @property
    def backfill_policy(self) -> dg.BackfillPolicy:
        """One run per range, or runs of ``backfill_days_per_run`` days (fanned out)."""
        per_run = self.net.backfill_days_per_run
        return (
            dg.BackfillPolicy.multi_run(max_partitions_per_run=per_run)
            if per_run
            else dg.BackfillPolicy.single_run()
        )

    def trailing(self, days: int) -> dg.TimeWindowPartitionMapping:
        """The ``days`` partitions ending with the downstream one (fewer near the start)."""
        return dg.TimeWindowPartitionMapping(
            start_offset=-(days - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
        )

    def risk_edges(self) -> dg.AssetIn:
        """``daily_edges`` as the risk model reads them: the day's, and the relationship
        look-back's days before it where the network has one."""
        days = self.net.risk_lookback_days
        mapping = self.trailing(days) if days else None
        return dg.AssetIn(self.key("daily_edges"), partition_mapping=mapping)

    def kinds(self, *extra: str) -> set[str]:
        """polars compute, stored in ClickHouse and as Parquet (on S3 where the lake is)."""
        lake = {"s3"} if self.settings.lake.url.startswith("s3://") else set()
        return {"polars", "clickhouse", "parquet", *lake, *extra}

    def out(self, table: str, description: str) -> dg.AssetOut:
        """An output of a multi-asset, with the same metadata as :meth:`asset`."""
        return dg.AssetOut(
            key=self.key(table),
            description=description,
            metadata=self._metadata(table),
            group_name=self.name,
            owners=list(self.net.owners),
            tags=self._tags(),
            kinds=self.kinds(*(("kafka",) if self._kafka else ())),
        )

    def asset(
        self,
        table: str,
        description: str,
        *,
        checks: tuple[qc.Check, ...] = (),
        engine: str = "cpu",
        partitioned: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """Keyword arguments of ``dg.asset`` for ``table`` of this network."""
        args: dict[str, Any] = dict(
            key=self.key(table),
            description=description,
            metadata=self._metadata(table, partitioned),
            group_name=self.name,
            owners=list(self.net.owners),
            tags=self._tags(),
            kinds=self.kinds(*extra.pop("kinds", ())),
            op_tags=compute_tags(engine),
            pool=compute_pool(engine),
            retry_policy=SERVER_RETRIES,
            check_specs=qc.specs(self.key(table), checks),
        )
        if partitioned:
            args.update(partitions_def=self.partitions, backfill_policy=self.backfill_policy)
        return {**args, **extra}

    @property
    def _kafka(self) -> bool:
        return self.net.source is not None and self.net.source.kind == "kafka"

    def _tags(self) -> dict[str, str]:
        return {"analytics/network": self.name}

    def _metadata(self, table: str, partitioned: bool = True) -> dict[str, Any]:
        from analytics_platform.storage.tables import TABLES

        metadata: dict[str, Any] = (
            {"dagster/column_schema": column_schema(table)} if table in TABLES else {}
        )  # not a warehouse table (the risk model, stored in its registry): no columns
        if partitioned:
            metadata["partition_expr"] = "date"
        return metadata
