"""How far a daily score of active addresses can reach on AMLSim's planted patterns after a
cutoff: per type, how many days a pattern's transfers span (median, max), and the share of the
members of the patterns judged after the cutoff (those whose last transfer is after it, as
``evaluate --cutoff`` judges them) that make any transfer after it. A member with none has no
row to score on any later day: the model's recall for its type cannot pass that share.

    .venv/bin/python scripts/analysis/amlsim_fan_reach.py [--cutoff 2017-12-27]
"""

import argparse
from datetime import date
from pathlib import Path

import polars as pl

from analytics_platform.evaluation.run import load_truth, load_truth_transactions

DATA = Path("../shared/datasets/amlsim_s1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cutoff", type=date.fromisoformat, default=date(2017, 12, 27))
    cutoff = parser.parse_args().cutoff
    truth = load_truth(DATA)
    transactions = load_truth_transactions(DATA, truth)
    transfers = pl.read_csv(
        DATA / "transfers.csv.gz",
        columns=["tx_hash", "from_address", "to_address", "block_time"],
        infer_schema_length=0,
    ).with_columns(pl.col("block_time").str.slice(0, 10).str.to_date().alias("day"))
    legs = transactions.join(transfers, on="tx_hash")
    spans = legs.group_by("pattern_id", "pattern_type").agg(
        ((pl.col("day").max() - pl.col("day").min()).dt.total_days() + 1).alias("days"),
        pl.col("day").max().alias("last_day"),
    )
    later = pl.concat(
        [
            transfers.select(pl.col(side).alias("address"), "day")
            for side in ("from_address", "to_address")
        ]
    ).filter(pl.col("day") > cutoff)
    active = later.select("address").unique().with_columns(pl.lit(True).alias("active"))
    judged = (
        truth.filter("is_sar")
        .join(spans.filter(pl.col("last_day") > cutoff).select("pattern_id"), on="pattern_id")
        .join(active, on="address", how="left")
    )
    reach = judged.group_by("pattern_type").agg(
        pl.len().alias("judged_members"),
        pl.col("active").fill_null(False).mean().round(3).alias("active_after_cutoff"),
    )
    table = (
        spans.group_by("pattern_type")
        .agg(
            pl.len().alias("patterns"),
            pl.col("days").median().alias("span_days_median"),
            pl.col("days").max().alias("span_days_max"),
        )
        .join(reach, on="pattern_type", how="left")
        .sort("pattern_type")
    )
    with pl.Config(tbl_cols=10, tbl_width_chars=120):
        print(f"cutoff {cutoff}")
        print(table)


if __name__ == "__main__":
    main()
