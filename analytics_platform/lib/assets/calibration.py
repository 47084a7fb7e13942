"""``<net>__calibrate``: the typology catalog refitted to the analysts' verdicts, launched from
the Dagster UI (``analytics-platform calibrate`` from a terminal; ``recalibration``).

It reads the network's stored alerts and the verdicts recorded in the lake (``case dispose``,
``case dispositions --import``) or a dispositions file, writes a catalog copy with the fitted
confidences, and records the table of confidences in the run's metadata. Nothing changes until
someone points ``typologies_path`` at the copy and re-materialises ``typology_alerts``: a new
catalog is a reviewed change, not a side effect of a run.
"""

from datetime import UTC, datetime

import dagster as dg
from upath import UPath

from analytics_platform.casework.calibration import refit_catalog
from analytics_platform.config import NetworkConfig, Settings


class CalibrateConfig(dg.Config):
    out: str | None = None
    """Where to write the catalog copy (a path or ``s3://``); default
    ``$ANALYTICS_HOME/typologies-<network>-fitted-<date>.yaml``."""
    dispositions: str | None = None
    """CSV/Parquet file(s) of verdicts instead of those recorded in the lake."""
    prior_weight: float = 20.0
    """How many cases the catalog's prior confidence is worth."""


def calibrate_job(net: NetworkConfig, settings: Settings) -> dg.JobDefinition:
    @dg.op(
        name=f"{net.name}__refit_catalog",  # not the job's name: Dagster refuses both
        description=f"Refit the typology confidences to the verdicts on {net.name}'s cases and "
        "write a catalog copy.",
        tags={"analytics/network": net.name},
    )
    def refit(context: dg.OpExecutionContext, config: CalibrateConfig) -> None:
        now = datetime.now(UTC)
        result = refit_catalog(
            settings, net.name, dispositions_path=config.dispositions,
            prior_weight=config.prior_weight, now=now,
        )  # fmt: skip
        default = settings.home / f"typologies-{net.name}-fitted-{now:%Y%m%d}.yaml"
        out = UPath(config.out or str(default))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.catalog_yaml)
        worked = result.fitted.filter(result.fitted["cases"] > 0)
        context.log.info(
            f"{net.name}: {result.verdicts} verdict(s), {result.unmatched} on no stored case; "
            f"{worked.height} typologies refitted; wrote {out}"
        )
        context.add_output_metadata(
            {
                "catalog": dg.MetadataValue.path(str(out)),
                "verdicts": result.verdicts,
                "unmatched_verdicts": result.unmatched,
                "typologies_refitted": worked.height,
                "confidences": dg.MetadataValue.md(_markdown(result.fitted)),
                "score_map": dg.MetadataValue.md(_map_markdown(result.score_map)),
            }
        )

    @dg.job(
        name=f"{net.name}__calibrate",
        description=f"Refit {net.name}'s typology confidences to the analysts' verdicts.",
        tags={"analytics/network": net.name},
    )
    def job() -> None:
        refit()

    return job


def _markdown(fitted) -> str:
    rows = [
        f"| {r['typology']} | {r['prior']:.3f} | {r['cases']} | {r['confirmed']} | "
        f"{r['fitted']:.3f} |"
        for r in fitted.iter_rows(named=True)
    ]
    head = "| typology | prior | cases | confirmed | fitted |\n|---|---:|---:|---:|---:|"
    return "\n".join([head, *rows])


def _map_markdown(score_map) -> str:
    """The case score map as a table: what a case score now reads as."""
    rows = [f"| {raw:.3f} | {share:.3f} |" for raw, share in score_map]
    return "\n".join(["| case score | share confirmed |\n|---:|---:|", *rows])
