"""Another background for ``amlsim_s1``: a copy of the dataset without a random share of
its background accounts (every account of a planted pattern or look-alike stays, with all its
transfers; the transfers of a dropped account go with it). Evaluating the copies with the same
profile shows how much the account-level figures move when the background changes, as they
will on another AMLSim set; the copy is thinner than the original, so read a change of
precision with that in mind.

    .venv/bin/python scripts/analysis/amlsim_resample.py --drop 0.1 --seed 1 --out DIR
    .venv/bin/analytics-platform evaluate DIR/amlsim_resample_s1 --json
"""

import argparse
import shutil
from pathlib import Path

import polars as pl
from amlsim_common import DATA  # this folder is on sys.path when run


def resample(out: Path, drop: float, seed: int) -> tuple[Path, int, int]:
    """Write the copy to ``out/amlsim_resample_s<seed>`` (the name picks the AMLSim profile);
    return its folder, the accounts dropped and the transfers left."""
    folder = out / f"amlsim_resample_s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    transfers = pl.read_csv(DATA / "transfers.csv.gz")
    kept = pl.read_csv(DATA / "gt_accounts.csv.gz")["address"].unique()
    accounts = pl.concat([transfers["from_address"], transfers["to_address"]]).unique().sort()
    background = accounts.filter(~accounts.is_in(kept.implode()))
    dropped = background.sample(fraction=drop, seed=seed)
    left = transfers.filter(
        ~pl.col("from_address").is_in(dropped.implode())
        & ~pl.col("to_address").is_in(dropped.implode())
    )
    left.write_csv(folder / "transfers.csv.gz", compression="gzip")
    for name in ("gt_accounts.csv.gz", "gt_transactions.csv.gz"):
        shutil.copyfile(DATA / name, folder / name)
    return folder, dropped.len(), left.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=float, default=0.1, help="share of background accounts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    folder, dropped, left = resample(args.out, args.drop, args.seed)
    print(f"{folder}: {dropped} background accounts dropped, {left} transfers left")


if __name__ == "__main__":
    main()
