"""The platform's resources and executor, shared by every network (``ANALYTICS_PROFILE``).

In ``production`` every connection field is a ``dg.EnvVar`` read where the step runs, so
secrets never enter code, images, run config or metadata.
"""

import os
from typing import Any

import dagster as dg

from analytics_platform.config import (
    CLICKHOUSE_VARIABLES,
    LAKE_VARIABLES,
    Settings,
)
from analytics_platform.lib.io_managers import WarehouseLakeIOManager
from analytics_platform.lib.resources import (
    ClickHouseResource,
    GraphEngineResource,
    LakeResource,
    ModelRegistryResource,
    WarehouseResource,
)


def _from_env(name: str, value: Any) -> Any:
    """``dg.EnvVar(name)`` when the variable is set (the UI then shows its name, not its value),
    else the already-resolved default."""
    return dg.EnvVar(name) if os.environ.get(name) else value


def clickhouse_resource(settings: Settings) -> ClickHouseResource:
    """The warehouse resource of the settings' resolved target; in production each field that
    came from a variable (``config.CLICKHOUSE_VARIABLES``) is that ``dg.EnvVar``."""
    target, var = settings.clickhouse, CLICKHOUSE_VARIABLES
    if settings.profile != "production":
        return ClickHouseResource(dsn=target.dsn, cluster=target.cluster)
    if target.dsn:
        return ClickHouseResource(dsn=dg.EnvVar(var["dsn"]), cluster=_from_env(var["cluster"], ""))
    return ClickHouseResource(
        host=dg.EnvVar(var["host"]),
        port=target.effective_port,
        username=_from_env(var["username"], target.username),
        password=_from_env(var["password"], ""),
        database=_from_env(var["database"], target.database),
        secure=target.secure,
        cluster=_from_env(var["cluster"], ""),
    )


def lake_resource(settings: Settings) -> LakeResource:
    lake, var = settings.lake, LAKE_VARIABLES
    return LakeResource(
        url=lake.url,
        region=_from_env(var["region"], lake.region) if lake.region else "",
        endpoint_url=_from_env(var["endpoint_url"], lake.endpoint_url) if lake.endpoint_url else "",
    )


def executor_for(settings: Settings) -> dg.ExecutorDefinition:
    """The executor of every job, the implicit asset job of UI/asset backfills included (a
    job-level executor would leave those on the default and their GPU steps off GPU nodes)."""
    if settings.executor == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    if settings.executor == "in_process":
        return dg.in_process_executor
    return dg.multiprocess_executor


def platform_definitions(settings: Settings) -> dg.Definitions:
    """Resources (warehouse, lake, IO manager, graph engine) and the executor of every job."""
    clickhouse, lake = clickhouse_resource(settings), lake_resource(settings)
    return dg.Definitions(
        executor=executor_for(settings),
        resources={
            "io_manager": WarehouseLakeIOManager(
                clickhouse=clickhouse,
                lake=lake,
                warehouse_retention={
                    net.name: dict(net.warehouse_retention)
                    for net in settings.networks
                    if net.warehouse_retention
                },
            ),
            "warehouse": WarehouseResource(clickhouse=clickhouse),
            "lake": lake,
            "model_registry": ModelRegistryResource(
                home=str(settings.home),
                tracking_uri=_from_env("MLFLOW_TRACKING_URI", ""),
            ),
            "graph_engine": GraphEngineResource(
                fallback_to_cpu=settings.features.fallback_to_cpu,
                betweenness_samples=settings.features.betweenness_samples,
                max_graph_edges=settings.features.max_graph_edges or 0,
            ),
        },
    )
