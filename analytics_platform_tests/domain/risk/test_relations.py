"""The risk matrix's relationship features: one-off, regular and new counterparties over a
look-back, and how connected the counterparties are, checked against a ledger worked by hand."""

from datetime import date, timedelta

import polars as pl
import pytest

from analytics_platform.domain.risk.relations import relation_features, relation_names

D0 = date(2024, 1, 1)


def _edges(rows: list[tuple[int, str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(D0 + timedelta(days=d), a, b, n) for d, a, b, n in rows],
        schema={"date": pl.Date, "from_address": pl.String, "to_address": pl.String,
                "transfer_count": pl.Int64},
        orient="row",
    )  # fmt: skip


# A funnel: p1..p4 each pay c once, months apart; r pays c every 10 days (regular); c pays x.
LEDGER = _edges(
    [(0, "p1", "c", 1), (40, "p2", "c", 1), (80, "p3", "c", 1), (95, "p4", "c", 1)]
    + [(d, "r", "c", 1) for d in range(0, 100, 10)]
    + [(99, "c", "x", 2)]
)


def _row(address: str, day: int, lookback: int) -> dict:
    keys = pl.DataFrame({"address": [address], "date": [D0 + timedelta(days=day)]})
    (row,) = relation_features(keys, LEDGER, lookback).to_dicts()
    return {k.removesuffix(f"_l{lookback}"): v for k, v in row.items()}


def test_a_funnel_collector_has_one_off_payers_beside_a_regular_one():
    row = _row("c", 99, 365)
    assert row["payer_counterparties"] == 5
    assert row["payer_one_off"] == 4  # p1..p4; r paid ten times
    assert row["payer_regular"] == 1
    assert row["payer_transfers"] == 14
    assert row["payer_new"] == 2  # p3 (day 80) and p4 (day 95) within 30 days of day 99
    assert row["payee_counterparties"] == 1 and row["payee_one_off"] == 0  # x: two transfers
    assert row["active_days"] == 12  # days 0, 10, ..., 90 (40 and 80 among them), 95, 99
    assert row["age_days"] == 99


def test_a_payer_into_a_funnel_sees_how_connected_its_payee_is():
    row = _row("p4", 99, 365)
    assert row["payee_one_off"] == 1
    assert row["payees_max_counterparties"] == 5
    assert row["payees_max_one_off"] == 4
    assert row["payees_one_off_to_collectors"] == 1  # its one payment went to a collector
    # x was paid by c, whose payees are one (x): no spreader of one-offs
    assert _row("x", 99, 365)["payers_max_counterparties"] == 1


def test_the_look_back_cuts_what_is_older_and_names_the_columns():
    row = _row("c", 99, 30)  # days 70..99: p3, p4 and r's three payments
    assert row["payer_counterparties"] == 3 and row["payer_one_off"] == 2
    assert row["age_days"] == 29
    assert relation_names(30)[0] == "payer_counterparties_l30"
    quiet = _row("nobody", 99, 30)
    assert set(quiet.values()) - {"nobody", D0 + timedelta(days=99)} == {0.0}


@pytest.mark.parametrize("lookback", [1, 30, 365])
def test_every_key_gets_one_row_in_the_named_order(lookback):
    keys = pl.DataFrame(
        {"address": ["c", "p1", "c"], "date": [D0 + timedelta(days=d) for d in (99, 0, 40)]}
    )
    out = relation_features(keys, LEDGER, lookback)
    assert out.columns == ["address", "date", *relation_names(lookback)]
    assert out.height == 3 and out.select("address", "date").n_unique() == 3
