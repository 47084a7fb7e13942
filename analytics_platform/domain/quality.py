"""Data-quality rules behind the asset checks: frames in, :class:`CheckOutcome` out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from analytics_platform.domain.prices import unpriced
from analytics_platform.domain.schemas import TransfersQualitySchema
from analytics_platform.domain.typologies import Catalog, unfilled_placeholders


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def schema_conforms(df: pl.DataFrame, schema: pa.DataFrameSchema) -> CheckOutcome:
    try:
        schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        first = cases.head(5).to_dicts() if hasattr(cases, "head") else str(cases)[:500]
        return CheckOutcome(
            False, f"{schema.name}: {len(cases)} schema failure(s)", {"failures": str(first)[:2000]}
        )
    return CheckOutcome(True, f"{schema.name}: {df.height} rows match the schema")


def unique_key(df: pl.DataFrame, key: list[str]) -> CheckOutcome:
    dupes = df.group_by(key).len().filter(pl.col("len") > 1)
    if dupes.height:
        example = dupes.row(0, named=True)
        return CheckOutcome(
            False, f"{dupes.height} duplicated key(s) on {key}", {"example": str(example)}
        )
    return CheckOutcome(True, f"{df.height} rows, key {key} unique")


def non_negative(df: pl.DataFrame, column: str) -> CheckOutcome:
    bad = df.filter(pl.col(column) < 0)
    if bad.height:
        return CheckOutcome(
            False, f"{bad.height} negative value(s) in {column}", {"example": str(bad[column][0])}
        )
    return CheckOutcome(True, f"no negative {column}")


def times_inside_days(df: pl.DataFrame, time_col: str = "block_time") -> CheckOutcome:
    """Every row's ``time_col`` falls on its ``date`` (the partition day, UTC)."""
    bad = df.filter(pl.col(time_col).dt.date() != pl.col("date"))
    if bad.height:
        row = bad.row(0, named=True)
        return CheckOutcome(
            False,
            f"{bad.height} row(s) with {time_col} outside the partition day",
            {"example": f"{row[time_col]} in partition {row['date']}"},
        )
    return CheckOutcome(True, f"all {time_col} inside their partition day")


def counts_add_up(quality: pl.DataFrame) -> CheckOutcome:
    """Every day's rows read equal those accepted, rejected and dropped as exact duplicates:
    no row handed over by the source vanished or was counted twice."""
    off = quality.filter(
        pl.col("read") != pl.col("accepted") + pl.col("rejected") + pl.col("duplicates")
    )
    if off.height:
        said = [
            f"{r['date']}: read {r['read']} != {r['accepted']} accepted + {r['rejected']} "
            f"rejected + {r['duplicates']} duplicates"
            for r in off.head(5).iter_rows(named=True)
        ]
        return CheckOutcome(False, f"{off.height} day(s) lost or doubled rows: " + "; ".join(said))
    total = int(quality["read"].sum()) if quality.height else 0
    return CheckOutcome(
        True,
        f"{total} rows read on {quality.height} day(s), each accepted, rejected or a duplicate",
    )


def files_readable(unreadable: dict[date, list[str]]) -> CheckOutcome:
    """No file that may hold a day's rows was unreadable (``unreadable``: per day of the run,
    the quarantined files that name that day or no day)."""
    found = sorted({f for files in unreadable.values() for f in files})
    if found:
        days = [str(d) for d, files in sorted(unreadable.items()) if files]
        return CheckOutcome(
            False,
            f"{len(found)} source file(s) unreadable, quarantined in the dead letters; "
            f"{', '.join(days[:5])}{' ...' if len(days) > 5 else ''} may miss their rows: "
            + "; ".join(found[:3]),
            {"files": found[:50], "days": days},
        )
    return CheckOutcome(True, "every source file that may hold these days was read")


def amounts_plausible(df: pl.DataFrame, bounds: dict[str, float]) -> CheckOutcome:
    """No transfer moves more than its asset's plausible maximum (``max_amounts``)."""
    if not bounds:
        return CheckOutcome(True, "no max_amounts configured")
    limit = pl.col("asset").replace_strict(bounds, default=None, return_dtype=pl.Float64)
    over = df.filter(pl.col("amount").cast(pl.Float64) > limit)
    if over.height:
        said = [
            f"{r['tx_hash']},{r['transfer_index']} moved {r['amount']} {r['asset']} "
            f"(max_amounts {bounds[r['asset']]:g})"
            for r in over.head(5).iter_rows(named=True)
        ]
        return CheckOutcome(
            False, f"{over.height} transfer(s) above their asset's max_amounts: " + "; ".join(said)
        )
    return CheckOutcome(True, f"every transfer within max_amounts ({len(bounds)} asset(s))")


