"""Planted patterns by shape: an exact isomorphism key and the right type it allows."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import polars as pl

from analytics_platform.domain.shapes import canonical_shape, shape_ambiguity


def test_the_shape_is_the_graph_up_to_names_with_direction_multiplicity_and_self_transfers():
    ring = canonical_shape([("a", "b"), ("b", "c"), ("c", "a")])
    assert ring == canonical_shape([("y", "z"), ("x", "y"), ("z", "x")])  # renamed, reordered
    assert ring != canonical_shape([("a", "b"), ("b", "c"), ("a", "c")])  # one hop reversed
    both_ways = canonical_shape([("a", "b"), ("b", "a")])
    assert both_ways == canonical_shape([("q", "p"), ("p", "q")])
    assert both_ways != canonical_shape([("a", "b"), ("a", "b")])  # one pair paid twice
    assert canonical_shape([("a", "a")]) != canonical_shape([("a", "b")])  # a self-transfer
    fan_in = [(f"p{i}", "c") for i in range(4)]
    fan_out = [("c", f"p{i}") for i in range(4)]
    assert canonical_shape(fan_in) != canonical_shape(fan_out)


def _isomorphic(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> bool:
    """By brute force over every renaming of ``a``'s accounts onto ``b``'s (small graphs)."""
    names_a = sorted({x for pair in a for x in pair})
    names_b = sorted({x for pair in b for x in pair})
    if len(names_a) != len(names_b):
        return False
    target = Counter(b)
    return any(
        Counter((m[x], m[y]) for x, y in a) == target
        for m in (dict(zip(names_a, p, strict=True)) for p in itertools.permutations(names_b))
    )


def test_the_key_agrees_with_a_brute_force_isomorphism_test_on_random_graphs():
    rng = random.Random(7)

    def graph(prefix: str) -> list[tuple[str, str]]:
        n, m = rng.randint(2, 5), rng.randint(1, 7)
        return [(f"{prefix}{rng.randrange(n)}", f"{prefix}{rng.randrange(n)}") for _ in range(m)]

    for _ in range(200):
        a = graph("a")
        names = sorted({x for p in a for x in p})
        renamed = dict(zip(names, rng.sample(range(100), len(names)), strict=True))
        shuffled = [(f"b{renamed[x]}", f"b{renamed[y]}") for x, y in a]
        rng.shuffle(shuffled)
        assert canonical_shape(a) == canonical_shape(shuffled), (a, shuffled)
        other = graph("c")
        assert (canonical_shape(a) == canonical_shape(other)) == _isomorphic(a, other), (a, other)


def _transfers(patterns: dict[str, tuple[str, list[tuple[str, str]]]], sar=True) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (pid, kind, sar, src, dst)
            for pid, (kind, pairs) in patterns.items()
            for src, dst in pairs
        ],
        schema=["pattern_id", "pattern_type", "is_sar", "from_address", "to_address"],
        orient="row",
    )


def test_a_shape_labelled_with_several_types_caps_the_right_type_at_its_most_common():
    """AMLworld's A -> B, B -> A is a cycle, a stack or a scatter-gather: at best each such
    pattern is named a cycle (2 of 4 right); fan-ins of four renamed are one shape, right."""
    truth = _transfers(
        {
            "c1": ("CYCLE", [("a", "b"), ("b", "a")]),
            "c2": ("CYCLE", [("c", "d"), ("d", "c")]),
            "s1": ("STACK", [("e", "f"), ("f", "e")]),
            "g1": ("SCATTER-GATHER", [("g", "h"), ("h", "g")]),
            "f1": ("FAN-IN", [(f"p{i}", "c") for i in range(4)]),
            "f2": ("FAN-IN", [(f"q{i}", "d") for i in range(4)]),
        }
    )
    look_alike = _transfers({"x": ("FAN-OUT", [("a", "b"), ("b", "a")])}, sar=False)
    rows = {r["transfers"]: r for r in shape_ambiguity(pl.concat([truth, look_alike])).to_dicts()}
    assert set(rows) == {"2", "3+", "all"}  # the look-alike is no planted pattern
    assert (rows["2"]["planted"], rows["2"]["shapes"], rows["2"]["shared_shape"]) == (4, 1, 4)
    assert rows["2"]["right_type_by_shape"] == 0.5
    assert (rows["3+"]["shared_shape"], rows["3+"]["right_type_by_shape"]) == (0, 1.0)
    assert (rows["all"]["planted"], rows["all"]["right_type_by_shape"]) == (6, 4 / 6)
