"""What a year's relationship memory (``relationship_days: 365``) changes on AMLSim's legs: the
product's own flags (``leg_dormancy``, 30-day dormancy, judged from the dataset's 31st day) of
every transfer, with a pair's memory of 30 and of 365 days, counted by what the ground truth
says the transfer is. Unusual legs (the cycle, gather-scatter and layering detectors' input)
are new pairs with a dormant payer or payee; funnel legs are new pairs from a dormant payer.

    .venv/bin/python scripts/analysis/amlsim_relationships.py
"""

import polars as pl
from amlsim_common import DATA, dataset_legs  # this folder is on sys.path when run

from analytics_platform.domain.patterns.dormancy import leg_dormancy


def legs_by_kind() -> pl.DataFrame:
    legs, history, known_from = dataset_legs()
    truth = pl.read_csv(DATA / "gt_transactions.csv.gz").select(
        "tx_hash",
        pl.when("is_sar").then("pattern_type").otherwise(pl.lit("look-alike")).alias("kind"),
    )
    counts = []
    for memory in (30, 365):
        flags = leg_dormancy(
            legs, history, dormancy_days=30, known_from=known_from, relationship_days=memory
        ).drop_nulls("new_pair")
        dormant = pl.col("payer_dormant") | pl.col("payee_dormant")
        counts.append(
            flags.join(truth, on="tx_hash", how="left")
            .with_columns(pl.col("kind").fill_null("background"))
            .group_by("kind")
            .agg(
                (pl.col("new_pair") & dormant).sum().alias(f"unusual_{memory}d"),
                (pl.col("new_pair") & pl.col("payer_dormant")).sum().alias(f"funnel_{memory}d"),
            )
        )
    return counts[0].join(counts[1], on="kind").sort("kind")


if __name__ == "__main__":
    with pl.Config(tbl_rows=20, tbl_hide_dataframe_shape=True):
        print(legs_by_kind())
