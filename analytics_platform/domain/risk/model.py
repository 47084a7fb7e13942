"""A risk model trained on the labels known at a cutoff: LightGBM over the address-day matrix.

- **Rows.** The labelled address-days and a weighted sample of the unlabelled ones, as
  ``training_set`` chooses them (its docstring says how, and why that does not leak).
- **Time-ordered validation.** The model is fitted on the days up to ``cutoff - validation_days
  - gap_days`` and validated on the last ``validation_days`` (the gap keeps a pattern that spans
  the boundary from being on both sides). Early stopping and every class's threshold are chosen
  there, never on the days judged after the cutoff.
- **Thresholds.** Per class, the probability that maximises the account-level F1 on the
  validation days (an address is flagged when any of its days reaches it), as the product
  judges alerts.
- **Reproducible.** ``deterministic``, ``force_row_wise``, a fixed seed and thread count: the
  same data gives the same trees and the same predictions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl

from analytics_platform.domain.risk import drift
from analytics_platform.domain.risk.labels import known_by
from analytics_platform.domain.risk.matrix import KEY, feature_hash
from analytics_platform.domain.risk.training_set import (
    FIT,
    NONE,
    VALIDATION,
    TrainingSettings,
    feature_columns,
    training_set,
    validation_matrix,
)

PARAMS: dict = {
    "objective": "multiclass",
    "learning_rate": 0.1,
    "num_leaves": 15,
    "max_bin": 63,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "lambda_l2": 1.0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "seed": 7,
    "verbose": -1,
}
ROUNDS = 200
EARLY_STOP = 20


@dataclass(frozen=True)
class RiskModel:
    booster: lgb.Booster
    classes: tuple[str, ...]
    features: tuple[str, ...]
    thresholds: dict[str, float]
    cutoff: date
    metrics: dict = field(default_factory=dict)
    settings: TrainingSettings = field(default_factory=TrainingSettings)
    calibration: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    """Per pattern type, the isotonic map (raw probability points -> observed share) fitted on
    the validation days; applied by linear interpolation (:func:`calibrate`)."""
    alerting: tuple[str, ...] | None = None
    """The pattern types whose flags become alerts (chosen on validation beside the rules:
    ``domain.risk.compare.choose_blend``); ``None``: every type."""
    reference: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """Per watched column (``score`` and :data:`WATCHED` top features), its distribution on
    the validation days (``drift.reference``): what drift is measured against."""

    @property
    def feature_hash(self) -> str:
        return feature_hash(list(self.features))

    def probabilities(self, matrix: pl.DataFrame) -> pl.DataFrame:
        """``KEY`` and one probability column per class for every row of ``matrix``: for each
        pattern type the calibrated probability (the share of such rows that were members on
        the validation days), for ``none`` the model's own."""
        self._refuse_other_features(matrix)
        probs = np.asarray(self.booster.predict(_x(matrix, self.features)))
        probs = probs.reshape(len(matrix), -1)
        for i, c in enumerate(self.classes):
            if c in self.calibration:
                probs[:, i] = calibrate(probs[:, i], self.calibration[c])
        return matrix.select(KEY).hstack(pl.DataFrame(probs, schema=list(self.classes)))

    def _refuse_other_features(self, matrix: pl.DataFrame) -> None:
        missing = [f for f in self.features if f not in matrix.columns]
        if missing:
            raise ValueError(
                f"risk model: the data lacks {len(missing)} feature(s) it was trained on: "
                f"{', '.join(missing[:5])}"
            )

    def scores(self, matrix: pl.DataFrame) -> pl.DataFrame:
        """``KEY``, ``pattern_type`` (the likeliest class that is a pattern type), its
        ``probability`` and whether it reaches that class's threshold (``flagged``)."""
        probs = self.probabilities(matrix)
        types = list(self.classes[1:])
        values = probs.select(types).to_numpy()
        best = values.argmax(axis=1)
        chosen = np.array(types)[best]
        probability = values[np.arange(len(values)), best]
        limits = np.array([self.thresholds.get(t, 1.0) for t in types])[best]
        return probs.select(KEY).with_columns(
            pl.Series("pattern_type", chosen, dtype=pl.String),
            pl.Series("probability", probability, dtype=pl.Float64),
            pl.Series("flagged", probability >= limits, dtype=pl.Boolean),
        )

    def top_features(self, n: int) -> list[str]:
        """The ``n`` features the trees gained most from, best first."""
        gain = self.booster.feature_importance(importance_type="gain")
        order = np.argsort(-gain, kind="stable")[:n]
        return [self.features[i] for i in order if gain[i] > 0]

    def contributions(self, matrix: pl.DataFrame, top: int = 5) -> pl.DataFrame:
        """Why each row scored as it did: for its most likely class other than "none", the
        ``top`` features that pushed it there most (LightGBM's ``pred_contrib``: SHAP values
        in log-odds), with the row's value of each. Columns: address, date, pattern_type,
        rank, feature, value, contribution."""
        self._refuse_other_features(matrix)
        x = _x(matrix, self.features)
        n, k, width = len(matrix), len(self.classes), len(self.features) + 1
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True)).reshape(n, k, width)
        probs = np.asarray(self.booster.predict(x)).reshape(n, k)
        best = 1 + probs[:, 1:].argmax(axis=1)  # the likeliest class that is a pattern type
        mine = contrib[np.arange(n), best, :-1]  # the last column is the expected value
        order = np.argsort(-mine, axis=1, kind="stable")[:, :top]
        rows = np.repeat(np.arange(n), order.shape[1])
        cols = order.ravel()
        keys = matrix.select(KEY)
        return pl.DataFrame(
            {
                "address": keys["address"].gather(rows),
                "date": keys["date"].gather(rows),
                "pattern_type": np.array(self.classes)[best[rows]],
                "rank": np.tile(np.arange(1, order.shape[1] + 1), n),
                "feature": np.array(self.features)[cols],
                "value": x[rows, cols],
                "contribution": mine[rows, cols],
            }
        )

    def save(self, folder: Path) -> list[Path]:
        """Write the model as two files in ``folder`` (LightGBM's text model and a JSON of
        the rest); :func:`load` reads them back to the same predictions."""
        folder.mkdir(parents=True, exist_ok=True)
        trees, meta = folder / MODEL_FILE, folder / META_FILE
        trees.write_text(self.booster.model_to_string())
        meta.write_text(
            json.dumps(
                {
                    "classes": list(self.classes),
                    "features": list(self.features),
                    "feature_hash": self.feature_hash,
                    "thresholds": self.thresholds,
                    "cutoff": self.cutoff.isoformat(),
                    "metrics": self.metrics,
                    "settings": asdict(self.settings),
                    "reference": self.reference,
                    "alerting": None if self.alerting is None else list(self.alerting),
                    "calibration": self.calibration,
                },
                indent=1,
                default=str,
            )
        )
        return [trees, meta]

    def flagged(self, matrix: pl.DataFrame) -> pl.DataFrame:
        """(address, date, pattern_type, probability) for each class a row reaches the
        class's threshold in."""
        probs = self.probabilities(matrix)
        return pl.concat(
            [
                probs.filter(pl.col(c) >= t).select(
                    *KEY, pl.lit(c).alias("pattern_type"), pl.col(c).alias("probability")
                )
                for c, t in self.thresholds.items()
            ]
        )


