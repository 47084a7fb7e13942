from datetime import date

import polars as pl

from analytics_platform.domain.patterns import detect_patterns

from .graphs import addr, transfers

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


def test_pattern_ids_are_deterministic_and_patterns_belong_to_their_last_day():
    rows = [(1, 2, 1000, 1), (2, 3, 990, 2), (3, 1, 980, 3)]
    a, b = detect(rows), detect(rows)
    assert a["pattern_id"].to_list() == b["pattern_id"].to_list()
    later = detect_patterns(transfers(rows), network="torus", day=date(2026, 10, 2)).patterns
    assert a.height > 0 and later.height == 0
