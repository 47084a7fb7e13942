"""Why AMLSim's fan-out F1 through the alerts stays low, from a kept evaluation store
(``evaluate ../shared/datasets/amlsim_s1 --home DIR``): who the alerted fan-out centres are in
the ground truth, and three what-ifs over the stored alerts that were not adopted (dropping a
fan-out that an alerted scatter-gather or gather-scatter of the same centre and day explains;
suppressing an address's re-alerts of a typology within a quiet period; keeping of each fan
only the payees its centre had not paid in the year before).

    .venv/bin/python scripts/analysis/amlsim_fan_out.py --home DIR
"""

import argparse
from pathlib import Path

import polars as pl
from amlsim_common import DATA, f1s, stored_tables  # this folder is on sys.path

from analytics_platform.domain.evaluation import alerted_patterns, planted_alerted


def planted_sources() -> pl.Series:
    """Each planted fan-out's paying account."""
    gt = pl.read_csv(DATA / "gt_transactions.csv.gz")
    fan_out = gt.filter(pl.col("is_sar") & (pl.col("pattern_type") == "fan_out"))
    return fan_out.group_by("pattern_id").agg(pl.col("from_address").mode().first())["from_address"]


def centres_by_role(fan_outs: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """The alerted fan-outs' centres: a planted fan-out's source, else what the ground truth
    says the account is (its first pattern), else outside every pattern."""
    first_role = truth.group_by("address").agg(pl.col("pattern_type", "is_sar").first())
    centres = fan_outs.group_by("center_address").agg(pl.len().alias("alert_days"))
    return (
        centres.join(first_role, left_on="center_address", right_on="address", how="left")
        .with_columns(
            pl.when(pl.col("center_address").is_in(planted_sources().implode()))
            .then(pl.lit("planted fan-out source"))
            .when(pl.col("pattern_type").is_null())
            .then(pl.lit("outside every pattern"))
            .otherwise(
                pl.format(
                    "{} member{}",
                    "pattern_type",
                    pl.when("is_sar").then(pl.lit("")).otherwise(pl.lit(" (look-alike)")),
                )
            )
            .alias("centre")
        )
        .group_by("centre")
        .agg(pl.len().alias("centres"), pl.col("alert_days").sum())
        .sort("centres", descending=True)
    )


def explained_fan_outs(patterns: pl.DataFrame, alerts: pl.DataFrame) -> pl.Series:
    """Alerted fan-outs sharing a transfer with an alerted scatter-gather or gather-scatter
    that has the fan-out's centre as a member on the same day."""
    alerted = alerted_patterns(patterns, alerts)
    fan_out = alerted.filter(pl.col("pattern_type") == "fan_out").select(
        "pattern_id", "date", "center_address", pl.col("tx_hashes").alias("fan_tx")
    )
    flows = (
        alerted.filter(pl.col("pattern_type").is_in(["scatter_gather", "gather_scatter"]))
        .select("date", pl.col("members").alias("member"), pl.col("tx_hashes").alias("flow_tx"))
        .explode("member", empty_as_null=False)
    )
    both = fan_out.join(
        flows, left_on=["date", "center_address"], right_on=["date", "member"]
    ).filter(pl.col("fan_tx").list.set_intersection("flow_tx").list.len() > 0)
    return both["pattern_id"].unique()


def new_payees_only(fan_outs: pl.DataFrame, memory_days: int) -> pl.DataFrame:
    """``fan_outs`` with their members cut to the centre and the payees it had not paid in the
    ``memory_days`` before its first payment to them in the fan (from the dataset's transfers):
    an established payee, paid on schedule for months, is no part of a new fan."""
    pays = (
        pl.read_csv(DATA / "transfers.csv.gz")
        .select(
            pl.col("from_address").alias("center_address"),
            pl.col("to_address").alias("payee"),
            pl.col("block_time").str.slice(0, 10).str.to_date().alias("day"),
        )
        .unique()
    )
    slots = (
        fan_outs.select(
            "pattern_id",
            "center_address",
            pl.col("members").alias("payee"),
            pl.col("first_time").dt.date().alias("first"),
            pl.col("last_time").dt.date().alias("last"),
        )
        .explode("payee", empty_as_null=False)
        .filter(pl.col("payee") != pl.col("center_address"))
        .join(pays, on=["center_address", "payee"], how="left")
    )
    in_fan = pl.col("day").is_between(pl.col("first"), pl.col("last"))
    leg = pl.col("day").filter(in_fan).min().over("pattern_id", "payee")
    known = (
        slots.with_columns(leg.alias("leg"))
        .filter(
            (pl.col("day") < pl.col("leg"))
            & (pl.col("day") >= pl.col("leg") - pl.duration(days=memory_days))
        )
        .select("pattern_id", "payee")
        .unique()
    )
    kept = (
        slots.select("pattern_id", "payee")
        .unique()
        .join(known, on=["pattern_id", "payee"], how="anti")
        .group_by("pattern_id")
        .agg("payee")
    )
    return (
        fan_outs.drop("members")
        .join(kept, on="pattern_id", how="left")
        .with_columns(
            pl.concat_list(pl.col("center_address"), pl.col("payee").fill_null([])).alias("members")
        )
        .drop("payee")
    )


def first_after_quiet(alerts: pl.DataFrame, quiet_days: int) -> pl.DataFrame:
    """Alerts of an (address, typology) not alerted in the ``quiet_days`` before."""
    previous = pl.col("date").shift(1).over("address", "typology")
    return alerts.sort("address", "typology", "date").filter(
        previous.is_null() | ((pl.col("date") - previous).dt.total_days() > quiet_days)
    )


def main(home: Path) -> None:
    stored = stored_tables(home, "structural_patterns", "typology_alerts")
    patterns, alerts = stored["structural_patterns"], stored["typology_alerts"]
    truth = pl.read_csv(DATA / "gt_accounts.csv.gz")
    transactions = pl.read_csv(DATA / "gt_transactions.csv.gz").select(
        "pattern_id", "pattern_type", "is_sar", "tx_hash"
    )
    fan_outs = alerted_patterns(patterns, alerts).filter(pl.col("pattern_type") == "fan_out")
    with pl.Config(
        tbl_rows=30, tbl_hide_dataframe_shape=True, float_precision=3, fmt_str_lengths=40
    ):
        print(f"alerted fan-out patterns: {fan_outs.height}, by their centre:")
        print(centres_by_role(fan_outs, truth))
        print("account level through the alerts, as stored:")
        print(f1s(truth, patterns, alerts))
        explained = explained_fan_outs(patterns, alerts)
        print(f"without the {explained.len()} fan-outs a scatter-gather/gather-scatter explains:")
        print(f1s(truth, patterns.filter(~pl.col("pattern_id").is_in(explained.implode())), alerts))
        trimmed = new_payees_only(fan_outs, 365)
        others = patterns.filter(~pl.col("pattern_id").is_in(fan_outs["pattern_id"].implode()))
        print("alerted fan-outs cut to the payees their centre had not paid in the year before:")
        print(f1s(truth, pl.concat([others, trimmed.select(others.columns)]), alerts))
        for quiet in (7, 30):
            kept = first_after_quiet(alerts, quiet)
            cases = kept.select("date", "address").n_unique()
            print(
                f"re-alerts suppressed for {quiet} days: {kept.height} of {alerts.height} alerts, "
                f"{cases} of {alerts.select('date', 'address').n_unique()} cases"
            )
            print(f1s(truth, patterns, kept))
            alerted = planted_alerted(transactions, kept).filter(
                pl.col("planted_as") == "suspicious"
            )
            print(alerted.select("pattern_type", "patterns", "alerted"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="an evaluate --home store")
    main(parser.parse_args().home)
