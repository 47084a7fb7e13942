"""Cases: one per address and day, scored from every typology that fired, ranked and cut."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from analytics_platform.domain.cases import case_table, with_cases
from analytics_platform.domain.schemas import ALERT_COLUMNS, TypologyAlertsSchema

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)
CONFIDENCE = {"fan": 0.4, "cycle": 0.9, "structuring": 0.8}


def alerts(rows: list[tuple[date, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "network": "torus",
                "date": day,
                "alert_id": f"{typ}-{address}-{i}",
                "typology": typ,
                "address": address,
                "severity": "medium",
                "score": score,
                "pattern_ids": [f"p{i}"],
                "tx_hashes": [],
                "evidence": "{}",
                "explanation": f"{typ} on {address}",
                "pattern_type": "",
                "source": "rule",
            }
            for i, (day, address, typ, score) in enumerate(rows)
        ],
        schema=ALERT_COLUMNS,
    )


def test_alerts_of_an_address_and_day_form_one_case_scored_by_noisy_or():
    out = with_cases(
        alerts(
            [
                (D1, "a", "fan", 0.8),
                (D1, "a", "cycle", 0.7),
                (D1, "a", "fan", 0.5),  # a weaker second fan: the typology counts once
                (D1, "b", "cycle", 0.8),
                (D1, "c", "fan", 0.9),
            ]
        ),
        network="torus",
        confidence=CONFIDENCE,
    )
    TypologyAlertsSchema.validate(out)
    score = dict(out.select("address", "case_score").unique().iter_rows())
    assert abs(score["a"] - (1 - (1 - 0.4 * 0.8) * (1 - 0.9 * 0.7))) < 1e-6
    assert abs(score["b"] - 0.72) < 1e-6
    # Two typologies beat one; a high score of an often-benign typology ranks last.
    ranks = dict(out.select("address", "case_rank").unique().iter_rows())
    assert ranks == {"a": 1, "b": 2, "c": 3}
    assert out.filter(pl.col("address") == "a")["case_id"].n_unique() == 1
    cases = case_table(out)
    assert cases.height == 3
    first = cases.row(0, named=True)
    assert first["address"] == "a" and first["typologies"] == ["fan", "cycle"]
    assert first["alerts"] == 3


def test_the_budget_cuts_each_day_at_the_score_and_keeps_every_row():
    rows = [(D1, f"x{i}", "structuring", 0.3 + i / 10) for i in range(5)]
    rows += [(D2, f"y{i}", "cycle", 0.5 + i / 20) for i in range(3)]
    out = with_cases(alerts(rows), network="torus", confidence=CONFIDENCE, budget=2)
    assert out.height == len(rows)
    kept = out.filter("in_budget").sort("date", "case_rank")
    assert kept.select("date", "address").rows() == [
        (D1, "x4"),
        (D1, "x3"),
        (D2, "y2"),
        (D2, "y1"),
    ]
    # Ranks restart every day, so a day's cases do not depend on the others in the run.
    alone = with_cases(
        alerts([r for r in rows if r[0] == D2]), network="torus", confidence=CONFIDENCE, budget=2
    )
    columns = ["address", "case_id", "case_score", "case_rank", "in_budget"]
    both = out.filter(pl.col("date") == D2).select(columns).sort("address")
    assert alone.select(columns).sort("address").equals(both)


def test_no_alerts_no_cases():
    out = with_cases(alerts([]), network="torus", confidence=CONFIDENCE, budget=5)
    assert out.height == 0 and case_table(out).height == 0


def test_a_score_map_sets_the_stored_score_and_never_the_ranking():
    rows = [(D1, f"x{i}", "structuring", 0.3 + i / 10) for i in range(5)]
    plain = with_cases(alerts(rows), network="torus", confidence=CONFIDENCE, budget=2)
    points = ((0.3, 0.5), (0.5, 0.9))  # a steep map: 0.24 -> 0.4, 0.32 -> 0.54
    mapped = with_cases(
        alerts(rows), network="torus", confidence=CONFIDENCE, budget=2, score_map=points
    )
    columns = ["address", "case_rank", "in_budget"]
    assert mapped.select(columns).sort("address").equals(plain.select(columns).sort("address"))
    raw = dict(plain.select("address", "case_score").iter_rows())
    now = dict(mapped.select("address", "case_score").iter_rows())
    assert raw["x0"] == pytest.approx(0.8 * 0.3) and now["x0"] == pytest.approx(0.4)
    assert raw["x1"] == pytest.approx(0.8 * 0.4) and now["x1"] == pytest.approx(0.54)
    assert now["x4"] == pytest.approx(0.9 + (0.8 * 0.7 - 0.5) / 0.5 * 0.1)  # toward (1, 1)
