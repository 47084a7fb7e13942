"""``analytics-platform bench patterns``: every detector over one span of synthetic transfers.

The span (default 10M transfers over 3 days, the production ``pattern_span_days``) is
generated once and cached as Parquet. The figure is the cost of one partition: the patterns
of the span's last day, detected over its horizon of ``days`` days (every transfer of the
span). Figures are printed, never asserted.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

from analytics_platform.bench.memory import peak_rss_bytes

START = date(2026, 1, 1)


def _input(transfers: int, addresses: int, days: int, seed: int, folder: Path) -> Path:
    from analytics_platform.domain.synthetic import SyntheticConfig, generate

    target = folder / f"patterns-{transfers}-{addresses}-{days}d-s{seed}"
    if (target / "transfers.parquet").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    net = generate(
        SyntheticConfig(
            start=START,
            days=days,
            addresses=addresses,
            transfers_per_day=max(1, transfers // days),
            patterns_per_day=2,
            seed=seed,
        )
    )
    net.transfers.write_parquet(target / "transfers.tmp")
    net.labels.select("address", "category").write_parquet(target / "labels.parquet")
    net.ground_truth.write_parquet(target / "truth.parquet")
    os.replace(target / "transfers.tmp", target / "transfers.parquet")
    return target


def run_pattern_bench(
    transfers: int,
    addresses: int,
    days: int,
    seed: int,
    folder: Path,
    dormancy_days: int = 0,
    funnels: bool = False,
    relationship_days: int | None = None,
) -> dict:
    """``dormancy_days`` > 0: also the dormancy shares, judged on the span's days after the
    first ``dormancy_days`` (their ``daily_edges``, built untimed, are the history), and
    cycles and gather-scatter on the unusual legs only, as the AMLSim profile runs them;
    ``funnels``: fan-ins as funnels over the span (``funnel_days`` = ``days``);
    ``relationship_days``: how far back a payment makes a pair established."""
    if funnels and not dormancy_days:
        raise ValueError("funnels: needs dormancy_days > 0")
    if relationship_days is not None and not dormancy_days:
        raise ValueError("relationship_days: needs dormancy_days > 0")
    from analytics_platform.domain.edges import aggregate_daily_edges
    from analytics_platform.domain.evaluation import match_planted
    from analytics_platform.domain.patterns import PatternLimits, detect_patterns
    from analytics_platform.engines.timing import StageTimer

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    say(f"preparing {transfers:,} transfers / {addresses:,} addresses / {days} days ...")
    data = _input(transfers, addresses, days, seed, folder)
    t = pl.read_parquet(data / "transfers.parquet")
    labels = pl.read_parquet(data / "labels.parquet")
    dormancy = {}
    if dormancy_days:
        dormancy = {
            "history": aggregate_daily_edges(t).select("date", "from_address", "to_address"),
            "dormancy_days": dormancy_days,
            "history_start": t["date"].min(),
            "limits": PatternLimits(dormant_legs_only=("cycle", "gather_scatter")),
            "funnel_days": days if funnels else None,
            "relationship_days": relationship_days,
        }
    timer = StageTimer(on_stage=lambda name, secs: say(f"  {name}: {secs:.2f} s"))
    started = time.perf_counter()
    result = detect_patterns(
        t,
        network="torus",
        day=t["date"].max(),
        span_days=days,
        exclude=labels.filter(pl.col("category") == "exchange")["address"].to_list(),
        risky=labels,
        reporting_thresholds={"TOR": 10_000.0},
        timer=timer,
        **dormancy,
    )
    seconds = time.perf_counter() - started
    truth = pl.read_parquet(data / "truth.parquet").filter(pl.col("day") == t["date"].max())
    planted = match_planted(truth, result.patterns)
    return {
        "transfers": t.height,
        "addresses": addresses,
        "days": days,
        "dormancy_days": dormancy_days,
        "funnels": funnels,
        "relationship_days": relationship_days,
        "seconds": round(seconds, 2),
        "transfers_per_second": round(t.height / seconds),
        "peak_rss_gib": round(peak_rss_bytes() / 2**30, 2),
        "stages": {k: round(v, 2) for k, v in timer.seconds.items()},
        "patterns": dict(result.patterns.group_by("pattern_type").len().iter_rows()),
        "limits_hit": result.limits_hit,
        "planted_recall": {
            r["pattern_type"]: r["recall"]
            for r in planted.filter(pl.col("planted") > 0).iter_rows(named=True)
        },
    }


def format_report(report: dict) -> str:
    lines = [
        f"pattern detection: {report['transfers']:,} transfers, {report['days']} days: "
        f"{report['seconds']} s ({report['transfers_per_second']:,} transfers/s), "
        f"peak RSS {report['peak_rss_gib']} GiB",
        "",
        "| stage | seconds |",
        "|---|---:|",
    ]
    lines += [
        f"| {k} | {v:.2f} |" for k, v in sorted(report["stages"].items(), key=lambda kv: -kv[1])
    ]
    lines += [
        "",
        f"patterns: {report['patterns']}",
        f"limits hit: {report['limits_hit']}",
        f"planted recall: {report['planted_recall']}",
    ]
    return "\n".join(lines)
