"""The analyst's views (an address, a day's cases), read from the lake with DuckDB, agree with
the warehouse."""

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from analytics_platform import case_view
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
            client,
            "SELECT date, address, typology, explanation, case_rank, in_budget "
            "FROM torus.typology_alerts",
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

    # The day's cases: one per alerted address, ranked 1..n, with every typology that fired.
    day, cases = case_view.day_cases(settings.lake.url, "torus")
    assert day == last
    stored = alerts.filter(pl.col("date").cast(pl.Date) == last)
    assert cases.height == stored["address"].n_unique()
    assert cases["case_rank"].to_list() == list(range(1, cases.height + 1))
    top = cases.row(0, named=True)
    fired = stored.filter(pl.col("address") == top["address"])["typology"]
    assert sorted(top["typologies"]) == sorted(set(fired))
    assert int(cases["in_budget"].sum()) == stored.filter("in_budget")["address"].n_unique()
    assert top["address"] in case_view.render(day, cases, top=5)


def test_an_empty_lake_is_a_clear_error(tmp_path):
    with pytest.raises(LookupError, match="nothing in the lake"):
        address_view(str(tmp_path / "lake"), "torus", "0xabc")


def test_cases_of_an_empty_lake_are_a_clear_error(tmp_path):
    with pytest.raises(LookupError, match="cases: no alerts in the lake"):
        case_view.day_cases(str(tmp_path / "lake"), "torus")
