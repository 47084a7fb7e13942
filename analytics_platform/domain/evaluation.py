"""Scoring detections against planted (ground-truth) patterns.

A planted pattern counts as found when some detected pattern of the same type contains more
than ``min_overlap`` of its member addresses (the datasets' "shares most members" rule).
"""

from __future__ import annotations

import polars as pl


def match_planted(
    truth: pl.DataFrame, detected: pl.DataFrame, min_overlap: float = 0.5
) -> pl.DataFrame:
    """Per pattern type: planted, found, recall, detected and detections matching a plant.

    ``truth``: pattern_id, pattern_type, address (one row per member).
    ``detected``: pattern_id, pattern_type, members (list of addresses).
    """
    det = (
        detected.select("pattern_id", "pattern_type", pl.col("members").alias("address"))
        .explode("address", empty_as_null=False)
        .unique()
    )
    sizes = truth.group_by("pattern_id").agg(pl.col("address").n_unique().alias("size"))
    overlap = (
        truth.select("pattern_id", "pattern_type", "address")
        .unique()
        .join(det, on=["pattern_type", "address"], suffix="_det")
        .group_by("pattern_id", "pattern_id_det", "pattern_type")
        .agg(pl.len().alias("shared"))
        .join(sizes, on="pattern_id")
        .filter(pl.col("shared") / pl.col("size") > min_overlap)
    )
    planted = truth.group_by("pattern_type").agg(pl.col("pattern_id").n_unique().alias("planted"))
    found = overlap.group_by("pattern_type").agg(pl.col("pattern_id").n_unique().alias("found"))
    hits = overlap.group_by("pattern_type").agg(
        pl.col("pattern_id_det").n_unique().alias("detections_matching")
    )
    n_det = detected.group_by("pattern_type").agg(pl.len().alias("detected"))
    return (
        planted.join(found, on="pattern_type", how="full", coalesce=True)
        .join(n_det, on="pattern_type", how="full", coalesce=True)
        .join(hits, on="pattern_type", how="full", coalesce=True)
        .fill_null(0)
        .with_columns(
            (pl.col("found") / pl.col("planted")).fill_nan(None).alias("recall"),
            (pl.col("detections_matching") / pl.col("detected")).fill_nan(None).alias("precision"),
        )
        .sort("pattern_type")
    )
