"""Hand a case over: everything behind one case, read from the Parquet lake with DuckDB, written
to a folder as Parquet and CSV with its evidence pictures and one self-contained HTML report.

``analytics-platform case export <address | alert_id | case_id> [--date D] --out DIR``. A case
is every alert of one address on one day (``domain.cases``); an address without ``--date``
means its latest day with alerts. The folder holds ``alerts``, ``patterns``, ``transfers``
(every transfer an alert or pattern names), ``features`` (the address's features that day,
every window), ``labels`` and ``verdicts`` (those recorded on the case, ``dispositions``),
each as ``.parquet`` and ``.csv``; ``evidence/<alert_id>.png``
for every alert with pattern evidence (copied from the lake, drawn when the lake has none);
and ``report.html``, which embeds the pictures so it can be mailed or attached as one file.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from analytics_platform.casework.case_file import FRAMES, case_frames, evidence_pictures
from analytics_platform.casework.case_view import find_case
from analytics_platform.domain.typologies import PATTERN_EVIDENCE
from analytics_platform.lake.sql import LakeSql


@dataclass(frozen=True)
class CaseExport:
    folder: Path
    address: str
    day: date
    case_id: str
    frames: dict[str, pl.DataFrame]
    pictures: dict[str, Path]

    @property
    def report(self) -> Path:
        return self.folder / REPORT


EVIDENCE = "evidence"
REPORT = "report.html"


def owned(out: Path) -> list[Path]:
    """The files an export writes into ``out`` (and only those): what ``--force`` clears."""
    files = [out / f"{name}.{ext}" for name in FRAMES for ext in ("parquet", "csv")]
    pictures = sorted((out / EVIDENCE).glob("*.png")) if (out / EVIDENCE).is_dir() else []
    return [*files, *pictures, out / REPORT]


def prepare_folder(out: Path, lake_url: str, *, force: bool = False) -> None:
    """Make ``out`` ready for an export, or refuse in one line: a file, a folder inside the
    lake (never written by hand), a non-empty folder without ``force``. With ``force`` only the
    files an earlier export wrote there are removed (a previous case's pictures included)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out: {out} is a file, not a folder")
    if not lake_url.startswith("s3://"):
        lake = Path(lake_url).resolve()
        where = out.resolve()
        if where == lake or lake in where.parents:
            raise ValueError(f"--out: {out} is inside the lake ({lake}); export elsewhere")
    entries = sorted(out.iterdir()) if out.is_dir() else []
    if entries and not force:
        raise ValueError(
            f"--out: {out} is not empty ({len(entries)} entries); choose an empty folder, or "
            "pass --force to replace an earlier export there"
        )
    for path in owned(out):
        path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def export_case(
    lake_url: str,
    network: str,
    ref: str,
    out: Path,
    day: date | None = None,
    *,
    force: bool = False,
) -> CaseExport:
    """Export the case ``ref`` names (a case id, an alert id or an address) to ``out`` (see
    :func:`prepare_folder` for what ``out`` may be)."""
    prepare_folder(out, lake_url, force=force)
    lake = LakeSql(lake_url, network)
    address, day = find_case(lake, ref, day, "case export")
    frames = case_frames(lake, address, day)
    for name, frame in frames.items():
        frame.write_parquet(out / f"{name}.parquet")
        _flat(frame).write_csv(out / f"{name}.csv")
    pictures = _pictures(lake_url, network, frames, out / EVIDENCE)
    export = CaseExport(out, address, day, frames["alerts"]["case_id"][0], frames, pictures)
    export.report.write_text(render_html(export, network))
    return export


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists joined with ``;`` so CSV can hold them."""
    return frame.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join(";")
        for c, t in frame.schema.items()
        if isinstance(t, pl.List)
    )


def _pictures(lake_url, network, frames: dict[str, pl.DataFrame], folder: Path) -> dict[str, Path]:
    """``<alert_id>.png`` for every alert with pattern evidence (``case_file``)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for alert_id, png in evidence_pictures(lake_url, network, frames).items():
        out[alert_id] = folder / f"{alert_id}.png"
        out[alert_id].write_bytes(png)
    return out


def _table(frame: pl.DataFrame, columns: list[str], limit: int = 500) -> str:
    if frame.height == 0:
        return "<p class='none'>none</p>"
    shown = _flat(frame.select([c for c in columns if c in frame.columns])).head(limit)
    shown = shown.with_columns(pl.col(pl.Float32, pl.Float64).round(4))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
        + "</tr>"
        for row in shown.iter_rows()
    )  # fmt: skip
    more = (
        f"<p class='none'>{frame.height - limit} more rows in the files</p>"
        if frame.height > limit
        else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def render_html(export: CaseExport, network: str) -> str:
    """One self-contained page: the case, its alerts with explanations, the evidence pictures
    (embedded), patterns, transfers, features, labels and the verdicts recorded on it."""
    alerts = export.frames["alerts"]
    first = alerts.row(0, named=True)
    typologies = ", ".join(dict.fromkeys(alerts["typology"].to_list()))
    figures = "".join(
        f"<figure><img alt='evidence of {html.escape(a)}' "
        f"src='data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}'>"
        f"<figcaption>{html.escape(a)}</figcaption></figure>"
        for a, p in export.pictures.items()
    )
    features = export.frames["features"]
    skip = ("network", "date", "address", "window_days")
    feature_columns = [c for c in features.columns if c not in skip][:40]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Case {html.escape(export.case_id)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
h1 {{ font-size: 1.4rem; }} h2 {{ font-size: 1.1rem; margin-top: 2rem; }}
.facts td {{ padding: 0.2rem 1rem 0.2rem 0; border: none; }}
table {{ border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.2rem 0.4rem; text-align: left; vertical-align: top;
  max-width: 40rem; overflow-wrap: anywhere; }}
th {{ background: #f0f0f0; }} figure {{ display: inline-block; margin: 0.5rem; }}
img {{ max-width: 640px; border: 1px solid #ddd; }} .none {{ color: #777; }}
</style></head><body>
<h1>Case {html.escape(export.case_id)}: {html.escape(export.address)}</h1>
<table class="facts">
<tr><td>network</td><td>{html.escape(network)}</td></tr>
<tr><td>day (UTC)</td><td>{export.day}</td></tr>
<tr><td>case score</td><td>{first["case_score"]:.3f} (rank {first["case_rank"]} of the day{
        "" if first["in_budget"] else ", below the day's budget"
    })</td></tr>
<tr><td>typologies</td><td>{html.escape(typologies)}</td></tr>
</table>
<h2>Alerts ({alerts.height})</h2>
{_table(alerts, ["typology", "severity", "score", "explanation", "alert_id", "pattern_ids"])}
<h2>Evidence</h2>
{figures or "<p class='none'>no pattern evidence</p>"}
<h2>Patterns ({export.frames["patterns"].height})</h2>
{
        _table(
            export.frames["patterns"],
            [*PATTERN_EVIDENCE[:2], "score", *PATTERN_EVIDENCE[2:]],
        )
    }
<h2>Transfers ({export.frames["transfers"].height})</h2>
{
        _table(
            export.frames["transfers"],
            ["block_time", "tx_hash", "from_address", "to_address", "asset", "amount"],
        )
    }
<h2>Features of the address that day</h2>
{_table(features, ["window_days", *feature_columns])}
<h2>Labels</h2>
{_table(export.frames["labels"], ["label", "category", "source", "valid_from", "valid_to"])}
<h2>Verdicts (oldest first)</h2>
{_table(export.frames["verdicts"], ["recorded_at", "disposition", "analyst", "note"])}
</body></html>
"""
