"""Amounts and durations in explanations read as an analyst writes them."""

import polars as pl

from analytics_platform.domain.readable import (
    PATTERN_TYPE_TEXT,
    amount_text,
    duration_text,
    pattern_type_text,
    share_text,
)
from analytics_platform.domain.schemas import PATTERN_TYPE_NAMES
from analytics_platform.domain.typologies import _explain


def test_amounts_keep_cents_thousands_and_small_digits():
    values = pl.DataFrame({"v": [40210.214, 1500.0, 0.004123, 0.0, None]})
    text = values.select(amount_text(pl.col("v")))["v"].to_list()
    assert text == ["40,210.21", "1,500.00", "0.00412", "0", None]


def test_durations_use_minutes_hours_or_days():
    seconds = pl.DataFrame({"s": [0.0, 40.0, 120.0, 5.7 * 3600, 47 * 3600, 28 * 86400]})
    text = seconds.select(duration_text(pl.col("s")).alias("s"))["s"].to_list()
    assert text == [
        "the same timestamp",  # one day's transfers in day-resolution data: not "0 minutes"
        "a minute",
        "2 minutes",
        "5.7 hours",
        "47.0 hours",
        "28.0 days",
    ]


def test_shares_read_as_whole_percentages_from_numbers_or_details_text():
    numbers = pl.DataFrame({"s": [1.0, 0.333, None, 32409.53]}).select(share_text(pl.col("s")))
    text = pl.DataFrame({"s": ["0.5", "0.667", "n/a"]}).select(share_text(pl.col("s")))
    assert numbers["s"].to_list() == ["100%", "33%", None, "3,240,953%"]
    assert text["s"].to_list() == ["50%", "67%", None]


def test_every_pattern_type_is_named_in_words():
    assert set(PATTERN_TYPE_TEXT) == set(PATTERN_TYPE_NAMES)
    types = pl.DataFrame({"t": ["gather_scatter", "rapid_pass_through", "someday_new"]})
    text = types.select(pattern_type_text(pl.col("t")))["t"].to_list()
    assert text == ["gather-scatter", "rapid pass-through", "someday_new"]  # unknown: as is


def test_catalog_placeholders_read_ratios_as_percentages_and_amounts_with_separators():
    rows = pl.DataFrame(
        {"kept_ratio": ["0.4823"], "threshold": [10000.0], "address": ["0xab"], "hops": [7]}
    )
    template = "{address:,} kept {kept_ratio:%} of {threshold:,} in {hops} hops, {missing:%}"
    (text,) = rows.select(_explain(template, rows.schema).alias("t"))["t"]
    # an amount spec on text is no number ("?"); an unknown key stays as written
    assert text == "? kept 48% of 10,000.00 in 7 hops, (missing:%)"
