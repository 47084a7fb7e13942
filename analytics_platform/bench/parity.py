"""Compare two engines' feature frames column by column (tests and the benchmark use it).

Counts and labels-as-sizes must match exactly; float aggregates to a relative 1e-9 (summation
order differs between engines); PageRank/HITS to an absolute tolerance; communities by the
adjusted Rand index of the two partitions (Leiden is randomised differently per engine).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics_platform.domain.feature_catalog import CATALOG, FEATURE_COLUMNS

# HITS is one implementation on both engines (engines.hits): only summation order differs.
APPROXIMATE = {"pagerank": 1e-8, "hub_score": 1e-12, "authority_score": 1e-12}
PARTITIONS = ("community_id",)
DERIVED_FROM_PARTITION = ("community_size",)
RELATIVE = 1e-9


@dataclass(frozen=True)
class ParityReport:
    rows: int
    mismatches: dict[str, str]
    community_ari: float | None

    @property
    def ok(self) -> bool:
        return not self.mismatches


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labelings of the same items (1 = identical partitions)."""
    if len(a) != len(b):
        raise ValueError("adjusted_rand_index: labelings differ in length")
    n = len(a)
    if n < 2:
        return 1.0
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    pairs = np.unique(ai.astype(np.int64) * (bi.max() + 1) + bi, return_counts=True)[1]

    def comb2(x: np.ndarray) -> float:
        x = x.astype(np.float64)
        return float((x * (x - 1) / 2).sum())

    index = comb2(pairs)
    sum_a, sum_b = comb2(np.bincount(ai)), comb2(np.bincount(bi))
    expected = sum_a * sum_b / (n * (n - 1) / 2)
    maximum = (sum_a + sum_b) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def compare_features(left: pl.DataFrame, right: pl.DataFrame, min_ari: float = 0.9) -> ParityReport:
    """Every catalog column of ``left`` vs ``right`` (same addresses, windows and dates)."""
    keys = ["date", "window_days", "address"]
    lhs, rhs = left.sort(keys), right.sort(keys)
    mismatches: dict[str, str] = {}
    if lhs.select(keys).equals(rhs.select(keys)) is False:
        return ParityReport(lhs.height, {"rows": "different addresses/windows"}, None)
    dtypes = {f.name: f.dtype for f in CATALOG}
    ari = None
    for col in FEATURE_COLUMNS:
        a, b = lhs[col], rhs[col]
        if col in PARTITIONS:
            ari = adjusted_rand_index(a.to_numpy(), b.to_numpy())
            if ari < min_ari:
                mismatches[col] = f"adjusted Rand index {ari:.3f} < {min_ari}"
            continue
        if col in DERIVED_FROM_PARTITION:
            continue
        if (a.is_null() != b.is_null()).any():
            mismatches[col] = f"{int((a.is_null() != b.is_null()).sum())} null mismatches"
            continue
        if dtypes[col] == pl.Float64:
            x, y = a.fill_null(0.0).to_numpy(), b.fill_null(0.0).to_numpy()
            if col in APPROXIMATE:
                bad = np.abs(x - y) > APPROXIMATE[col]
            else:
                bad = np.abs(x - y) > RELATIVE * np.maximum(1.0, np.maximum(np.abs(x), np.abs(y)))
            if bad.any():
                worst = float(np.abs(x - y).max())
                mismatches[col] = f"{int(bad.sum())} values differ (max abs diff {worst:.3g})"
        elif not a.equals(b):
            mismatches[col] = f"{int((a != b).sum())} values differ"
    return ParityReport(lhs.height, mismatches, ari)
