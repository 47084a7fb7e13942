"""Dormancy shares: a pattern whose payers had paid no one (or whose payees nobody had paid) in
the ``dormancy_days`` before, judged only where the network's history covers the look-back."""

import json
from datetime import date, timedelta

import polars as pl
import pytest

from analytics_platform.domain import schemas as s
from analytics_platform.domain.edges import aggregate_daily_edges
from analytics_platform.domain.patterns import PatternLimits, detect_patterns
from analytics_platform.domain.typologies import (
    Typology,
    _pattern_alerts,
    load_catalog,
    score_alerts,
)
from analytics_platform_tests.graphs import addr, transfers

DAY = date(2026, 10, 1)
SENDERS = range(10, 16)


def _fan_in(history_rows):
    """Six senders pay collector 1 once each on DAY, after ``history_rows`` (hours < 0)."""
    rows = history_rows + [(s, 1, 900.0, 1 + 0.2 * i) for i, s in enumerate(SENDERS)]
    t = transfers(rows)
    return t, aggregate_daily_edges(t)


def _daily(pairs, days=40):
    """``pairs`` (from, to) once a day on each of the ``days`` days before DAY."""
    return [(a, b, 100.0, -24.0 * d) for d in range(1, days + 1) for a, b in pairs]


def _fan_details(t, edges, history_start=date(2026, 1, 1), dormancy_days=30):
    p = detect_patterns(
        t, network="torus", day=DAY, history=edges, dormancy_days=dormancy_days,
        history_start=history_start, types=["fan_in"],
    ).patterns  # fmt: skip
    (row,) = p["details"].to_list()
    return json.loads(row)


def test_accounts_that_only_received_and_now_pay_a_collector_are_dormant_payers():
    # The senders were paid every day (by 99) but paid no one; the collector is paid daily.
    t, edges = _fan_in(_daily([(99, s) for s in SENDERS] + [(98, 1)]))
    d = _fan_details(t, edges)
    assert d["dormant_payer_share"] == 1.0
    assert d["dormant_payee_share"] == 0.0
    assert d["dormant_party_share"] == 1.0


def test_customers_who_pay_every_day_are_not_dormant():
    t, edges = _fan_in(_daily([(s, 99) for s in SENDERS] + [(98, 1)]))
    d = _fan_details(t, edges)
    assert d["dormant_payer_share"] == 0.0
    assert d["dormant_party_share"] == 0.0


def test_a_payment_older_than_the_look_back_does_not_count():
    # They last paid 35 days ago: with a 30-day look-back they are dormant, with 40 not.
    old = [(s, 99, 100.0, -24.0 * 35) for s in SENDERS] + _daily([(98, 1)])
    t, edges = _fan_in(old)
    judged = _fan_details(t, edges, dormancy_days=30)
    assert (judged["dormant_payer_share"], judged["dormancy_days"]) == (1.0, 30)
    assert _fan_details(t, edges, dormancy_days=40)["dormant_payer_share"] == 0.0


def test_before_the_history_covers_the_look_back_nothing_is_judged():
    t, edges = _fan_in(_daily([(99, s) for s in SENDERS]))
    d = _fan_details(t, edges, history_start=DAY - timedelta(days=10))
    assert not any(k.startswith("dormant_") for k in d)
    assert "novel_share" in d


def test_a_ring_of_dormant_accounts_is_alerted_and_one_of_habitual_partners_is_not():
    catalog = load_catalog()
    habit = [(a, b, 50.0, -24.0 * d) for d in range(1, 40) for a, b, _, _ in RING]
    received = [(99, a, 50.0, -24.0 * d) for d in range(1, 40) for a in (1, 2, 3)]
    typologies, explained = [], []
    for history in (habit, received):
        t = transfers(history + RING)
        p = _cycles(t, history=aggregate_daily_edges(t), history_start=date(2026, 1, 1))
        alerts = score_alerts(
            network="torus", day=DAY, patterns=p, features=pl.DataFrame(schema=s.ADDRESS_FEATURES),
            labels=pl.DataFrame(schema=s.ADDRESS_LABELS), transfers=t, catalog=catalog,
        )  # fmt: skip
        typologies.append(set(alerts["typology"]))
        relay = alerts.filter(pl.col("typology") == "dormant_accounts_relay")
        explained.extend(relay["explanation"].to_list())
    assert "dormant_accounts_relay" not in typologies[0]
    assert "round_tripping" in typologies[0]  # still a round trip, on its own confidence
    assert {"dormant_accounts_relay", "round_tripping"} <= typologies[1]
    assert explained[0].startswith(
        f"Address {addr(1)} is at the centre of a cycle of 3 accounts in which 100% of the "
        "transfers woke an account that had not paid or been paid for 30 days"
    )


def test_a_rule_can_pass_what_was_not_judged():
    p = _cycles(transfers(RING))  # no history: no dormancy keys
    keep = {"dormant_party_share": {"min": 0.5, "unknown": "pass"}}
    drop = {"dormant_party_share": {"min": 0.5}}
    results = []
    for where in (keep, drop):
        typ = Typology("t", "d", "pattern", 0.0, 1.0, "x", patterns=("cycle",), where=where)
        results.append(_pattern_alerts(typ, "torus", DAY, p, pl.Series([], dtype=pl.String), None))
    assert results[0].height == 1 and results[1].height == 0


def test_dormancy_reads_only_the_days_before_the_transfer():
    # The senders start paying others from DAY on: that cannot make DAY's payments habitual.
    t, edges = _fan_in(_daily([(99, s) for s in SENDERS]))
    later = aggregate_daily_edges(
        transfers([(s, 99, 5.0, 24.0 * k + 3) for s in SENDERS for k in range(0, 3)])
    )
    d = _fan_details(t, pl.concat([edges, later]))
    assert d["dormant_payer_share"] == 1.0


