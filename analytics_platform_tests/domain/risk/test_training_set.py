"""The risk model's training set: which address-days it holds, with which label and weight,
on which side of the validation boundary; stored in the lake and read back to the same model."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from upath import UPath

from analytics_platform.domain.risk.model import fit, train
from analytics_platform.domain.risk.training_set import (
    FIT,
    VALIDATION,
    TrainingSet,
    summary,
    training_set,
)
from analytics_platform.storage import training_sets
from analytics_platform_tests.domain.risk.test_model import SETTINGS, START, _labels_and_matrix

CUTOFF = START + timedelta(days=80)


def test_the_set_holds_labelled_and_sampled_days_before_the_gap_and_every_validation_day():
    labels, matrix = _labels_and_matrix()
    # a label the team only learns after the cutoff must not show anywhere
    late = labels.head(1).with_columns(known_at=pl.lit(CUTOFF + timedelta(days=1)))
    labels = pl.concat([labels.slice(1), late])
    rows = training_set(matrix, labels, CUTOFF, SETTINGS)
    fit_end, valid_start = SETTINGS.fit_end(CUTOFF), SETTINGS.validation_start(CUTOFF)
    fitted, valid = rows.filter(pl.col("split") == FIT), rows.filter(pl.col("split") == VALIDATION)
    assert fitted["date"].max() <= fit_end and valid["date"].min() == valid_start
    gap = (fit_end + timedelta(days=1), valid_start - timedelta(days=1))
    assert rows.filter(pl.col("date").is_between(*gap)).is_empty()
    # every validation address-day is there (thresholds are judged on all of them) ...
    days = matrix.filter(pl.col("date").is_between(valid_start, CUTOFF))
    assert valid.height == days.height
    # ... but only the labelled and sampled ones are weighted (early stopping)
    assert (
        valid["weight"].null_count() > 0
        and valid["label"].null_count() == valid["weight"].null_count()
    )
    assert fitted["weight"].null_count() == 0 and fitted["label"].null_count() == 0
    # a positive is an address-day inside its label's days; the late label left out
    positives = rows.filter(pl.col("label").is_not_null() & (pl.col("label") != "none"))
    inside = positives.join(labels, on="address").filter(
        pl.col("date").is_between("first_day", "last_day")
        & (pl.col("label") == pl.col("pattern_type"))
    )
    assert inside.select("address", "date").n_unique() == positives.height > 0
    assert late["address"][0] not in set(positives["address"])
    # unlabelled days are a fixed sample at a lower weight, the same every time
    negatives = fitted.filter(pl.col("label") == "none")
    assert set(negatives["weight"]) == {SETTINGS.negative_weight}
    unlabelled = matrix.filter(pl.col("date") <= fit_end).join(
        labels.filter(pl.col("known_at") <= CUTOFF), on="address", how="anti"
    )
    assert 0.4 < negatives.height / unlabelled.height < 0.6  # negative_share 0.5
    assert training_set(matrix, labels, CUTOFF, SETTINGS).equals(rows)
    counts = summary(rows)
    assert counts["fit_fan_in"] > 0 and counts["validation_unweighted"] > 0
    assert sum(counts.values()) == rows.height


def test_a_stored_set_reads_back_to_the_same_model_and_keeps_its_id(tmp_path: Path):
    labels, matrix = _labels_and_matrix()
    rows = training_set(matrix, labels, CUTOFF, SETTINGS)
    known = labels.filter(pl.col("known_at") <= CUTOFF)
    stored = TrainingSet(rows, known, CUTOFF, SETTINGS, {"labels": known.height})
    root = UPath(tmp_path / "lake")
    with pytest.raises(LookupError, match="risk_training_set: torus has none yet"):
        training_sets.read(root, "torus")
    name = training_sets.write(root, "torus", stored)
    assert name.startswith(f"{CUTOFF}-") and training_sets.write(root, "torus", stored) == name
    read_name, back = training_sets.read(root, "torus")
    assert read_name == name and back.rows.equals(rows) and back.settings == SETTINGS
    assert back.lineage == {"labels": known.height}
    model = fit(back.rows, back.labels, back.cutoff, back.settings)
    direct = train(matrix, labels, CUTOFF, SETTINGS)
    assert model.probabilities(matrix).equals(direct.probabilities(matrix))
    assert model.thresholds == direct.thresholds
    # another cutoff is another set, and becomes the current one; the first stays readable
    other = training_sets.write(
        root, "torus", TrainingSet(rows.filter(pl.col("date") < CUTOFF), known, CUTOFF, SETTINGS)
    )
    assert other != name and training_sets.read(root, "torus")[0] == other
    assert training_sets.read(root, "torus", name)[1].rows.height == rows.height
    folder = root / "risk_training_set" / "network=torus" / f"set={name}"
    (folder / "rows.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match=f"risk_training_set {name}: cannot read it"):
        training_sets.read(root, "torus", name)


def test_a_set_is_stored_on_the_s3_lake_as_on_a_folder(s3_endpoint):
    from analytics_platform.storage.lake import lake_root

    labels, matrix = _labels_and_matrix()
    rows = training_set(matrix.filter(pl.col("address") < "a3"), labels, CUTOFF, SETTINGS)
    stored = TrainingSet(rows, labels.filter(pl.col("known_at") <= CUTOFF), CUTOFF, SETTINGS)
    root = lake_root("s3://lake/analytics", region="us-east-1", endpoint_url=s3_endpoint)
    name = training_sets.write(root, "torus", stored)
    read_name, back = training_sets.read(root, "torus")
    assert read_name == name and back.rows.equals(rows) and back.labels.equals(stored.labels)
