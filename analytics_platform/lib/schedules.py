"""Jobs and schedules: a daily job per network, scheduled for the previous UTC day."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from analytics_platform.config import NetworkConfig
from analytics_platform.lib.compute import run_tags
from analytics_platform.storage.tables import DAILY_TABLES


def daily_job(
    net: NetworkConfig, engine: str = "cpu", freshness: Sequence[dg.AssetChecksDefinition] = ()
) -> dg.UnresolvedAssetJobDefinition:
    """Every daily asset of ``net`` with the checks evaluated in their steps (not the freshness
    checks, which their sensor evaluates); its runs are tagged with the feature ``engine`` so
    the run queue can hold GPU runs to the GPU count."""
    freshness_keys = [key for checks in freshness for key in checks.check_keys]
    return dg.define_asset_job(
        name=f"{net.name}__daily",
        selection=dg.AssetSelection.assets(*[[net.name, a] for a in DAILY_TABLES])
        - dg.AssetSelection.checks(*freshness_keys),
        description=f"Every daily asset of {net.name}, one day partition (or a range) per run.",
        tags={"analytics/network": net.name, **run_tags(engine)},
    )


def labels_job(net: NetworkConfig) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=f"{net.name}__labels",
        selection=dg.AssetSelection.assets([net.name, "address_labels"]),
        description=f"Refresh the SCD2 address labels of {net.name}.",
    )


def daily_schedule(net: NetworkConfig, job) -> dg.ScheduleDefinition:
    hour, minute = _cron_time(net.schedule_cron)
    # Fires after each UTC day ends and targets that (previous) day's partition.
    return dg.build_schedule_from_partitioned_job(
        job,
        name=f"{net.name}__daily_schedule",
        hour_of_day=hour,
        minute_of_hour=minute,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


def _cron_time(cron: str) -> tuple[int, int]:
    parts = cron.split()
    if len(parts) != 5 or parts[2:] != ["*", "*", "*"]:
        raise ValueError(f"schedule_cron: expected 'M H * * *' (daily), got {cron!r}")
    return int(parts[1]), int(parts[0])
