"""Metadata helpers: partition days of a run, per-day metadata, column schemas, stage timings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import dagster as dg
import polars as pl

from analytics_platform.domain import feature_catalog
from analytics_platform.engines.timing import StageTimer
from analytics_platform.pipeline.days import by_day, counts_by
from analytics_platform.storage.tables import spec

_DESCRIPTIONS = {f.name: f"{f.definition} ({f.unit})" for f in feature_catalog.CATALOG}


def days_of(context: dg.AssetExecutionContext) -> list[date]:
    """The partition days a run covers (one, or a backfill range)."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((end - first).days)]


def counts(df: pl.DataFrame, column: str) -> dg.MetadataValue:
    """Row counts per value of ``column`` as JSON metadata."""
    return dg.MetadataValue.json(counts_by(df, column))


def record_days(
    context: dg.AssetExecutionContext,
    df: pl.DataFrame,
    days: list[date],
    describe: Callable[[date, pl.DataFrame], dict[str, Any]] | None = None,
    asset_key: dg.AssetKey | None = None,
) -> dict[str, int]:
    """Metadata of each partition from that day's rows only (``dagster/row_count`` and
    ``describe(day, rows)``), so a day records the same figures in a run of any range.
    Returns the rows per day (ISO date keys)."""
    rows_per_day = {}
    for day, part in by_day(df, days).items():
        metadata = {"dagster/row_count": dg.MetadataValue.int(part.height)}
        metadata.update(describe(day, part) if describe else {})
        context.add_asset_metadata(metadata, asset_key=asset_key, partition_key=day.isoformat())
        rows_per_day[day.isoformat()] = part.height
    return rows_per_day


def numeric_values(columns: Sequence[str]) -> Callable[[date, pl.DataFrame], dict[str, Any]]:
    """A ``describe`` for :func:`record_days`: the day's row's non-null ``columns`` as float
    metadata, which the UI's Plots tab charts over partitions (none for a day without a row)."""

    def describe(_: date, row: pl.DataFrame) -> dict[str, Any]:
        values = row.select(columns).row(0, named=True) if row.height else {}
        return {name: dg.MetadataValue.float(v) for name, v in values.items() if v is not None}

    return describe


def column_schema(table: str) -> dg.TableSchema:
    """The warehouse table's columns with their types; feature columns with the catalog's
    definition and unit."""
    table_spec = spec(table)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                str(dtype),
                description=_DESCRIPTIONS.get(name) if table == "address_features" else None,
                constraints=dg.TableColumnConstraints(nullable=name in table_spec.nullable),
            )
            for name, dtype in table_spec.schema.items()
        ]
    )


def stage_table(timer: StageTimer) -> dg.MetadataValue:
    """Seconds per stage as a Markdown table with a bar per stage, and where its plans ran."""
    total = timer.total or 1.0
    rows = ["| stage | seconds | share | plans |", "|---|---:|---|---|"]
    for name, secs in sorted(timer.seconds.items(), key=lambda kv: -kv[1]):
        bar = "█" * max(1, round(20 * secs / total))
        rows.append(f"| {name} | {secs:.2f} | {bar} | {timer.plan_devices(name)} |")
    return dg.MetadataValue.md("\n".join(rows))
