"""Resources: the warehouse (for window reads and summaries) and the graph engine choice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from analytics_platform.engines import GraphEngine, get_engine
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.tables import spec


class WarehouseResource(dg.ConfigurableResource):
    """Direct warehouse access for reads that are not one asset's partitions."""

    dsn: str

    @contextmanager
    def session(self) -> Iterator[Any]:
        with ch.session(self.dsn) as client:
            yield client

    def read_days(
        self, network: str, table: str, first: date | None = None, last: date | None = None
    ) -> pl.DataFrame:
        with self.session() as client:
            return ch.read_days(client, network, table, first, last, schema=spec(table).schema)


class GraphEngineResource(dg.ConfigurableResource):
    """Which graph engine computes ``address_features`` (``cpu``; ``gpu`` where installed)."""

    engine: str = "cpu"

    def get(self) -> GraphEngine:
        return get_engine(self.engine)
