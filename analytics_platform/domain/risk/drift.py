"""Population stability of a model's inputs and score: has the data moved since training?

The reference is a column's values on the model's validation days, cut into ``BINS``
quantile bins; a later day's values fall into the same bins, and the population stability
index ``PSI = sum((actual - expected) * ln(actual / expected))`` over the bins says how far
the two distributions are apart (the usual reading: below 0.1 stable, 0.1-0.25 moved, above
0.25 moved enough to retrain). Hand-written: it is ten lines, and no well-kept library here
offers it on plain arrays.
"""

from __future__ import annotations

import numpy as np

BINS = 10
WARN = 0.1
FAIL = 0.25
_FLOOR = 1e-4
"""A bin with no values counts as this share: an empty bin would make the index infinite."""


SIGNIFICANT = 9
"""Digits values are binned at: a feature computed in another order (a day alone or inside a
ranged run) differs in its last bits, and where many values sit on a bin edge (a shared
minimum PageRank) those bits would move them across it."""


def _stable(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to :data:`SIGNIFICANT` significant digits."""
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(values)))
    scale = 10.0 ** (SIGNIFICANT - 1 - np.where(np.isfinite(magnitude), magnitude, 0))
    return np.round(values * scale) / scale


def reference(values: np.ndarray, bins: int = BINS) -> dict[str, list[float]]:
    """The inner quantile edges of ``values`` (duplicates merged: a feature that is mostly 0
    has fewer bins) and the share of values in each bin."""
    values = np.asarray(values, dtype=np.float64)
    values = _stable(values[~np.isnan(values)])
    if values.size == 0:
        return {"edges": [], "shares": [1.0]}
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return {"edges": edges.tolist(), "shares": _shares(values, edges).tolist()}


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return counts / max(values.size, 1)


def psi(ref: dict[str, list[float]], values: np.ndarray) -> float | None:
    """The index of ``values`` against ``ref`` (:func:`reference`); ``None`` without values."""
    values = np.asarray(values, dtype=np.float64)
    values = _stable(values[~np.isnan(values)])
    if values.size == 0:
        return None
    expected = np.maximum(np.asarray(ref["shares"]), _FLOOR)
    actual = np.maximum(_shares(values, np.asarray(ref["edges"])), _FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def status(index: float | None) -> str:
    """``stable``, ``warn`` (at :data:`WARN`) or ``fail`` (at :data:`FAIL`); ``no data``."""
    if index is None:
        return "no data"
    return "fail" if index >= FAIL else "warn" if index >= WARN else "stable"
