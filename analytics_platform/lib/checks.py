"""Asset checks, evaluated inside each asset's step (so partitioned runs check exactly the
partitions they wrote). Blocking checks stop downstream assets from running on bad data.

Each asset's checks are one table of :class:`Check` rows; its ``AssetCheckSpec``s and its
``AssetCheckResult``s are both derived from that table, so a check is named once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import dagster as dg

from analytics_platform.domain import quality as q
from analytics_platform.domain import schemas as s

LEVELS = ("critical", "error", "warning", "info")
"""critical: blocks downstream assets (schema, keys); error: a failure in red that does not
block; warning: worth a look (anomalies, missing prices); info: figures only."""


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    rule: Callable[..., q.CheckOutcome]
    """Called with the asset's check inputs as keyword arguments."""
    level: Literal["critical", "error", "warning", "info"] = "critical"

    @property
    def blocking(self) -> bool:
        return self.level == "critical"

    @property
    def severity(self) -> dg.AssetCheckSeverity:
        if self.level in ("critical", "error"):
            return dg.AssetCheckSeverity.ERROR
        return dg.AssetCheckSeverity.WARN


def specs(asset: dg.AssetKey, checks: tuple[Check, ...]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name=c.name,
            asset=asset,
            description=f"{c.description} [{c.level}]",
            blocking=c.blocking,
            metadata={"level": c.level},
        )
        for c in checks
    ]


def results(
    asset: dg.AssetKey, checks: tuple[Check, ...], **inputs: Any
) -> Iterator[dg.AssetCheckResult]:
    for check in checks:
        yield _result(asset, check, check.rule(**inputs))


def results_by_part(
    asset: dg.AssetKey, checks: tuple[Check, ...], parts: Iterable[tuple[str, dict[str, Any]]]
) -> Iterator[dg.AssetCheckResult]:
    """One result per check of an output checked a part at a time (``parts``: a label such
    as a day's window, and the check inputs of that part), so no step holds the whole output:
    a check passes when it passes on every part; a failure names the first part that failed
    and keeps its metadata."""
    outcomes: dict[str, list[tuple[str, q.CheckOutcome]]] = {c.name: [] for c in checks}
    for label, inputs in parts:
        for check in checks:
            outcomes[check.name].append((label, check.rule(**inputs)))
    for check in checks:
        yield _result(asset, check, _over_parts(outcomes[check.name]))


def _over_parts(outcomes: list[tuple[str, q.CheckOutcome]]) -> q.CheckOutcome:
    failed = [(label, o) for label, o in outcomes if not o.passed]
    if failed:
        label, first = failed[0]
        return q.CheckOutcome(
            False,
            f"{label}: {first.description} ({len(failed)} of {len(outcomes)} parts failed)",
            {**first.metadata, "failed_parts": ", ".join(label for label, _ in failed[:20])},
        )
    shown = "; ".join(f"{label}: {o.description}" for label, o in outcomes[:3])
    more = f"; and {len(outcomes) - 3} more parts" if len(outcomes) > 3 else ""
    return q.CheckOutcome(True, (shown + more) or "no parts to check")


def _result(asset: dg.AssetKey, check: Check, outcome: q.CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=check.name,
        passed=outcome.passed,
        severity=check.severity,
        description=outcome.description,
        metadata={
            "level": check.level,
            **{k: dg.MetadataValue.text(str(v)) for k, v in outcome.metadata.items()},
        },
    )


TRANSFERS = (
    Check("schema", "pandera schema of transfers",
          lambda df, **_: q.schema_conforms(df, s.TransfersSchema)),
    Check("unique_key", "(network, tx_hash, transfer_index) is unique",
          lambda df, **_: q.unique_key(df, list(s.TRANSFERS_KEY))),
    Check("non_negative_amount", "amounts are >= 0",
          lambda df, **_: q.non_negative(df, "amount")),
    Check("block_time_in_partition", "block time falls on the partition day",
          lambda df, **_: q.times_inside_days(df)),
    Check("source_files_readable",
          "every source file that may hold the day's rows could be read (unreadable ones are "
          "quarantined in transfers_rejected, field 'file')",
          lambda unreadable, **_: q.files_readable(unreadable),
          level="error"),
    Check("amounts_plausible", "no transfer above its asset's max_amounts",
          lambda df, max_amounts, **_: q.amounts_plausible(df, max_amounts),
          level="warning"),
    Check("row_count", "every day has at least one transfer",
          lambda per_day, **_: q.row_count_sane(
              {date.fromisoformat(d): n for d, n in per_day.items()}),
          level="warning"),
    Check("volume_anomalies",
          "transfer count, volume per asset, active addresses and rejected share within the "
          "robust z-score threshold of the trailing partitions",
          lambda anomalies, **_: q.no_volume_anomalies(anomalies),
          level="warning"),
    Check("quality_score",
          "every day's ingestion quality score (completeness, validity, uniqueness, "
          "timeliness) is at least min_quality_score",
          lambda quality, min_score, **_: q.quality_at_least(quality, min_score),
          level="warning"),
)  # fmt: skip

