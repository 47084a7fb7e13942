"""``address_labels``: the SCD2 history merged with the configured snapshot, and what each
day's detectors see of it."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from analytics_platform.domain import attribution
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


def service_addresses(current: pl.DataFrame, horizon: pl.DataFrame) -> list[str]:
    """Addresses left out of every pattern of a day: labelled services (exchanges, DeFi) and
    the exchanges' deposit addresses seen in the day's ``horizon`` of transfers
    (``domain.attribution``)."""
    services = attribution.labelled_services(current)
    exchanges = current.filter(pl.col("category") == "exchange")["address"]
    return sorted({*services, *attribution.deposit_addresses(horizon, exchanges)})