def usd_plausible(edges: pl.DataFrame, max_usd: float | None) -> CheckOutcome:
    """No pair's largest transfer of the day is worth more than ``max_usd``."""
    if max_usd is None:
        return CheckOutcome(True, "max_transfer_usd is off")
    price = pl.col("amount_usd") / pl.col("amount_sum").cast(pl.Float64)
    over = edges.with_columns((pl.col("amount_max") * price).alias("_usd")).filter(
        pl.col("_usd") > max_usd
    )
    if over.height:
        said = [
            f"{r['date']} {r['from_address']}->{r['to_address']} {r['amount_max']:g} {r['asset']}"
            f" worth ${r['_usd']:.3g}"
            for r in over.sort("_usd", descending=True).head(5).iter_rows(named=True)
        ]
        return CheckOutcome(
            False,
            f"{over.height} pair(s) with a transfer worth more than ${max_usd:g}: "
            + "; ".join(said),
        )
    return CheckOutcome(True, f"every priced transfer worth at most ${max_usd:g}")


def no_volume_anomalies(anomalies: dict[date, list[dict]]) -> CheckOutcome:
    """Passes when no day of the run has an anomalous figure; else names each with its value,
    the trailing median and the z-score."""
    found = [(day, a) for day, items in sorted(anomalies.items()) for a in items]
    if not found:
        return CheckOutcome(True, "every figure within the trailing partitions' range")
    said = [
        f"{day} {a['metric']} {a['value']:g} vs median {a['median']:g} (z {a['z']:+.1f})"
        for day, a in found
    ]
    return CheckOutcome(
        False,
        f"{len(found)} anomalous figures: " + "; ".join(said[:5]),
        {str(day): items for day, items in sorted(anomalies.items()) if items},
    )


def every_asset_priced(
    transfers: pl.DataFrame, prices: pl.DataFrame, configured: bool = True
) -> CheckOutcome:
    """Each (day, asset) with transfers has a USD price; the missing ones are listed. A network
    without a price source passes (its USD values are null by design, said once in the log)."""
    if not configured:
        return CheckOutcome(True, "no prices_path configured: USD values are not computed")
    missing = unpriced(transfers, prices)
    if missing.height:
        listed = [
            f"{r['asset']} on {r['date']} ({r['rows']} transfers)"
            for r in missing.head(20).iter_rows(named=True)
        ]
        return CheckOutcome(
            False,
            f"{missing.height} (asset, day) pairs without a USD price: their USD values are null",
            {"missing": "; ".join(listed), "transfers_unpriced": int(missing["rows"].sum())},
        )
    return CheckOutcome(True, "every asset moved has a USD price")


def every_active_address_has_features(edges: pl.DataFrame, features: pl.DataFrame) -> CheckOutcome:
    """Each address seen in the day's edges has a feature row for every window of that day."""
    active = pl.concat(
        [
            edges.select("date", pl.col("from_address").alias("address")),
            edges.select("date", pl.col("to_address").alias("address")),
        ]
    ).unique()
    windows = features.select("window_days").unique()
    if windows.height == 0 and active.height:
        return CheckOutcome(False, f"{active.height} active addresses but no features")
    expected = active.join(windows, how="cross")
    missing = expected.join(
        features.select("date", "address", "window_days"),
        on=["date", "address", "window_days"],
        how="anti",
    )
    if missing.height:
        return CheckOutcome(
            False,
            f"{missing.height} (address, window) pairs without features",
            {"example": str(missing.row(0, named=True))},
        )
    return CheckOutcome(True, f"{active.height} active addresses all have features")


def patterns_reference_transfers(patterns: pl.DataFrame, transfers: pl.DataFrame) -> CheckOutcome:
    used = (
        patterns.select(pl.col("tx_hashes").explode(empty_as_null=False).alias("tx_hash"))
        .drop_nulls()
        .unique()
    )
    missing = used.join(transfers.select("tx_hash").unique(), on="tx_hash", how="anti")
    if missing.height:
        return CheckOutcome(
            False,
            f"{missing.height} evidence transfer(s) not found",
            {"example": missing["tx_hash"][0]},
        )
    return CheckOutcome(True, f"{used.height} evidence transfers all exist")


