"""The lake manager: what the Parquet lake holds, whether the warehouse agrees with it, the
warehouse rebuilt from it (disaster recovery) and the lake's retention. ``analytics-platform
lake summary | validate | report | restore | cleanup``.

Every asset writes each partition to the warehouse and to the lake (``lib/io_managers.py``),
so the lake alone can rebuild the warehouse: ``restore`` creates each table from its spec
(``storage/tables.py``) and replaces every day partition with the lake's file, the same atomic
``REPLACE PARTITION`` the IO manager uses, so a restore can be re-run or interrupted safely.
Tables the lake does not hold (the Kafka message log and ledger) are not restored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from upath import UPath

from analytics_platform.config import NetworkConfig, Settings
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import lake
from analytics_platform.storage.retention import today_utc, warehouse_horizon
from analytics_platform.storage.tables import TABLES
from analytics_platform.storage.tables import spec as table_spec

SUMMARY_SCHEMA = {
    "table": pl.String,
    "network": pl.String,
    "partitions": pl.Int64,
    "objects": pl.Int64,
    "bytes": pl.Int64,
    "first": pl.Date,
    "last": pl.Date,
}


def lake_of(settings: Settings) -> UPath:
    return lake.lake_root(
        settings.lake.url, region=settings.lake.region, endpoint_url=settings.lake.endpoint_url
    )


def _files(root: UPath, table: str, network: str) -> dict[date | None, int]:
    """Bytes of each partition file of ``table`` for ``network`` (``None``: unpartitioned)."""
    base = lake.table_dir(root, table, network)
    if not base.exists():
        return {}
    found: dict[date | None, int] = {}
    for path, info in base.fs.find(base.path, detail=True).items():
        if not path.endswith(lake.PART):
            continue
        parent = path.rsplit("/", 2)[-2]
        day = (
            date.fromisoformat(parent.removeprefix("date=")) if parent.startswith("date=") else None
        )
        found[day] = int(info.get("size") or 0)
    return found


def summary(root: UPath, networks: Sequence[str]) -> pl.DataFrame:
    """Per table and network: partitions, objects, bytes and the first and last day."""
    rows = []
    for network in networks:
        for table in TABLES:
            files = _files(root, table, network)
            if not files:
                continue
            days = [d for d in files if d is not None]
            rows.append(
                {
                    "table": table,
                    "network": network,
                    "partitions": len(days) if days else 1,
                    "objects": len(files),
                    "bytes": sum(files.values()),
                    "first": min(days) if days else None,
                    "last": max(days) if days else None,
                }
            )
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA)


def _lake_rows(root: UPath, table: str, network: str, day: date | None) -> pl.DataFrame:
    return lake.read_file(lake.partition_file(root, table, network, day))


def validate(settings: Settings, network: str) -> pl.DataFrame:
    """Every lake partition read and compared with the warehouse: rows on each side and
    whether the lake file has the table's columns and types; ``ok`` when both agree. A day past
    the table's ``warehouse_retention`` (``in_warehouse`` false) may also be gone from the
    warehouse."""
    root = lake_of(settings)
    retention = settings.network(network).warehouse_retention
    out = []
    with ch.session(settings.clickhouse) as client:
        for table, spec in TABLES.items():
            files = _files(root, table, network)
            if not files:
                continue
            stored = _warehouse_counts(client, network, table, spec.partitioned)
            horizon = warehouse_horizon(retention.get(table), today_utc())
            for day in sorted(files, key=lambda d: d or date.min):
                frame = _lake_rows(root, table, network, day)
                missing = [c for c in spec.schema if c not in frame.columns]
                wrong = [
                    c for c, t in spec.schema.items() if c in frame.columns and frame.schema[c] != t
                ]
                out.append(
                    {
                        "table": table,
                        "date": day,
                        "lake_rows": frame.height,
                        "warehouse_rows": stored.get(day, 0),
                        "in_warehouse": horizon is None or day is None or day >= horizon,
                        "schema": "ok"
                        if not (missing or wrong)
                        else f"missing {missing} wrong types {wrong}",
                    }
                )
    result = pl.DataFrame(
        out,
        schema={
            "table": pl.String,
            "date": pl.Date,
            "lake_rows": pl.Int64,
            "warehouse_rows": pl.Int64,
            "in_warehouse": pl.Boolean,
            "schema": pl.String,
        },
    )
    same = (pl.col("lake_rows") == pl.col("warehouse_rows")) | (
        ~pl.col("in_warehouse") & (pl.col("warehouse_rows") == 0)
    )
    return result.with_columns((same & (pl.col("schema") == "ok")).alias("ok"))


def _warehouse_counts(client, network: str, table: str, partitioned: bool) -> dict:
    if not ch.table_exists(client, network, table):
        return {}
    if not partitioned:
        n = client.command(f"SELECT count() FROM `{network}`.`{table}`")
        return {None: int(n)}
    counts = ch.query_frame(
        client, f"SELECT date, count() AS n FROM `{network}`.`{table}` GROUP BY date"
    )
    return {d: int(n) for d, n in counts.iter_rows()}


def restore(
    settings: Settings,
    network: str,
    tables: Sequence[str] | None = None,
    progress: Callable[[str], None] = print,
) -> pl.DataFrame:
    """Rebuild ``network``'s warehouse tables from the lake: per table, the partitions and rows
    written. Days past a table's ``warehouse_retention`` stay in the lake alone."""
    root = lake_of(settings)
    cluster = settings.clickhouse.cluster
    retention = settings.network(network).warehouse_retention
    rows = []
    with ch.session(settings.clickhouse) as client:
        for table in tables or list(TABLES):
            spec = table_spec(table)
            files = _files(root, table, network)
            if not files:
                continue
            ch.ensure_table(client, network, spec.ddl(network, cluster), cluster=cluster)
            written = 0
            if not spec.partitioned:
                frame = _conformed(_lake_rows(root, table, network, None), spec.schema)
                written = ch.replace_table(client, network, table, frame)
            else:
                horizon = warehouse_horizon(retention.get(table), today_utc())
                days = sorted(d for d in files if d is not None and (not horizon or d >= horizon))
                ch.set_day_ttl(client, network, table, retention.get(table), cluster=cluster)
                for i in range(0, len(days), ch.INSERT_DAYS):
                    group = days[i : i + ch.INSERT_DAYS]
                    frame = pl.concat(
                        [
                            _conformed(_lake_rows(root, table, network, d), spec.schema)
                            for d in group
                        ]
                    )
                    written += ch.replace_day_partitions(client, network, table, frame, group)
            restored = len(days) if spec.partitioned else 1
            kept_out = len(files) - restored
            note = f" ({kept_out} past warehouse retention left in the lake)" if kept_out else ""
            progress(f"{table}: {restored} partition(s), {written:,} rows restored{note}")
            rows.append({"table": table, "partitions": restored, "rows": written})
    return pl.DataFrame(rows, schema={"table": pl.String, "partitions": pl.Int64, "rows": pl.Int64})


