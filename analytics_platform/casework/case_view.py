"""An analyst's work list, read from the Parquet lake with DuckDB (``lake_sql``): one day's
cases, best first, or the open episodes (an address's cases on nearby days, not yet judged)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from analytics_platform.casework import dispositions
from analytics_platform.domain.cases import case_table, episodes
from analytics_platform.lake.sql import LakeSql

EPISODE_LOOKBACK_DAYS = 90
"""How far back ``open_episodes`` reads alerts: an episode longer than this starts late."""


def day_cases(lake_url: str, network: str, day: date | None = None) -> tuple[date, pl.DataFrame]:
    """The cases of ``day`` (default: the lake's latest alert partition), ranked, with the
    analysts' verdicts (``disposition``, null while a case is open)."""
    lake = LakeSql(lake_url, network)
    source = lake.table("typology_alerts")
    day = day or _latest_alert_day(lake)
    alerts = lake.query(f"SELECT * FROM {source} WHERE date = ?", day) if day else pl.DataFrame()
    if day is None or alerts.height == 0:
        raise LookupError(
            f"cases: no alerts in the lake at {lake_url} for network {network!r}"
            + (f" on {day}" if day else "")
        )
    verdicts = dispositions.current(lake).select("date", "address", "disposition")
    cases = case_table(alerts).with_columns(pl.col("date").cast(pl.Date))
    cases = cases.join(verdicts, on=["date", "address"], how="left", maintain_order="left")
    return day, cases.join(
        _history(lake, day, cases["address"], verdicts), on="address", how="left",
        maintain_order="left",
    )  # fmt: skip


def _latest_alert_day(lake: LakeSql) -> date | None:
    latest = lake.query(f"SELECT max(date) AS d FROM {lake.table('typology_alerts')}")
    return latest["d"][0] if latest.height else None


def _history(lake: LakeSql, day: date, addresses: pl.Series, verdicts: pl.DataFrame):
    """Per address, what came before ``day``: ``earlier_cases`` (days it had a case),
    ``previous_case`` (the latest of them), and the verdict on its latest judged case
    (``last_verdict``, on ``last_verdict_date``): a re-alert of an address an analyst
    dismissed last week reads differently from a first one."""
    earlier = lake.query_as(
        {"address": pl.String, "earlier_cases": pl.Int64, "previous_case": pl.Date},
        "SELECT address, count(DISTINCT date) AS earlier_cases, max(date) AS previous_case "
        f"FROM {lake.table('typology_alerts')} "
        "WHERE date < ? AND list_contains(?::VARCHAR[], address) GROUP BY address",
        day, addresses.unique().to_list(),
    )  # fmt: skip
    judged = (
        verdicts.filter(pl.col("date") < day)
        .sort("date")
        .group_by("address")
        .agg(
            pl.col("disposition").last().alias("last_verdict"),
            pl.col("date").last().alias("last_verdict_date"),
        )
    )
    return earlier.join(judged, on="address", how="full", coalesce=True)


def open_episodes(
    lake_url: str, network: str, day: date | None = None, gap_days: int = 7
) -> tuple[date, pl.DataFrame]:
    """The open work as of ``day`` (default: the lake's latest alert day): the addresses'
    episodes (``domain.cases.episodes``) with no verdict yet whose last case is at most
    ``gap_days`` old, best first. Read from the last ``EPISODE_LOOKBACK_DAYS`` of alerts."""
    lake = LakeSql(lake_url, network)
    source = lake.table("typology_alerts")
    day = day or _latest_alert_day(lake)
    if day is None:
        raise LookupError(f"cases: no alerts in the lake at {lake_url} for network {network!r}")
    cases = lake.query_as(
        {"date": pl.Date, "address": pl.String, "case_score": pl.Float64,
         "typologies": pl.List(pl.String)},
        "SELECT date, address, max(case_score) AS case_score, list(DISTINCT typology) AS "
        f"typologies FROM {source} WHERE date BETWEEN ? AND ? GROUP BY date, address",
        day - timedelta(days=EPISODE_LOOKBACK_DAYS), day,
    )  # fmt: skip
    verdicts = dispositions.current(lake)
    work = episodes(cases, gap_days, verdicts).filter(
        pl.col("disposition").is_null() & (pl.col("last") >= day - timedelta(days=gap_days))
    )
    return day, work


def render_episodes(day: date, work: pl.DataFrame, gap_days: int = 7, top: int = 20) -> str:
    """The first ``top`` open episodes as a table."""
    shown = work.head(top).select(
        pl.int_range(1, pl.len() + 1).alias("rank"),
        pl.col("best_score").round(3).alias("best score"),
        "address",
        "first",
        "last",
        pl.col("cases").alias("days alerted"),
        pl.col("typologies").list.join(", "),
    )
    with pl.Config(
        tbl_rows=top, tbl_cols=20, tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True, fmt_str_lengths=120, tbl_width_chars=220,
    ):  # fmt: skip
        return (
            f"{work.height} open episodes as of {day} (an address's cases at most "
            f"{gap_days} days apart, no verdict yet; top {min(top, work.height)} "
            f"shown)\n{shown}"
        )


def check_case_id(case_id: str, what: str = "case") -> None:
    """``LookupError`` unless ``case_id`` is a case id (``case-...``): where only a case may
    be named, not an alert id or an address as :func:`find_case` also takes."""
    if not case_id.startswith("case-"):
        raise LookupError(f"{what}: {case_id!r} is not a case id")


def find_case(lake: LakeSql, ref: str, day: date | None, what: str) -> tuple[str, date]:
    """(address, day) of the case ``ref`` names: a case id, else an alert id, else an address
    (its latest day with alerts unless ``day`` is given). ``what`` starts the error line."""
    keys = ("case_id",) if ref.startswith("case-") else ("alert_id", "address")
    for key in keys:
        where, params = f"{key} = ?", [ref]
        if day is not None:
            where, params = where + " AND date = ?", [*params, day]
        hit = lake.query(
            f"SELECT address, date FROM {lake.table('typology_alerts')} WHERE {where} "
            "ORDER BY date DESC LIMIT 1",
            *params,
        )
        if hit.height:
            return hit["address"][0], hit["date"][0]
    raise LookupError(
        f"{what}: no alert in the lake at {lake.root} for {ref!r} (a case id, alert id or "
        "address)" + (f" on {day}" if day else "")
    )


def render(day: date, cases: pl.DataFrame, top: int = 20) -> str:
    """The first ``top`` cases as a table, with the budget cut and every typology that fired."""
    in_budget = int(cases["in_budget"].sum())
    shown = cases.head(top).select(
        pl.col("case_rank").alias("rank"),
        pl.col("case_score").round(3).alias("score"),
        "address",
        pl.col("typologies").list.join(", "),
        "severity",
        pl.when("in_budget").then(pl.lit("")).otherwise(pl.lit("below budget")).alias("cut"),
        pl.col("disposition").fill_null("open").alias("verdict"),
        pl.col("earlier_cases").fill_null(0).alias("earlier cases"),
        pl.format("{} {}", "last_verdict", "last_verdict_date")
        .fill_null("")
        .alias("judged before"),
        pl.col("explanation").list.first().alias("strongest alert"),
    )
    with pl.Config(
        tbl_rows=top,
        tbl_cols=20,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        fmt_str_lengths=140,
        tbl_width_chars=220,
    ):
        return (
            f"{cases.height} cases on {day}, {in_budget} within the day's budget "
            f"(top {min(top, cases.height)} shown)\n{shown}"
        )
