"""``risk_training_set``: what the next risk model learns from, stored in the lake
(``storage.training_sets``): the address-days up to a cutoff with the label known then, a
weight and their part (fit or validation), and the labels that judge the validation days.

Not partitioned: a set is a function of every stored day up to its cutoff and the labels known
then (``domain.risk.training_set`` says which rows, and why that does not leak). ``risk_model``
fits on the current set; the version it registers names the set's id.
"""

from datetime import date

import dagster as dg

from analytics_platform.domain.risk.training_set import feature_columns, summary
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.pipeline import model_ops


class TrainingSetConfig(dg.Config):
    cutoff: str | None = None
    """Learn from the labels known by this day (YYYY-MM-DD); default the last featured day."""
    labels_path: str | None = None
    """A labels file besides the verdicts and the network's ``risk.labels_path``."""


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    args = spec.asset(
        "risk_training_set",
        "The risk model's training set: the stored feature windows and patterns of every "
        "address-day up to a cutoff, labelled as known then (verdicts, risk.labels_path), "
        "with weights and the fit / validation split; Parquet in the lake.",
        partitioned=False,
        deps=[spec.key(t) for t in model_ops.SET_TABLES],
        retry_policy=None,
    )
    args["kinds"] = {"polars", "parquet"}

    @dg.asset(**args)
    def risk_training_set(context: dg.AssetExecutionContext, config: TrainingSetConfig):
        name, training = model_ops.build_training_set(
            spec.settings,
            spec.name,
            cutoff=date.fromisoformat(config.cutoff) if config.cutoff else None,
            labels_path=config.labels_path,
            progress=context.log.info,
        )
        rows = training.rows
        lineage = {k: v for k, v in training.lineage.items() if k != "labels_path"}
        return dg.MaterializeResult(
            metadata={
                "training_set": name,
                "cutoff": training.cutoff.isoformat(),
                "dagster/row_count": rows.height,
                "features": len(feature_columns(rows)),
                "validation_days": training.settings.validation_days,
                "gap_days": training.settings.gap_days,
                **{k: dg.MetadataValue.int(v) for k, v in summary(rows).items()},
                **{k: v for k, v in lineage.items() if isinstance(v, int | str)},
            }
        )

    return risk_training_set
