from datetime import date

import polars as pl

from analytics_platform.domain.patterns import PatternLimits, detect_patterns
from analytics_platform_tests.graphs import addr, transfers

DAY = date(2026, 10, 1)


def detect(rows, types=None, **kw):
    p = detect_patterns(transfers(rows), network="torus", day=DAY, **kw).patterns
    return p if types is None else p.filter(pl.col("pattern_type").is_in(types))


def test_fan_out_found_with_members_roles_and_evidence():
    rows = [(1, 100 + i, 1000.0, i * 0.5) for i in range(8)]
    p = detect(rows)
    assert p["pattern_type"].to_list() == ["fan_out"]
    row = p.row(0, named=True)
    assert row["center_address"] == addr(1) and len(row["members"]) == 9
    assert row["roles"][0] == "source" and set(row["roles"][1:]) == {"sink"}
    assert sorted(row["tx_hashes"]) == sorted(f"0xtx{i}" for i in range(8))
    assert 0 < row["score"] <= 1


def test_fan_in_found_and_small_fans_are_not():
    fan_in = [(100 + i, 1, 500.0, i) for i in range(7)]
    assert detect(fan_in)["pattern_type"].to_list() == ["fan_in"]
    assert detect([(1, 100 + i, 1000.0, i) for i in range(5)]).height == 0


def test_fan_spread_beyond_the_time_window_is_not_a_fan():
    rows = [(1, 100 + i, 1000.0, i * 7) for i in range(8)]  # 8 recipients over 49 hours
    assert detect(rows).filter(pl.col("pattern_type") == "fan_out").height == 0


def test_services_are_excluded():
    rows = [(1, 100 + i, 1000.0, i * 0.5) for i in range(8)]
    assert detect(rows, exclude={addr(1)}).height == 0


def test_time_ordered_cycle_found_and_out_of_order_is_not():
    cycle = [(1, 2, 1000, 1), (2, 3, 990, 2), (3, 4, 980, 3), (4, 1, 970, 4)]
    p = detect(cycle, ["cycle"])
    assert p["pattern_type"].to_list() == ["cycle"]
    row = p.row(0, named=True)
    assert row["members"] == [addr(1), addr(2), addr(3), addr(4)]
    assert row["center_address"] == addr(1) and row["transfer_count"] == 4
    # Same edges, but no rotation of them is in time order: not a round trip.
    shuffled = [(1, 2, 1000, 3), (2, 3, 990, 1), (3, 4, 980, 5), (4, 1, 970, 2)]
    assert detect(shuffled, ["cycle"]).height == 0
    # Amounts that do not carry on (a 10x jump) are not the same funds going round.
    assert detect([(1, 2, 10, 1), (2, 3, 1000, 2), (3, 1, 990, 3)], ["cycle"]).height == 0


def test_a_ring_closed_through_several_transfers_is_one_cycle_with_its_best_walk():
    ring = [
        (1, 2, 1000, 1),
        (2, 3, 990, 2),
        (2, 3, 985, 2.5),  # a second payment on the same hop
        (3, 1, 980, 3),
        (3, 1, 700, 4),  # a second, smaller way back
    ]
    for order in ("time", "any"):
        p = detect(ring, ["cycle"], limits=PatternLimits(cycle_order=order))
        # Four walks through the same three accounts: one round trip with all their
        # transfers, the best walk's first (98% back; the 990 and 985 walks tie, the first
        # transfers by id win) and its return ratio.
        assert p.height == 1, (order, p)
        row = p.row(0, named=True)
        assert row["members"] == [addr(1), addr(2), addr(3)]
        assert row["tx_hashes"] == ["0xtx0", "0xtx1", "0xtx3", "0xtx2", "0xtx4"]
        assert row["total_amount"] == 1000 + 990 + 985 + 980 + 700
        assert (row["first_time"].hour, row["last_time"].hour) == (9, 12)
        assert '"return_ratio":0.98' in row["details"]
    # The same accounts the other way round are another ring, and each ring is kept once.
    both_ways = detect([*ring, (1, 3, 1000, 5), (3, 2, 990, 6), (2, 1, 980, 7)], ["cycle"])
    rings = both_ways.select("center_address", "members")
    assert rings.is_unique().all(), rings
    assert {(addr(1), addr(2), addr(3)), (addr(1), addr(3), addr(2))} <= {
        tuple(m) for m in rings["members"]
    }


