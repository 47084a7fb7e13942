"""What the workspace shows, read from the lake through the readers the CLI uses
(``casework``): a day's queue with filters and paging, one case with everything behind it,
an address, and each day's figures. Parameters are bound, never formatted into SQL.

Answers are kept while the lake stays as it was (:func:`lake_state`): an answer is a pure
function of the lake's files, so fifty analysts opening the queue read the lake once, and a
run that lands or a verdict recorded (here or by the CLI) is seen by the next request. On S3,
where listing the lake costs a request, answers are kept for :data:`FRESH_SECONDS` instead."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl
from cachetools import TTLCache, cached, keys

from analytics_platform.casework import case_file, case_notes, case_view
from analytics_platform.casework.address_view import AddressView, address_view
from analytics_platform.lake.sql import LakeSql

FRESH_SECONDS = 5.0
KEPT_SECONDS = 600.0
"""The longest an answer is kept, whatever the lake (bounds memory; the lake decides first)."""
WATCHED = (
    "typology_alerts", "case_dispositions", "case_notes", "structural_patterns", "transfers",
    "daily_edges",
    "address_features", "address_labels", "address_risk_scores", "quality",
)  # fmt: skip
"""The lake tables the answers read."""
_CACHE: TTLCache = TTLCache(maxsize=1024, ttl=KEPT_SECONDS)
_LOCK = threading.Lock()


def lake_state(lake_url: str, network: str) -> tuple[int, ...]:
    """What changes when a lake table of ``network`` gets, loses or replaces a file: the
    modification times of its table folders and their partition folders (a file written or
    renamed into a folder changes the folder's time). On S3: the current
    :data:`FRESH_SECONDS` slot."""
    if lake_url.startswith("s3://"):
        return (int(time.time() // FRESH_SECONDS),)
    stamps = []
    for table in WATCHED:
        folder = os.path.join(lake_url, table, f"network={network}")
        try:
            with os.scandir(folder) as entries:
                inner = [e.stat().st_mtime_ns for e in entries if e.is_dir()]
            stamps.append(max([os.stat(folder).st_mtime_ns, *inner]))
        except FileNotFoundError:
            stamps.append(0)
    return tuple(stamps)


def kept(fn):
    """``fn`` answering from the cache, keyed by its name, its arguments (the lake URL and
    network first) and the lake's state."""

    def key(lake_url: str, network: str, *args, **kwargs):
        return keys.hashkey(fn.__name__, lake_url, network, lake_state(lake_url, network),
                            *args, **kwargs)  # fmt: skip

    return cached(_CACHE, key=key, lock=_LOCK)(fn)


def forget() -> None:
    """Drop every kept answer (after a verdict is recorded)."""
    with _LOCK:
        _CACHE.clear()


Sort = Literal["rank", "score", "address"]
Disposition = Literal["open", "confirmed", "dismissed"]
Source = Literal["rule", "model", "both"]


@dataclass(frozen=True)
class QueueFilter:
    """Which of a day's cases the queue shows, in which order, and which page."""

    typology: str | None = None
    severity: str | None = None
    source: Source | None = None
    in_budget: bool | None = None
    disposition: Disposition | None = None
    assignee: str | None = None
    sort: Sort = "rank"
    page: int = 1
    size: int = 50


@dataclass(frozen=True)
class Queue:
    day: date
    cases: pl.DataFrame  # the page shown
    total: int  # cases of the day
    matching: int  # cases the filter keeps
    open_cases: int
    budget: int  # cases within the budget


@kept
def days(lake_url: str, network: str) -> list[date]:
    """The days with alerts, latest first."""
    lake = LakeSql(lake_url, network)
    rows = lake.query(
        f"SELECT DISTINCT date FROM {lake.table('typology_alerts')} ORDER BY date DESC"
    )
    return rows["date"].to_list() if rows.height else []


@kept
def queue(lake_url: str, network: str, day: date | None, how: QueueFilter) -> Queue:
    """The cases of ``day`` (default: the latest), filtered, sorted and cut to a page;
    ``FileNotFoundError`` when nothing is stored yet."""
    if not days(lake_url, network):
        raise FileNotFoundError(f"no alerts stored for network {network!r} at {lake_url}")
    day, cases = case_view.day_cases(lake_url, network, day)
    cases = cases.with_columns(
        pl.col("disposition").fill_null("open"), _sources(lake_url, network, day, cases)
    ).join(case_notes.assignees(LakeSql(lake_url, network)), on="case_id", how="left")
    kept = cases
    if how.typology:
        kept = kept.filter(pl.col("typologies").list.contains(how.typology))
    if how.severity:
        kept = kept.filter(pl.col("severity") == how.severity)
    if how.source:
        kept = kept.filter(pl.col("sources").list.contains(how.source))
    if how.in_budget is not None:
        kept = kept.filter(pl.col("in_budget") == how.in_budget)
    if how.disposition:
        kept = kept.filter(pl.col("disposition") == how.disposition)
    if how.assignee:
        kept = kept.filter(pl.col("assignee") == how.assignee)
    order = {
        "rank": ("case_rank", False),
        "score": ("case_score", True),
        "address": ("address", False),
    }
    column, descending = order[how.sort]
    kept = kept.sort(column, descending=descending)
    page = kept.slice((how.page - 1) * how.size, how.size)
    return Queue(
        day, page, cases.height, kept.height,
        cases.filter(pl.col("disposition") == "open").height,
        cases.filter(pl.col("in_budget")).height,
    )  # fmt: skip


def _sources(lake_url: str, network: str, day: date, cases: pl.DataFrame) -> pl.Expr:
    """Per case, the sources of its alerts (rule, model, both)."""
    lake = LakeSql(lake_url, network)
    rows = lake.query(
        f"SELECT case_id, list(DISTINCT source ORDER BY source) AS sources "
        f"FROM {lake.table('typology_alerts')} WHERE date = ? GROUP BY case_id",
        day,
    )
    by_case = dict(rows.iter_rows()) if rows.height else {}
    return pl.col("case_id").replace_strict(by_case, default=["rule"]).alias("sources")


@dataclass(frozen=True)
class Case:
    case_id: str
    address: str
    day: date
    frames: dict[str, pl.DataFrame]
    risk: pl.DataFrame  # the address's scores that day (champion first), maybe none
    earlier: pl.DataFrame  # the address's earlier cases: date, case_id, typologies
    notes: pl.DataFrame  # comments and assignments, oldest first (casework.case_notes)

    @property
    def assignee(self) -> str:
        assigned = self.notes.filter(pl.col("kind") == "assignment")
        return assigned["text"][-1] if assigned.height else ""


@kept
def case(lake_url: str, network: str, case_id: str) -> Case:
    """Everything behind ``case_id``; ``LookupError`` when no such case is stored."""
    case_view.check_case_id(case_id)
    lake = LakeSql(lake_url, network)
    address, day = case_view.find_case(lake, case_id, None, "case")
    frames = case_file.case_frames(lake, address, day)
    risk = lake.query(
        f"SELECT alias, model_version, pattern_type, round(probability, 3) AS probability, "
        f"round(percentile, 3) AS percentile, flagged, explanation "
        f"FROM {lake.table('address_risk_scores')} WHERE address = ? AND date = ? "
        f"ORDER BY alias = 'champion' DESC, model_version DESC",
        address, day,
    )  # fmt: skip
    earlier = lake.query(
        f"SELECT date, any_value(case_id) AS case_id, list(DISTINCT typology) AS typologies "
        f"FROM {lake.table('typology_alerts')} WHERE address = ? AND date < ? "
        f"GROUP BY date ORDER BY date DESC LIMIT 20",
        address, day,
    )  # fmt: skip
    return Case(case_id, address, day, frames, risk, earlier, case_notes.history(lake, case_id))


@kept
def evidence(lake_url: str, network: str, case_id: str) -> dict[str, bytes]:
    """The case's evidence pictures by alert id."""
    found = case(lake_url, network, case_id)
    return case_file.evidence_pictures(lake_url, network, found.frames)


@dataclass(frozen=True)
class Address:
    view: AddressView
    daily: pl.DataFrame  # date, in_usd, out_usd, transfers


@kept
def address(lake_url: str, network: str, address_: str, days_: int = 30) -> Address:
    """The address view (``casework.address_view``) and its daily USD in and out."""
    view = address_view(lake_url, network, address_, days_)
    if view.alerts.height + view.counterparties.height + view.labels.height == 0:
        raise LookupError(f"address: {address_!r} has no transfers, alerts or labels stored")
    lake = LakeSql(lake_url, network)
    daily = lake.query(
        f"SELECT date, round(sum(amount_usd) FILTER (WHERE to_address = ?), 2) AS in_usd, "
        f"round(sum(amount_usd) FILTER (WHERE from_address = ?), 2) AS out_usd, "
        f"sum(transfer_count)::BIGINT AS transfers FROM {lake.table('daily_edges')} "
        f"WHERE (from_address = ? OR to_address = ?) AND date BETWEEN ? AND ? "
        f"GROUP BY date ORDER BY date",
        address_, address_, address_, address_, view.first, view.last,
    )  # fmt: skip
    return Address(view, daily)


@kept
def day_figures(lake_url: str, network: str) -> pl.DataFrame:
    """Per day: transfers, alerts, cases and the quality score."""
    lake = LakeSql(lake_url, network)
    alerts = lake.query(
        f"SELECT date, count(*) AS alerts, count(DISTINCT case_id) AS cases "
        f"FROM {lake.table('typology_alerts')} GROUP BY date"
    )
    quality = lake.query(
        f"SELECT date, round(any_value(score), 4) AS quality FROM {lake.table('quality')} "
        f"GROUP BY date"
    )
    transfers = lake.query(
        f"SELECT date, count(*) AS transfers FROM {lake.table('transfers')} GROUP BY date"
    )
    out = transfers
    for part in (alerts, quality):
        if part.height:
            out = out.join(part, on="date", how="left") if out.height else part
    return out.sort("date") if out.height else out


@kept
def open_episodes(lake_url: str, network: str, gap_days: int = 7) -> tuple[date, pl.DataFrame]:
    """The open work as ``cases --open`` lists it (``case_view.open_episodes``): addresses'
    runs of cases at most ``gap_days`` apart, no verdict yet, best first."""
    return case_view.open_episodes(lake_url, network, None, gap_days)


SEARCH_LIMIT = 20
"""Addresses a search lists at most."""


@dataclass(frozen=True)
class Search:
    text: str
    case_id: str | None  # the case the text names (a case or alert id)
    address: str | None  # the address the text names exactly
    matches: pl.DataFrame  # alerted addresses starting with the text: address, last, days


@kept
def search(lake_url: str, network: str, text: str) -> Search:
    """What ``text`` names: a case (its case id or one of its alert ids), an address (exactly:
    alerted, or in a transfer), and the alerted addresses that start with it."""
    lake = LakeSql(lake_url, network)
    alerts = lake.table("typology_alerts")
    hit = lake.query(
        f"SELECT case_id FROM {alerts} WHERE case_id = ? OR alert_id = ? "
        f"ORDER BY date DESC LIMIT 1",
        text, text,
    )  # fmt: skip
    case_id = hit["case_id"][0] if hit.height else None
    matches = lake.query_as(
        {"address": pl.String, "last": pl.Date, "days": pl.Int64},
        f"SELECT address, max(date) AS last, count(DISTINCT date) AS days FROM {alerts} "
        f"WHERE starts_with(address, ?) GROUP BY address ORDER BY address LIMIT ?",
        text, SEARCH_LIMIT,
    )  # fmt: skip
    exact = text in matches["address"].to_list()
    if not exact and case_id is None:
        seen = lake.query(
            f"SELECT 1 FROM {lake.table('daily_edges')} WHERE from_address = ? "
            f"OR to_address = ? LIMIT 1",
            text, text,
        )  # fmt: skip
        exact = seen.height > 0
    return Search(text, case_id, text if exact else None, matches)
