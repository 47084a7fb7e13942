"""Seconds and peak RSS of the ``address_features`` asset (windows 7, 30, 90) materialised on
one day of the store that ``bench features --engines warehouse`` leaves, through the product:
a configured network, its labels asset, and the asset's run with the default IO manager
(ClickHouse and the lake), the executor in process.

    PYTHONPATH=. .venv/bin/python scripts/analysis/feature_output_memory.py FOLDER HOME

``FOLDER``: the bench's input folder (``<folder>/features-<N>-<M>-<D>d-s<seed>``, holding
``labels.parquet`` and the loaded ``warehouse-ch``); ``HOME``: an empty working folder (its
lake, Dagster home and config). The asset's output is stored in the same embedded store,
database ``bench``. Figures for another version of the code: run this file with
``PYTHONPATH`` at that checkout.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import yaml

START = date(2026, 1, 1)  # the features bench's first day


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("home", type=Path)
    parser.add_argument("--days", type=int, default=90, help="the bench's days")
    args = parser.parse_args()
    home, last = args.home.resolve(), START + timedelta(days=args.days - 1)
    home.mkdir(parents=True, exist_ok=True)
    labels = pl.read_parquet(args.folder / "labels.parquet").select(
        pl.lit("bench").alias("network"), "address", pl.col("category").alias("label"),
        "category", pl.lit("bench").alias("source"),
        pl.lit(f"{START}T00:00:00+00:00").alias("valid_from"),
    )  # fmt: skip
    labels.write_csv(home / "labels.csv")
    network = {
        "windows": [7, 30, 90], "start_date": START.isoformat(), "end_date": last.isoformat(),
        "source": {"kind": "files", "path": str(home / "none-*.parquet")},
    }  # fmt: skip
    config = {"labels_path": str(home / "labels.csv"), "networks": {"bench": network}}
    (home / "config.yaml").write_text(yaml.safe_dump(config))
    os.environ.update(
        ANALYTICS_HOME=str(home), ANALYTICS_EXECUTOR="in_process",
        ANALYTICS_CLICKHOUSE_DSN=f"chdb://{(args.folder / 'warehouse-ch').resolve()}",
    )  # fmt: skip

    from analytics_platform.bench.memory import peak_rss_bytes
    from analytics_platform.config import load_settings
    from analytics_platform.lib.runner import instance_for, refresh_labels, run_range

    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "bench", instance=instance)
    before, start = peak_rss_bytes(), time.perf_counter()
    (result,) = run_range(
        settings, "bench", last, last, assets=["address_features"], instance=instance,
        progress=lambda line: print(line, file=sys.stderr),
    )  # fmt: skip
    seconds = time.perf_counter() - start
    event = instance.get_latest_materialization_event(_key())
    rows = event.asset_materialization.metadata["dagster/row_count"].value if event else None
    gib = 2**30
    print(
        f"address_features {last}: success {result.success}, {rows} rows, {seconds:.1f} s, "
        f"peak {peak_rss_bytes() / gib:.2f} GiB (before the run {before / gib:.2f})"
    )
    return 0 if result.success else 1


def _key():
    import dagster as dg

    return dg.AssetKey(["bench", "address_features"])


if __name__ == "__main__":
    sys.exit(main())