RING = [(1, 2, 500.0, 0.0), (3, 1, 700.0, 1.0), (2, 3, 300.0, 2.0)]  # a ring, out of order


def _cycles(t, **kw):
    limits = PatternLimits(
        cycle_order="any", min_hop_ratio=None, max_hop_ratio=None, **kw.pop("limits", {})
    )
    p = detect_patterns(t, network="torus", day=DAY, limits=limits, types=["cycle"], **kw)
    return p.patterns


def test_a_ring_paid_in_any_order_is_a_cycle_when_the_profile_says_so():
    t = transfers(RING)
    assert detect_patterns(
        t, network="torus", day=DAY, types=["cycle"],
        limits=PatternLimits(min_hop_ratio=None, max_hop_ratio=None),
    ).patterns.height == 0  # fmt: skip
    (row,) = _cycles(t).iter_rows(named=True)
    # The walk starts at the ring's first transfer (1 -> 2) and goes round once.
    assert row["members"] == [addr(1), addr(2), addr(3)]
    assert row["tx_hashes"] == ["0xtx0", "0xtx2", "0xtx1"]
    assert row["first_time"] < row["last_time"]


def test_an_any_order_ring_belongs_to_the_day_of_its_last_transfer():
    late = RING[:2] + [(2, 3, 300.0, 24.0)]  # the last payment is on the next day
    t = transfers(late)
    assert _cycles(t).height == 0
    kw = {"day": DAY + timedelta(days=1), "span_days": 2}
    p = detect_patterns(
        t, network="torus", types=["cycle"],
        limits=PatternLimits(cycle_order="any", min_hop_ratio=None, max_hop_ratio=None), **kw,
    ).patterns  # fmt: skip
    assert p.height == 1


def test_detectors_on_dormant_legs_skip_rings_of_habitual_partners():
    # The three pay each other every day: the ring on DAY is their habit, not a new ring.
    habit = [(a, b, 50.0, -24.0 * d) for d in range(1, 40) for a, b, _, _ in RING]
    t = transfers(habit + RING)
    edges = aggregate_daily_edges(t)
    on_dormant = {"limits": {"dormant_legs_only": ("cycle",)}, "history": edges}
    assert _cycles(t, history_start=date(2026, 1, 1), **on_dormant).height == 0
    # On the network's first days nothing is judged, so nothing is unusual yet.
    assert _cycles(t, history_start=DAY - timedelta(days=5), **on_dormant).height == 0
    assert _cycles(t, history_start=DAY - timedelta(days=5)).height == 1
    # Accounts that were only ever paid (by 99), never paying, make the ring: found.
    received = [(99, a, 50.0, -24.0 * d) for d in range(1, 40) for a in (1, 2, 3)]
    t = transfers(received + RING)
    found = _cycles(
        t, history=aggregate_daily_edges(t), history_start=date(2026, 1, 1),
        limits={"dormant_legs_only": ("cycle",)},
    )  # fmt: skip
    assert found.height == 1
    assert json.loads(found["details"][0])["dormant_payer_share"] == 1.0


def test_partners_paying_each_other_again_after_a_quiet_spell_start_no_new_ring():
    # The three paid each other weekly until 45 days ago, then went quiet: with a 30-day
    # memory for pairs the ring's legs are new pairs of dormant accounts, and a ring is found;
    # remembering a year of relationships, they are the old partners, and none is.
    habit = [(a, b, 50.0, -24.0 * d) for d in range(45, 120, 7) for a, b, _, _ in RING]
    t = transfers(habit + RING)
    kw = {
        "history": aggregate_daily_edges(t),
        "history_start": date(2026, 1, 1),
        "limits": {"dormant_legs_only": ("cycle",)},
    }
    assert _cycles(t, **kw).height == 1
    assert _cycles(t, relationship_days=365, **kw).height == 0
    # Accounts with no such past make the ring whatever the memory.
    fresh = transfers([(99, a, 50.0, -24.0 * 60) for a in (1, 2, 3)] + RING)
    kw["history"] = aggregate_daily_edges(fresh)
    assert _cycles(fresh, relationship_days=365, **kw).height == 1


def test_bad_detector_modes_name_the_setting():
    with pytest.raises(ValueError, match="patterns.cycle_order: expected time or any"):
        PatternLimits(cycle_order="random")
    with pytest.raises(ValueError, match=r"patterns.dormant_legs_only: unknown pattern types"):
        PatternLimits.from_mapping({"dormant_legs_only": ["cycles"]})


def test_the_partition_judge_gives_the_same_flags_asked_twice_in_any_order():
    from analytics_platform.domain.patterns.dormancy import LegJudge, leg_dormancy
    from analytics_platform.domain.patterns.span import prepare

    t, edges = _fan_in(_daily([(99, s) for s in SENDERS] + [(SENDERS[0], 1)]))
    legs = prepare(t, [])
    known_from = date(2026, 1, 1)
    direct = leg_dormancy(legs, edges, dormancy_days=30, known_from=known_from)
    judge = LegJudge(edges, 30, known_from)
    assert judge(legs).equals(direct)
    assert judge(legs.reverse()).equals(direct.reverse())  # from memory, in the order asked
    on_day = direct.filter(pl.col("time").dt.date() == DAY)
    assert on_day["payer_dormant"].sum() == len(SENDERS) - 1  # the one that paid daily is not