def _conformed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The lake file in the table's current shape: columns a later release added are null."""
    missing = [pl.lit(None, t).alias(c) for c, t in schema.items() if c not in frame.columns]
    return frame.with_columns(missing).select([pl.col(c).cast(t) for c, t in schema.items()])


def report(settings: Settings, network: str, days: int = 30, plot: Path | None = None):
    """Rows and bytes per day of the last ``days`` lake partitions of every daily table, with
    the case counts and the quality score; optionally a PNG of rows and score per day."""
    root = lake_of(settings)
    frames = []
    for table, spec in TABLES.items():
        if not spec.partitioned:
            continue
        files = _files(root, table, network)
        for day, size in files.items():
            if day is None:
                continue
            frames.append({"table": table, "date": day, "bytes": size})
    if not frames:
        raise LookupError(f"lake report: nothing in the lake for network {network!r}")
    sizes = pl.DataFrame(frames)
    last = sizes["date"].max()
    recent = sizes.filter(pl.col("date") > pl.lit(last) - pl.duration(days=days))
    rows = []
    for (table, day), _ in recent.group_by("table", "date"):
        path = lake.partition_file(root, table, network, day)
        extra = {}
        if table == "typology_alerts":  # read whole: its cases are counted
            frame = lake.read_file(path)
            n = frame.height
            if n and "case_id" in frame.columns:
                extra = {"cases": frame["case_id"].n_unique()}
        elif table == "quality":  # one row: the day's score
            frame = lake.read_file(path)
            n = frame.height
            extra = {"score": frame["score"][0] if n else None}
        else:  # the row count from the Parquet footer, without reading the data
            with path.open("rb") as fh:
                n = pq.ParquetFile(fh).metadata.num_rows
        rows.append({"table": table, "date": day, "rows": n, **extra})
    counts = pl.DataFrame(rows).join(recent, on=["table", "date"])
    table = counts.pivot(on="table", index="date", values="rows").sort("date").fill_null(0)
    cases = counts.filter(pl.col("table") == "typology_alerts").select(
        "date", *(["cases"] if "cases" in counts.columns else [])
    )
    scores = counts.filter(pl.col("table") == "quality").select(
        "date", *(["score"] if "score" in counts.columns else [])
    )
    table = (
        table.join(cases, on="date", how="left")
        .join(scores.rename({"score": "quality_score"}, strict=False), on="date", how="left")
        .join(recent.group_by("date").agg(pl.col("bytes").sum().alias("bytes")), on="date")
        .sort("date")
    )
    if plot is not None:
        _plot(table, plot, network)
    return table


