"""The risk model's core: labels as history, the address-day matrix, a reproducible model that
sees only what was known at its cutoff."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analytics_platform.domain.risk.labels import known_by, pattern_days, planted_labels
from analytics_platform.domain.risk.matrix import PATTERN_COLUMNS, address_days, feature_names
from analytics_platform.domain.risk.model import TrainingSettings, train

START = date(2026, 1, 1)
DAYS = 90
SETTINGS = TrainingSettings(validation_days=20, gap_days=3, negative_share=0.5, min_positives=20)


def _labels_and_matrix(seed: int = 3) -> tuple[pl.DataFrame, pl.DataFrame]:
    """200 addresses over 90 days; fan-in members (a10..a39) show many one-off payers during
    their pattern's days, scatter members (a40..a59) a high out-degree; the rest noise."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for a in range(200):
        kind = "fan_in" if 10 <= a < 40 else "scatter_gather" if 40 <= a < 60 else None
        first = START + timedelta(days=int(rng.integers(0, DAYS - 10)))
        last = first + timedelta(days=5)
        if kind:
            labels.append((f"a{a}", kind, first, last, last, "test"))
        for d in range(DAYS):
            day = START + timedelta(days=d)
            on = kind is not None and first <= day <= last
            rows.append(
                {
                    "address": f"a{a}",
                    "date": day,
                    "payers_once": float(rng.poisson(25 if on and kind == "fan_in" else 2)),
                    "out_degree": float(rng.poisson(25 if on and kind != "fan_in" else 2)),
                    "volume": float(rng.lognormal(3, 1)),
                    **dict.fromkeys(PATTERN_COLUMNS, 0.0),
                }
            )
    schema = ["address", "pattern_type", "first_day", "last_day", "known_at", "source"]
    return pl.DataFrame(labels, schema=schema, orient="row"), pl.DataFrame(rows)


def test_planted_patterns_are_known_on_their_last_day_and_look_alikes_never():
    accounts = pl.DataFrame(
        {
            "pattern_id": ["p1", "p1", "p2"],
            "pattern_type": ["FAN-IN", "FAN-IN", "cycle"],
            "is_sar": [True, True, False],
            "address": ["a", "b", "c"],
        }
    )
    transactions = pl.DataFrame({"pattern_id": ["p1", "p1", "p2"], "tx_hash": ["t1", "t2", "t3"]})
    transfers = pl.DataFrame(
        {
            "tx_hash": ["t1", "t2", "t3"],
            "block_time": ["2026-01-03T10:00:00Z", "2026-01-07T00:00:00Z", "2026-01-02"],
        }
    )
    labels = planted_labels(accounts, transactions, transfers)
    assert labels.select("address", "pattern_type", "first_day", "known_at").rows() == [
        ("a", "fan_in", date(2026, 1, 3), date(2026, 1, 7)),
        ("b", "fan_in", date(2026, 1, 3), date(2026, 1, 7)),
    ]
    assert known_by(labels, date(2026, 1, 6)).height == 0
    assert known_by(labels, date(2026, 1, 7)).height == 2
    assert pattern_days(transactions, transfers).sort("pattern_id")["last_day"].to_list() == [
        date(2026, 1, 7),
        date(2026, 1, 2),
    ]


