"""Structural pattern detection over a span of transfers.

Every detector is time-aware (transfers ordered in time within a configurable span) and
bounded (limits on path length, fan size and enumeration budget, counted when hit); see
:class:`PatternLimits`.

The horizon: the patterns of partition day *d* are those whose last transfer is on *d*, found
among the transfers of days ``d - span_days + 1 .. d`` and nothing else. Every detector sees
exactly that horizon (degrees, fan sizes, budgets and chain ends are all measured within it), so
a day's patterns are a pure function of its ``span_days`` days of transfers, whichever run or
backfill computes them. A chain or flow longer than the horizon is cut at its start (reported
from the first transfer inside the horizon). Pattern ids are content hashes of network, type and
transfers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import polars as pl

from analytics_platform.domain.patterns.cycles import detect_cycles
from analytics_platform.domain.patterns.details import (
    with_amounts,
    with_novel_share,
    with_usd_totals,
)
from analytics_platform.domain.patterns.dormancy import LegJudge, unusual_legs, with_dormancy
from analytics_platform.domain.patterns.fans import detect_fans, detect_funnels
from analytics_platform.domain.patterns.flow_through import detect_pass_through, detect_structuring
from analytics_platform.domain.patterns.flows import (
    detect_bipartite,
    detect_gather_scatter,
    detect_scatter_gather,
    detect_stacks,
    forwarding_steps,
)
from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.domain.patterns.paths import detect_chains
from analytics_platform.domain.patterns.proximity import detect_proximity
from analytics_platform.domain.patterns.span import PatternResult, Span, pattern_id, prepare
from analytics_platform.domain.schemas import (
    PATTERN_TYPE_NAMES,
    STRUCTURAL_PATTERNS,
    conform,
    empty,
)
from analytics_platform.engines.timing import StageTimer

PATTERN_TYPES = PATTERN_TYPE_NAMES

__all__ = ["PATTERN_TYPES", "PatternLimits", "PatternResult", "detect_patterns", "pattern_id"]


def detect_patterns(
    transfers: pl.DataFrame,
    *,
    network: str,
    day: date,
    span_days: int = 1,
    exclude: Iterable[str] = frozenset(),
    limits: PatternLimits | None = None,
    risky: pl.DataFrame | None = None,
    reporting_thresholds: Mapping[str, float] | None = None,
    structuring_band: float = 0.1,
    prices: pl.DataFrame | None = None,
    reporting_threshold_usd: float | None = None,
    types: Iterable[str] = PATTERN_TYPES,
    timer: StageTimer | None = None,
    history: pl.DataFrame | None = None,
    dormancy_days: int = 30,
    history_start: date | None = None,
    funnel_days: int | None = None,
    relationship_days: int | None = None,
) -> PatternResult:
    """Patterns of partition ``day``: ending on ``day``, built from the transfers of the
    ``span_days`` days ending with it (other rows of ``transfers`` are ignored).

    ``exclude``: service addresses (exchanges) left out of every pattern; ``risky``: labelled
    addresses (address, category) for proximity; ``types``: which detectors run;
    ``prices`` (date, asset, usd_price): USD totals per pattern and, with
    ``reporting_threshold_usd``, structuring by USD value; ``history`` (date, from_address,
    to_address over at least ``dormancy_days`` days before the span, e.g. ``daily_edges``):
    the dormancy shares of each pattern, judged from ``history_start`` + ``dormancy_days``
    (the network's first day: before it nothing is known), and the unusual legs that the
    detectors named in ``limits.dormant_legs_only`` see instead of the whole span;
    ``funnel_days`` (with ``history`` covering them too): fan-ins are funnels over that many
    days of ``transfers`` (:func:`detect_funnels`); ``relationship_days`` (``history`` covering
    them too): how far back a payment makes a pair established, not new (default
    ``dormancy_days``; see :func:`leg_dormancy`).
    """
    lim = limits or PatternLimits()
    timer = timer or StageTimer()
    wanted = set(types)
    unknown = wanted - set(PATTERN_TYPES)
    if unknown:
        raise ValueError(f"types: unknown pattern types {sorted(unknown)}")
    if span_days < 1:
        raise ValueError(f"span_days: must be >= 1, got {span_days}")
    if funnel_days is not None and history is None:
        raise ValueError("funnel_days: needs history (the dormancy look-back's daily_edges)")
    span, memory, judged, spans = _spans(
        transfers, network, day, span_days, exclude, prices, lim, timer,
        history=history, history_start=history_start, dormancy_days=dormancy_days,
        funnel_days=funnel_days, relationship_days=relationship_days,
    )  # fmt: skip
    frames = _detect_each(
        wanted, spans, span, memory, judged, lim, timer,
        risky=risky, structuring=(reporting_thresholds or {}, structuring_band,
                                  reporting_threshold_usd),
        dormancy_days=dormancy_days, funnel_days=funnel_days,
    )  # fmt: skip
    frames = [f for f in frames if f.height]
    patterns = pl.concat(frames, how="vertical") if frames else empty(STRUCTURAL_PATTERNS)
    patterns = (
        patterns.filter(pl.col("pattern_type").is_in(list(wanted)))
        .unique("pattern_id", keep="first")
        .sort("pattern_type", "pattern_id")
    )
    # Values read from each pattern's transfers: a funnel's reach back before the span, so
    # they are looked up in the memory; every other pattern's in the span.
    funnel = (pl.col("pattern_type") == "fan_in") & pl.lit(memory is not span)
    patterns = pl.concat(
        [
            _with_leg_values(patterns.filter(~funnel), span.t, timer, judged),
            _with_leg_values(patterns.filter(funnel), memory.t, timer, judged),
        ]
    ).sort("pattern_type", "pattern_id")
    return PatternResult(patterns=patterns, limits_hit={k: v for k, v in span.hits.items() if v})


def _spans(
    transfers: pl.DataFrame,
    network: str,
    day: date,
    span_days: int,
    exclude: Iterable[str],
    prices: pl.DataFrame | None,
    lim: PatternLimits,
    timer: StageTimer,
    *,
    history: pl.DataFrame | None,
    history_start: date | None,
    dormancy_days: int,
    funnel_days: int | None,
    relationship_days: int | None,
) -> tuple[Span, Span, LegJudge | None, dict[str, Span]]:
    """The span's transfers, the funnels' longer memory (the span itself without
    ``funnel_days``), the judge of dormant legs (with ``history``) and, per pattern type,
    the span its detector sees (the unusual legs for ``limits.dormant_legs_only``)."""
    first = day - timedelta(days=span_days - 1)
    with timer.stage("prepare"):
        horizon = transfers.filter(pl.col("block_time").dt.date().is_between(first, day))
        span = Span(prepare(horizon, exclude, prices), network, day, {})
        memory = span
        if funnel_days is not None:
            since = day - timedelta(days=funnel_days - 1)
            remembered = transfers.filter(pl.col("block_time").dt.date().is_between(since, day))
            memory = Span(prepare(remembered, exclude, prices), network, day, span.hits)

    judged = None  # where the network judges dormancy: each leg once per partition
    if history is not None:
        known_from = (history_start or date.min) + timedelta(days=dormancy_days)
        judged = LegJudge(history, dormancy_days, known_from, relationship_days)

    spans = {kind: span for kind in PATTERN_TYPES}
    if lim.dormant_legs_only and judged is not None:
        with timer.stage("unusual_legs"):
            flags = judged(span.t)
            legs = unusual_legs(flags).drop("row").with_row_index("row")
            unusual = Span(legs, network, day, span.hits)
        spans.update({kind: unusual for kind in lim.dormant_legs_only})
    return span, memory, judged, spans


def _detect_each(
    wanted: set[str],
    spans: dict[str, Span],
    span: Span,
    memory: Span,
    judged: LegJudge | None,
    lim: PatternLimits,
    timer: StageTimer,
    *,
    risky: pl.DataFrame | None,
    structuring: tuple[Mapping[str, float], float, float | None],
    dormancy_days: int,
    funnel_days: int | None,
) -> list[pl.DataFrame]:
    """Each wanted detector on its span (``spans``: the whole span, or the unusual legs for
    the types of ``limits.dormant_legs_only``), timed as its own stage."""
    frames: list[pl.DataFrame] = []

    def run(name: str, fn, kind: str, *args) -> None:
        with timer.stage(name):
            frames.append(fn(spans[kind], *args))

    if "fan_in" in wanted and judged is not None and funnel_days is not None:
        with timer.stage("funnels"):
            frames.append(
                detect_funnels(
                    memory,
                    span,
                    judged,
                    lim,
                    dormancy_days=dormancy_days,
                    funnel_days=funnel_days,
                )  # fmt: skip
            )
    elif "fan_in" in wanted:
        run("fan_in", detect_fans, "fan_in", "fan_in", lim)
    if "fan_out" in wanted:
        run("fan_out", detect_fans, "fan_out", "fan_out", lim)
    steps: dict[int, pl.DataFrame] = {}  # per span: scatter-gather and stacks share them
    for kind in ("scatter_gather", "stack"):
        if kind in wanted:
            if id(spans[kind]) not in steps:
                with timer.stage("forwarding_steps"):
                    steps[id(spans[kind])] = forwarding_steps(spans[kind], lim)
            detector = detect_scatter_gather if kind == "scatter_gather" else detect_stacks
            run(kind, detector, kind, steps[id(spans[kind])], lim)
    if "gather_scatter" in wanted:
        run("gather_scatter", detect_gather_scatter, "gather_scatter", lim)
    if "bipartite" in wanted:
        run("bipartite", detect_bipartite, "bipartite", lim)
    if "cycle" in wanted:
        run("cycle", detect_cycles, "cycle", lim)
    if wanted & {"layering_chain", "peel_chain"}:
        run("chains", detect_chains, "layering_chain", lim)
    if "rapid_pass_through" in wanted:
        run("rapid_pass_through", detect_pass_through, "rapid_pass_through", lim)
    if "structuring" in wanted:
        run(
            "structuring",
            detect_structuring,
            "structuring",
            lim,
            *structuring,
        )
    if "risky_proximity" in wanted and risky is not None:
        run("risky_proximity", detect_proximity, "risky_proximity", lim, risky)
    return frames


def _with_leg_values(
    patterns: pl.DataFrame,
    t: pl.DataFrame,
    timer: StageTimer,
    judge: LegJudge | None,
) -> pl.DataFrame:
    """USD totals, amounts per asset, novel share and (with ``judge``) dormancy shares of
    ``patterns`` from their transfers in ``t``."""
    with timer.stage("amounts"):
        patterns = with_amounts(with_usd_totals(patterns, t), t)
    with timer.stage("novel_share"):
        patterns = conform(with_novel_share(patterns, t), STRUCTURAL_PATTERNS)
    if judge is not None:
        with timer.stage("dormancy"):
            used = patterns.select(pl.col("tx_hashes").explode(empty_as_null=False).alias("tx"))
            flags = judge(t.join(used, on="tx", how="semi"))
            patterns = with_dormancy(patterns, flags, judge.dormancy_days)
    return patterns