def _plot(table: pl.DataFrame, path: Path, network: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = "quality_score" in table.columns
    fig, axes = plt.subplots(
        2 if scored else 1, 1, figsize=(9, 6.5 if scored else 4.5), dpi=100, sharex=True,
        squeeze=False, height_ratios=[3, 1] if scored else [1],
    )  # fmt: skip
    ax = axes[0][0]
    days = table["date"].to_list()
    for column in ("transfers", "daily_edges", "structural_patterns", "typology_alerts", "cases"):
        if column in table.columns:
            ax.plot(days, table[column].to_list(), marker="o", label=column)
    ax.set_yscale("log")
    ax.set_title(f"{network}: rows per day in the lake")
    ax.set_ylabel("rows (log scale)")
    ax.legend(loc="best", fontsize=8)
    if scored:
        low = axes[1][0]
        low.plot(days, table["quality_score"].to_list(), marker="o", color="tab:green")
        low.set_ylim(min(0.9, (table["quality_score"].min() or 1.0) - 0.01), 1.005)
        low.set_ylabel("quality score")
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


LAYERS: dict[str, tuple[str, ...]] = {
    "raw": ("transfers", "transfers_rejected", "transfers_quality", "prices"),
    "processed": ("daily_edges", "address_activity"),
    "aggregated": (
        "address_features",
        "structural_patterns",
        "address_risk_scores",
        "typology_alerts",
        "model_monitoring",
        "quality",
    ),
}


def _inputs(net: NetworkConfig) -> dict[str, list[tuple[str, int]]]:
    """Per asset, the upstream tables it reads and over how many days ending with its own
    (the partition mappings of ``defs/network``)."""
    window = net.max_window
    return {
        "daily_edges": [("transfers", 1), ("prices", 1)],
        "address_activity": [("transfers", 1)],
        "quality": [("transfers_quality", 1), ("daily_edges", 1), ("address_activity", 1)],
        "address_features": [("daily_edges", window), ("address_activity", window)],
        "structural_patterns": [
            ("transfers", net.pattern_transfer_days),
            ("prices", net.pattern_transfer_days),
        ]
        + ([("daily_edges", net.pattern_history_days)] if net.dormancy_days else []),
        "address_risk_scores": [
            ("address_features", 1),
            ("structural_patterns", 1),
            ("daily_edges", 1),
        ],
        "model_monitoring": [
            ("address_risk_scores", 1),
            ("typology_alerts", 1),
            ("address_features", 1),
            ("structural_patterns", 1),
            ("daily_edges", 1),
        ],
        "typology_alerts": [
            ("structural_patterns", 1),
            ("address_features", 1),
            ("transfers", net.pattern_transfer_days),
            ("address_risk_scores", 1),
        ],
    }


def cleanup_plan(settings: Settings, network: str, as_of: date) -> pl.DataFrame:
    """Every lake partition of ``network`` with ``keep`` or ``delete`` and why: a partition
    older than its layer's retention is deleted unless a kept partition of a downstream asset
    reads it (a feature window, a pattern span), in which case it is kept and the reason
    names that partition."""
    net = settings.network(network)
    root = lake_of(settings)
    limits = net.lake_retention.model_dump()
    layer_of = {t: layer for layer, tables in LAYERS.items() for t in tables}
    present = {t: sorted(d for d in _files(root, t, network) if d is not None) for t in layer_of}
    decision: dict[tuple[str, date], tuple[str, str]] = {}
    for table, days in present.items():
        limit = limits[layer_of[table]]
        for day in days:
            if limit is None or (as_of - day).days < limit:
                why = "no retention" if limit is None else f"within {limit} days"
                decision[(table, day)] = ("keep", why)
            else:
                decision[(table, day)] = ("delete", f"older than {limit} days")
    # Downstream first, so a partition kept as input keeps its own inputs in turn.
    order = ("model_monitoring", "typology_alerts", "address_risk_scores", "structural_patterns",
             "address_features", "address_activity", "daily_edges")  # fmt: skip
    inputs = _inputs(net)
    for table in order:
        for day in present.get(table, []):
            if decision[(table, day)][0] != "keep":
                continue
            for upstream, days in inputs[table]:
                for back in range(days):
                    need = day - timedelta(days=back)
                    if decision.get((upstream, need), ("keep",))[0] == "delete":
                        decision[(upstream, need)] = (
                            "keep",
                            f"input of {table} {day} ({days}-day window)",
                        )
    rows = [
        {"table": t, "date": d, "action": a, "reason": r} for (t, d), (a, r) in decision.items()
    ]
    return pl.DataFrame(
        rows,
        schema={"table": pl.String, "date": pl.Date, "action": pl.String, "reason": pl.String},
    ).sort("table", "date")


def cleanup(
    settings: Settings,
    network: str,
    as_of: date,
    *,
    dry_run: bool = True,
    force: bool = False,
    today: date | None = None,
) -> pl.DataFrame:
    """Apply (or with ``dry_run`` only show) :func:`cleanup_plan`: the lake files of the
    partitions marked ``delete`` are removed; the warehouse is not touched.

    Refused without ``force`` (a one-line ``ValueError``): an ``as_of`` after ``today`` (UTC),
    which counts retention back from the future, and a plan that deletes every partition of a
    table (a mistyped date, or a network that stopped loading longer ago than its retention)."""
    today = today or today_utc()
    if as_of > today and not force:
        raise ValueError(
            f"--as-of: {as_of} is after today ({today}): retention would count back from the "
            "future; pass --force to do so"
        )
    plan = cleanup_plan(settings, network, as_of)
    emptied = (
        plan.group_by("table")
        .agg((pl.col("action") == "delete").all().alias("all"), pl.len().alias("n"))
        .filter(pl.col("all"))
        .sort("table")
    )
    if emptied.height and not force:
        tables = ", ".join(f"{t} ({n})" for t, _, n in emptied.iter_rows())
        raise ValueError(
            f"--as-of: as of {as_of} the plan deletes every partition of {tables} of "
            f"{network}; pass --force to empty them"
        )
    if not dry_run:
        root = lake_of(settings)
        for table, day in plan.filter(pl.col("action") == "delete").select("table", "date").rows():
            path = lake.partition_file(root, table, network, day)
            path.fs.rm(path.parent.path, recursive=True)
    return plan
