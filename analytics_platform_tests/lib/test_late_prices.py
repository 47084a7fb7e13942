"""A price that arrives or changes for a past day re-materialises what used it."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from analytics_platform.config import load_settings
from analytics_platform.lib.loading import build_definitions
from analytics_platform_tests.conftest import clock_inside

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
START = YESTERDAY - timedelta(days=19)


@pytest.fixture(autouse=True)
def clock_inside_today():
    """The late-price sensor's newest day follows the clock: hold it inside YESTERDAY + 1."""
    with clock_inside(YESTERDAY + timedelta(days=1)):
        yield


def write(path, prices: dict) -> None:
    pl.DataFrame(
        {
            "date": [d.isoformat() for d, _ in prices],
            "asset": [a for _, a in prices],
            "usd_price": list(prices.values()),
        }
    ).write_csv(path)


def tick(defs, cursor):
    sensor = defs.resolve_sensor_def("torus__late_prices")
    result = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, definitions=defs))
    return result.run_requests or [], result.cursor


def test_a_late_or_corrected_price_refreshes_its_day_and_the_days_that_cover_it(tmp_path):
    path = tmp_path / "prices.csv"
    days = [START + timedelta(days=i) for i in range(20)]
    prices = {(d, "TOR"): 1.0 for d in days}
    del prices[(days[10], "TOR")]  # missing on day 10
    write(path, prices)
    (tmp_path / "config.yaml").write_text(
        f"networks:\n  torus:\n    start_date: {START}\n    windows: [7]\n"
        f"    pattern_span_days: 3\n    late_prices_horizon_days: 30\n"
        f"    prices_path: {path}\n    source: {{kind: files, path: x.csv}}\n"
    )
    defs = build_definitions(load_settings({"ANALYTICS_HOME": str(tmp_path)}))
    requests, cursor = tick(defs, None)
    assert requests == []  # the first read only remembers
    assert tick(defs, cursor)[0] == []  # nothing changed

    prices[(days[10], "TOR")] = 1.0  # arrives late
    prices[(days[15], "TOR")] = 0.98  # corrected
    write(path, prices)
    requests, cursor = tick(defs, cursor)
    by_day = {r.partition_key: {k.path[-1] for k in r.asset_selection} for r in requests}
    assert by_day[days[10].isoformat()] == {
        "prices", "daily_edges", "address_features", "structural_patterns", "typology_alerts"
    }  # fmt: skip
    # The next 6 days' 7-day windows and the next 2 days' 3-day spans cover day 10.
    assert by_day[days[11].isoformat()] == {
        "address_features",
        "structural_patterns",
        "typology_alerts",
    }
    assert by_day[days[14].isoformat()] == {"address_features", "typology_alerts"}
    assert by_day[days[15].isoformat()] >= {"prices", "daily_edges"}
    assert "transfers" not in set().union(*by_day.values())
    assert min(by_day) == days[10].isoformat()
    assert len({r.run_key for r in requests}) == len(requests)
    assert tick(defs, cursor)[0] == []  # handled once
