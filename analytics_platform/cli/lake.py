"""``lake summary | validate | report | restore | cleanup``: the Parquet lake's tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from analytics_platform.cli.arguments import day, positive


def register(sub) -> None:
    lake = sub.add_parser(
        "lake", help="the Parquet lake: summary, validate, report, restore, cleanup"
    )
    lake_sub = lake.add_subparsers(dest="lake_command", required=True)
    for name, text in (
        ("summary", "objects, bytes and partitions per table and network"),
        ("validate", "every lake partition against the warehouse: rows and schema"),
        ("report", "rows, bytes, alerts and cases per day (and a PNG plot)"),
        ("restore", "rebuild the warehouse tables from the lake (disaster recovery)"),
        ("cleanup", "delete lake partitions past their layer's retention (lake_retention)"),
    ):
        cmd = lake_sub.add_parser(name, help=text)
        cmd.add_argument("--network", help="default: every configured network")
        if name == "report":
            cmd.add_argument("--days", type=positive, default=30)
            cmd.add_argument("--plot", type=Path, help="write the rows-per-day plot here (PNG)")
        if name == "restore":
            cmd.add_argument("--tables", help="comma-separated (default: every lake table)")
        if name == "cleanup":
            cmd.add_argument("--dry-run", action="store_true", help="show the plan, delete nothing")
            cmd.add_argument("--as-of", type=day, help="count retention back from (default: today)")
            cmd.add_argument(
                "--force",
                action="store_true",
                help="apply a plan from a future --as-of, or one that empties a table",
            )
    lake.set_defaults(handler=run_lake_command)


def run_lake_command(args: argparse.Namespace) -> int:
    import polars as pl

    from analytics_platform.config import load_settings
    from analytics_platform.lake import manager as lake_manager

    settings = load_settings()

    networks = (
        [settings.network(args.network).name]
        if args.network
        else [n.name for n in settings.networks]
    )
    table_config = pl.Config(
        tbl_rows=200,
        tbl_cols=20,
        tbl_hide_dataframe_shape=True,
        tbl_width_chars=200,
        fmt_str_lengths=80,
    )
    with table_config:
        if args.lake_command == "summary":
            print(lake_manager.summary(lake_manager.lake_of(settings), networks))
            return 0
        failed = 0
        for network in networks:
            if args.lake_command == "validate":
                result = lake_manager.validate(settings, network)
                bad = result.filter(~pl.col("ok"))
                failed += bad.height
                print(
                    f"{network}: {result.height} partitions checked, {bad.height} disagree"
                    + (f"\n{bad}" if bad.height else "")
                )
            elif args.lake_command == "report":
                plot = args.plot if args.plot and len(networks) == 1 else None
                print(f"{network}:\n{lake_manager.report(settings, network, args.days, plot)}")
                if plot:
                    print(f"plot: {plot}")
            elif args.lake_command == "cleanup":
                from datetime import UTC, datetime

                as_of = args.as_of or datetime.now(UTC).date()
                plan = lake_manager.cleanup(
                    settings, network, as_of, dry_run=args.dry_run, force=args.force
                )
                verb = "would delete" if args.dry_run else "deleted"
                deleted = plan.filter(pl.col("action") == "delete")
                kept = plan.filter(
                    (pl.col("action") == "keep") & pl.col("reason").str.starts_with("input of")
                )
                print(
                    f"{network} as of {as_of}: {verb} {deleted.height} partition(s), kept "
                    f"{kept.height} past retention because later kept partitions read them"
                )
                print(
                    plan.group_by("table", "action")
                    .agg(pl.len().alias("partitions"), pl.col("date").min().alias("first"),
                         pl.col("date").max().alias("last"))
                    .sort("table", "action")
                )  # fmt: skip
                if kept.height:
                    print(kept.head(20))
            else:
                tables = args.tables.split(",") if args.tables else None
                print(lake_manager.restore(settings, network, tables))
        return 1 if failed else 0
