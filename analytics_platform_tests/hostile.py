"""A hostile landing folder: the realistic mistakes of a feed, written beside good files.

:func:`write_hostile_home` generates a small network (3 days) and adds to it, each row or file
recorded in :class:`Hostile` with where it must end:

- rows dated outside every partition (1970, 2100) in day 2's file;
- a day-1 transfer copied into day 2's file with a new block time (a conflicting copy);
- amounts the column cannot keep (22 decimals, 21 digits) and one implausibly large amount;
- a truncated Parquet file that names day 3, and an empty one that names no day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import yaml

START = date(2026, 10, 1)
DAYS = 3
DAY2 = START + timedelta(days=1)
DAY3 = START + timedelta(days=2)
BOUND = 1_000_000  # max_amounts for the network's asset


@dataclass(frozen=True)
class Hostile:
    home: Path
    landing: Path
    asset: str
    outside: dict[str, str]
    """tx hash -> block time of the rows outside every partition (dead letters of day 2)."""
    copied: tuple[str, int]
    """(tx hash, transfer index) of the day-1 transfer copied into day 2 with a new time."""
    unexact: dict[str, str]
    """tx hash -> amount text the column cannot keep (dead letters of day 2)."""
    huge: str
    """tx hash of the implausible (but storable) amount: stored, flagged by a warning."""
    truncated: Path
    """Names day 3: quarantined there."""
    empty: Path
    """Names no day: quarantined on the first partition, and every day's check fails."""
    rows_in_files: int
    """Rows of the readable files, every one of which must end in exactly one place."""


def _row(template: dict, tx_hash: str, **changes) -> dict:
    return {**template, "tx_hash": tx_hash, "transfer_index": 0, **changes}


def write_hostile_home(root: Path) -> Hostile:
    """Generate a 3-day network under ``root`` and add the hostile rows and files."""
    from analytics_platform.domain.synthetic import demo_config
    from analytics_platform.lib.demo import prepare

    home = root / "home"
    prepare(
        home,
        demo_config(days=DAYS, transfers_per_day=1_500, addresses=500, start=START, seed=11),
    )
    landing = home / "landing" / "torus"
    day1 = pl.read_parquet(landing / f"transfers-{START}.parquet")
    day2_path = landing / f"transfers-{DAY2}.parquet"
    day2 = pl.read_parquet(day2_path)
    template = day2.row(0, named=True)
    asset = template["asset"]
    outside = {"0xhostile01": "1970-01-01T00:00:00Z", "0xhostile02": "2100-01-01T00:00:00Z"}
    unexact = {"0xhostile03": "0.0000000000000000000001", "0xhostile04": "999999999999999999999"}
    huge = "0xhostile05"
    original = day1.row(0, named=True)
    extra = [
        *(_row(template, tx, block_time=t) for tx, t in outside.items()),
        *(_row(template, tx, amount=a) for tx, a in unexact.items()),
        _row(template, huge, amount="99999999999999999999.5"),
        {**original, "block_time": f"{DAY2}T12:00:00Z"},
    ]
    day2 = pl.concat([day2, pl.DataFrame(extra, schema=day2.schema)])
    day2.write_parquet(day2_path)
    good = (landing / f"transfers-{DAY3}.parquet").read_bytes()
    truncated = landing / f"transfers-{DAY3}-late.parquet"
    truncated.write_bytes(good[: len(good) // 2])
    empty = landing / "transfers-resend.parquet"
    empty.write_bytes(b"")

    config_path = home / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["networks"]["torus"]["max_amounts"] = {asset: BOUND}
    config_path.write_text(yaml.safe_dump(config))
    rows = sum(
        pl.read_parquet(landing / f"transfers-{START + timedelta(days=i)}.parquet").height
        for i in range(DAYS)
    )
    return Hostile(
        home=home,
        landing=landing,
        asset=asset,
        outside=outside,
        copied=(original["tx_hash"], int(original["transfer_index"])),
        unexact=unexact,
        huge=huge,
        truncated=truncated,
        empty=empty,
        rows_in_files=rows,
    )
