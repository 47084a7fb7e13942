"""``analytics-platform bench scoring``: a day's risk scores for every active address, and the
contributions behind the addresses of a day's cases.

The model is trained on a generated history (AMLSim's five pattern types, whose members stand
out on one feature each, the rest noise) with the project's settings, then scores one day of
``addresses`` rows with as many features as the AMLSim profile's matrix. Figures are printed,
never asserted.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta

import numpy as np
import polars as pl

from analytics_platform.bench.memory import peak_rss_bytes

START = date(2026, 1, 1)


def _matrix(rng: np.random.Generator, addresses: int, days: int, features: int) -> pl.DataFrame:
    columns = {f"f{i:03d}": rng.lognormal(1, 1, addresses * days) for i in range(features)}
    return pl.DataFrame(
        {
            "address": [f"a{i}" for i in range(addresses)] * days,
            "date": pl.date_range(START, START + timedelta(days=days - 1), eager=True).gather(
                np.repeat(np.arange(days), addresses)
            ),
            **columns,
        }
    )


def run_scoring_bench(
    addresses: int, features: int = 127, case_addresses: int = 50, seed: int = 7
) -> dict:
    from analytics_platform.domain.risk.model import TrainingSettings, train

    rng = np.random.default_rng(seed)
    history = _matrix(rng, 2_000, 90, features)
    kinds = ("cycle", "fan_in", "fan_out", "gather_scatter", "scatter_gather")  # AMLSim's
    members = {kind: range(40 * i, 40 * (i + 1)) for i, kind in enumerate(kinds)}
    labels = pl.DataFrame(
        [
            (f"a{a}", kind, START + timedelta(days=d), START + timedelta(days=d + 4),
             START + timedelta(days=d + 4), "bench")
            for kind, ids in members.items()
            for a, d in zip(ids, rng.integers(0, 80, len(ids)).tolist(), strict=True)
        ],
        schema=["address", "pattern_type", "first_day", "last_day", "known_at", "source"],
        orient="row",
    )  # fmt: skip
    signal = {kind: f"f{i:03d}" for i, kind in enumerate(kinds)}
    for kind, column in signal.items():
        inside = history.join(
            labels.filter(pl.col("pattern_type") == kind), on="address", how="left"
        ).select(pl.col("date").is_between("first_day", "last_day").fill_null(False))
        history = history.with_columns(
            pl.when(inside.to_series()).then(pl.col(column) * 20).otherwise(pl.col(column))
        )
    t0 = time.perf_counter()
    model = train(history, labels, START + timedelta(days=89), TrainingSettings(validation_days=20))
    trained = time.perf_counter() - t0
    day = _matrix(rng, addresses, 1, features).with_columns(
        pl.lit(START + timedelta(days=90)).alias("date")
    )
    t0 = time.perf_counter()
    probs = model.probabilities(day)
    scored = time.perf_counter() - t0
    case = day.head(case_addresses)
    t0 = time.perf_counter()
    why = model.contributions(case)
    explained = time.perf_counter() - t0
    return {
        "addresses": addresses,
        "features": features,
        "classes": list(model.classes),
        "train_seconds": round(trained, 2),
        "score_seconds": round(scored, 2),
        "addresses_per_second": int(addresses / scored) if scored else None,
        "case_addresses": case_addresses,
        "contributions_seconds": round(explained, 3),
        "contribution_rows": why.height,
        "scored_rows": probs.height,
        "peak_rss_gib": round(peak_rss_bytes() / 2**30, 2),
    }


def format_report(report: dict) -> str:
    return "\n".join(
        [
            f"bench scoring: {report['addresses']:,} addresses x {report['features']} features, "
            f"classes {report['classes']}",
            f"  train (generated 90-day history)  {report['train_seconds']:8.2f} s",
            f"  score every address               {report['score_seconds']:8.2f} s"
            f"   {report['addresses_per_second']:,} addresses/s",
            f"  contributions of a case's {report['case_addresses']} addresses "
            f"{report['contributions_seconds']:6.3f} s",
            f"  scores + contributions            "
            f"{report['score_seconds'] + report['contributions_seconds']:8.2f} s",
            f"  peak RSS {report['peak_rss_gib']} GiB",
        ]
    )


if __name__ == "__main__":
    print(format_report(run_scoring_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)))
