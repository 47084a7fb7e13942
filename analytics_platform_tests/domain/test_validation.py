from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from analytics_platform.domain.validation import TransferInputError, validate_transfers

A, B = "0x" + "a" * 40, "0x" + "b" * 40
PATTERN = r"^0x[0-9a-f]{40}$"


def raw(**overrides):
    row = {
        "tx_hash": "0x1",
        "transfer_index": "0",
        "block_time": "2026-10-01T10:00:00Z",
        "from_address": A,
        "to_address": B,
        "asset": "TOR",
        "amount": "1.123456789012345678",
    }
    row.update(overrides)
    return row


def run(rows, day=date(2026, 10, 1)):
    return validate_transfers(
        pl.DataFrame(rows), network="torus", address_pattern=PATTERN, source="test", day=day
    )


def test_good_rows_keep_18_decimals():
    r = run([raw()])
    assert r.accepted.height == 1 and r.rejected.height == 0
    assert r.accepted["amount"][0] == Decimal("1.123456789012345678")
    assert str(r.accepted["block_time"].dtype) == "Datetime(time_unit='ms', time_zone='UTC')"


def test_missing_column_names_the_field():
    with pytest.raises(TransferInputError, match="'amount'"):
        validate_transfers(
            pl.DataFrame([raw()]).drop("amount"),
            network="torus",
            address_pattern=PATTERN,
            source="test",
        )


@pytest.mark.parametrize(
    ("override", "field", "value"),
    [
        ({"block_time": "not a time"}, "block_time", "not a time"),
        ({"amount": "-3"}, "amount", "-3"),
        ({"amount": "12abc"}, "amount", "12abc"),
        ({"to_address": "0xZZ"}, "to_address", "0xZZ"),
        ({"from_address": ""}, "from_address", ""),
    ],
)
def test_bad_rows_go_to_dead_letters_with_field_and_value(override, field, value):
    r = run([raw(), raw(tx_hash="0x2", **override)])
    assert r.accepted["tx_hash"].to_list() == ["0x1"]
    assert r.rejected.height == 1
    dl = r.rejected.row(0, named=True)
    assert dl["field"] == field and dl["value"] == value
    assert field in dl["reason"] and dl["record"].startswith("{")
    assert r.read == r.accepted.height + r.rejected.height + r.duplicates


def test_duplicates_dropped_and_conflicts_rejected():
    rows = [raw(), raw(), raw(amount="9")]
    r = run(rows)
    assert r.accepted.height == 1 and r.duplicates == 1 and r.rejected.height == 1
    assert r.rejected["field"][0] == "tx_hash,transfer_index"
    assert r.counts == {"read": 3, "accepted": 1, "rejected": 1, "duplicates": 1}


def test_rows_of_other_days_are_not_this_partitions():
    r = run([raw(), raw(tx_hash="0x9", block_time="2026-10-02T00:00:00Z")])
    assert r.read == 1 and r.accepted.height == 1


def test_timestamp_layouts_and_offsets_normalised_to_utc():
    r = run(
        [
            raw(tx_hash="a", block_time="2026-10-01 05:00:00"),
            raw(tx_hash="b", block_time="2026-10-01T12:00:00+02:00"),
            raw(tx_hash="c", block_time="2026-10-01T01:02:03.456Z"),
        ]
    )
    hours = sorted(r.accepted["block_time"].dt.hour().to_list())
    assert hours == [1, 5, 10]


def test_missing_transfer_index_is_position_in_transaction():
    rows = [
        {k: v for k, v in raw(tx_hash="0xt", amount=str(i)).items() if k != "transfer_index"}
        for i in range(3)
    ]
    r = run(rows)
    assert r.accepted.sort("amount")["transfer_index"].to_list() == [0, 1, 2]
