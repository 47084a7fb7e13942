"""Asset checks, evaluated inside each asset's step (so partitioned runs check exactly the
partitions they wrote). Blocking checks stop downstream assets from running on bad data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl

from analytics_platform.domain import quality as q
from analytics_platform.domain import schemas as s


def _spec(asset: dg.AssetKey, name: str, description: str, blocking: bool = True):
    return dg.AssetCheckSpec(name=name, asset=asset, description=description, blocking=blocking)


def _result(
    asset: dg.AssetKey,
    name: str,
    outcome: q.CheckOutcome,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=outcome.passed,
        severity=severity,
        description=outcome.description,
        metadata={k: dg.MetadataValue.text(str(v)) for k, v in outcome.metadata.items()},
    )


def transfer_check_specs(asset: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        _spec(asset, "schema", "pandera schema of transfers"),
        _spec(asset, "unique_key", "(network, tx_hash, transfer_index) is unique"),
        _spec(asset, "non_negative_amount", "amounts are >= 0"),
        _spec(asset, "block_time_in_partition", "block time falls on the partition day"),
        _spec(asset, "row_count", "every day has at least one transfer", blocking=False),
    ]


def transfer_checks(
    asset, df: pl.DataFrame, per_day: dict[str, int]
) -> Iterator[dg.AssetCheckResult]:
    yield _result(asset, "schema", q.schema_conforms(df, s.TransfersSchema))
    yield _result(asset, "unique_key", q.unique_key(df, list(s.TRANSFERS_KEY)))
    yield _result(asset, "non_negative_amount", q.non_negative(df, "amount"))
    yield _result(asset, "block_time_in_partition", q.times_inside_days(df))
    yield _result(
        asset,
        "row_count",
        q.row_count_sane({date.fromisoformat(d): n for d, n in per_day.items()}),
        dg.AssetCheckSeverity.WARN,
    )


def edge_check_specs(asset):
    return [
        _spec(asset, "schema", "pandera schema and key of daily edges"),
        _spec(asset, "conserves_transfers", "edge transfer counts add up to the transfers"),
    ]


def edge_checks(asset, edges: pl.DataFrame, transfers: pl.DataFrame):
    yield _result(asset, "schema", q.schema_conforms(edges, s.DailyEdgesSchema))
    total = int(edges["transfer_count"].sum()) if edges.height else 0
    yield _result(
        asset,
        "conserves_transfers",
        q.CheckOutcome(
            total == transfers.height, f"{total} edge transfers vs {transfers.height} transfers"
        ),
    )


def activity_check_specs(asset):
    return [
        _spec(asset, "schema", "pandera schema and key of address activity"),
        _spec(
            asset,
            "conserves_transfers",
            "activity events = transfers x 2 - self-transfers (each end of a transfer once)",
        ),
    ]


def activity_checks(asset, activity: pl.DataFrame, transfers: pl.DataFrame):
    yield _result(asset, "schema", q.schema_conforms(activity, s.AddressActivitySchema))
    events = int(activity["event_count"].sum()) if activity.height else 0
    selfs = (
        int((transfers["from_address"] == transfers["to_address"]).sum()) if transfers.height else 0
    )
    expected = 2 * transfers.height - selfs
    yield _result(
        asset,
        "conserves_transfers",
        q.CheckOutcome(events == expected, f"{events} activity events, expected {expected}"),
    )


def feature_check_specs(asset):
    return [
        _spec(asset, "schema", "pandera schema of address features"),
        _spec(asset, "active_addresses_covered", "every active address has features"),
    ]


def feature_checks(asset, features: pl.DataFrame, day_edges: pl.DataFrame):
    yield _result(asset, "schema", q.schema_conforms(features, s.AddressFeaturesSchema))
    yield _result(
        asset, "active_addresses_covered", q.every_active_address_has_features(day_edges, features)
    )


def pattern_check_specs(asset):
    return [
        _spec(asset, "schema", "pandera schema of structural patterns"),
        _spec(asset, "evidence_exists", "every evidence transfer exists"),
    ]


def pattern_checks(asset, patterns: pl.DataFrame, transfers: pl.DataFrame):
    yield _result(asset, "schema", q.schema_conforms(patterns, s.StructuralPatternsSchema))
    yield _result(asset, "evidence_exists", q.patterns_reference_transfers(patterns, transfers))


def alert_check_specs(asset):
    return [
        _spec(asset, "schema", "pandera schema of typology alerts"),
        _spec(
            asset,
            "references_exist",
            "every alert references existing patterns and featured addresses",
        ),
    ]


def alert_checks(asset, alerts: pl.DataFrame, patterns: pl.DataFrame, features: pl.DataFrame):
    yield _result(asset, "schema", q.schema_conforms(alerts, s.TypologyAlertsSchema))
    yield _result(
        asset,
        "references_exist",
        q.alerts_reference_evidence(alerts, patterns, features["address"].unique()),
    )
