"""``address_labels``: the SCD2 history merged with the configured snapshot, and what each
day's detectors see of it."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from analytics_platform.domain import labels as label_logic


def refresh(history: pl.DataFrame, snapshot: pl.DataFrame, network: str, now: datetime):
    """The history with ``snapshot`` (rows of every network allowed) merged in as of ``now``."""
    if "network" in snapshot.columns:
        snapshot = snapshot.filter(pl.col("network") == network)
    snapshot = label_logic.normalise_snapshot(snapshot, network=network)
    return label_logic.merge_snapshot(history, snapshot, now)


def current_on(history: pl.DataFrame, day: date) -> pl.DataFrame:
    """(address, category) of the labels valid on ``day``."""
    return label_logic.labels_as_of(history, day).select("address", "category")


def service_addresses(current: pl.DataFrame) -> list[str]:
    """Addresses left out of every pattern: exchanges (their deposit sweeps and hot wallets
    are fans and pass-throughs by design)."""
    return current.filter(pl.col("category") == "exchange")["address"].to_list()