MODEL_FILE = "model.txt"
META_FILE = "model.json"


def load(folder: Path, name: str = "risk model") -> RiskModel:
    """The model :meth:`RiskModel.save` wrote to ``folder``; a one-line error naming ``name``
    (e.g. the registry's version) when a file is missing or unreadable."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
        booster = lgb.Booster(model_str=(folder / MODEL_FILE).read_text())
        model = RiskModel(
            booster,
            tuple(meta["classes"]),
            tuple(meta["features"]),
            {c: float(t) for c, t in meta["thresholds"].items()},
            date.fromisoformat(meta["cutoff"]),
            metrics=meta.get("metrics", {}),
            settings=TrainingSettings(**meta.get("settings", {})),
            reference=meta.get("reference", {}),
            alerting=None if meta.get("alerting") is None else tuple(meta["alerting"]),
            calibration={c: (xs, ys) for c, (xs, ys) in meta.get("calibration", {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name}: cannot read its artifact in {folder}: {first}") from None
    if model.booster.num_feature() != len(model.features) or meta.get("feature_hash") not in (
        None,
        model.feature_hash,
    ):
        raise ValueError(f"{name}: its artifact in {folder} is corrupt (feature list mismatch)")
    return model


def _x(matrix: pl.DataFrame, features: tuple[str, ...] | list[str]) -> np.ndarray:
    return matrix.select(features).to_numpy().astype(np.float64)


def train(
    matrix: pl.DataFrame,
    labels: pl.DataFrame,
    cutoff: date,
    settings: TrainingSettings | None = None,
) -> RiskModel:
    """Fit on the labels known at ``cutoff`` (module docstring); a clear refusal when too few
    positives come before the validation days."""
    settings = settings or TrainingSettings()
    return fit(training_set(matrix, labels, cutoff, settings), labels, cutoff, settings)


def fit(
    rows: pl.DataFrame, labels: pl.DataFrame, cutoff: date, settings: TrainingSettings
) -> RiskModel:
    """Fit on a :func:`training_set.training_set` (as built, or read back from where the
    ``risk_training_set`` asset stored it) and the labels known at ``cutoff``."""
    features = tuple(feature_columns(rows))
    valid_start = settings.validation_start(cutoff)
    window = validation_matrix(rows)
    fit_rows = rows.filter(pl.col("split") == FIT)
    valid = rows.filter((pl.col("split") == VALIDATION) & pl.col("weight").is_not_null())
    positives = fit_rows.filter(pl.col("label") != NONE)
    if positives.height < settings.min_positives:
        raise ValueError(
            f"risk model: {positives.height} labelled address-day(s) known by {cutoff} before "
            f"the validation days (need {settings.min_positives}): too few to train"
        )
    if valid.height == 0:
        raise ValueError(
            f"risk model: no address-day in the validation days {valid_start}..{cutoff}: "
            "nothing to choose thresholds on (is the cutoff within the stored days?)"
        )
    classes = (NONE, *sorted(set(positives["label"].to_list())))
    index = {c: i for i, c in enumerate(classes)}

    def dataset(part: pl.DataFrame, reference: lgb.Dataset | None = None) -> lgb.Dataset:
        part = part.filter(pl.col("label").is_in(classes))
        y = part["label"].replace_strict(index, return_dtype=pl.Int32).to_numpy()
        return lgb.Dataset(
            _x(part, features), label=y, weight=part["weight"].to_numpy(),
            feature_name=list(features), reference=reference, free_raw_data=False,
        )  # fmt: skip

    train_set = dataset(fit_rows)
    params = {**PARAMS, "num_class": len(classes)}
    valid_set = dataset(valid, train_set)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=ROUNDS,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False)],
    )
    raw = RiskModel(booster, classes, features, {}, cutoff)
    calibration = fit_calibration(raw, window, known_by(labels, cutoff))
    model = RiskModel(booster, classes, features, {}, cutoff, calibration=calibration)
    thresholds, scores = choose_thresholds(model, window, known_by(labels, cutoff))
    model = RiskModel(booster, classes, features, thresholds, cutoff, calibration=calibration)
    return RiskModel(
        booster,
        classes,
        features,
        thresholds,
        cutoff,
        settings=settings,
        calibration=calibration,
        reference=drift_reference(model, window),
        metrics={
            "fit_rows": fit_rows.height,
            "fit_positives": positives.height,
            "validation_rows": valid.height,
            "best_iteration": booster.best_iteration,
            "validation_f1": scores,
        },
    )


def calibrate(values: np.ndarray, points: tuple[list[float], list[float]]) -> np.ndarray:
    """``values`` through an isotonic map's points (clipped at its ends)."""
    xs, ys = points
    return np.interp(values, xs, ys)


