"""Volume anomalies: a planted drop and a planted spike are flagged, normal days stay quiet,
and the warehouse's figures of stored days equal the run's own."""

from datetime import date, timedelta

import polars as pl
import pytest

from analytics_platform.domain.anomalies import anomalies_on, transfer_metrics
from analytics_platform.domain.schemas import DEAD_LETTERS
from analytics_platform.domain.synthetic import SyntheticConfig, generate
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.daily_metrics import stored_metrics
from analytics_platform.storage.tables import spec

START = date(2026, 9, 1)
DROP, SPIKE = START + timedelta(days=30), START + timedelta(days=35)
NO_REJECTS = pl.DataFrame(schema=DEAD_LETTERS)


@pytest.fixture(scope="module")
def network() -> pl.DataFrame:
    t = generate(
        SyntheticConfig(start=START, days=40, addresses=1_500, transfers_per_day=1_500, seed=11)
    ).transfers
    # The drop: an outage keeps a quarter of the day. The spike: the day's traffic three times.
    dropped = t.filter((pl.col("date") != DROP) | (pl.col("tx_hash").hash() % 4 == 0))
    extra = [
        t.filter(pl.col("date") == SPIKE).with_columns(
            pl.format("{}-{}", "tx_hash", pl.lit(k)).alias("tx_hash")
        )
        for k in (1, 2)
    ]
    return pl.concat([dropped, *extra])


def test_planted_drop_and_spike_are_flagged_and_normal_days_are_quiet(network):
    metrics = transfer_metrics(network, NO_REJECTS)
    flagged = {}
    for i in range(40):
        day = START + timedelta(days=i)
        found = anomalies_on(day, metrics)
        if found:
            flagged[day] = {a["metric"]: a["z"] for a in found}
    assert set(flagged) == {DROP, SPIKE}, flagged
    assert flagged[DROP]["transfers"] < -3.5 and flagged[SPIKE]["transfers"] > 3.5
    assert anomalies_on(START + timedelta(days=5), metrics) == []  # too little history


def test_a_burst_of_rejects_is_flagged_but_one_bad_row_is_not(network):
    day = START + timedelta(days=20)

    def rejects(n: int) -> pl.DataFrame:
        return pl.DataFrame(
            {"network": ["torus"] * n, "date": [day] * n, "source": "t", "record": "{}",
             "field": "amount", "value": "x", "reason": "not a number"},
            schema=DEAD_LETTERS,
        )  # fmt: skip

    one = anomalies_on(day, transfer_metrics(network, rejects(1)))
    burst = anomalies_on(day, transfer_metrics(network, rejects(300)))
    assert one == []
    assert [a["metric"] for a in burst] == ["rejected_share"]


def test_warehouse_figures_equal_the_runs_own(network, tmp_path):
    days = [START + timedelta(days=i) for i in range(5)]
    part = network.filter(pl.col("date").is_in(days))
    rejected = pl.DataFrame(
        {"network": "torus", "date": [days[1]] * 3, "source": "t", "record": "{}",
         "field": "amount", "value": "x", "reason": "r"},
        schema=DEAD_LETTERS,
    )  # fmt: skip
    with ch.session(f"chdb://{tmp_path / 'chdb'}") as client:
        for name, frame in (("transfers", part), ("transfers_rejected", rejected)):
            ch.ensure_table(client, "torus", spec(name).ddl("torus"))
            ch.replace_day_partitions(client, "torus", name, frame, days)
        stored = stored_metrics(client, "torus", days[0], days[-1])
    mine = transfer_metrics(part, rejected)
    joined = mine.join(stored, on=["date", "metric"], how="full", suffix="_wh")
    assert joined.height == mine.height == stored.height
    assert ((joined["value"] - joined["value_wh"]).abs() <= 1e-9 * joined["value"].abs()).all()