def test_pattern_ids_are_deterministic_and_patterns_belong_to_their_last_day():
    rows = [(1, 2, 1000, 1), (2, 3, 990, 2), (3, 1, 980, 3)]
    a, b = detect(rows), detect(rows)
    assert a["pattern_id"].to_list() == b["pattern_id"].to_list()
    later = detect_patterns(transfers(rows), network="torus", day=date(2026, 10, 2)).patterns
    assert a.height > 0 and later.height == 0


def only(rows, kind, **kw):
    return detect(rows, [kind], **kw)


def members(p):
    return [set(r) for r in p["members"].to_list()]


def test_scatter_gather_found_and_look_alikes_are_not():
    sg = [(1, 10, 1000, 0), (1, 11, 900, 0.5), (1, 12, 800, 1)]
    sg += [(10, 2, 990, 2), (11, 2, 890, 2.5), (12, 2, 790, 3)]
    p = only(sg, "scatter_gather")
    assert p.height == 1 and members(p) == [{addr(i) for i in (1, 10, 11, 12, 2)}]
    row = p.row(0, named=True)
    assert row["roles"] == ["source", "intermediate", "intermediate", "intermediate", "sink"]
    assert only(sg[:2] + sg[3:5], "scatter_gather").height == 0  # two intermediates only
    # Intermediates that pay the sink before they were paid are not passing the funds on.
    early = sg[:3] + [(m, s, a, 0 - 5) for m, s, a, _ in sg[3:]]
    assert only(early, "scatter_gather").height == 0


def test_gather_scatter_found_and_scatter_before_gather_is_not():
    gs = [(10 + i, 1, 1000, i * 0.5) for i in range(3)] + [
        (1, 20 + i, 900, 3 + i) for i in range(3)
    ]
    p = only(gs, "gather_scatter")
    assert p.height == 1 and p["center_address"][0] == addr(1)
    roles = dict(zip(p["members"][0], p["roles"][0], strict=True))
    assert roles[addr(1)] == "intermediate" and roles[addr(10)] == "source"
    assert roles[addr(20)] == "sink"
    reversed_ = [(1, 20 + i, 900, i) for i in range(3)] + [
        (10 + i, 1, 1000, 5 + i) for i in range(3)
    ]
    assert only(reversed_, "gather_scatter").height == 0


def test_bipartite_block_found_and_a_single_shared_recipient_is_not():
    block = [(1, 10, 500, 0), (1, 11, 500, 1), (2, 10, 500, 2), (2, 11, 500, 3)]
    p = only(block, "bipartite")
    assert members(p) == [{addr(1), addr(2), addr(10), addr(11)}]
    assert only([(1, 10, 500, 0), (1, 11, 500, 1), (2, 10, 500, 2)], "bipartite").height == 0


