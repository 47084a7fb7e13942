"""Why AMLSim's planted fan-ins are (not) funnels: the product's own leg flags
(``leg_dormancy``, 30-day look-back, judged from the dataset's 31st day) of the planted fan-in
transfers, and, given a kept evaluation store (``evaluate ... --home DIR``), what the members
of the alerted fan-in patterns are in the ground truth, and how many of the alerted funnels
are hubs that a later gather-scatter alert shows passing the money on (a what-if: fan-in F1
with those counted as the gather-scatter's, which no partition can know on the funnel's day).

    .venv/bin/python scripts/analysis/amlsim_fan_in.py [--home DIR]
"""

import argparse
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import yaml

from analytics_platform.domain.evaluation import alerted_patterns
from analytics_platform.domain.patterns.common import leg_dormancy

DATA = Path("../shared/datasets/amlsim_s1")


def dataset_legs() -> tuple[pl.DataFrame, pl.DataFrame, date]:
    """Every transfer of the dataset as a leg (tx_hash, src, dst, time: its day), the daily
    edges ``leg_dormancy`` reads as history, and the first day it judges (the 31st: the
    30-day look-back is covered from then)."""
    t = pl.read_csv(DATA / "transfers.csv.gz").with_columns(
        pl.col("block_time").str.slice(0, 10).str.to_date().alias("date")
    )
    legs = t.select(
        "tx_hash",
        pl.col("from_address").alias("src"),
        pl.col("to_address").alias("dst"),
        pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("time"),
    )
    history = t.select("date", "from_address", "to_address").unique()
    return legs, history, t["date"].min() + timedelta(days=30)


def planted_leg_flags() -> pl.DataFrame:
    legs, history, known_from = dataset_legs()
    truth = pl.read_csv(DATA / "gt_transactions.csv.gz")
    fan_in = truth.filter(pl.col("is_sar") & (pl.col("pattern_type") == "fan_in"))
    planted = legs.join(fan_in.select("tx_hash").unique(), on="tx_hash")
    flags = leg_dormancy(planted, history, dormancy_days=30, known_from=known_from)
    return flags.group_by("payer_dormant", "new_pair").len().sort("payer_dormant", "new_pair")


def stored_tables(home: Path, *tables: str) -> dict[str, pl.DataFrame]:
    """The rows an ``evaluate ... --home DIR`` run stored, every day, per table."""
    from analytics_platform.config import load_settings
    from analytics_platform.storage import clickhouse as ch
    from analytics_platform.storage.tables import TABLES

    config = home / "config.yaml"
    (network,) = yaml.safe_load(config.read_text())["networks"]
    settings = load_settings({"ANALYTICS_HOME": str(home), "ANALYTICS_CONFIG": str(config)})
    with ch.session(settings.clickhouse) as client:
        return {
            table: ch.read_days(client, network, table, schema=TABLES[table].schema,
                                cluster=settings.clickhouse.cluster)
            for table in tables
        }  # fmt: skip


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
    from amlsim_fan_out import f1s  # this folder is on sys.path when run

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
