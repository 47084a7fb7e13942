"""A what-if on a kept AMLSim store: complete each alerted gather-scatter (and, apart, each
alerted fan-in) with its centre's other new pairs within the pattern's days, and score the
account level through the alerts again.

Gather-scatter runs on the unusual legs only (a new pair with a dormant payer or payee), so a
planted hub's leg from an active payer to an already-paid hub is left out, and a hub of three
senders and three recipients that loses one such leg is not found at all. Completion adds the
centre's new pairs (the product's ``leg_dormancy``, a year's pair memory, as the AMLSim
profile sets it) from the pattern's first to its last day; it cannot find the hubs it never
detected. For fan-ins the same completion adds the collector's active new payers.

    PYTHONPATH=scripts/analysis .venv/bin/python scripts/analysis/amlsim_completion.py --home DIR
"""

import argparse
from pathlib import Path

import polars as pl
from amlsim_common import DATA, dataset_legs, stored_tables  # this folder is on sys.path when run

from analytics_platform.domain.evaluation import account_scores, alerted_patterns
from analytics_platform.domain.patterns.dormancy import leg_dormancy


def new_pairs() -> pl.DataFrame:
    """src, dst, date of every transfer that is a new pair with a 365-day memory."""
    legs, history, known_from = dataset_legs()
    flags = leg_dormancy(
        legs, history, dormancy_days=30, known_from=known_from, relationship_days=365
    )
    return flags.filter(pl.col("new_pair").fill_null(False)).select(
        "src", "dst", pl.col("time").dt.date().alias("date")
    )


def completed(patterns: pl.DataFrame, pairs: pl.DataFrame, sides: tuple[str, ...]) -> pl.DataFrame:
    """``patterns`` with the centre's new pairs within the pattern's days added to its members;
    ``sides``: "in" (its payers), "out" (its payees) or both."""
    days = patterns.select(
        "pattern_id",
        "center_address",
        pl.col("first_time").dt.date().alias("first"),
        pl.col("last_time").dt.date().alias("last"),
    )
    ends = {"in": ("dst", "src"), "out": ("src", "dst")}  # (the centre, the other) per side
    by_side = {
        side: pairs.select(pl.col(c).alias("center_address"), pl.col(o).alias("other"), "date")
        for side, (c, o) in ends.items()
    }
    extra = (
        pl.concat([days.join(by_side[side], on="center_address") for side in sides])
        .filter(pl.col("date").is_between("first", "last"))
        .group_by("pattern_id")
        .agg(pl.col("other").unique().alias("extra"))
    )
    return (
        patterns.join(extra, on="pattern_id", how="left")
        .with_columns(pl.concat_list("members", pl.col("extra").fill_null([])).list.unique())
        .drop("extra")
    )


def main(home: Path) -> None:
    stored = stored_tables(home, "structural_patterns", "typology_alerts")
    alerted = alerted_patterns(stored["structural_patterns"], stored["typology_alerts"])
    truth = pl.read_csv(DATA / "gt_accounts.csv.gz")
    pairs = new_pairs()
    for kind, sides in (("gather_scatter", ("in", "out")), ("fan_in", ("in",))):
        own = alerted.filter(pl.col("pattern_type") == kind).unique("pattern_id")
        rest = alerted.filter(pl.col("pattern_type") != kind)
        for label, mine in (("as stored", own), ("completed", completed(own, pairs, sides))):
            scores = account_scores(truth, pl.concat([rest, mine.select(rest.columns)]))
            row = scores.filter(pl.col("pattern_type") == kind).select(
                "pattern_type", "flagged", "true_hits", "precision", "recall", "f1"
            )
            print(f"{kind}, {label}:")
            print(row)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a kept evaluate store")
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_width_chars=120):
        main(parser.parse_args().home)
