"""Evidence pictures of a partition's top alerts, stored in the lake and linked from metadata.

Layout: ``<lake>/evidence/network=<n>/date=<day>/<alert_id>.png`` (re-running a partition
overwrites its pictures). The top alert's picture is also embedded in the Markdown table of
the materialisation metadata, so the Dagster UI shows it without leaving the page.
"""

from __future__ import annotations

import base64
from pathlib import Path

import polars as pl
from upath import UPath

from analytics_platform.casework.evidence import render_evidence
from analytics_platform.domain.cases import case_table
from analytics_platform.storage.lake import table_dir

EVIDENCE_TOP = 5


def top_alerts(alerts: pl.DataFrame, top: int) -> pl.DataFrame:
    """The strongest alert of each of the ``top`` best-ranked cases (case rank, then score)."""
    return (
        alerts.sort(
            ["date", "case_rank", "score", "alert_id"], descending=[False, False, True, False]
        )
        .unique(["date", "case_id"], keep="first", maintain_order=True)
        .head(top)
    )


def render_alert(alert: dict, pattern: dict, transfers: pl.DataFrame) -> bytes:
    """The PNG of an alert's first pattern: its members and the transfers among them, titled
    with the typology, severity, score and pattern."""
    evidence = transfers.filter(pl.col("tx_hash").is_in(pattern["tx_hashes"]))
    title = (
        f"{alert['typology']} ({alert['severity']}, score {alert['score']:.2f})\n"
        f"{pattern['pattern_type']} {pattern['pattern_id']}"
    )
    return render_evidence(title, pattern["members"], pattern["roles"], evidence)


def write_evidence(
    lake: UPath,
    network: str,
    alerts: pl.DataFrame,
    patterns: pl.DataFrame,
    transfers: pl.DataFrame,
    *,
    top: int = EVIDENCE_TOP,
) -> dict[str, tuple[UPath, bytes]]:
    """Render and store pictures for the ``top`` alerts that have pattern evidence."""
    chosen = top_alerts(alerts.filter(pl.col("pattern_ids").list.len() > 0), top)
    if top == 0 or chosen.height == 0:
        return {}
    base = table_dir(lake, "evidence", network)
    wanted = chosen["pattern_ids"].list.first().implode()
    by_id = {
        r["pattern_id"]: r
        for r in patterns.filter(pl.col("pattern_id").is_in(wanted)).iter_rows(named=True)
    }
    out: dict[str, tuple[UPath, bytes]] = {}
    for alert in chosen.iter_rows(named=True):
        pattern = by_id.get(alert["pattern_ids"][0])
        if pattern is None:
            continue
        png = render_alert(alert, pattern, transfers)
        path = base / f"date={alert['date'].isoformat()}" / f"{alert['alert_id']}.png"
        if path.protocol in ("", "file", "local"):
            Path(str(path)).parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            fh.write(png)
        out[alert["alert_id"]] = (path, png)
    return out


def top_cases_markdown(
    alerts: pl.DataFrame, pictures: dict[str, tuple[UPath, bytes]], top: int = 10
) -> str:
    """The day's top cases as a Markdown table (typologies strongest first, the case's first
    evidence picture linked), with the first picture embedded below."""
    rows = [
        "| rank | case score | address | typologies | severity | explanation | evidence |",
        "|---:|---:|---|---|---|---|---|",
    ]
    linked = {
        a["case_id"]: a["alert_id"]
        for a in alerts.iter_rows(named=True)
        if a["alert_id"] in pictures
    }
    for r in case_table(alerts).head(top).iter_rows(named=True):
        picture = pictures.get(linked.get(r["case_id"], ""))
        link = f"[png]({picture[0]})" if picture else ""
        text = r["explanation"][0].replace("|", "/")
        cut = "" if r["in_budget"] else " (below budget)"
        rows.append(
            f"| {r['case_rank']}{cut} | {r['case_score']:.2f} | `{r['address']}` | "
            f"{', '.join(r['typologies'])} | {r['severity']} | {text} | {link} |"
        )
    if pictures:
        alert_id, (_, png) = next(iter(pictures.items()))
        encoded = base64.b64encode(png).decode()
        rows += [
            "",
            f"Evidence of `{alert_id}`:",
            "",
            f"![evidence](data:image/png;base64,{encoded})",
        ]
    return "\n".join(rows)
