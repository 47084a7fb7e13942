"""``<net>__lake_cleanup``: the lake's retention applied on a schedule (``lake cleanup``).

Built only for networks with a ``lake_retention``; the schedule (``lake_cleanup_cron``, weekly
by default) starts stopped, like every schedule here. Each run deletes the lake partitions past
their layer's retention that no kept partition reads (``lake_manager.cleanup_plan``) and records
what it deleted and kept in the run's metadata.
"""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from analytics_platform.config import NetworkConfig, Settings
from analytics_platform.lake import manager as lake_manager


class CleanupConfig(dg.Config):
    as_of: str | None = None
    """Count retention back from this day (YYYY-MM-DD); default: the run's day (UTC)."""
    dry_run: bool = False
    force: bool = False
    """Apply a plan that counts from the future or empties a table (refused otherwise)."""


def lake_cleanup_job(net: NetworkConfig, settings: Settings) -> dg.JobDefinition:
    @dg.op(
        name=f"{net.name}__apply_lake_retention",  # not the job's name: Dagster refuses both
        description=f"Delete {net.name}'s lake partitions past lake_retention that no kept "
        "partition reads.",
        tags={"analytics/network": net.name},
    )
    def cleanup(context: dg.OpExecutionContext, config: CleanupConfig) -> None:
        as_of = date.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC).date()
        try:
            plan = lake_manager.cleanup(
                settings, net.name, as_of, dry_run=config.dry_run, force=config.force
            )
        except ValueError as exc:  # a refusal: retrying will not change it
            raise dg.Failure(str(exc), allow_retries=False) from exc
        deleted = plan.filter(pl.col("action") == "delete")
        kept = plan.filter(pl.col("reason").str.starts_with("input of"))
        context.log.info(
            f"{net.name} as of {as_of}: {'would delete' if config.dry_run else 'deleted'} "
            f"{deleted.height} partition(s); kept {kept.height} past retention as inputs"
        )
        context.add_output_metadata(
            {
                "as_of": as_of.isoformat(),
                "deleted": deleted.height,
                "kept_as_inputs": kept.height,
                "deleted_by_table": dg.MetadataValue.json(
                    dict(deleted.group_by("table").len().iter_rows())
                ),
            }
        )

    @dg.job(
        name=f"{net.name}__lake_cleanup",
        description=f"Apply {net.name}'s lake_retention to the Parquet lake.",
        tags={"analytics/network": net.name},
    )
    def job() -> None:
        cleanup()

    return job


def lake_cleanup_schedule(net: NetworkConfig, job: dg.JobDefinition) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=f"{net.name}__lake_cleanup_schedule",
        job=job,
        cron_schedule=net.lake_cleanup_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
