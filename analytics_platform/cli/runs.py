"""Runs of the daily graph from the terminal: ``ingest``, ``materialize``, ``backfill``,
``labels`` and ``summary`` (each day and chunk through ``lib.runner``, as in the Dagster UI)."""

from __future__ import annotations

import argparse

from analytics_platform.cli.arguments import day, positive


def register(sub) -> None:
    for name, helptext in (
        ("ingest", "ingest raw transfers for a date range (transfers asset only)"),
        ("materialize", "materialise every daily asset for one day"),
        ("backfill", "materialise every daily asset for a date range"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--network", default="torus")
        if name == "materialize":
            p.add_argument("--date", type=day, required=True)
        else:
            p.add_argument("--start", type=day, required=True)
            p.add_argument("--end", type=day, required=True)
        p.add_argument("--chunk-days", type=positive, default=7)
    labels = sub.add_parser("labels", help="refresh the SCD2 address labels from labels_path")
    labels.add_argument("--network", default="torus")
    summary = sub.add_parser("summary", help="print rows per asset/day and alerts by typology")
    summary.add_argument("--network", default="torus")
    for p in (sub.choices[n] for n in ("ingest", "materialize", "backfill")):
        p.set_defaults(handler=run_days)
    labels.set_defaults(handler=refresh)
    summary.set_defaults(handler=summarise_network)


def run_days(args: argparse.Namespace) -> int:
    """``ingest`` (the transfers only), ``materialize`` (one day) and ``backfill`` (a range)."""
    from analytics_platform.config import load_settings
    from analytics_platform.lib.runner import run_range
    from analytics_platform.storage.tables import INGEST_TABLES

    first = args.date if args.command == "materialize" else args.start
    last = args.date if args.command == "materialize" else args.end
    assets = list(INGEST_TABLES) if args.command == "ingest" else None
    run_range(
        load_settings(), args.network, first, last, assets=assets, chunk_days=args.chunk_days,
        progress=None,  # a bar on a terminal, lines on stderr otherwise
        # A failed step is said in one line (main); its log and traceback with --debug.
        log_level="WARNING" if args.debug else "CRITICAL",
    )  # fmt: skip
    return 0


def refresh(args: argparse.Namespace) -> int:
    from analytics_platform.config import load_settings
    from analytics_platform.lib.runner import refresh_labels

    refresh_labels(load_settings(), args.network)
    return 0


def summarise_network(args: argparse.Namespace) -> int:
    from analytics_platform.config import load_settings
    from analytics_platform.lib.demo import print_summary, summarise

    print_summary(summarise(load_settings(), args.network, None))
    return 0
