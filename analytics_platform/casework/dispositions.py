"""Analysts' verdicts on cases, kept in the lake beside the alerts they judge.

``analytics-platform case dispose <case> confirmed|dismissed`` records one verdict and ``case
dispositions --import FILE`` a team's file of them; ``cases`` shows each case's verdict and
``calibrate`` refits the typologies' confidences to them (``domain.calibration``).

The log is append-only Parquet under ``<lake>/case_dispositions/network=<n>/``: one file per
recording, named by its time and content, so nothing is ever rewritten and readers never see a
partial file. A case's verdict is its latest row. Recording what a case already says writes
nothing (re-running an import never duplicates); a changed mind is a new row. Every verdict
must name a stored case (an address with alerts on that day): a file with one that does not is
refused whole, naming it, and nothing is written.

It is not a warehouse table: verdicts are input from people, not a function of the upstream
partitions, so no materialisation may recompute or drop them (``lake cleanup`` never sees it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from upath import UPath

from analytics_platform.domain.calibration import validate_dispositions
from analytics_platform.lake.sql import LakeSql
from analytics_platform.storage.lake import read_file, table_dir, write_atomic

TABLE = "case_dispositions"
SCHEMA = {
    "date": pl.Date,
    "address": pl.String,
    "case_id": pl.String,
    "disposition": pl.String,
    "analyst": pl.String,
    "note": pl.String,
    "recorded_at": pl.Datetime("us", "UTC"),
}
COMPARED = ("disposition", "analyst", "note")
"""What makes a verdict new: the same three on a case again are not recorded twice."""


@dataclass(frozen=True)
class Recorded:
    rows: int  # verdicts written
    unchanged: int  # verdicts the cases already had
    path: str | None  # the file written, None when nothing was


def history(lake: LakeSql, address: str | None = None) -> pl.DataFrame:
    """Every recorded verdict (on ``address``'s cases only, if given), oldest first; an empty
    frame of :data:`SCHEMA` when none. A row read twice (from a file :func:`compact` is
    merging and from the merged one) is one."""
    where, params = ("WHERE address = ? ", [address]) if address is not None else ("", [])
    return lake.query_as(
        SCHEMA,
        f"SELECT DISTINCT * FROM {lake.table(TABLE)} {where}"
        "ORDER BY recorded_at, date, address, disposition, analyst, note",
        *params,
    )


def current(lake: LakeSql) -> pl.DataFrame:
    """Each case's latest verdict: :data:`SCHEMA`, one row per (date, address)."""
    return history(lake).unique(["date", "address"], keep="last", maintain_order=True)


def record(
    root: UPath,
    network: str,
    verdicts: pl.DataFrame,
    *,
    analyst: str = "",
    now: datetime | None = None,
    lake: LakeSql | None = None,
) -> Recorded:
    """Append ``verdicts`` (date, address, disposition; optional note and analyst, the latter
    defaulting to ``analyst``) to the log of ``network`` in the lake at ``root``. Raises
    ``ValueError`` for a bad date or disposition (``validate_dispositions``) and
    ``LookupError`` naming the first verdict that matches no stored case. ``lake``: a reader
    of the same lake already open (on S3 each one loads DuckDB's httpfs and aws extensions)."""
    lake = lake or LakeSql(str(root), network)
    valid = validate_dispositions(verdicts)
    valid = valid.with_columns(
        pl.col(c).fill_null(default) if c in valid.columns else pl.lit(default).alias(c)
        for c, default in (("note", ""), ("analyst", analyst))
    )
    cases = lake.query_as(
        {"date": pl.Date, "address": pl.String, "case_id": pl.String},
        f"SELECT DISTINCT date, address, case_id FROM {lake.table('typology_alerts')} "
        "WHERE list_contains(?::DATE[], date) AND list_contains(?::VARCHAR[], address)",
        valid["date"].unique().to_list(),
        valid["address"].unique().to_list(),
    )
    found = valid.join(cases, on=["date", "address"], how="left")
    missing = found.filter(pl.col("case_id").is_null())
    if missing.height:
        first = missing.row(0, named=True)
        raise LookupError(
            f"dispositions: no case for address {first['address']} on {first['date']} in the "
            f"lake ({missing.height} of {found.height} verdicts match no stored case; nothing "
            "recorded)"
        )
    new = found.join(current(lake), on=["date", "address", *COMPARED], how="anti")
    if new.height == 0:
        return Recorded(0, found.height, None)
    now = now or datetime.now(UTC)
    rows = new.with_columns(pl.lit(now).alias("recorded_at")).select(
        pl.col(c).cast(t) for c, t in SCHEMA.items()
    )
    digest = hashlib.sha256(rows.drop("recorded_at").write_csv().encode()).hexdigest()[:12]
    path = table_dir(root, TABLE, network) / f"{now:%Y%m%dT%H%M%S%fZ}-{digest}.parquet"
    write_atomic(rows, path)
    return Recorded(rows.height, found.height - rows.height, str(path))


def compact(root: UPath, network: str) -> int:
    """Merge the log's files into one, every row kept, so that readers list one file rather
    than one per recording; returns how many files were merged. Safe beside writers: the
    merged file is in place before exactly the files it holds are removed (a recording made
    meanwhile is a file it never read), and :func:`history` reads a row seen twice once."""
    folder = table_dir(root, TABLE, network)
    files = sorted(p for p in folder.iterdir() if p.suffix == ".parquet") if folder.exists() else []
    if len(files) < 2:
        return 0
    rows = pl.concat([read_file(p) for p in files], how="vertical_relaxed").unique(
        maintain_order=True
    )
    rows = rows.select(pl.col(c).cast(t) for c, t in SCHEMA.items()).sort("recorded_at")
    digest = hashlib.sha256(rows.write_csv().encode()).hexdigest()[:12]
    last = rows["recorded_at"].max()
    merged = f"{last:%Y%m%dT%H%M%S%fZ}-compacted-{digest}.parquet"
    write_atomic(rows, folder / merged)
    for path in files:
        if path.name != merged:  # the same rows merged again land on the same name
            path.unlink()
    return len(files)