def fit_calibration(
    model: RiskModel, window: pl.DataFrame, labels: pl.DataFrame
) -> dict[str, tuple[list[float], list[float]]]:
    """Per pattern type, an isotonic regression of "the row's address was a member of a
    pattern of this type that day" on the raw probability, over every row of the validation
    ``window`` (not the sampled negatives: the shares would be too high)."""
    from sklearn.isotonic import IsotonicRegression

    probs = model.probabilities(window)
    inside = (
        window.select(KEY)
        .join(labels.select("address", "pattern_type", "first_day", "last_day"), on="address")
        .filter(pl.col("date").is_between("first_day", "last_day"))
        .select(*KEY, "pattern_type")
        .unique()
    )
    out = {}
    for c in model.classes[1:]:
        members = inside.filter(pl.col("pattern_type") == c).select(KEY)
        rows = probs.select(*KEY, c).join(
            members.with_columns(pl.lit(1.0).alias("y")), on=list(KEY), how="left"
        )
        y = rows["y"].fill_null(0.0).to_numpy()
        if y.sum() == 0:
            continue  # nothing to calibrate against: the raw probability stands
        fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        fit.fit(rows[c].to_numpy(), y)
        out[c] = (fit.X_thresholds_.tolist(), fit.y_thresholds_.tolist())
    return out


