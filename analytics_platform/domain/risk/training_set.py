"""What a risk model learns from: the address-day rows up to a cutoff, each with the label
known then, a weight and the part of training it serves.

- **Fit rows** (the days up to ``cutoff - validation_days - gap_days``): an address-day of a
  labelled address inside its pattern's days, labelled with the pattern's type (a dismissed
  case is a ``none`` label, a negative the team checked: full weight); its other days are left
  out (the label does not say what it did then). Unlabelled address-days are negatives
  (``none``), a fixed share of them chosen by a hash of (address, day) and given a lower
  weight: unlabelled is not innocent (an undetected launderer may be among them), and the
  sample keeps training small.
- **Validation rows** (the last ``validation_days``): every address-day. Those a fit row would
  be (labelled or sampled) carry their label and weight and decide early stopping; the rest
  have neither and only serve the thresholds, the calibration and the drift reference, which
  are judged on every row (the sampled negatives would flatter precision).
- The ``gap_days`` between them are left out, so a pattern spanning the boundary is not on both
  sides. Nothing uses a label known after the cutoff or a day after it: no leakage.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from analytics_platform.domain.risk.labels import known_by
from analytics_platform.domain.risk.matrix import KEY

NONE = "none"
FIT, VALIDATION = "fit", "validation"
SET_COLUMNS = {"label": pl.String, "weight": pl.Float64, "split": pl.String}
"""The columns a training set has besides ``KEY`` and the features."""


@dataclass(frozen=True)
class TrainingSettings:
    validation_days: int = 60
    gap_days: int = 7
    negative_share: float = 0.2
    """Share of unlabelled address-days kept as negatives (a hash of address and day)."""
    negative_weight: float = 0.5
    min_positives: int = 20
    """Fewer labelled address-days before the validation days than this: refused."""

    @classmethod
    def for_history(cls, days: int) -> TrainingSettings:
        """The defaults, with the validation days and gap cut to a quarter and a sixteenth of
        a history of ``days`` days before the cutoff when it is short (a week of data)."""
        validation = max(1, min(cls.validation_days, days // 4))
        return cls(validation_days=validation, gap_days=min(cls.gap_days, validation // 4))

    def fit_end(self, cutoff: date) -> date:
        return cutoff - timedelta(days=self.validation_days + self.gap_days)

    def validation_start(self, cutoff: date) -> date:
        return cutoff - timedelta(days=self.validation_days - 1)


@dataclass(frozen=True)
class TrainingSet:
    """A model's training set as the ``risk_training_set`` asset stores it."""

    rows: pl.DataFrame
    """:func:`training_set`'s rows."""
    labels: pl.DataFrame
    """The labels known at the cutoff (``labels.LABELS``): they judge the validation days."""
    cutoff: date
    settings: TrainingSettings
    lineage: dict[str, Any] = field(default_factory=dict)
    """What the registry logs with a model trained on it (days, label counts, data version)."""

    @property
    def validation_matrix(self) -> pl.DataFrame:
        return validation_matrix(self.rows)


def feature_columns(rows: pl.DataFrame) -> list[str]:
    """The features of a training set's ``rows``: every column but ``KEY`` and
    :data:`SET_COLUMNS`, in order."""
    return [c for c in rows.columns if c not in KEY and c not in SET_COLUMNS]


def validation_matrix(rows: pl.DataFrame) -> pl.DataFrame:
    """``KEY`` and the features of every validation row of a training set's ``rows``."""
    return rows.filter(pl.col("split") == VALIDATION).select(*KEY, *feature_columns(rows))


def _sampled(share: float) -> pl.Expr:
    """A fixed ``share`` of rows by a hash of (address, day): the same rows every time. crc32
    in Python (about a second a million rows), not polars' ``hash``, which polars does not
    promise to keep across versions: the sample, and so the model, would move with it."""
    text = pl.format("{}|{}", "address", "date")
    bucket = text.map_elements(lambda s: zlib.crc32(s.encode()) % 10_000, return_dtype=pl.Int64)
    return bucket < int(share * 10_000)


def training_rows(
    matrix: pl.DataFrame, labels: pl.DataFrame, cutoff: date, settings: TrainingSettings
) -> pl.DataFrame:
    """The matrix's labelled and sampled rows up to ``cutoff`` with ``label`` and ``weight``
    (module docstring)."""
    known = known_by(labels, cutoff)
    rows = matrix.filter(pl.col("date") <= cutoff)
    inside = (
        rows.select(KEY)
        .join(known.select("address", "pattern_type", "first_day", "last_day"), on="address")
        .filter(pl.col("date").is_between("first_day", "last_day"))
        .sort(*KEY, "pattern_type")
        .unique(list(KEY), keep="first")
        .select(*KEY, pl.col("pattern_type").alias("label"))
    )
    labelled = rows.join(inside, on=list(KEY)).with_columns(pl.lit(1.0).alias("weight"))
    unlabelled = rows.join(known.select("address").unique(), on="address", how="anti")
    negatives = unlabelled.filter(_sampled(settings.negative_share)).with_columns(
        pl.lit(NONE).alias("label"), pl.lit(settings.negative_weight).alias("weight")
    )
    return pl.concat([labelled, negatives]).sort(*KEY)


def training_set(
    matrix: pl.DataFrame, labels: pl.DataFrame, cutoff: date, settings: TrainingSettings
) -> pl.DataFrame:
    """The fit and validation rows of ``matrix`` (the risk matrix: ``KEY`` and the features)
    for a model with ``cutoff``, with :data:`SET_COLUMNS`, sorted by ``KEY`` (module
    docstring)."""
    rows = training_rows(matrix, labels, cutoff, settings)
    valid_start = settings.validation_start(cutoff)
    fit = rows.filter(pl.col("date") <= settings.fit_end(cutoff))
    validation = (
        matrix.filter(pl.col("date").is_between(valid_start, cutoff))
        .join(rows.select(*KEY, "label", "weight"), on=list(KEY), how="left")
        .select(fit.columns)
    )
    both = pl.concat([fit.with_columns(pl.lit(FIT).alias("split")),
                      validation.with_columns(pl.lit(VALIDATION).alias("split"))])  # fmt: skip
    return both.cast(SET_COLUMNS).sort(*KEY)


def summary(rows: pl.DataFrame) -> dict[str, int]:
    """Row counts of a training set per split and label (``fit_fan_in``, ...), and the
    validation rows that only judge (``validation_unweighted``): what its metadata shows."""
    counts = rows.group_by("split", pl.col("label").fill_null("unweighted")).len()
    return {
        f"{split}_{label}": int(n) for split, label, n in counts.sort("split", "label").iter_rows()
    }
