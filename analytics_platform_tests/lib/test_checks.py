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