def test_the_matrix_has_every_window_and_pattern_counts_in_a_fixed_order():
    features = pl.DataFrame(
        {
            "network": ["n"] * 3,
            "date": [START, START, START + timedelta(days=1)],
            "window_days": [7, 30, 7],
            "address": ["a", "a", "b"],
            "in_count": [3, 9, 1],
            "component_id": ["x", "x", "y"],  # text: not a feature
        }
    )
    patterns = pl.DataFrame(
        {
            "date": [START],
            "pattern_type": ["fan_in"],
            "center_address": ["a"],
            "members": [["a", "c"]],
        }
    )
    matrix = address_days(features, patterns)
    assert matrix.columns[2:] == feature_names(features, [7, 30])
    assert matrix.columns[2:4] == ["in_count_w7", "in_count_w30"]
    a = matrix.filter(pl.col("address") == "a").row(0, named=True)
    assert (a["in_count_w7"], a["in_count_w30"], a["member_fan_in"], a["centre_fan_in"]) == (
        3.0, 9.0, 1.0, 1.0,
    )  # fmt: skip
    b = matrix.filter(pl.col("address") == "b").row(0, named=True)
    assert b["in_count_w30"] is None and b["member_fan_in"] == 0.0
    # With the day's edges: the largest figures of the addresses paid and paying.
    edges = pl.DataFrame({"date": [START], "from_address": ["c"], "to_address": ["a"]})
    features = features.with_columns(
        pl.col("in_count").alias("in_degree"), pl.col("in_count").alias("out_degree"),
        pl.col("in_count").alias("counterparties"),
    )  # fmt: skip
    payer = (
        address_days(pl.concat([features, features.head(1).with_columns(address=pl.lit("c"))]),
                     patterns, edges)
        .filter((pl.col("address") == "c") & (pl.col("date") == START))
        .row(0, named=True)
    )  # fmt: skip
    assert payer["payee_max_in_degree_w7"] == 3.0 and payer["payee_max_centre_fan_in"] == 1.0
    assert payer["payer_max_in_degree_w7"] == 0.0


def test_training_is_reproducible_and_learns_the_fans():
    labels, matrix = _labels_and_matrix()
    cutoff = START + timedelta(days=69)
    one, two = train(matrix, labels, cutoff, SETTINGS), train(matrix, labels, cutoff, SETTINGS)
    later = matrix.filter(pl.col("date") > cutoff)
    assert one.probabilities(later).equals(two.probabilities(later))
    assert one.thresholds == two.thresholds and set(one.classes) == {
        "none", "fan_in", "scatter_gather",
    }  # fmt: skip
    flagged = one.flagged(later).filter(pl.col("pattern_type") == "fan_in")
    members = set(labels.filter(pl.col("pattern_type") == "fan_in")["address"])
    found = set(flagged["address"])
    assert found and len(found & members) / len(found) > 0.8


def test_contributions_name_the_features_that_made_a_score():
    labels, matrix = _labels_and_matrix()
    model = train(matrix, labels, START + timedelta(days=69), SETTINGS)
    member = labels.filter(pl.col("pattern_type") == "fan_in").row(0, named=True)
    row = matrix.filter(
        (pl.col("address") == member["address"]) & (pl.col("date") == member["first_day"])
    )
    why = model.contributions(row, top=2)
    assert why["pattern_type"].to_list() == ["fan_in", "fan_in"]
    assert why["feature"][0] == "payers_once" and why["contribution"][0] > 0
    assert why["value"][0] == row["payers_once"][0]
    # The contributions and the expected value add up to the model's log-odds for the class.
    x = row.select(model.features).to_numpy()
    full = model.booster.predict(x, pred_contrib=True).reshape(1, len(model.classes), -1)
    raw = model.booster.predict(x, raw_score=True).reshape(1, -1)
    fan_in = model.classes.index("fan_in")
    assert abs(full[0, fan_in].sum() - raw[0, fan_in]) < 1e-6


def test_labels_known_after_the_cutoff_change_nothing():
    labels, matrix = _labels_and_matrix()
    cutoff = START + timedelta(days=69)
    known = known_by(labels, cutoff)
    later = matrix.filter(pl.col("date") > cutoff)
    with_future = train(matrix, labels, cutoff, SETTINGS).probabilities(later)
    without = train(matrix, known, cutoff, SETTINGS).probabilities(later)
    assert with_future.equals(without)


def test_too_few_positives_and_missing_features_are_refused_clearly():
    labels, matrix = _labels_and_matrix()
    with pytest.raises(ValueError, match=r"labelled address-day\(s\) known by 2026-01-10"):
        train(matrix, labels, START + timedelta(days=9), SETTINGS)
    model = train(matrix, labels, START + timedelta(days=69), SETTINGS)
    with pytest.raises(ValueError, match="lacks 1 feature.*payers_once"):
        model.probabilities(matrix.drop("payers_once"))


