"""Resources: the warehouse (for window reads and summaries) and the graph engine choice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from analytics_platform.engines.base import EngineChoice, GraphParams, choose_engine
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
    """Which engine computes ``address_features``: ``cpu``, or ``gpu`` where RAPIDS and a GPU
    exist. Without them ``gpu`` fails the step with the reason, unless ``fallback_to_cpu``."""

    engine: str = "cpu"
    fallback_to_cpu: bool = False
    betweenness_samples: int = 16

    def choose(self) -> EngineChoice:
        return choose_engine(self.engine, fallback_to_cpu=self.fallback_to_cpu)

    def params(self) -> GraphParams:
        return GraphParams(betweenness_samples=self.betweenness_samples)
