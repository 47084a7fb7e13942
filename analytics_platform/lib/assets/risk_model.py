"""``risk_model``: a training run of the network's risk model on the current
``risk_training_set``, registered on MLflow, and the jobs that move its aliases:
``<net>__risk_model_train`` (both assets; weekly schedule, stopped by default; and a sensor
that asks for one when enough new verdicts arrived), ``<net>__risk_model_promote`` and
``<net>__risk_model_rollback``. The ``model`` CLI does the same (``pipeline.model_ops``).

Not partitioned: a version is a function of its training set; its number, cutoff, training
set id, metrics and feature hash are the materialisation's metadata.
"""

import dagster as dg

from analytics_platform.config import NetworkConfig, Settings
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.pipeline import model_ops


class TrainConfig(dg.Config):
    alias: str | None = None
    """``champion`` or ``challenger``; default challenger (champion when there is none)."""
    by: str = "dagster"


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    args = spec.asset(
        "risk_model",
        "A LightGBM risk model fitted on the current risk_training_set (thresholds and the "
        "blend with the rules chosen on its validation days), registered on MLflow as the "
        "challenger (the champion when there is none).",
        partitioned=False,
        deps=[spec.key("risk_training_set"), spec.key("typology_alerts")],
        retry_policy=None,
    )
    args["kinds"] = {"lightgbm", "mlflow"}  # kept in the registry, not the warehouse

    @dg.asset(**args)
    def risk_model(context: dg.AssetExecutionContext, config: TrainConfig):
        done = model_ops.train_from_set(spec.settings, spec.name, by=config.by, alias=config.alias)
        model, lineage = done.model, done.training.lineage
        context.log.info(f"fitted on training set {done.training_set}")
        f1 = model.metrics.get("validation_f1", {})
        return dg.MaterializeResult(
            metadata={
                "model_version": done.version.version,
                "aliases": ", ".join(done.version.aliases) or "none",
                "training_set": done.training_set,
                "cutoff": model.cutoff.isoformat(),
                "feature_hash": model.feature_hash,
                "features": len(model.features),
                "labels": lineage.get("labels", 0),
                "unknown_labelled_addresses": lineage.get("unknown_labelled_addresses", 0),
                **{f"validation_f1_{c}": dg.MetadataValue.float(v) for c, v in f1.items()},
            }
        )

    return risk_model


def train_job(net: NetworkConfig) -> "dg.UnresolvedAssetJobDefinition":
    return dg.define_asset_job(
        name=f"{net.name}__risk_model_train",
        selection=dg.AssetSelection.assets(
            [net.name, "risk_training_set"], [net.name, "risk_model"]
        ),
        description=f"Build {net.name}'s training set, train the risk model on it and register "
        "it (challenger by default).",
        tags={"analytics/network": net.name},
    )


class MoveConfig(dg.Config):
    by: str
    """Who moves the alias (recorded)."""
    reason: str = ""
    """Why (recorded; required to force a promotion or to roll back)."""
    force: bool = False
    """Promote even when the challenger did not beat the champion on the shadow days."""


def move_jobs(net: NetworkConfig, settings: Settings) -> list[dg.JobDefinition]:
    """``promote`` and ``rollback`` as jobs: a refusal fails the run with its reason."""
    tags = {"analytics/network": net.name}

    @dg.op(name=f"{net.name}__promote_challenger", tags=tags)
    def promote(context: dg.OpExecutionContext, config: MoveConfig) -> None:
        try:
            version, judged = model_ops.promote(
                settings, net.name, by=config.by, reason=config.reason, force=config.force
            )
        except (LookupError, PermissionError, ValueError) as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
        context.add_output_metadata(
            {"champion": version, **({"shadow_days": judged.days} if judged else {})}
        )

    @dg.op(name=f"{net.name}__rollback_champion", tags=tags)
    def rollback(context: dg.OpExecutionContext, config: MoveConfig) -> None:
        try:
            before, after = model_ops.rollback(settings, net.name, by=config.by,
                                               reason=config.reason)  # fmt: skip
        except (LookupError, ValueError) as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
        context.add_output_metadata({"from": before, "champion": after})

    @dg.job(name=f"{net.name}__risk_model_promote", tags=tags,
            description=f"Make {net.name}'s challenger the champion if it earned it.")  # fmt: skip
    def promote_job() -> None:
        promote()

    @dg.job(name=f"{net.name}__risk_model_rollback", tags=tags,
            description=f"Point {net.name}'s champion back at the version before.")  # fmt: skip
    def rollback_job() -> None:
        rollback()

    return [promote_job, rollback_job]


def retrain_schedule(net: NetworkConfig, job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=f"{net.name}__risk_model_retrain_schedule",
        job=job,
        cron_schedule=net.risk.retrain_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


def verdicts_sensor(net: NetworkConfig, settings: Settings, job) -> dg.SensorDefinition:
    """A training run once ``risk.retrain_after_verdicts`` verdicts were recorded since the
    last one it asked for (its cursor: the count then). Stopped by default."""

    @dg.sensor(
        name=f"{net.name}__risk_model_verdicts_sensor",
        job=job,
        minimum_interval_seconds=3600,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Retrain {net.name}'s risk model after "
        f"{net.risk.retrain_after_verdicts} new verdicts.",
    )
    def sensor(context: dg.SensorEvaluationContext):
        from analytics_platform.casework import dispositions
        from analytics_platform.lake.sql import LakeSql

        count = dispositions.history(LakeSql(settings.lake.url, net.name)).height
        seen = int(context.cursor or 0)
        if count - seen < net.risk.retrain_after_verdicts:
            return dg.SkipReason(f"{count - seen} new verdict(s) since the last training run")
        context.update_cursor(str(count))
        return dg.RunRequest(run_key=f"verdicts-{count}")

    return sensor
