"""Checks of an output taken a part at a time (a spilled output's windows): one result per
check, failing when any part fails and naming it."""

import dagster as dg
import polars as pl

from analytics_platform.domain import quality as q
from analytics_platform.lib.checks import Check, results_by_part

KEY = dg.AssetKey(["torus", "address_features"])
CHECKS = (
    Check("non_negative", "amounts >= 0", lambda rows, **_: q.non_negative(rows, "amount")),
    Check("some_rows", "rows", lambda rows, **_: q.CheckOutcome(rows.height > 0, "counted")),
)


def _parts(*amounts: list[float]):
    frames = [pl.DataFrame({"amount": a}, schema={"amount": pl.Float64}) for a in amounts]
    return [
        (f"{size}-day window", {"rows": f}) for size, f in zip((7, 30, 90), frames, strict=True)
    ]


def test_a_check_fails_when_one_part_fails_and_names_it():
    results = {
        r.check_name: r for r in results_by_part(KEY, CHECKS, _parts([1.0], [2.0, -1.0], [3.0]))
    }
    assert set(results) == {"non_negative", "some_rows"}
    failed = results["non_negative"]
    assert not failed.passed and failed.description.startswith("30-day window: ")
    assert "(1 of 3 parts failed)" in failed.description
    assert failed.metadata["failed_parts"].value == "30-day window"
    assert results["some_rows"].passed
    assert results["some_rows"].description.count("counted") == 3


def test_every_part_is_checked_not_only_the_first_or_last():
    results = {r.check_name: r for r in results_by_part(KEY, CHECKS, _parts([1.0], [], [3.0]))}
    assert not results["some_rows"].passed and results["non_negative"].passed


def test_address_features_checks_read_one_day_of_edges_at_a_time(tmp_path):
    """A ranged run's checks take each day's edges as that day's windows are checked: never
    the run's days at once."""
    from datetime import date

    from analytics_platform.domain.schemas import ADDRESS_FEATURES, empty
    from analytics_platform.lib.assets.address_features import _check_parts
    from analytics_platform.storage.spilled_frames import SpilledFrames

    days = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
    spilled = SpilledFrames(tmp_path, pl.Schema(ADDRESS_FEATURES))
    for day in days[:2]:  # the third day has no features
        for size in (7, 30):
            spilled.put((day, size), empty(ADDRESS_FEATURES))
    read: list[date] = []

    def edges_of(day: date) -> pl.DataFrame:
        read.append(day)
        return pl.DataFrame({"date": [day]})

    parts = _check_parts(spilled, days, edges_of)
    seen = []
    for name, inputs in parts:
        seen.append((name, list(read)))
        assert inputs["day_edges"]["date"].to_list() == [read[-1]]
    assert read == days  # each day once
    assert (
        seen
        == [
            ("2026-03-01 7-day window", days[:1]),
            ("2026-03-01 30-day window", days[:1]),  # the day's windows share its edges
            ("2026-03-02 7-day window", days[:2]),
            ("2026-03-02 30-day window", days[:2]),
            ("2026-03-03", days),
        ]
    )