WATCHED = 20
"""How many of the most important features drift is watched on, besides the score."""


def drift_reference(model: RiskModel, window: pl.DataFrame) -> dict[str, dict[str, list[float]]]:
    """The distributions of the score and the :data:`WATCHED` top features on ``window``."""
    columns = {"score": model.scores(window)["probability"].to_numpy()}
    columns |= {f: window[f].to_numpy() for f in model.top_features(WATCHED)}
    return {name: drift.reference(values) for name, values in columns.items()}


def choose_thresholds(
    model: RiskModel, window: pl.DataFrame, labels: pl.DataFrame
) -> tuple[dict[str, float], dict[str, float]]:
    """Per class, the threshold with the best account-level F1 over ``window`` (validation
    days, every row: the sampled negatives would flatter precision), and that F1."""
    probs = model.probabilities(window)
    first = window["date"].min()
    last = window["date"].max()
    thresholds, scores = {}, {}
    for c in model.classes[1:]:
        truth = set(
            labels.filter(
                (pl.col("pattern_type") == c)
                & (pl.col("first_day") <= last)
                & (pl.col("last_day") >= first)
            )["address"].to_list()
        )
        best = probs.group_by("address").agg(pl.col(c).max().alias("p"))
        if not truth or best.height == 0:
            thresholds[c], scores[c] = 1.0, 0.0  # nothing to learn a threshold from: off
            continue
        ranked = best.sort("p", descending=True)
        hit = ranked["address"].is_in(list(truth)).cast(pl.Int64).cum_sum().to_numpy()
        flagged = np.arange(1, len(hit) + 1)
        f1 = 2 * hit / (flagged + len(truth))
        # "p >= t" flags every address tied at t: judge only the last of each run of ties
        # (calibrated probabilities have plateaus), whatever order the ties came in.
        p = ranked["p"].to_numpy()
        f1[:-1][p[:-1] == p[1:]] = -1.0
        k = int(np.argmax(f1))
        thresholds[c], scores[c] = float(ranked["p"][k]), round(float(f1[k]), 4)
    return thresholds, scores
