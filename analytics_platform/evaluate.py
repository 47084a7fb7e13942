"""``analytics-platform evaluate <dataset-dir>``: detection quality against outside ground truth.

A dataset directory holds ``transfers.csv.gz`` (tx_hash, from_address, to_address, amount,
asset, block_time), ``gt_transactions.csv.gz`` and ``gt_accounts.csv.gz`` (pattern_id,
pattern_type, address, optional is_sar). The command writes a config for a network over the
dataset's days, runs the pattern part of the asset graph through Dagster (``transfers`` ->
``structural_patterns``, one ranged run, as a backfill does) on an embedded store, reads the
patterns back and scores them (``domain.evaluation``). It also scores the project's synthetic
generator, which plants every type.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from analytics_platform.domain.evaluation import account_scores, match_planted, pattern_scores

REQUIRED = {
    "transfers.csv.gz": ("tx_hash", "from_address", "to_address", "amount", "asset", "block_time"),
    "gt_transactions.csv.gz": ("pattern_id", "pattern_type", "tx_hash"),
    "gt_accounts.csv.gz": ("pattern_id", "pattern_type", "address"),
}
NETWORK = "evaluation"
# Outside datasets spread a pattern over days and mix currencies: wider windows than the
# production defaults, no amount-ratio test on cycles. Override with --limits FILE.
EVALUATION_LIMITS: dict[str, Any] = {
    "min_fan": 4,
    "fan_window": 24 * 30,
    "hop_window": 24 * 30,
    "flow_window": 24 * 30,
    "cycle_window": 24 * 30,
    "min_hop_ratio": None,
    "max_hop_ratio": None,
    "chain_hop_window": 48,
}


def check_dataset(folder: Path) -> dict[str, list[str]]:
    """Column names per file; a clear error for a missing file or column."""
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset-dir: no such directory {str(folder)!r}")
    found = {}
    for name, columns in REQUIRED.items():
        path = folder / name
        if not path.exists():
            raise FileNotFoundError(f"dataset-dir: {name} missing in {folder}")
        header = pl.read_csv(path, n_rows=1).columns
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{name}: missing column(s) {missing} (has {header})")
        found[name] = header
    return found


def load_truth(folder: Path) -> pl.DataFrame:
    accounts = pl.read_csv(folder / "gt_accounts.csv.gz", infer_schema_length=0)
    if "is_sar" in accounts.columns:
        accounts = accounts.with_columns(pl.col("is_sar").str.to_lowercase() == "true")
    else:
        accounts = accounts.with_columns(pl.lit(True).alias("is_sar"))
    return accounts.select("pattern_id", "pattern_type", "is_sar", "address")


def run_graph(
    folder: Path,
    home: Path,
    limits: dict[str, Any],
    span_days: int,
    progress: Callable[[str], None],
) -> pl.DataFrame:
    """Materialise transfers -> structural_patterns over the dataset's days; the patterns."""
    from analytics_platform.config import load_settings
    from analytics_platform.runner import instance_for, run_range
    from analytics_platform.storage import clickhouse as ch
    from analytics_platform.storage.tables import TABLES

    times = pl.read_csv(folder / "transfers.csv.gz", columns=["block_time"])["block_time"]
    days = times.str.slice(0, 10).str.to_date("%Y-%m-%d")
    first, last = days.min(), days.max()
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "networks": {
                    NETWORK: {
                        "start_date": first.isoformat(),
                        "end_date": last.isoformat(),
                        "source": {"kind": "files", "path": str(folder / "transfers.csv.gz")},
                        "address_pattern": r"^\S+$",
                        "windows": [7],
                        "pattern_span_days": span_days,
                        "patterns": limits,
                    }
                }
            }
        )
    )
    settings = load_settings(
        {"ANALYTICS_HOME": str(home), "ANALYTICS_CONFIG": str(home / "config.yaml")}
    )
    n_days = (last - first).days + 1
    progress(f"running transfers -> structural_patterns over {n_days} days ({first}..{last})")
    results = run_range(
        settings,
        NETWORK,
        first,
        last,
        assets=["transfers", "transfers_rejected", "address_labels", "structural_patterns"],
        chunk_days=n_days,
        progress=progress,
        instance=instance_for(settings),
    )
    if not all(r.success for r in results):
        raise RuntimeError("evaluation run failed; see the Dagster run logs under the home")
    with ch.session(settings.clickhouse) as client:
        return ch.read_days(
            client,
            NETWORK,
            "structural_patterns",
            schema=TABLES["structural_patterns"].schema,
            cluster=settings.clickhouse.cluster,
        )


