"""What the AMLSim analysis scripts share: the dataset's folder, its transfers as legs, the
tables an ``evaluate ... --home DIR`` run stored, and per-type F1 through the alerts."""

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import yaml

from analytics_platform.domain.evaluation import account_scores, alerted_patterns

DATA = Path("../shared/datasets/amlsim_s1")
TYPES = ["cycle", "fan_in", "fan_out", "gather_scatter", "scatter_gather"]


def dataset_legs() -> tuple[pl.DataFrame, pl.DataFrame, date]:
    """Every transfer of the dataset as a leg (tx_hash, src, dst, time: its day), the daily
    edges ``leg_dormancy`` reads as history, and the first day it judges (the 31st: the
    30-day look-back is covered from then)."""
    t = pl.read_csv(DATA / "transfers.csv.gz").with_columns(
        pl.col("block_time").str.slice(0, 10).str.to_date().alias("date")
    )
    legs = t.select(
        "tx_hash",
        pl.col("from_address").alias("src"),
        pl.col("to_address").alias("dst"),
        pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("time"),
    )
    history = t.select("date", "from_address", "to_address").unique()
    return legs, history, t["date"].min() + timedelta(days=30)


def stored_tables(home: Path, *tables: str) -> dict[str, pl.DataFrame]:
    """The rows an ``evaluate ... --home DIR`` run stored, every day, per table."""
    from analytics_platform.config import load_settings
    from analytics_platform.storage import clickhouse as ch
    from analytics_platform.storage.tables import TABLES

    config = home / "config.yaml"
    (network,) = yaml.safe_load(config.read_text())["networks"]
    settings = load_settings({"ANALYTICS_HOME": str(home), "ANALYTICS_CONFIG": str(config)})
    with ch.session(settings.clickhouse) as client:
        return {
            table: ch.read_days(client, network, table, schema=TABLES[table].schema,
                                cluster=settings.clickhouse.cluster)
            for table in tables
        }  # fmt: skip


def f1s(truth: pl.DataFrame, patterns: pl.DataFrame, alerts: pl.DataFrame) -> pl.DataFrame:
    scored = account_scores(truth, alerted_patterns(patterns, alerts))
    return scored.filter(pl.col("pattern_type").is_in(TYPES)).select(
        "pattern_type", "flagged", "precision", "recall", "f1"
    )
