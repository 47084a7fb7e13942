"""A what-if for AMLSim's fan-outs: payments that break the payer's own cadence.

Most AMLSim accounts pay on a fixed rhythm (1,262 of 1,750 payers every 7 days), and the
planted fan-out legs fall on random days. A leg is *off cadence* when its payer has a regular
rhythm over the 90 days before (at least 4 gaps between its paying days, the most common gap
P > 1 day in at least 60 % of them) and paid no one P, 2P or 3P days before; it is *new*
when the payer had not paid the payee within the year before. A "distribution funnel" is a
payer with at least ``min_fan`` distinct payees on such legs within ``window`` days; its
members are the payer and those payees. Prints why the planted fan-out legs are (not) off
cadence, and the account level of the funnels against the planted fan-out members (computed
from the dataset files, causal: each day judged from the days before it).

    PYTHONPATH=scripts/analysis .venv/bin/python scripts/analysis/amlsim_cadence.py
"""

import polars as pl
from amlsim_common import DATA  # this folder is on sys.path when run

LOOK_BACK = 90  # days of the payer's own rhythm
MEMORY = 365  # days a pair stays known (the profile's relationship_days)


def cadence_legs(t: pl.DataFrame) -> pl.DataFrame:
    """Every transfer with its payer's rhythm on the day (P, gaps, regularity, on cadence)
    and whether the pair was paid within ``MEMORY`` days before."""
    paydays = t.select("from_address", "d").unique().sort("from_address", "d")
    gaps = paydays.with_columns(
        (pl.col("d") - pl.col("d").shift(1).over("from_address")).dt.total_days().alias("gap")
    ).drop_nulls("gap")
    history = paydays.join(gaps.rename({"d": "hd"}), on="from_address").filter(
        (pl.col("hd") < pl.col("d")) & (pl.col("hd") >= pl.col("d") - pl.duration(days=LOOK_BACK))
    )
    mode = pl.col("gap").mode().min()
    rhythm = history.group_by("from_address", "d").agg(
        mode.alias("P"), (pl.col("gap") == mode).mean().alias("regular"), pl.len().alias("gaps")
    )
    paid = paydays.with_columns(pl.lit(True).alias("paid"))
    for k in (1, 2, 3):
        rhythm = rhythm.with_columns(
            (pl.col("d") - pl.duration(days=pl.col("P") * k)).alias("back")
        ).join(
            paid.rename({"d": "back", "paid": f"paid_{k}"}), on=["from_address", "back"], how="left"
        )
    on_cadence = pl.any_horizontal(pl.col(f"paid_{k}").fill_null(False) for k in (1, 2, 3))
    rhythm = rhythm.select("from_address", "d", "P", "regular", "gaps", on_cadence.alias("on"))
    pairs = t.select("from_address", "to_address", "d").unique()
    known = (
        pairs.join(pairs.rename({"d": "pd"}), on=["from_address", "to_address"])
        .filter(
            (pl.col("pd") < pl.col("d")) & (pl.col("pd") >= pl.col("d") - pl.duration(days=MEMORY))
        )
        .select("from_address", "to_address", "d")
        .unique()
        .with_columns(pl.lit(True).alias("known"))
    )
    legs = t.join(rhythm, on=["from_address", "d"], how="left").join(
        known, on=["from_address", "to_address", "d"], how="left"
    )
    return legs.with_columns(
        pl.when(pl.col("known").is_not_null())
        .then(pl.lit("pair paid within the year"))
        .when(pl.col("gaps").fill_null(0) < 4)
        .then(pl.lit("too little history"))
        .when((pl.col("regular") < 0.6) | (pl.col("P") <= 1))
        .then(pl.lit("no regular cadence"))
        .when(pl.col("on"))
        .then(pl.lit("on the payer's cadence"))
        .otherwise(pl.lit("off cadence, new pair"))
        .alias("why")
    )


def funnel_scores(legs: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    planted = truth.filter(pl.col("is_sar") & (pl.col("pattern_type") == "fan_out"))["address"]
    decoys = truth.filter(~pl.col("is_sar") & (pl.col("pattern_type") == "fan_out"))["address"]
    flagged = legs.filter(pl.col("why") == "off cadence, new pair").select(
        "from_address", "to_address", "d"
    )
    rows = []
    for window in (90, 180, 365):
        pairs = flagged.join(
            flagged.rename({"d": "d2", "to_address": "payee"}), on="from_address"
        ).filter(
            (pl.col("d2") <= pl.col("d")) & (pl.col("d2") > pl.col("d") - pl.duration(days=window))
        )
        per_day = pairs.group_by("from_address", "d").agg(pl.col("payee").unique())
        for min_fan in (3, 4, 5):
            funnels = per_day.filter(pl.col("payee").list.len() >= min_fan)
            members = pl.concat(
                [
                    funnels.select(pl.col("from_address").alias("a")),
                    funnels.select(pl.col("payee").alias("a")).explode("a", empty_as_null=False),
                ]
            ).unique()["a"]
            true = int(members.is_in(planted.implode()).sum())
            decoy = int((members.is_in(decoys.implode()) & ~members.is_in(planted.implode())).sum())
            false = members.len() - true - decoy
            precision = true / (true + false) if true + false else 0.0
            recall = true / planted.n_unique()
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            rows.append(
                (window, min_fan, funnels["from_address"].n_unique(), true, false, decoy,
                 round(precision, 3), round(recall, 3), round(f1, 3))
            )  # fmt: skip
    return pl.DataFrame(
        rows,
        schema=[
            "window",
            "min_fan",
            "payers",
            "true",
            "false",
            "decoy",
            "precision",
            "recall",
            "f1",
        ],
        orient="row",
    )


def main() -> None:
    t = pl.read_csv(DATA / "transfers.csv.gz").with_columns(
        pl.col("block_time").str.slice(0, 10).str.to_date().alias("d")
    )
    gt = pl.read_csv(DATA / "gt_transactions.csv.gz")
    truth = pl.read_csv(DATA / "gt_accounts.csv.gz")
    legs = cadence_legs(t)
    fan_out = gt.filter(pl.col("is_sar") & (pl.col("pattern_type") == "fan_out"))["tx_hash"]
    print("Planted fan-out legs, and why they are (not) off cadence:")
    print(legs.filter(pl.col("tx_hash").is_in(fan_out.implode())).group_by("why").len().sort("len"))
    print("Every leg:")
    print(legs.group_by("why").len().sort("len"))
    print("Distribution funnels over the off-cadence new legs, account level (fan_out):")
    with pl.Config(tbl_rows=20):
        print(funnel_scores(legs, truth))


if __name__ == "__main__":
    main()
