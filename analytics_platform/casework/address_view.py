"""An analyst's view of one address, read from the Parquet lake with DuckDB.

The lake is readable while the pipeline holds the warehouse (the embedded chDB store admits
one process at a time), and DuckDB reads Parquet in place, locally or on S3, without loading
a table: labels, alerts with their explanations, patterns with the address's role, the latest
features of each window, and counterparties with transfer counts and USD value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from analytics_platform.casework import dispositions
from analytics_platform.lake.sql import LakeSql


@dataclass(frozen=True)
class AddressView:
    address: str
    network: str
    first: date
    last: date
    labels: pl.DataFrame
    alerts: pl.DataFrame
    patterns: pl.DataFrame
    features: pl.DataFrame
    counterparties: pl.DataFrame
    verdicts: pl.DataFrame


def address_view(lake_url: str, network: str, address: str, days: int = 30) -> AddressView:
    """``address`` over the ``days`` days ending with the lake's latest alert partition."""
    lake = LakeSql(lake_url, network)
    table, query = lake.table, lake.query

    latest = query(f"SELECT max(date) AS d FROM {table('transfers')}")
    if latest.height == 0 or latest["d"][0] is None:
        raise LookupError(f"address: nothing in the lake at {lake_url} for network {network!r}")
    last = latest["d"][0]
    first = last - timedelta(days=days - 1)
    labels = query(
        f"SELECT label, category, source, valid_from, valid_to, is_current "
        f"FROM {table('address_labels')} WHERE address = ? ORDER BY valid_from",
        address,
    )
    alerts = query(
        f"SELECT date, typology, severity, round(score, 3) AS score, explanation, alert_id "
        f"FROM {table('typology_alerts')} WHERE address = ? AND date BETWEEN ? AND ? "
        f"ORDER BY date DESC, score DESC",
        address, first, last,
    )  # fmt: skip
    patterns = query(
        f"SELECT date, pattern_type, roles[list_position(members, ?)] AS role, "
        f"len(members) AS members, transfer_count, round(total_amount_usd, 2) AS usd, "
        f"round(score, 3) AS score, pattern_id FROM {table('structural_patterns')} "
        f"WHERE list_contains(members, ?) AND date BETWEEN ? AND ? ORDER BY date DESC, score DESC",
        address, address, first, last,
    )  # fmt: skip
    features = query(
        f"SELECT window_days, date, total_count, counterparties, in_volume_usd, out_volume_usd, "
        f"pagerank, community_size, label_category FROM {table('address_features')} "
        f"WHERE address = ? AND date <= ? "
        f"QUALIFY row_number() OVER (PARTITION BY window_days ORDER BY date DESC) = 1 "
        f"ORDER BY window_days",
        address, last,
    )  # fmt: skip
    counterparties = query(
        f"SELECT CASE WHEN from_address = ? THEN to_address ELSE from_address END AS counterparty,"
        f" CASE WHEN from_address = ? THEN 'sent' ELSE 'received' END AS direction, "
        f"sum(transfer_count) AS transfers, round(sum(amount_usd), 2) AS usd, "
        f"count(*) FILTER (WHERE amount_usd IS NULL) AS unpriced_edges, "
        f"string_agg(DISTINCT asset, ',' ORDER BY asset) AS assets "
        f"FROM {table('daily_edges')} WHERE (from_address = ? OR to_address = ?) "
        f"AND date BETWEEN ? AND ? GROUP BY ALL ORDER BY usd DESC NULLS LAST, transfers DESC",
        address, address, address, address, first, last,
    )  # fmt: skip
    # Every verdict ever recorded on the address's cases, whatever the days shown.
    verdicts = (
        dispositions.history(lake, address)
        .select("date", "disposition", "analyst", "note", "recorded_at")
        .reverse()
    )
    return AddressView(
        address, network, first, last, labels, alerts, patterns, features, counterparties,
        verdicts,
    )  # fmt: skip


def render(view: AddressView, top: int = 15) -> str:
    """The view as text: one titled table per section (the first ``top`` rows)."""
    lines = [f"{view.address} on {view.network}, {view.first}..{view.last}"]
    with pl.Config(
        tbl_rows=top,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        fmt_str_lengths=160,
        tbl_width_chars=200,
    ):
        for title, frame in (
            ("labels", view.labels),
            ("alerts", view.alerts),
            ("patterns (role of this address)", view.patterns),
            ("latest features per window", view.features),
            ("counterparties", view.counterparties),
            ("verdicts on its cases (latest first)", view.verdicts),
        ):
            lines.append(f"\n{title}: {frame.height}")
            if frame.height:
                lines.append(str(frame.head(top)))
    return "\n".join(lines)
