"""Funnel accounts: a collector paid once each, over months, by accounts that had paid no one
(``funnel_days``), beside its own regular payers, which never count."""

import json
from datetime import timedelta

import polars as pl
import pytest

from analytics_platform.config import NetworkConfig
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.patterns import PatternLimits, detect_patterns
from analytics_platform_tests.graphs import T0, addr, transfers

DAY = T0.date()
FUNNEL = range(10, 15)  # five accounts that receive (from 99) but never pay, until once
WAKE = (-200, -150, -100, -50, 0)  # the day (relative to DAY) each pays collector 1
REGULAR = range(90, 96)  # six customers who pay the collector every day


def _ledger(extra=()):
    rows = [(p, 1, 50.0, -24.0 * d) for d in range(0, 400) for p in REGULAR]
    rows += [(99, p, 500.0, -24.0 * d - 5) for d in range(0, 400, 7) for p in FUNNEL]
    rows += [(p, 1, 480.0, 24.0 * w + 2) for p, w in zip(FUNNEL, WAKE, strict=True)]
    return transfers(rows + list(extra))


def _patterns(
    t, day=DAY, funnel_days=365, start=DAY - timedelta(days=420), relationship_days=None, **limits
):
    return detect_patterns(
        t, network="torus", day=day, history=aggregate_daily_edges(t), dormancy_days=30,
        history_start=start, funnel_days=funnel_days, relationship_days=relationship_days,
        types=["fan_in"], limits=PatternLimits(min_fan=4, **limits),
    )  # fmt: skip


def _members(result) -> list[set[str]]:
    return [set(m) for m in result.patterns["members"].to_list()]


def test_dormant_payers_spread_over_months_make_a_funnel_and_regular_payers_do_not_count():
    result = _patterns(_ledger())
    assert _members(result) == [{addr(1), *map(addr, FUNNEL)}]
    (row,) = result.patterns.iter_rows(named=True)
    details = json.loads(row["details"])
    assert details["fan"] == 5 and details["funnel_days"] == 365
    assert details["dormant_payer_share"] == 1.0
    assert row["transfer_count"] == 5 and row["total_amount"] == pytest.approx(5 * 480.0)
    assert row["center_address"] == addr(1)


def test_without_funnel_days_the_fan_is_the_regular_payers_of_the_day():
    t = _ledger()
    regular = detect_patterns(
        t, network="torus", day=DAY, types=["fan_in"], limits=PatternLimits(min_fan=4)
    ).patterns
    assert [set(m) for m in regular["members"].to_list()] == [
        {addr(1), addr(14), *map(addr, REGULAR)}
    ]


def test_a_funnel_is_reported_on_the_day_of_a_new_dormant_payment_only():
    t = _ledger()
    assert _members(_patterns(t, day=DAY - timedelta(days=50))) == [
        {addr(1), *map(addr, FUNNEL[:4])}
    ]
    assert _members(_patterns(t, day=DAY - timedelta(days=49))) == []
    # a memory shorter than the spread holds too few of them
    assert _members(_patterns(t, funnel_days=120)) == []


def test_payments_before_the_history_covers_the_look_back_are_not_judged():
    # judged from 30 days after the network's start: from 120 days before DAY only two are
    assert _members(_patterns(_ledger(), start=DAY - timedelta(days=120))) == []
    assert _members(_patterns(_ledger(), start=DAY - timedelta(days=190))) == [
        {addr(1), *map(addr, FUNNEL)} - {addr(10)}
    ]


def test_payers_funded_by_one_account_are_a_scatter_gather_not_a_funnel():
    # 77 pays each of the five a few days before it pays the collector: a scatter-gather.
    funding = [(77, p, 490.0, 24.0 * (w - 3)) for p, w in zip(FUNNEL, WAKE, strict=True)]
    assert _members(_patterns(_ledger(funding))) == []


def test_payers_their_usual_funder_paid_before_they_paid_stay_a_funnel_with_a_long_memory():
    # 77 pays each of the five every 40 days, the last time 3 days before it pays the
    # collector. With a 30-day memory for pairs each of those payments is a new pair, as a
    # scatter-gather's are; with a year's, 77 is the payers' usual funder, not one account
    # that newly funded them, and the funnel stands.
    funding = [
        (77, p, 490.0, 24.0 * (w - 3 - 40 * k))
        for p, w in zip(FUNNEL, WAKE, strict=True)
        for k in range(5)
    ]
    t = _ledger(funding)
    assert _members(_patterns(t)) == []
    assert _members(_patterns(t, relationship_days=365)) == [{addr(1), *map(addr, FUNNEL)}]


def test_a_payer_that_paid_the_collector_within_the_relationship_memory_is_no_funnel_leg():
    # 10 had paid the collector 100 days before it woke, a day after paying 98 (so not then
    # dormant): with a 30-day memory for pairs its payment on waking is still a new pair from a
    # dormant payer; with a year's, it is an old relationship.
    earlier = [
        (FUNNEL[0], 98, 10.0, 24.0 * (WAKE[0] - 101)),
        (FUNNEL[0], 1, 300.0, 24.0 * (WAKE[0] - 100)),
    ]
    t = _ledger(earlier)
    assert _members(_patterns(t)) == [{addr(1), *map(addr, FUNNEL)}]
    assert _members(_patterns(t, relationship_days=365)) == [
        {addr(1), *map(addr, FUNNEL)} - {addr(FUNNEL[0])}
    ]


def test_a_collector_paid_by_more_than_max_fan_accounts_is_a_business():
    result = _patterns(_ledger(), max_fan=5)  # six regular customers in the 3-day span
    assert _members(result) == []
    assert result.limits_hit == {"fan_in_over_max_fan": 1}


def test_the_day_is_the_same_whatever_else_the_run_loaded():
    t = _ledger()
    later = transfers([(5, 6, 1.0, 24.0 * d) for d in range(1, 30)])
    both = pl.concat([t, later.with_columns(pl.format("late{}", "tx_hash").alias("tx_hash"))])
    assert _patterns(both).patterns.equals(_patterns(t).patterns)


def test_funnels_need_the_dormancy_look_back():
    with pytest.raises(ValueError, match="funnel_days: needs dormancy_days"):
        NetworkConfig(name="torus", funnel_days=365)
    net = NetworkConfig(name="torus", pattern_span_days=30, dormancy_days=30, funnel_days=365)
    assert (net.pattern_transfer_days, net.pattern_history_days) == (365, 395)
