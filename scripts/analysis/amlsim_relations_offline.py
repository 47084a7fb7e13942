"""The risk model's relationship features outside the product, on ``amlsim_s1``.

It follows the split of ``evaluate --cutoff 2017-12-27``:
- A LightGBM is trained on only ``domain.risk.relations`` (365-day look-back) over every
  address active in the 7 days before each day.
- Labels are the planted patterns known at the cutoff; a fifth of the other address-days are
  kept as half-weight negatives.
- Thresholds are chosen on the 60 validation days before the cutoff.

It prints the account-level F1 per type after the cutoff, with members of patterns known
before it left out. It then prints the same with each flagged address's one-off
counterparties named as members (payers for fan-in, payees for fan-out), the model-side
analogue of a funnel; that what-if was not adopted.

    .venv/bin/python scripts/analysis/amlsim_relations_offline.py
"""

from datetime import date, timedelta

import lightgbm as lgb
import numpy as np
import polars as pl
from amlsim_common import DATA  # this folder is on sys.path when run

from analytics_platform.domain.risk.relations import relation_features

CUTOFF = date(2017, 12, 27)
LOOKBACK = 365
PARAMS = dict(objective="multiclass", learning_rate=0.1, num_leaves=15, min_data_in_leaf=20,
              feature_fraction=0.8, lambda_l2=1.0, verbose=-1, seed=7, num_threads=2,
              deterministic=True, force_row_wise=True)  # fmt: skip


def load() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The transfers as daily pair edges, and the planted members with their patterns' days."""
    t = pl.read_csv(DATA / "transfers.csv.gz").with_columns(
        pl.col("block_time").str.slice(0, 10).str.to_date().alias("date")
    )
    edges = t.group_by("date", "from_address", "to_address").agg(pl.len().alias("transfer_count"))
    gtt = pl.read_csv(DATA / "gt_transactions.csv.gz").join(t.select("tx_hash", "date"),
                                                             on="tx_hash")  # fmt: skip
    span = gtt.group_by("pattern_id").agg(
        pl.col("date").min().alias("first"), pl.col("date").max().alias("last")
    )
    members = (
        pl.read_csv(DATA / "gt_accounts.csv.gz")
        .filter(pl.col("is_sar"))
        .join(span, on="pattern_id")
    )
    return edges, members


def active_keys(edges: pl.DataFrame) -> pl.DataFrame:
    """(address, date): every address with a transfer in the 7 days up to each day."""
    ends = pl.concat([edges.select(pl.col(c).alias("address"), "date")
                      for c in ("from_address", "to_address")]).unique()  # fmt: skip
    return (
        ends.with_columns(pl.int_ranges(0, 7).alias("k"))
        .explode("k")
        .select("address", (pl.col("date") + pl.duration(days=pl.col("k"))).alias("date"))
        .filter(pl.col("date") <= edges["date"].max())
        .unique()
    )


def shown(scores: tuple[float, float, float]) -> str:
    return "{:.3f} ({:.3f} / {:.3f})".format(*scores)


