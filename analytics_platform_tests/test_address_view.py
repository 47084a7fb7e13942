"""The analyst's view of an address, read from the lake with DuckDB, agrees with the warehouse."""

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from analytics_platform.address_view import address_view, render
from analytics_platform.config import load_settings
from analytics_platform.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch

from .conftest import START


def test_an_alerted_address_as_the_lake_shows_it(home: Path):
    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    last = START + timedelta(days=1)
    run_range(settings, "torus", START, last, instance=instance, progress=lambda _: None)
    with ch.session(settings.clickhouse) as client:
        alerts = ch.query_frame(
            client, "SELECT address, typology, explanation FROM torus.typology_alerts"
        )
        address = alerts.group_by("address").len().sort("len", "address")["address"][-1]
        edges = ch.query_frame(
            client,
            "SELECT sum(transfer_count) AS n FROM torus.daily_edges "
            "WHERE from_address = {a:String} OR to_address = {a:String}",
            {"a": address},
        )
    # The warehouse is closed again; the view reads only Parquet files.
    view = address_view(settings.lake.url, "torus", address, days=30)
    assert (view.first, view.last) == (last - timedelta(days=29), last)
    mine = alerts.filter(pl.col("address") == address)
    assert sorted(view.alerts["explanation"]) == sorted(mine["explanation"])
    assert (
        view.patterns.height > 0
        and view.patterns["role"].is_in(["source", "intermediate", "sink"]).all()
    )
    assert sorted(view.features["window_days"]) == [7, 30, 90]
    assert int(view.counterparties["transfers"].sum()) == int(edges["n"][0])
    text = render(view)
    assert address in text and "counterparties:" in text and mine["typology"][0] in text


def test_an_empty_lake_is_a_clear_error(tmp_path):
    with pytest.raises(LookupError, match="nothing in the lake"):
        address_view(str(tmp_path / "lake"), "torus", "0xabc")
