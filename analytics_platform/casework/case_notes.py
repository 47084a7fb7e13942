"""What analysts say about a case while they work it: comments, and who it is assigned to.

An append-only log in the lake beside the verdicts (``<lake>/case_notes/network=<n>/``), one
file per recording, named by its time and content, written atomically, as
``casework.dispositions`` keeps verdicts: input from people, never recomputed. A case's
assignee is its latest assignment row (an empty name: unassigned). Recording what the case
already says (the same assignee, or the same analyst's last comment again, as a form sent
twice) writes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

import polars as pl
from upath import UPath

from analytics_platform.casework.case_view import find_case
from analytics_platform.lake.sql import LakeSql
from analytics_platform.storage.lake import table_dir, write_atomic

TABLE = "case_notes"
SCHEMA = {
    "date": pl.Date,
    "address": pl.String,
    "case_id": pl.String,
    "kind": pl.String,  # comment | assignment
    "analyst": pl.String,  # who wrote it
    "text": pl.String,  # the comment, or the assignee's name ("" unassigns)
    "recorded_at": pl.Datetime("us", "UTC"),
}
Kind = Literal["comment", "assignment"]
MAX_TEXT = 2000


def history(lake: LakeSql, case_id: str | None = None) -> pl.DataFrame:
    """Every note (on ``case_id`` only, if given), oldest first."""
    where, params = ("WHERE case_id = ? ", [case_id]) if case_id is not None else ("", [])
    return lake.query_as(
        SCHEMA,
        f"SELECT DISTINCT * FROM {lake.table(TABLE)} {where}"
        "ORDER BY recorded_at, kind, analyst, text",
        *params,
    )


def assignees(lake: LakeSql) -> pl.DataFrame:
    """case_id, assignee: each assigned case's current assignee (unassigned cases left out)."""
    latest = (
        history(lake)
        .filter(pl.col("kind") == "assignment")
        .unique("case_id", keep="last", maintain_order=True)
    )
    return latest.filter(pl.col("text") != "").select("case_id", pl.col("text").alias("assignee"))


def record(
    root: UPath,
    network: str,
    case_id: str,
    kind: Kind,
    text: str,
    analyst: str,
    *,
    now: datetime | None = None,
) -> str | None:
    """Append one note on ``case_id``; the file written, or ``None`` when the case already
    says it. ``ValueError`` naming the field for a bad kind or text, ``LookupError`` for no
    such case (nothing written)."""
    if kind not in ("comment", "assignment"):
        raise ValueError(f"kind: expected comment or assignment, got {kind!r}")
    text = text.strip()
    if kind == "comment" and not text:
        raise ValueError("text: a comment needs words")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text: at most {MAX_TEXT} characters, got {len(text)}")
    lake = LakeSql(str(root), network)
    address, day = find_case(lake, case_id, None, "case note")
    mine = history(lake, case_id)
    said = mine.filter(pl.col("kind") == kind)
    if kind == "comment":
        said = said.filter(pl.col("analyst") == analyst)
    last = said["text"][-1] if said.height else ("" if kind == "assignment" else None)
    if last == text:
        return None
    now = now or datetime.now(UTC)
    row = pl.DataFrame(
        [(day, address, case_id, kind, analyst, text, now)], schema=SCHEMA, orient="row"
    )
    digest = hashlib.sha256(row.drop("recorded_at").write_csv().encode()).hexdigest()[:12]
    path = table_dir(root, TABLE, network) / f"{now:%Y%m%dT%H%M%S%fZ}-{digest}.parquet"
    write_atomic(row, path)
    return str(path)
