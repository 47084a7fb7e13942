"""Typology confidences refitted to analysts' dispositions, and the catalog copy that carries
them."""

from datetime import date

import polars as pl
import pytest

from analytics_platform.domain.calibration import (
    apply_score_map,
    fit_confidences,
    fit_score_map,
    unmatched,
    validate_dispositions,
    validate_score_map,
)
from analytics_platform.domain.evaluation import calibration_error
from analytics_platform.domain.typologies import catalog_with_confidences, load_catalog

DAY = date(2026, 10, 1)


def _alerts(rows):
    """rows: (address, typology), all on DAY."""
    return pl.DataFrame(
        {
            "date": [DAY] * len(rows),
            "address": [a for a, _ in rows],
            "typology": [t for _, t in rows],
        }
    )


def _file(rows):
    """A dispositions file as read: strings."""
    return pl.DataFrame(
        {"date": [str(DAY)] * len(rows), "address": [a for a, _ in rows],
         "disposition": [d for _, d in rows]}
    )  # fmt: skip


def test_the_confirmed_share_pulled_toward_the_prior_by_its_weight():
    alerts = _alerts([(f"a{i}", "fan") for i in range(10)] + [("a0", "fan"), ("b", "ring")])
    verdicts = validate_dispositions(
        _file([(f"a{i}", "confirmed" if i < 8 else "dismissed") for i in range(10)])
    )
    fitted = fit_confidences(alerts, verdicts, {"fan": 0.5, "ring": 0.7, "mixer": 0.9}, weight=10)
    rows = {r["typology"]: r for r in fitted.iter_rows(named=True)}
    # ten cases (a0's two fan alerts are one case), eight confirmed: (8 + 10 * 0.5) / 20
    assert (rows["fan"]["cases"], rows["fan"]["confirmed"]) == (10, 8)
    assert rows["fan"]["fitted"] == pytest.approx(0.65)
    assert rows["ring"]["fitted"] == 0.7 and rows["ring"]["cases"] == 0  # nobody worked it
    assert rows["mixer"]["fitted"] == 0.9
    heavier = fit_confidences(alerts, verdicts, {"fan": 0.5}, weight=1000)
    assert heavier["fitted"][0] == pytest.approx(0.503, abs=1e-3)


def test_a_later_verdict_on_the_same_case_wins():
    alerts = _alerts([("a", "fan")])
    verdicts = validate_dispositions(_file([("a", "confirmed"), ("a", "Dismissed ")]))
    assert fit_confidences(alerts, verdicts, {"fan": 0.5}, weight=1)["fitted"][0] == 0.25


def test_bad_dispositions_are_named():
    alerts = _alerts([("a", "fan")])
    with pytest.raises(ValueError, match=r"dispositions.disposition: .*got 'maybe' \(address a"):
        validate_dispositions(_file([("a", "maybe")]))
    blank = _file([("a", "confirmed")]).with_columns(pl.lit(None, pl.String).alias("disposition"))
    with pytest.raises(ValueError, match="dispositions.disposition: .*got None"):
        validate_dispositions(blank)
    with pytest.raises(ValueError, match=r"missing columns \['disposition'\]"):
        validate_dispositions(_file([("a", "confirmed")]).drop("disposition"))
    bad_day = _file([("a", "confirmed")]).with_columns(pl.lit("01/10/2026").alias("date"))
    with pytest.raises(ValueError, match="dispositions.date: expected YYYY-MM-DD, got '01/10"):
        validate_dispositions(bad_day)
    verdicts = validate_dispositions(_file([("a", "confirmed"), ("zz", "dismissed")]))
    assert unmatched(alerts, verdicts) == 1


def test_the_fitted_catalog_loads_with_a_tagged_version(tmp_path):
    text = catalog_with_confidences(None, {"ping_pong": 0.123}, "fitted-20261201")
    path = tmp_path / "fitted.yaml"
    path.write_text(text)
    before, after = load_catalog(), load_catalog(path)
    assert after.version == f"{before.version}+fitted-20261201"
    confidence = {t.name: t.confidence for t in after.typologies}
    assert confidence["ping_pong"] == 0.123
    assert [t.name for t in after.typologies] == [t.name for t in before.typologies]
    with pytest.raises(ValueError, match="typologies.nope: not in the catalog"):
        catalog_with_confidences(None, {"nope": 0.5}, "x")


def test_calibration_error_is_the_case_weighted_gap():
    bands = pl.DataFrame({"cases": [10, 30], "mean_score": [0.3, 0.9], "planted_share": [0.5, 0.8]})
    assert calibration_error(bands) == pytest.approx((10 * 0.2 + 30 * 0.1) / 40)


def test_the_score_map_reads_an_understated_case_score_as_the_share_confirmed():
    # 200 cases at each of five scores; at score x, a share 1.6 x (capped) is confirmed:
    # the score ranks them but understates how often they are confirmed.
    scores = [x for x in (0.2, 0.3, 0.4, 0.5, 0.6) for _ in range(200)]
    confirmed = [i < round(min(1.6 * x, 1.0) * 200) for x in (0.2, 0.3, 0.4, 0.5, 0.6)
                 for i in range(200)]  # fmt: skip
    points = fit_score_map(scores, confirmed, weight=20)
    assert [p[0] for p in points] == pytest.approx([0.2, 0.3, 0.4, 0.5, 0.6])
    # each step's share pulled toward its score by 20 of its 200 cases: (200 y + 20 x) / 220
    assert points[0][1] == pytest.approx((200 * 0.32 + 20 * 0.2) / 220, abs=1e-6)
    bands = pl.DataFrame({"s": [0.2, 0.45, 0.6]}).select(apply_score_map(pl.col("s"), points))
    assert bands["s"].to_list() == pytest.approx(
        [points[0][1], (points[2][1] + points[3][1]) / 2, points[4][1]], abs=1e-6
    )
    # monotone: a step that confirmed fewer than the one below it is pooled with it
    pooled = fit_score_map(
        [0.1] * 10 + [0.2] * 10, [True] * 8 + [False] * 2 + [True] * 2 + [False] * 8
    )
    assert len(pooled) == 1 and pooled[0][0] == pytest.approx(0.15)
    assert (
        fit_score_map([], []) == () and apply_score_map(pl.col("s"), ()).meta.output_name() == "s"
    )


def test_a_score_map_that_would_reorder_cases_is_refused():
    assert validate_score_map([[0.2, 0.3], [0.5, 0.8]], "score_map") == ((0.2, 0.3), (0.5, 0.8))
    with pytest.raises(ValueError, match=r"score_map: scores must increase .*\[0.5, 0.8\] then"):
        validate_score_map([[0.5, 0.8], [0.6, 0.7]], "score_map")
    with pytest.raises(ValueError, match=r"score_map: expected \[\[score, share\], ...\]"):
        validate_score_map([0.5], "score_map")
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        validate_score_map([[0.5, 1.2]], "score_map")


def test_the_fitted_catalog_carries_its_score_map_and_a_refit_drops_a_stale_one(tmp_path):
    path = tmp_path / "fitted.yaml"
    path.write_text(catalog_with_confidences(None, {"ping_pong": 0.2}, "a", ((0.3, 0.6),)))
    assert load_catalog(path).score_map == ((0.3, 0.6),)
    again = tmp_path / "again.yaml"
    again.write_text(catalog_with_confidences(path, {"ping_pong": 0.3}, "b"))
    assert load_catalog(again).score_map == ()  # fitted to other confidences: not kept
