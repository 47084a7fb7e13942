"""Refit the typology catalog to the analysts' verdicts: the stored alerts and the verdicts
(recorded in the lake, or a file) in, a catalog copy with fitted confidences and the score
map of its case score out (``domain.calibration`` does the arithmetic). Run by
``analytics-platform calibrate`` and by the ``<net>__calibrate`` job in the Dagster UI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from analytics_platform.casework import dispositions
from analytics_platform.config import Settings
from analytics_platform.domain.calibration import (
    ScoreMap,
    fit_confidences,
    unmatched,
    validate_dispositions,
)
from analytics_platform.domain.cases import fit_case_score_map
from analytics_platform.domain.typologies import catalog_with_confidences, load_catalog
from analytics_platform.lake.sql import LakeSql
from analytics_platform.storage.files import read_files


@dataclass(frozen=True)
class Refit:
    fitted: pl.DataFrame  # typology, prior, cases, confirmed, fitted
    score_map: ScoreMap  # the case score under the fitted confidences -> share confirmed
    verdicts: int  # cases with a verdict
    unmatched: int  # verdicts on no stored case
    catalog_yaml: str  # the catalog copy, with a header naming its source


def refit_catalog(
    settings: Settings,
    network: str,
    *,
    dispositions_path: str | None = None,
    prior_weight: float = 20.0,
    now: datetime | None = None,
) -> Refit:
    """The catalog (``typologies_path``) with each typology's confidence refitted to the
    verdicts on ``network``'s stored cases (those recorded in the lake, or the file(s) at
    ``dispositions_path``), and the score map that reads the case score those confidences
    give as the share of such cases confirmed. Raises ``LookupError`` when there are no
    alerts or no verdicts."""
    settings.network(network)
    catalog = load_catalog(settings.typologies_path)
    lake = LakeSql(settings.lake.url, network)
    alerts = lake.query(
        f"SELECT date, address, typology, max(score) AS score FROM "
        f"{lake.table('typology_alerts')} GROUP BY date, address, typology"
    )
    if alerts.height == 0:
        raise LookupError(f"calibrate: no alerts in the lake at {settings.lake.url}")
    if dispositions_path:
        verdicts = validate_dispositions(read_files(dispositions_path, "dispositions"))
    else:
        verdicts = dispositions.current(lake)
        if verdicts.height == 0:
            raise LookupError(
                f"calibrate: no verdicts recorded in the lake at {settings.lake.url} (record them "
                "with `case dispose` or `case dispositions --import`, or pass a dispositions file)"
            )
    prior = {t.name: t.confidence for t in catalog.typologies}
    fitted = fit_confidences(alerts, verdicts, prior, prior_weight)
    tag = f"fitted-{(now or datetime.now(UTC)):%Y%m%d}"
    confidences = dict(zip(fitted["typology"], fitted["fitted"], strict=True))
    score_map = fit_case_score_map(alerts, verdicts, confidences, prior_weight)
    source = settings.typologies_path or "the default catalog"
    header = (
        "# Written by analytics-platform calibrate from "
        f"{dispositions_path or 'the verdicts recorded in the lake'} "
        f"(--prior-weight {prior_weight:g}): the confidences refitted to those "
        f"dispositions and the score map of the case score they give, everything else as in "
        f"{source}.\n"
    )
    return Refit(
        fitted=fitted,
        score_map=score_map,
        verdicts=verdicts.height,
        unmatched=unmatched(alerts, verdicts),
        catalog_yaml=header
        + catalog_with_confidences(settings.typologies_path, confidences, tag, score_map),
    )