def synthetic_recall(days: int = 5, seed: int = 7) -> pl.DataFrame:
    """Per planted type recall of the detectors on the project's synthetic generator."""
    from analytics_platform.config import NetworkConfig
    from analytics_platform.domain.patterns import detect_patterns
    from analytics_platform.domain.synthetic import SyntheticConfig, generate

    cfg = SyntheticConfig(days=days, seed=seed, start=date(2026, 1, 1))
    net = generate(cfg)
    exchanges = net.labels.filter(pl.col("category") == "exchange")["address"].to_list()
    found = pl.concat(
        detect_patterns(
            net.transfers,
            network=cfg.network,
            day=cfg.start + timedelta(days=i),
            span_days=NetworkConfig.pattern_span_days,  # the deployed default
            exclude=exchanges,
            risky=net.labels.select("address", "category"),
            reporting_thresholds={cfg.asset: cfg.reporting_threshold},
        ).patterns
        for i in range(days)
    )
    return match_planted(net.ground_truth, found).filter(pl.col("planted") > 0)


def evaluate(
    folder: Path,
    *,
    home: Path | None = None,
    limits: dict[str, Any] | None = None,
    span_days: int = 30,
    synthetic: bool = True,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    folder = folder.resolve()
    check_dataset(folder)
    truth = load_truth(folder)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="evaluate-") as tmp:
        patterns = run_graph(
            folder, home or Path(tmp), {**EVALUATION_LIMITS, **(limits or {})}, span_days, progress
        )
    seconds = time.perf_counter() - started
    per_pattern = pattern_scores(truth, patterns)
    sar = truth.filter(pl.col("is_sar"))
    planted = sar["pattern_id"].n_unique()
    found_any = per_pattern["found_any_type"].sum()
    result = {
        "dataset": folder.name,
        "transfers": pl.read_csv(folder / "transfers.csv.gz", columns=["tx_hash"]).height,
        "planted_patterns": planted,
        "decoy_patterns": truth.filter(~pl.col("is_sar"))["pattern_id"].n_unique(),
        "detections": patterns.height,
        "graph_seconds": round(seconds, 1),
        "recall_any_type": found_any / planted if planted else None,
        "right_type_share": per_pattern["found"].sum() / found_any if found_any else None,
        "pattern_level": per_pattern,
        "account_level": account_scores(truth, patterns),
    }
    if synthetic:
        result["synthetic"] = synthetic_recall()
    return result


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(
        {k: v.to_dicts() if isinstance(v, pl.DataFrame) else v for k, v in result.items()},
        indent=1,
        default=str,
    )


def to_text(result: dict[str, Any]) -> str:
    def table(df: pl.DataFrame) -> str:
        with pl.Config(
            tbl_rows=50,
            tbl_cols=20,
            tbl_width_chars=200,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
            float_precision=3,
        ):
            return str(df)

    lines = [
        f"dataset {result['dataset']}: {result['transfers']} transfers, "
        f"{result['planted_patterns']} planted patterns, {result['decoy_patterns']} decoys, "
        f"{result['detections']} detections ({result['graph_seconds']} s through the graph)",
        f"recall (any type) {result['recall_any_type']:.3f}; right type for "
        f"{result['right_type_share'] or 0:.3f} of those found",
        "",
        "Pattern level (planted found by a detection sharing > half its members):",
        table(result["pattern_level"]),
        "",
        "Account level (members of detections of each type; decoy hits apart):",
        table(result["account_level"]),
    ]
    if "synthetic" in result:
        lines += [
            "",
            "Synthetic generator (5 days, every type planted):",
            table(
                result["synthetic"].select(
                    "pattern_type", "planted", "found", "recall", "detections", "precision"
                )
            ),
        ]
    return "\n".join(lines)