DAILY_EDGES = (
    Check("schema", "pandera schema and key of daily edges",
          lambda edges, **_: q.schema_conforms(edges, s.DailyEdgesSchema)),
    Check("conserves_transfers", "edge transfer counts add up to the transfers",
          lambda edges, transfers, **_: q.edges_conserve_transfers(edges, transfers),
          level="error"),
    Check("priced", "every asset moved on the day has a USD price (else its USD values are null)",
          lambda transfers, prices, prices_configured, **_: q.every_asset_priced(
              transfers, prices, configured=prices_configured),
          level="warning"),
    Check("usd_plausible", "no transfer worth more than max_transfer_usd",
          lambda edges, max_transfer_usd, **_: q.usd_plausible(edges, max_transfer_usd),
          level="warning"),
)  # fmt: skip

TRANSFERS_QUALITY = (
    Check("counts_add_up",
          "every day's rows read = accepted + rejected + duplicates (no row lost or doubled)",
          lambda quality, **_: q.counts_add_up(quality),
          level="error"),
)  # fmt: skip

QUALITY = (
    Check("schema", "pandera schema of the partition quality scores",
          lambda quality, **_: q.schema_conforms(quality, s.QualitySchema)),
    Check("score_at_least_minimum",
          "every day's partition quality score (ingestion shares and consistency of the "
          "processed tables) is at least min_quality_score",
          lambda quality, min_score, **_: q.quality_at_least(quality, min_score, s.QualitySchema),
          level="warning"),
)  # fmt: skip

PRICES = (
    Check("schema", "pandera schema of prices: one non-negative price per asset and day",
          lambda prices, **_: q.schema_conforms(prices, s.PricesSchema)),
)  # fmt: skip

ADDRESS_ACTIVITY = (
    Check("schema", "pandera schema and key of address activity",
          lambda activity, **_: q.schema_conforms(activity, s.AddressActivitySchema)),
    Check("conserves_transfers",
          "activity events = transfers x 2 - self-transfers (each end of a transfer once)",
          q.activity_conserves_transfers,
          level="error"),
)  # fmt: skip

ADDRESS_FEATURES = (
    Check("schema", "pandera schema of address features (catalog types and value ranges)",
          lambda features, **_: q.schema_conforms(features, s.AddressFeaturesSchema)),
    Check("active_addresses_covered", "every active address has features",
          lambda features, day_edges, **_: q.every_active_address_has_features(
              day_edges, features),
          level="error"),
)  # fmt: skip

STRUCTURAL_PATTERNS = (
    Check("schema", "pandera schema of structural patterns",
          lambda patterns, **_: q.schema_conforms(patterns, s.StructuralPatternsSchema)),
    Check("evidence_exists", "every evidence transfer exists",
          q.patterns_reference_transfers,
          level="error"),
)  # fmt: skip

ADDRESS_RISK_SCORES = (
    Check("schema", "pandera schema of risk scores: probabilities and percentiles in [0, 1], "
          "one row per address, day and alias",
          lambda scores, **_: q.schema_conforms(scores, s.AddressRiskScoresSchema)),
)  # fmt: skip

MODEL_MONITORING = (
    Check("drift_below_warn", "no watched column's PSI reaches 0.1 (the data moved)",
          lambda rows, **_: q.drift_below(rows, "warn"), level="warning"),
    Check("drift_below_fail", "no watched column's PSI reaches 0.25 (retrain)",
          lambda rows, **_: q.drift_below(rows, "fail"), level="error"),
)  # fmt: skip

TYPOLOGY_ALERTS = (
    Check("schema", "pandera schema of typology alerts",
          lambda alerts, **_: q.schema_conforms(alerts, s.TypologyAlertsSchema)),
    Check("references_exist",
          "every alert references existing patterns and featured addresses",
          lambda alerts, patterns, features, **_: q.alerts_reference_evidence(
              alerts, patterns, features["address"].unique()),
          level="error"),
    Check("explanations_filled",
          "every explanation has its typology's placeholders filled in (catalog keys that no "
          "pattern detail or feature carries)",
          lambda alerts, catalog, **_: q.explanations_filled(alerts, catalog),
          level="error"),
)  # fmt: skip