def test_both_combines_rules_and_model_as_the_validation_days_chose():
    from analytics_platform.domain.risk.compare import blend, choose_blend

    fans = [f"f{i}" for i in range(10)]
    truth = pl.DataFrame(
        {
            "pattern_id": ["p"] * 10 + ["q"] * 2 + ["r"] * 2,
            "pattern_type": ["fan_in"] * 10 + ["cycle"] * 2 + ["fan_out"] * 2,
            "is_sar": [True] * 14,
            "address": [*fans, "x", "y", "o1", "o2"],
        }
    )

    def found(kind, *members):
        return pl.DataFrame({"pattern_type": [kind], "members": [list(members)]})

    # Rules: six fan-in members among noise, every cycle, one fan-out member. The model: every
    # fan-in member, one cycle member, both fan-out members (too few to trust: rules kept).
    rules = pl.concat(
        [found("fan_in", *fans[:6], "n1", "n2"), found("cycle", "x", "y"), found("fan_out", "o1")]
    )
    model = pl.concat([found("fan_in", *fans), found("cycle", "x"), found("fan_out", "o1", "o2")])
    policies = choose_blend(truth, rules, model)
    assert policies == {"cycle": "rules", "fan_in": "model", "fan_out": "rules"}
    chosen = blend(rules, model, policies).explode("members", empty_as_null=True)
    assert sorted(chosen.filter(pl.col("pattern_type") == "fan_in")["members"]) == sorted(fans)
    agreeing = blend(rules, model, {"fan_in": "agreeing"}).explode("members", empty_as_null=True)
    fan_in = agreeing.filter(pl.col("pattern_type") == "fan_in")["members"]
    assert sorted(fan_in) == sorted(fans[:6])


def test_a_gain_that_rests_on_one_address_keeps_the_rules():
    from analytics_platform.domain.risk.compare import MIN_GAIN, account_scores, choose_blend

    members = [f"m{i}" for i in range(30)]
    truth = pl.DataFrame(
        {"pattern_id": "p", "pattern_type": "fan_in", "is_sar": True, "address": members}
    )

    def found(*flagged):
        return pl.DataFrame({"pattern_type": ["fan_in"], "members": [list(flagged)]})

    # The model finds the rules' 20 members and one more: F1 better by more than MIN_GAIN,
    # but a resample without that one address makes them equal.
    rules, model = found(*members[:20], "n1", "n2"), found(*members[:21], "n1", "n2")
    f1 = [account_scores(truth, f)["f1"][0] for f in (rules, model)]
    assert f1[1] - f1[0] >= MIN_GAIN
    assert choose_blend(truth, rules, model) == {"fan_in": "rules"}
    # Nine more members found, no more noise: a gain every resample shows.
    assert choose_blend(truth, rules, found(*members, "n1", "n2")) == {"fan_in": "model"}


def test_bench_scoring_scores_every_address_and_explains_a_case():
    from analytics_platform.bench.scoring import format_report, run_scoring_bench

    report = run_scoring_bench(3_000, features=20, case_addresses=10)
    assert report["scored_rows"] == 3_000 and report["contribution_rows"] == 10 * 5
    assert len(report["classes"]) == 6 and "addresses/s" in format_report(report)


def test_drift_is_nothing_on_the_reference_and_fails_on_a_shifted_population():
    from analytics_platform.domain.risk import drift

    rng = np.random.default_rng(1)
    before = rng.normal(0, 1, 20_000)
    ref = drift.reference(before)
    assert len(ref["shares"]) == drift.BINS and abs(sum(ref["shares"]) - 1) < 1e-9
    same = drift.psi(ref, rng.normal(0, 1, 20_000))
    moved = drift.psi(ref, rng.normal(1, 1, 20_000))
    assert same is not None and moved is not None
    assert drift.status(same) == "stable" and drift.status(moved) == "fail"
    assert drift.psi(ref, np.array([])) is None and drift.status(None) == "no data"
    # A feature that is mostly 0 keeps the bins it has (no empty duplicate edges).
    zeros = drift.reference(np.r_[np.zeros(900), np.arange(100.0)])
    assert len(zeros["edges"]) == len(set(zeros["edges"]))


