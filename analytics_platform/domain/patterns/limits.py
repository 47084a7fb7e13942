"""Detection limits: the time spans, sizes and enumeration budgets of every detector.

Configured per network under ``networks.<name>.patterns`` (durations in hours). Every bound
that cuts work short is counted in ``PatternResult.limits_hit`` so an analyst can see what was
not looked at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any

from analytics_platform.domain.schemas import PATTERN_TYPE_NAMES


@dataclass(frozen=True)
class PatternLimits:
    # fan-in / fan-out: distinct counterparties of one centre within fan_window
    min_fan: int = 6
    max_fan: int = 500
    fan_window: timedelta = timedelta(hours=24)
    # scatter-gather / gather-scatter / stack: parallel 2-hop flows through distinct
    # intermediates, each forwarded within hop_window, the whole pattern within flow_window
    min_width: int = 3
    hop_window: timedelta = timedelta(hours=72)
    flow_window: timedelta = timedelta(hours=96)
    max_intermediate_degree: int = 50
    max_component: int = 200
    flow_budget: int = 5_000_000
    # bipartite: >= 2 senders each paying the same >= 2 recipients
    min_bipartite_side: int = 2
    max_bipartite_degree: int = 20
    # cycle: time-ordered round trip through distinct addresses
    min_cycle_length: int = 2
    max_cycle_length: int = 6
    cycle_window: timedelta = timedelta(hours=72)
    min_hop_ratio: float | None = 0.7
    max_hop_ratio: float | None = 1.05
    max_cycle_degree: int = 50
    cycle_origin_budget: int = 10_000  # partial paths extended per start transfer
    cycle_order: str = "time"  # "time": each hop after the previous; "any": a ring in any order
    # layering / peel chains: time-ordered paths through low-degree intermediates
    min_chain_hops: int = 4
    max_chain_hops: int = 12
    chain_hop_window: timedelta = timedelta(hours=48)
    max_chain_degree: int = 3
    peel_min_ratio: float = 0.5
    chain_origin_budget: int = 10_000  # partial paths extended per start transfer
    # rapid pass-through: funds out within pass_window of arriving, little left behind
    pass_window: timedelta = timedelta(hours=6)
    min_pass_ratio: float = 0.9
    max_pass_ratio: float = 1.02
    min_pass_amount: float = 0.0  # amount received, in the unit of pass_ratio (pass_unit)
    # structuring: >= min_structuring transfers just under a reporting threshold
    min_structuring: int = 3
    structuring_window: timedelta = timedelta(hours=24)
    # proximity to labelled risky addresses
    max_proximity_hops: int = 3
    proximity_decay: float = 0.5
    max_proximity_degree: int = 100
    proximity_budget: int = 1_000_000
    # detectors (by pattern type) that see only the span's unusual legs: a pair's first
    # transfer in the network's dormancy_days whose payer or payee was dormant (see
    # patterns.dormancy.leg_dormancy); silent on the network's first dormancy_days days
    dormant_legs_only: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, timedelta) and value <= timedelta(0):
                raise ValueError(f"patterns.{f.name}: must be a positive duration, got {value}")
            if isinstance(value, int) and not isinstance(value, bool) and value < 1:
                raise ValueError(f"patterns.{f.name}: must be >= 1, got {value}")
        if not 2 <= self.min_cycle_length <= self.max_cycle_length:
            raise ValueError(
                f"patterns.min_cycle_length/max_cycle_length: need 2 <= min <= max, got "
                f"{self.min_cycle_length}..{self.max_cycle_length}"
            )
        unknown = set(self.dormant_legs_only) - set(PATTERN_TYPE_NAMES)
        if unknown:
            raise ValueError(f"patterns.dormant_legs_only: unknown pattern types {sorted(unknown)}")
        if self.cycle_order not in ("time", "any"):
            raise ValueError(
                f"patterns.cycle_order: expected time or any, got {self.cycle_order!r}"
            )
        if not 0 < self.proximity_decay <= 1:
            raise ValueError(
                f"patterns.proximity_decay: must be in (0, 1], got {self.proximity_decay}"
            )

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> PatternLimits:
        """Limits from configuration: durations as hours (``fan_window: 24``)."""
        if not raw:
            return cls()
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in known:
                raise ValueError(f"patterns.{name}: unknown limit (known: {', '.join(known)})")
            default = getattr(cls(), name)
            if isinstance(default, timedelta):
                values[name] = timedelta(hours=float(value))
            elif value is None:
                values[name] = None
            else:
                values[name] = type(default)(value) if default is not None else float(value)
        return replace(cls(), **values)

    def longest_span(self) -> timedelta:
        """The longest time span any detector looks back over."""
        return max(
            self.fan_window,
            self.flow_window,
            self.cycle_window,
            self.chain_hop_window * self.max_chain_hops,
            self.structuring_window,
        )