def alerts_reference_evidence(
    alerts: pl.DataFrame, patterns: pl.DataFrame, addresses: pl.Series
) -> CheckOutcome:
    refs = (
        alerts.select("alert_id", pl.col("pattern_ids").alias("pattern_id"))
        .explode("pattern_id", empty_as_null=False)
        .drop_nulls()
    )
    missing = refs.join(patterns.select("pattern_id"), on="pattern_id", how="anti")
    unknown = alerts.filter(~pl.col("address").is_in(addresses.implode()))
    if missing.height or unknown.height:
        return CheckOutcome(
            False,
            f"{missing.height} pattern reference(s) and {unknown.height} address(es) not found",
            {
                "example": str(
                    (missing.head(1).to_dicts(), unknown.select("address").head(1).to_dicts())
                )
            },
        )
    return CheckOutcome(True, f"{alerts.height} alerts reference existing patterns and addresses")


def explanations_filled(alerts: pl.DataFrame, catalog: Catalog) -> CheckOutcome:
    """Every alert's explanation has each placeholder of its typology's sentence filled in (a
    catalog key that no pattern detail or feature carries leaves "(key)" in the text)."""
    holes = unfilled_placeholders(alerts, catalog)
    if holes.height:
        first = holes.row(0, named=True)
        return CheckOutcome(
            False,
            f"{holes['alerts'].sum()} explanation(s) leave a placeholder unfilled, e.g. "
            f"typologies.{first['typology']}.explanation: {{{first['key']}}}",
            {"unfilled": str(holes.to_dicts()[:10])},
        )
    return CheckOutcome(True, f"{alerts.height} explanations have every placeholder filled in")


def row_count_sane(counts: dict[date, int], minimum: int = 1) -> CheckOutcome:
    """Every day has at least ``minimum`` rows (an empty day usually means a broken source)."""
    low = {str(d): n for d, n in counts.items() if n < minimum}
    if low:
        return CheckOutcome(
            False, f"{len(low)} day(s) with fewer than {minimum} rows", {"days": low}
        )
    return CheckOutcome(
        True,
        f"{len(counts)} day(s), each with >= {minimum} rows",
        {"rows_per_day": {str(d): n for d, n in counts.items()}},
    )


def edges_conserve_transfers(edges: pl.DataFrame, transfers: pl.DataFrame) -> CheckOutcome:
    """Daily edge transfer counts add up to the transfers they were built from."""
    total = int(edges["transfer_count"].sum()) if edges.height else 0
    return CheckOutcome(
        total == transfers.height, f"{total} edge transfers vs {transfers.height} transfers"
    )


def activity_conserves_transfers(activity: pl.DataFrame, transfers: pl.DataFrame) -> CheckOutcome:
    """Activity events = 2 x transfers - self-transfers (each end of a transfer once)."""
    events = int(activity["event_count"].sum()) if activity.height else 0
    selfs = int((transfers["from_address"] == transfers["to_address"]).sum())
    expected = 2 * transfers.height - selfs
    return CheckOutcome(events == expected, f"{events} activity events, expected {expected}")


def quality_at_least(
    quality: pl.DataFrame, minimum: float, schema: pa.DataFrameSchema = TransfersQualitySchema
) -> CheckOutcome:
    """Every day's quality score (``transfers_quality``, or ``quality`` with its ``schema``) is
    at least ``minimum``; a day that read nothing has no score and is left to the row-count
    check."""
    shape = schema_conforms(quality, schema)
    if not shape.passed:
        return shape
    scores = {str(d): s for d, s in quality.select("date", "score").iter_rows()}
    low = {d: s for d, s in scores.items() if s is not None and s < minimum}
    if low:
        return CheckOutcome(
            False, f"{len(low)} day(s) with a quality score below {minimum}", {"days": low}
        )
    return CheckOutcome(True, f"quality score >= {minimum} on every scored day", {"scores": scores})


def drift_below(rows: pl.DataFrame, level: str) -> CheckOutcome:
    """No row of ``model_monitoring`` at ``level`` (``warn`` also fails on ``fail``)."""
    bad = rows.filter(pl.col("status").is_in(["warn", "fail"] if level == "warn" else ["fail"]))
    if bad.height:
        worst = bad.sort("psi", descending=True, nulls_last=True).row(0, named=True)
        return CheckOutcome(
            False,
            f"{bad.height} watched column(s) drifted; worst {worst['column']} PSI "
            f"{worst['psi']:.3f} on {worst['date']}",
            {"columns": ", ".join(sorted(set(bad["column"])))},
        )
    return CheckOutcome(True, f"{rows.height} watched column-day(s) stable enough")
