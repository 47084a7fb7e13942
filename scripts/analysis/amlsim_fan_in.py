"""Why AMLSim's planted fan-ins are (not) funnels: the product's own leg flags
(``leg_dormancy``, 30-day look-back, judged from the dataset's 31st day) of the planted fan-in
transfers, and, given a kept evaluation store (``evaluate ... --home DIR``), what the members
of the alerted fan-in patterns are in the ground truth, and how many of the alerted funnels
are hubs that a later gather-scatter alert shows passing the money on (a what-if: fan-in F1
with those counted as the gather-scatter's, which no partition can know on the funnel's day).

    .venv/bin/python scripts/analysis/amlsim_fan_in.py [--home DIR]
"""

import argparse
from pathlib import Path

import polars as pl
from amlsim_common import DATA, dataset_legs, f1s, stored_tables  # this folder is on sys.path

from analytics_platform.domain.evaluation import alerted_patterns
from analytics_platform.domain.patterns.dormancy import leg_dormancy


def planted_leg_flags() -> pl.DataFrame:
    legs, history, known_from = dataset_legs()
    truth = pl.read_csv(DATA / "gt_transactions.csv.gz")
    fan_in = truth.filter(pl.col("is_sar") & (pl.col("pattern_type") == "fan_in"))
    planted = legs.join(fan_in.select("tx_hash").unique(), on="tx_hash")
    flags = leg_dormancy(planted, history, dormancy_days=30, known_from=known_from)
    return flags.group_by("payer_dormant", "new_pair").len().sort("payer_dormant", "new_pair")


def alerted_fan_in_members(home: Path) -> pl.DataFrame:
    stored = stored_tables(home, "structural_patterns", "typology_alerts")
    patterns = alerted_patterns(stored["structural_patterns"], stored["typology_alerts"])
    members = (
        patterns.filter(pl.col("pattern_type") == "fan_in")
        .select(pl.col("members").explode(empty_as_null=False).alias("address"))
        .unique()
    )
    truth = pl.read_csv(DATA / "gt_accounts.csv.gz")
    planted_fan_in = truth.filter(pl.col("is_sar") & (pl.col("pattern_type") == "fan_in"))
    first_role = truth.group_by("address").agg(pl.col("pattern_type", "is_sar").first())
    return (
        members.join(planted_fan_in.select("address"), on="address", how="anti")
        .join(first_role, on="address", how="left")
        .group_by("pattern_type", "is_sar")
        .len()
        .sort("len", descending=True)
    )


def funnels_before_hubs(home: Path) -> None:
    """Alerted funnels whose collector is later alerted as a gather-scatter hub: how many, how
    many days before, and fan-in F1 through the alerts without them."""
    stored = stored_tables(home, "structural_patterns", "typology_alerts")
    patterns, alerts = stored["structural_patterns"], stored["typology_alerts"]
    alerted = alerted_patterns(patterns, alerts)
    hubs = (
        alerted.filter(pl.col("pattern_type") == "gather_scatter")
        .group_by("center_address")
        .agg(pl.col("date").min().alias("hub_day"))
    )
    funnels = alerted.filter(pl.col("pattern_type") == "fan_in").join(hubs, on="center_address")
    later = funnels.filter(pl.col("hub_day") > pl.col("date"))
    days = (later["hub_day"] - later["date"]).dt.total_days()
    print(
        f"{funnels.height} alerted funnels on {funnels['center_address'].n_unique()} later "
        f"gather-scatter hubs; {later.height} of them before the hub's first alert "
        f"({days.min()}-{days.max()} days before)"
    )
    truth = pl.read_csv(DATA / "gt_accounts.csv.gz")
    kept = patterns.filter(~pl.col("pattern_id").is_in(funnels["pattern_id"].implode()))
    print("fan-in through the alerts, as stored and with those funnels counted as the hub's:")
    print(f1s(truth, patterns, alerts).filter(pl.col("pattern_type") == "fan_in"))
    print(f1s(truth, kept, alerts).filter(pl.col("pattern_type") == "fan_in"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an evaluate --home store of amlsim_s1")
    args = parser.parse_args()
    print("planted fan-in transfers by leg flags (null: before the look-back is covered):")
    print(planted_leg_flags())
    if args.home:
        print("alerted fan-in members that are not planted fan-in members, by what they are:")
        print(alerted_fan_in_members(args.home))
        funnels_before_hubs(args.home)
