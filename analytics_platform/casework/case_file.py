"""Everything behind one case, read from the Parquet lake with DuckDB: its alerts, the
patterns behind them, every transfer they name, the address's features and labels that day,
the verdicts recorded on it, and each alert's evidence picture. ``case export`` writes these
to a folder; the workspace shows them on the case page."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from analytics_platform.casework import dispositions
from analytics_platform.casework.evidence_store import render_alert
from analytics_platform.lake.sql import LakeSql
from analytics_platform.storage.lake import lake_root, table_dir

FRAMES = ("alerts", "patterns", "transfers", "features", "labels", "verdicts")
LOOKBACK_DAYS = 90
"""Transfers an alert names are searched this far back (the longest feature window)."""


def case_frames(lake: LakeSql, address: str, day: date) -> dict[str, pl.DataFrame]:
    """The frames of :data:`FRAMES` of the case of ``address`` on ``day``."""
    table, query = lake.table, lake.query
    alerts = query(
        f"SELECT * FROM {table('typology_alerts')} WHERE address = ? AND date = ? "
        "ORDER BY score DESC, alert_id",
        address, day,
    )  # fmt: skip
    pattern_ids = sorted({p for ids in alerts["pattern_ids"].to_list() for p in ids})
    patterns = query(
        f"SELECT * FROM {table('structural_patterns')} WHERE date = ? "
        "AND list_contains(?::VARCHAR[], pattern_id) ORDER BY score DESC",
        day, pattern_ids,
    )  # fmt: skip
    named = {t for ids in alerts["tx_hashes"].to_list() for t in ids}
    if patterns.height:
        named |= {t for ids in patterns["tx_hashes"].to_list() for t in ids}
    transfers = query(
        f"SELECT * FROM {table('transfers')} WHERE date BETWEEN ? AND ? "
        "AND list_contains(?::VARCHAR[], tx_hash) ORDER BY block_time, tx_hash",
        day - timedelta(days=LOOKBACK_DAYS), day, sorted(named),
    )  # fmt: skip
    features = query(
        f"SELECT * FROM {table('address_features')} WHERE address = ? AND date = ? "
        "ORDER BY window_days",
        address, day,
    )  # fmt: skip
    labels = query(f"SELECT * FROM {table('address_labels')} WHERE address = ?", address)
    verdicts = dispositions.history(lake, address).filter(pl.col("date") == day)
    found = (alerts, patterns, transfers, features, labels, verdicts)
    return dict(zip(FRAMES, found, strict=True))


def evidence_pictures(
    lake_url: str, network: str, frames: dict[str, pl.DataFrame]
) -> dict[str, bytes]:
    """``alert_id`` -> PNG for every alert of the case with pattern evidence: the lake's
    picture, else drawn from the case's patterns and transfers."""
    stored = table_dir(lake_root(lake_url), "evidence", network)
    by_id = {r["pattern_id"]: r for r in frames["patterns"].iter_rows(named=True)}
    out = {}
    for alert in frames["alerts"].iter_rows(named=True):
        if not alert["pattern_ids"] or alert["pattern_ids"][0] not in by_id:
            continue
        source = stored / f"date={alert['date'].isoformat()}" / f"{alert['alert_id']}.png"
        out[alert["alert_id"]] = (
            source.read_bytes()
            if source.exists()
            else render_alert(alert, by_id[alert["pattern_ids"][0]], frames["transfers"])
        )
    return out
