"""The demo: a synthetic network with planted patterns, every daily partition of every asset
materialised through Dagster on the embedded default, and a summary."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import polars as pl
import yaml

from analytics_platform.config import Settings, load_settings
from analytics_platform.domain.evaluation import match_planted, product_scores
from analytics_platform.domain.schemas import SEVERITIES
from analytics_platform.domain.synthetic import SyntheticConfig, SyntheticNetwork, generate
from analytics_platform.lib.runner import refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.daily_metrics import active_addresses
from analytics_platform.storage.tables import DAILY_TABLES, TABLES

SYNTHETIC_PROFILE = Path(__file__).resolve().parents[1] / "profiles" / "synthetic.yaml"


def write_landing(net: SyntheticNetwork, folder: Path, bad_rows: bool = True) -> Path:
    """Write one Parquet file per day (raw layout: amounts and times as text) plus labels and
    ground truth. Returns the glob of the transfer files."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = net.transfers.select(
        "tx_hash",
        "transfer_index",
        "block_number",
        pl.col("block_time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").alias("block_time"),
        "from_address",
        "to_address",
        "asset",
        pl.col("amount").cast(pl.String),
        "date",
    )
    if bad_rows and raw.height:
        first = raw.row(0, named=True)
        bad = pl.DataFrame(
            [
                {**first, "tx_hash": "0xbad1", "amount": "-5"},
                {**first, "tx_hash": "0xbad2", "amount": "12abc"},
                {**first, "tx_hash": "0xbad3", "to_address": "not-an-address"},
                {**first, "tx_hash": "0xbad4", "block_time": "yesterday-ish"},
            ],
            schema=raw.schema,
        )
        raw = pl.concat([raw, bad])
    for (day,), part in raw.partition_by("date", as_dict=True).items():
        part.drop("date").write_parquet(folder / f"transfers-{day.isoformat()}.parquet")
    net.labels.write_csv(folder.parent / "labels.csv")
    net.ground_truth.write_parquet(folder.parent / "ground_truth.parquet")
    return folder / "transfers-*.parquet"