def test_stack_of_layers_found():
    rows = []
    for i, m in enumerate(range(10, 14)):
        rows += [(1 + i % 2, m, 1000, i * 0.5), (m, 20 + (i // 2) % 2, 970, i * 0.5 + 2)]
    p = only(rows, "stack")
    assert p.height == 1
    roles = dict(zip(p["members"][0], p["roles"][0], strict=True))
    assert {roles[addr(1)], roles[addr(2)]} == {"source"}
    assert {roles[addr(m)] for m in range(10, 14)} == {"intermediate"}
    assert {roles[addr(20)], roles[addr(21)]} == {"sink"}
    # One source, one sink: a scatter-gather, not a stack.
    assert (
        only(
            [(1, m, 1000, 0) for m in range(10, 14)] + [(m, 20, 970, 2) for m in range(10, 14)],
            "stack",
        ).height
        == 0
    )


def test_peel_chain_and_layering_chain_told_apart_and_short_chains_ignored():
    amounts = [1000, 900, 810, 729, 656]
    peel = [(i + 1, i + 2, a, i) for i, a in enumerate(amounts)]
    p = detect(peel, ["peel_chain", "layering_chain"])
    assert p["pattern_type"].to_list() == ["peel_chain"]
    assert p["members"][0].to_list() == [addr(i) for i in range(1, 7)]
    assert p["roles"][0].to_list() == ["source"] + ["intermediate"] * 4 + ["sink"]
    jumpy = [(i + 1, i + 2, a, i) for i, a in enumerate([1000, 1500, 700, 1200, 800])]
    assert detect(jumpy, ["peel_chain", "layering_chain"])["pattern_type"].to_list() == [
        "layering_chain"
    ]
    assert detect(peel[:3], ["peel_chain", "layering_chain"]).height == 0
    # Hops two days apart are not one chain.
    slow = [(i + 1, i + 2, a, i * 49 - 4 * 49) for i, a in enumerate(amounts)]
    assert detect(slow, ["peel_chain", "layering_chain"]).height == 0


def test_rapid_pass_through_found_and_slow_or_partial_forwarding_is_not():
    p = only([(1, 5, 1000, 0), (5, 6, 990, 1)], "rapid_pass_through")
    assert p["center_address"].to_list() == [addr(5)]
    assert only([(1, 5, 1000, 0), (5, 6, 990, 10)], "rapid_pass_through").height == 0
    assert only([(1, 5, 1000, 0), (5, 6, 500, 1)], "rapid_pass_through").height == 0


def test_structuring_just_under_the_threshold_found_and_ordinary_amounts_are_not():
    kw = {"reporting_thresholds": {"TOR": 10_000.0}}
    under = [(1, 10 + i, 9_500, i * 0.5) for i in range(4)]
    p = only(under, "structuring", **kw)
    assert p["center_address"].to_list() == [addr(1)] and p["transfer_count"][0] == 4
    assert only([(1, 10 + i, 5_000, i) for i in range(4)], "structuring", **kw).height == 0
    assert only(under[:2], "structuring", **kw).height == 0
    assert only(under, "structuring").height == 0  # no threshold configured for the asset


def test_proximity_to_risky_decays_with_hops_and_follows_time():
    risky = pl.DataFrame({"address": [addr(9)], "category": ["mixer"]})
    rows = [(9, 1, 1000, 0), (1, 2, 900, 1), (2, 3, 800, 2), (3, 4, 700, 3)]
    p = only(rows, "risky_proximity", risky=risky)
    score = dict(zip(p["center_address"], p["score"], strict=True))
    assert score == {addr(1): 0.8, addr(2): 0.4, addr(3): 0.2}  # addr(4) is 4 hops away
    out_of_order = [(9, 1, 1000, 5), (1, 2, 900, 1)]
    p = only(out_of_order, "risky_proximity", risky=risky)
    assert set(p["center_address"]) == {addr(1)}


def test_limits_hit_are_reported():
    rows = [(1, 100 + i, 10, i * 0.01) for i in range(30)]
    result = detect_patterns(
        transfers(rows), network="torus", day=DAY, limits=PatternLimits(max_fan=20)
    )
    assert result.limits_hit["fan_out_over_max_fan"] == 1
    assert result.patterns.filter(pl.col("pattern_type") == "fan_out").height == 0


def test_a_days_patterns_depend_only_on_its_horizon():
    day2 = date(2026, 10, 2)
    fan = [(1, 100 + i, 1000.0, i * 0.5) for i in range(8)]  # day 1, 08:00-11:30
    # Day 2: the same centre pays 600 more addresses (a service-sized fan over both days).
    later = [(1, 1_000 + i, 10.0, 24 + i * 0.01) for i in range(600)]
    alone = detect(fan, ["fan_out"])
    with_later = detect(fan + later, ["fan_out"])
    assert alone.height == 1 and with_later.equals(alone)
    # A round trip that starts on day 1 and closes on day 2 (08:00 + 23 h, + 25 h).
    cycle = [(5, 6, 1000, 1), (6, 7, 990, 23), (7, 5, 980, 25)]
    t = transfers(cycle)
    one_day = detect_patterns(t, network="torus", day=day2, span_days=1).patterns
    two_days = detect_patterns(t, network="torus", day=day2, span_days=2).patterns
    assert one_day.filter(pl.col("pattern_type") == "cycle").height == 0
    assert two_days.filter(pl.col("pattern_type") == "cycle")["date"].to_list() == [day2]
    # Nothing ends on day 1 in day 2's horizon, and patterns are reported on their last day.
    assert detect_patterns(t, network="torus", day=DAY, span_days=2).patterns.height == 0