def test_a_saved_model_predicts_the_same_and_a_broken_one_is_named():
    from analytics_platform.domain.risk.model import load

    labels, matrix = _labels_and_matrix()
    model = train(matrix, labels, START + timedelta(days=DAYS - 1), SETTINGS)
    folder = Path(tempfile.mkdtemp())
    model.save(folder)
    again = load(folder, "version 3")
    assert again.probabilities(matrix).equals(model.probabilities(matrix))
    assert again.thresholds == model.thresholds and again.reference == model.reference
    (folder / "model.json").unlink()
    with pytest.raises(ValueError, match=r"^version 3: cannot read its artifact"):
        load(folder, "version 3")


def test_verdicts_become_labels_known_when_recorded():
    from datetime import datetime

    from analytics_platform.pipeline.risk import verdict_labels

    day = date(2026, 3, 1)
    verdicts = pl.DataFrame(
        {
            "date": [day, day, day],
            "address": ["a", "b", "c"],
            "disposition": ["confirmed", "dismissed", "confirmed"],
            "recorded_at": [datetime(2026, 3, 4, 9), datetime(2026, 3, 2), datetime(2026, 3, 5)],
        }
    )
    alerts = pl.DataFrame(
        {"date": [day] * 3, "address": ["a", "b", "c"], "pattern_ids": [["p1"], ["p2"], []]}
    )
    patterns = pl.DataFrame(
        {"date": [day, day], "pattern_id": ["p1", "p2"], "pattern_type": ["fan_in", "cycle"]}
    )
    labels = verdict_labels(verdicts, alerts, patterns)
    assert labels.select("address", "pattern_type", "known_at", "source").rows() == [
        ("b", "none", date(2026, 3, 2), "verdict:dismissed"),  # a checked negative
        ("a", "fan_in", date(2026, 3, 4), "verdict:confirmed"),
        ("c", "none", date(2026, 3, 5), "verdict:confirmed"),  # a feature typology: no type
    ]


def test_contributions_are_worded_as_an_analyst_reads_them():
    from analytics_platform.pipeline.risk import describe

    assert describe("in_degree_w30", 14.0, 1.23) == "14 payers in 30 days (+1.2)"
    assert describe("member_fan_in", 2.0, 3.1) == "member of 2 fan-in pattern(s) that day (+3.1)"
    assert describe("payee_max_in_degree_w7", 40.0, 0.5) == (
        "an address it paid has 40 payers in 7 days (+0.5)"
    )
    assert describe("reciprocity_w90", 0.25, 0.04) == "0.25 reciprocity in 90 days (+0.0)"


def test_probabilities_are_calibrated_on_the_validation_days():
    labels, matrix = _labels_and_matrix()
    cutoff = START + timedelta(days=DAYS - 1)
    model = train(matrix, labels, cutoff, SETTINGS)
    assert set(model.calibration) == {"fan_in", "scatter_gather"}
    xs, ys = model.calibration["fan_in"]
    assert ys == sorted(ys) and ys[0] >= 0.0 and ys[-1] <= 1.0  # isotonic, within [0, 1]
    # On the validation days, rows scored high are mostly members, rows scored low mostly not.
    window = matrix.filter(pl.col("date") > cutoff - timedelta(days=SETTINGS.validation_days))
    probs = model.probabilities(window).join(
        labels.filter(pl.col("pattern_type") == "fan_in").select("address", "first_day",
                                                                 "last_day"),
        on="address", how="left",
    ).with_columns(pl.col("date").is_between("first_day", "last_day").fill_null(False)
                   .alias("member"))  # fmt: skip
    high = probs.filter(pl.col("fan_in") >= 0.8)["member"].mean()
    low = probs.filter(pl.col("fan_in") < 0.2)["member"].mean()
    assert high is not None and high >= 0.7 and low is not None and low <= 0.05