def prepare(home: Path, cfg: SyntheticConfig) -> tuple[Settings, SyntheticNetwork]:
    """Generate data and write ``config.yaml`` so Dagster (and ``dagster dev``) see the network."""
    home.mkdir(parents=True, exist_ok=True)
    net = generate(cfg)
    pattern = write_landing(net, home / "landing" / cfg.network)
    prices_path = home / "landing" / f"prices-{cfg.network}.csv"
    net.prices.write_csv(prices_path)
    last = cfg.start + timedelta(days=cfg.days - 1)
    # The network's settings are the checked-in ``synthetic`` profile's (the one `evaluate
    # synthetic` scores); only the files and days are the demo's.
    profile = yaml.safe_load(SYNTHETIC_PROFILE.read_text())
    (settings_of_network,) = profile["networks"].values()
    config = {
        "labels_path": str(home / "landing" / "labels.csv"),
        "networks": {
            cfg.network: {
                **settings_of_network,
                "start_date": cfg.start.isoformat(),
                "end_date": last.isoformat(),
                "source": {"kind": "files", "path": str(pattern)},
                "prices_path": str(prices_path),
            }
        },
    }
    (home / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    settings = load_settings({"ANALYTICS_HOME": str(home)})
    return settings, net


def summarise(settings: Settings, network: str, truth: pl.DataFrame | None) -> dict:
    """Rows per asset and day, alerts by typology, planted patterns found."""
    counts = []
    with ch.session(settings.clickhouse) as client:
        for table in DAILY_TABLES:
            if not ch.table_exists(client, network, table):
                continue
            frame = ch.query_frame(
                client, f"SELECT date, count() AS n FROM `{network}`.`{table}` GROUP BY date"
            )
            counts.append(frame.with_columns(pl.lit(table).alias("asset")))
        alerts = ch.read_days(
            client,
            network,
            "typology_alerts",
            schema=TABLES["typology_alerts"].schema,
            cluster=settings.clickhouse.cluster,
        )
        patterns = ch.read_days(
            client,
            network,
            "structural_patterns",
            schema=TABLES["structural_patterns"].schema,
            cluster=settings.clickhouse.cluster,
        )
        active = active_addresses(client, network, settings.clickhouse.cluster)
    if not counts:
        raise LookupError(
            f"summary: nothing stored for network {network!r} in {settings.clickhouse.describe()} "
            "yet (run `analytics-platform backfill` or the demo first)"
        )
    rows = pl.concat(counts).pivot(on="asset", index="date", values="n").sort("date").fill_null(0)
    rows = rows.select("date", *[t for t in DAILY_TABLES if t in rows.columns])
    by_typology = (
        alerts.group_by("typology", "severity")
        .len()
        .pivot(on="severity", index="typology", values="len")
        .fill_null(0)
        .sort("typology")
    )
    # Most severe first, whatever order the groups came in.
    by_typology = by_typology.select(
        "typology", *[s for s in reversed(SEVERITIES) if s in by_typology.columns]
    )
    summary: dict = {"rows": rows, "alerts": by_typology, "planted": None}
    if truth is not None:
        summary.update(alert_quality(truth, patterns, alerts, active))
    return summary


def alert_quality(
    truth: pl.DataFrame, patterns: pl.DataFrame, alerts: pl.DataFrame, active: pl.DataFrame
) -> dict:
    """What the demo stored, scored against the generator's ground truth (look-alikes apart)."""
    accounts = truth.select("pattern_id", "pattern_type", "is_sar", "address")
    transactions = (
        truth.unique("pattern_id")
        .select("pattern_id", "pattern_type", "is_sar", pl.col("tx_hashes").alias("tx_hash"))
        .explode("tx_hash", empty_as_null=True)
    )
    return {
        "planted": match_planted(truth, patterns),
        **product_scores(accounts, transactions, alerts, active),
    }


def run_demo(home: Path, cfg: SyntheticConfig) -> dict:
    t0 = time.perf_counter()
    print(
        f"Generating {cfg.days} days of '{cfg.network}' ({cfg.transfers_per_day:,} transfers/day, "
        f"{cfg.addresses:,} addresses, {cfg.patterns_per_day} planted patterns/type/day)..."
    )
    settings, net = prepare(home, cfg)
    print(
        f"  {net.transfers.height:,} transfers, {net.labels.height} labels, "
        f"{net.ground_truth['pattern_id'].n_unique()} planted patterns -> {home / 'landing'}"
    )
    print("Materialising address labels...")
    refresh_labels(settings, cfg.network)
    last = cfg.start + timedelta(days=cfg.days - 1)
    print(f"Materialising every daily partition {cfg.start}..{last} of every asset...")
    run_range(settings, cfg.network, cfg.start, last, progress=None)
    summary = summarise(settings, cfg.network, net.ground_truth)
    summary["wall_s"] = time.perf_counter() - t0
    print_summary(summary)
    print(
        f"\nDemo finished in {summary['wall_s']:.1f}s. Open the UI on the same data:\n"
        f"  ANALYTICS_HOME={home} DAGSTER_HOME={settings.dagster_home} "
        f".venv/bin/dagster dev -m analytics_platform.definitions"
    )
    return summary


def print_summary(summary: dict) -> None:
    with pl.Config(
        tbl_rows=100,
        tbl_cols=20,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_width_chars=140,
    ):
        print("\nRows per asset and day:")
        print(summary["rows"])
        print("\nAlerts by typology and severity:")
        print(summary["alerts"])
        if summary.get("planted") is not None:
            print("\nPlanted patterns found (same type, > half the members shared):")
            print(
                summary["planted"]
                .select("pattern_type", "planted", "found", "recall", "detections", "precision")
                .with_columns(pl.col("recall", "precision").round(3))
            )
            print("\nPlanted patterns alerted (look-alikes: the false-alarm rate):")
            print(summary["planted_alerted"].with_columns(pl.col("share").round(3)))
            print("\nAlerted addresses per typology (planted / look-alike only / outside):")
            print(summary["alert_level"].with_columns(pl.col("precision").round(3)))
            print("\nPrecision of each day's top k cases:")
            print(summary["precision_at_k"].with_columns(pl.col("precision").round(3)))
            print(
                f"\nAlerted outside every planted pattern: at most "
                f"{summary['outside_share_max']:.2%} of a day's active addresses "
                f"({summary['outside_share_in_budget_max']:.2%} within the case budget)"
            )
