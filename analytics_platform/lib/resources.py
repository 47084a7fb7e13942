"""Resources: the ClickHouse connection, the lake location, the warehouse (for window reads
and summaries) and the graph engine choice.

In the production profile the connection fields are ``dg.EnvVar``s (see ``definitions.py``):
Dagster resolves them in the process that runs the step and shows only the variable's name in
the UI, so passwords stay out of run config, logs and metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import date
from typing import Any

import dagster as dg
import polars as pl
from upath import UPath

from analytics_platform.engines.base import GraphParams
from analytics_platform.engines.choice import EngineChoice, choose_engine
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import lake
from analytics_platform.storage.tables import read_table


class ClickHouseResource(dg.ConfigurableResource):
    """A ClickHouse server/cluster (host, port, user, password, database, secure, cluster) or a
    DSN (``chdb:///dir`` for the embedded default). Same clickhouse-connect client for both."""

    dsn: str = ""
    host: str = ""
    port: int = 0
    username: str = "default"
    password: str = ""
    database: str = "default"
    secure: bool = False
    cluster: str = ""

    def target(self) -> ch.ClickHouseTarget:
        # Same field names as the storage layer's target: copy them across.
        return ch.ClickHouseTarget(
            **{f.name: getattr(self, f.name) for f in fields(ch.ClickHouseTarget)}
        )


class LakeResource(dg.ConfigurableResource):
    """The Parquet lake: a local folder or ``s3://bucket/prefix`` with region and endpoint."""

    url: str
    region: str = ""
    endpoint_url: str = ""

    def root(self) -> UPath:
        return lake.lake_root(self.url, region=self.region, endpoint_url=self.endpoint_url)


class WarehouseResource(dg.ConfigurableResource):
    """Direct warehouse access for reads that are not one asset's partitions."""

    clickhouse: ClickHouseResource

    def target(self) -> ch.ClickHouseTarget:
        return self.clickhouse.target()

    @contextmanager
    def session(self) -> Iterator[Any]:
        with ch.session(self.target()) as client:
            yield client

    def read_days(
        self, network: str, table: str, first: date | None = None, last: date | None = None
    ) -> pl.DataFrame:
        return read_table(self.target(), network, table, first, last)


class GraphEngineResource(dg.ConfigurableResource):
    """How ``address_features`` runs on its engine: without RAPIDS and a GPU, ``gpu`` fails the
    step with the reason, unless ``fallback_to_cpu``; the betweenness sample size; the window
    graph's edge budget.

    Which engine is not a field here: it is ``features.engine`` of the configuration, read
    once when the definitions load, so the step's GPU tags and pool and the engine it runs on
    can never disagree (the asset passes it to :meth:`choose`)."""

    fallback_to_cpu: bool = False
    betweenness_samples: int = 16
    max_graph_edges: int = 0  # 0: no budget

    def choose(self, engine: str) -> EngineChoice:
        return choose_engine(engine, fallback_to_cpu=self.fallback_to_cpu)

    def params(self) -> GraphParams:
        return GraphParams(
            betweenness_samples=self.betweenness_samples,
            max_edges=self.max_graph_edges or None,
        )


class ModelRegistryResource(dg.ConfigurableResource):
    """The risk models' registry (``storage.model_registry``): ``tracking_uri`` (production:
    ``dg.EnvVar("MLFLOW_TRACKING_URI")``), else SQLite under ``home``."""

    home: str
    tracking_uri: str = ""

    def registry(self):
        from pathlib import Path

        from analytics_platform.storage.model_registry import ModelRegistry

        return ModelRegistry(Path(self.home), self.tracking_uri or None)

    def has_store(self) -> bool:
        """Whether a registry exists to ask at all: a server, or the embedded SQLite file
        (absent until a first model is trained; nothing is created just to find none)."""
        from pathlib import Path

        from analytics_platform.storage.model_registry import embedded_store

        return bool(self.tracking_uri) or embedded_store(Path(self.home)).exists()
