from datetime import UTC, date, datetime

import polars as pl

from analytics_platform.domain.labels import labels_as_of, merge_snapshot, normalise_snapshot
from analytics_platform.domain.schemas import ADDRESS_LABELS

T1 = datetime(2026, 10, 1, tzinfo=UTC)
T2 = datetime(2026, 10, 5, tzinfo=UTC)


def snap(rows):
    return normalise_snapshot(pl.DataFrame(rows), network="torus")


def test_scd2_history_closes_changed_rows_and_is_idempotent():
    empty = pl.DataFrame(schema=ADDRESS_LABELS)
    s1 = snap(
        [
            {"address": "x", "label": "Mixy", "category": "mixer", "source": "intel"},
            {"address": "y", "label": "Ex", "category": "exchange", "source": "intel"},
        ]
    )
    h1 = merge_snapshot(empty, s1, T1)
    assert h1.height == 2 and h1["is_current"].all()
    assert merge_snapshot(h1, s1, T2).equals(h1)  # re-loading changes nothing

    s2 = snap([{"address": "x", "label": "Mixy", "category": "sanctioned", "source": "intel"}])
    h2 = merge_snapshot(h1, s2, T2)
    x = h2.filter(pl.col("address") == "x").sort("valid_from")
    assert x["category"].to_list() == ["mixer", "sanctioned"]
    assert x["valid_to"][0] == T2 and x["is_current"].to_list() == [False, True]
    y = h2.filter(pl.col("address") == "y")
    assert y["is_current"].to_list() == [False]  # disappeared from the snapshot: closed

    assert labels_as_of(h2, date(2026, 10, 2))["category"].sort().to_list() == ["exchange", "mixer"]
    assert labels_as_of(h2, date(2026, 10, 6))["category"].to_list() == ["sanctioned"]


def test_unknown_category_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="category: unknown label category 'bank'"):
        snap([{"address": "x", "label": "B", "category": "bank"}])
