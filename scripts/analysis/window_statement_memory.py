"""Seconds and peak RSS of each window statement of ``storage.window_sql``, one process each.

Reads the embedded store that ``bench features --engines warehouse`` leaves in its input folder
(``<folder>/features-<N>-<M>-<D>d-s<seed>/warehouse-ch``) and reduces its whole window:

    PYTHONPATH=. .venv/bin/python scripts/analysis/window_statement_memory.py STORE \
        [--days 90] [--ratio 0.5] [--statements flows,sums]

Each statement runs in a fresh process after the ids table is built, so its peak is its own
plus the ids' (``peak before`` says how much the ids table took).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import date, timedelta

START = date(2026, 1, 1)  # the features bench's first day


def measure(store: str, statement: str, days: int, ratio: float) -> str:
    from analytics_platform.bench.memory import peak_rss_bytes, rss_bytes
    from analytics_platform.storage import clickhouse as ch
    from analytics_platform.storage import window_sql as ws

    window = ws.WarehouseWindow(
        "bench", START, START + timedelta(days=days - 1),
        spill=ws.SpillSettings(memory_ratio=ratio),
    )  # fmt: skip
    read = {
        "flows": lambda c, n, count: ws.read_flows(c, window, n, key=ws.address_key(c, window, n)),
        "sums": lambda c, n, count: ws.read_address_sums(
            c, window, n, ws.AddressRange(0, count), ws.address_key(c, window, n)
        )[0],
    }[statement]
    with ch.session(f"chdb://{store}") as client, ws.numbered_addresses(client, window) as names:
        count = ws.read_names(client, window, names).height
        client.command("SYSTEM JEMALLOC PURGE")
        before, start = peak_rss_bytes(), time.perf_counter()
        frame = read(client, names, count)
        seconds = time.perf_counter() - start
    gib = 2**30
    return (
        f"{statement:<8} ratio {ratio:<5} {seconds:6.1f} s  {frame.height:>11,} rows  "
        f"peak {peak_rss_bytes() / gib:.2f} GiB (peak before {before / gib:.2f}, "
        f"rss now {rss_bytes() / gib:.2f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--statements", default="flows,sums")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child's statement
    args = parser.parse_args()
    if args.one:
        print(measure(args.store, args.one, args.days, args.ratio), flush=True)
        return 0
    for statement in args.statements.split(","):
        child = [sys.executable, __file__, args.store, "--days", str(args.days),
                 "--ratio", str(args.ratio), "--one", statement]  # fmt: skip
        subprocess.run(child, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
