"""The Dagster code location: ``dagster dev -m analytics_platform.definitions``."""

from __future__ import annotations

import dagster as dg

from analytics_platform.config import Settings, load_settings
from analytics_platform.defs.assets import build_network_assets
from analytics_platform.defs.io_managers import WarehouseLakeIOManager
from analytics_platform.defs.resources import GraphEngineResource, WarehouseResource
from analytics_platform.defs.schedules import daily_job, daily_schedule, labels_job


def build_definitions(settings: Settings) -> dg.Definitions:
    assets, jobs, schedules = [], [], []
    for net in settings.networks:
        assets += build_network_assets(net, settings)
        job = daily_job(net)
        jobs += [job, labels_job(net)]
        schedules.append(daily_schedule(net, job))
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        resources={
            "io_manager": WarehouseLakeIOManager(
                clickhouse_dsn=settings.clickhouse_dsn, lake_url=settings.lake_url
            ),
            "warehouse": WarehouseResource(dsn=settings.clickhouse_dsn),
            "graph_engine": GraphEngineResource(
                engine=settings.features.engine,
                fallback_to_cpu=settings.features.fallback_to_cpu,
                betweenness_samples=settings.features.betweenness_samples,
            ),
        },
    )


defs = build_definitions(load_settings())