def f1(flagged: pl.DataFrame, truth: pl.DataFrame) -> tuple[float, float, float]:
    hit = flagged.join(truth, on="address", how="semi").height
    p, r = hit / max(flagged.height, 1), hit / max(truth.height, 1)
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def main() -> None:
    edges, members = load()
    matrix = relation_features(active_keys(edges), edges, LOOKBACK)
    features = [c for c in matrix.columns if c not in ("address", "date")]
    known = members.filter(pl.col("last") <= CUTOFF)
    positives = (
        matrix.select("address", "date")
        .join(known.select("address", "pattern_type", "first", "last"), on="address")
        .filter(pl.col("date").is_between(pl.col("first"), pl.col("last")))
        .group_by("address", "date")
        .agg(pl.col("pattern_type").first())
    )
    rows = matrix.join(positives, on=["address", "date"], how="left").with_columns(
        pl.col("pattern_type").fill_null("none")
    )
    types = sorted(known["pattern_type"].unique().to_list())
    classes = ["none", *types]

    def sample(first: date, last: date) -> pl.DataFrame:
        part = rows.filter(pl.col("date").is_between(first, last))
        keep = (pl.col("address").hash(1) + pl.col("date").cast(pl.Int32).hash(2)) % 5 == 0
        return pl.concat([part.filter(pl.col("pattern_type") != "none"),
                          part.filter((pl.col("pattern_type") == "none") & keep)])  # fmt: skip

    def xy(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        y = frame["pattern_type"].replace_strict({c: i for i, c in enumerate(classes)})
        return frame.select(features).to_numpy().astype(float), y.to_numpy()

    valid_first = CUTOFF - timedelta(days=59)
    x, y = xy(sample(date(2017, 1, 1), CUTOFF - timedelta(days=67)))
    xv, yv = xy(sample(valid_first, CUTOFF))
    booster = lgb.train({**PARAMS, "num_class": len(classes)},
                        lgb.Dataset(x, y, weight=np.where(y == 0, 0.5, 1.0)), 300,
                        valid_sets=[lgb.Dataset(xv, yv)],
                        callbacks=[lgb.early_stopping(20, verbose=False)])  # fmt: skip

    def scored(frame: pl.DataFrame) -> pl.DataFrame:
        probs = booster.predict(frame.select(features).to_numpy().astype(float),
                                num_iteration=booster.best_iteration)  # fmt: skip
        return frame.select("address", "date").hstack(pl.DataFrame(probs, schema=classes))

    valid = scored(rows.filter(pl.col("date").is_between(valid_first, CUTOFF)))
    valid_truth = known.filter(pl.col("last") >= valid_first)
    thresholds = {}
    for t in types:
        truth = valid_truth.filter(pl.col("pattern_type") == t).select("address").unique()
        grid = np.linspace(0.05, 0.95, 19)
        best = max(grid, key=lambda th: f1(
            valid.filter(pl.col(t) >= th).select("address").unique(), truth)[0])  # fmt: skip
        thresholds[t] = float(best)
    after = scored(rows.filter(pl.col("date") > CUTOFF))
    judged = members.filter(pl.col("last") > CUTOFF).select("address", "pattern_type").unique()
    earlier = (
        known.select("address", "pattern_type")
        .unique()
        .join(judged, on=["address", "pattern_type"], how="anti")
    )
    print(f"after {CUTOFF}: account-level F1 (precision / recall) of the model alone")
    pairs = edges.group_by("date", "from_address", "to_address").agg(pl.col("transfer_count").sum())
    for t in types:
        truth = judged.filter(pl.col("pattern_type") == t).select("address")
        mine = earlier.filter(pl.col("pattern_type") == t).select("address")
        flags = after.filter(pl.col(t) >= thresholds[t]).select("address", "date")
        flagged = flags.select("address").unique().join(mine, on="address", how="anti")
        line = f"  {t:<15} {shown(f1(flagged, truth))}"
        side = {"fan_in": ("to_address", "from_address"),
                "fan_out": ("from_address", "to_address")}.get(t)  # fmt: skip
        if side is not None:  # the flagged address's one-off counterparties named too
            me, other = side
            window = flags.join(pairs, left_on="address", right_on=me).filter(
                pl.col("date_right").is_between(
                    pl.col("date") - pl.duration(days=LOOKBACK - 1), pl.col("date")
                )  # fmt: skip
            )
            one_off = (
                window.group_by("address", "date", other)
                .agg(pl.col("transfer_count").sum())
                .filter(pl.col("transfer_count") == 1)
                .select(pl.col(other).alias("address"))
            )
            named = pl.concat([flagged, one_off]).unique().join(mine, on="address", how="anti")
            line += f"   with one-off counterparties named: {shown(f1(named, truth))}"
        print(line)


if __name__ == "__main__":
    main()
