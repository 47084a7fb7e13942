"""The analyst's commands: ``address``, ``cases``, ``case export|dispose|dispositions`` and
``calibrate``, all read from the lake (DuckDB)."""

from __future__ import annotations

import argparse
from pathlib import Path

from analytics_platform.cli.arguments import day, positive


def register(sub) -> None:
    view = sub.add_parser(
        "address", help="one address from the lake (DuckDB): labels, alerts, patterns, features"
    )
    view.add_argument("address")
    view.add_argument("--network", default="torus")
    view.add_argument("--days", type=positive, default=30, help="days ending with the latest one")
    cases = sub.add_parser(
        "cases", help="one day's cases from the lake (DuckDB), best first, with the budget cut"
    )
    cases.add_argument("--network", default="torus")
    cases.add_argument("--date", type=day, help="default: the latest day with alerts")
    cases.add_argument("--top", type=positive, default=20)
    cases.add_argument(
        "--open",
        action="store_true",
        help="the open work instead: one row per address episode (its cases at most "
        "--gap-days apart) without a verdict, best first",
    )
    cases.add_argument("--gap-days", type=positive, default=7)
    _register_case(sub)
    view.set_defaults(handler=show_address)
    cases.set_defaults(handler=show_cases)


def _register_case(sub) -> None:
    """``calibrate`` and ``case export | dispose | dispositions``."""
    calibrate = sub.add_parser(
        "calibrate",
        help="refit each typology's confidence, and the map of the case score onto the share "
        "confirmed, to analysts' dispositions of stored cases",
    )
    calibrate.add_argument("--network", default="torus")
    calibrate.add_argument(
        "--dispositions",
        help="CSV/Parquet file(s) (local or s3://): date, address, disposition "
        "(confirmed or dismissed); the last row of a case wins. Default: the verdicts "
        "recorded in the lake (case dispose, case dispositions --import)",
    )
    calibrate.add_argument("--out", type=Path, required=True, help="catalog YAML to write")
    calibrate.add_argument(
        "--prior-weight",
        type=float,
        default=20.0,
        help="how many cases the catalog's prior confidence is worth (default 20)",
    )
    case = sub.add_parser("case", help="hand a case over: files, pictures and an HTML report")
    case_sub = case.add_subparsers(dest="case_command", required=True)
    export = case_sub.add_parser(
        "export", help="a case (address, alert id or case id) from the lake to a folder"
    )
    export.add_argument("ref", help="an address, an alert id or a case id")
    export.add_argument("--network", default="torus")
    export.add_argument("--date", type=day, help="for an address: default its latest alert day")
    export.add_argument("--out", type=Path, required=True, help="an empty (or new) folder")
    export.add_argument(
        "--force",
        action="store_true",
        help="export into a non-empty folder, replacing only the files an export writes",
    )
    dispose = case_sub.add_parser(
        "dispose", help="record an analyst's verdict on a case in the lake (calibrate reads it)"
    )
    dispose.add_argument("ref", help="an address, an alert id or a case id")
    dispose.add_argument("disposition", help="confirmed or dismissed")
    dispose.add_argument("--date", type=day, help="for an address: default its latest alert day")
    verdicts = case_sub.add_parser(
        "dispositions", help="the recorded verdicts; --import adds a team's file of them"
    )
    verdicts.add_argument(
        "--import",
        dest="import_path",
        help="CSV/Parquet file(s) (local or s3://): date, address, disposition, optional note "
        "and analyst; the last row of a case wins, and a file naming no stored case is refused",
    )
    verdicts.add_argument(
        "--compact",
        action="store_true",
        help="merge the log's files into one (every row kept; one file per recording otherwise)",
    )
    for p in (dispose, verdicts):
        p.add_argument("--network", default="torus")
        p.add_argument("--analyst", default="", help="who decided (default: the file's column)")
    dispose.add_argument("--note", default="", help="why, for the next reviewer")
    calibrate.set_defaults(handler=refit)
    export.set_defaults(handler=export_case)
    dispose.set_defaults(handler=record_verdicts)
    verdicts.set_defaults(handler=record_verdicts)


def show_address(args: argparse.Namespace) -> int:
    from analytics_platform.casework.address_view import address_view, render
    from analytics_platform.config import load_settings

    settings = load_settings()
    settings.network(args.network)
    print(render(address_view(settings.lake.url, args.network, args.address, args.days)))
    return 0


def show_cases(args: argparse.Namespace) -> int:
    """A day's cases, or with ``--open`` the open episodes."""
    from analytics_platform.casework import case_view
    from analytics_platform.config import load_settings

    settings = load_settings()
    settings.network(args.network)
    lake = settings.lake.url
    if args.open:
        day_, work = case_view.open_episodes(lake, args.network, args.date, args.gap_days)
        print(case_view.render_episodes(day_, work, args.gap_days, args.top))
    else:
        day_, found = case_view.day_cases(lake, args.network, args.date)
        print(case_view.render(day_, found, args.top))
    return 0


def export_case(args: argparse.Namespace) -> int:
    from analytics_platform.casework.export import export_case
    from analytics_platform.config import load_settings

    settings = load_settings()
    settings.network(args.network)
    done = export_case(
        settings.lake.url, args.network, args.ref, args.out, args.date, force=args.force
    )
    print(
        f"case {done.case_id} ({done.address}, {done.day}): "
        + ", ".join(f"{len(f)} {name}" for name, f in done.frames.items())
        + f", {len(done.pictures)} picture(s) -> {done.report}"
    )
    return 0


def refit(args: argparse.Namespace) -> int:
    import polars as pl

    from analytics_platform.casework.calibration import refit_catalog
    from analytics_platform.config import load_settings

    refit = refit_catalog(
        load_settings(),
        args.network,
        dispositions_path=args.dispositions,
        prior_weight=args.prior_weight,
    )
    args.out.write_text(refit.catalog_yaml)
    with pl.Config(
        tbl_rows=refit.fitted.height, tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
    ):  # fmt: skip
        print(refit.fitted)
    print(f"case score map ({len(refit.score_map)} steps, case score -> share confirmed): "
          + ", ".join(f"{a:.2f} -> {b:.2f}" for a, b in refit.score_map))  # fmt: skip
    print(
        f"{refit.unmatched} disposition(s) matched no stored case; wrote "
        f"{args.out} (set typologies_path to it, then re-materialise typology_alerts)"
    )
    return 0


def record_verdicts(args: argparse.Namespace) -> int:
    """``case dispose`` and ``case dispositions [--import]``."""
    import polars as pl

    from analytics_platform.casework import dispositions
    from analytics_platform.casework.case_view import find_case
    from analytics_platform.config import load_settings
    from analytics_platform.lake.manager import lake_of
    from analytics_platform.lake.sql import LakeSql
    from analytics_platform.storage.files import read_files

    settings = load_settings()
    settings.network(args.network)
    lake = LakeSql(settings.lake.url, args.network)
    if args.case_command == "dispose":
        address, day = find_case(lake, args.ref, args.date, "case dispose")
        verdicts = pl.DataFrame(
            {"date": [str(day)], "address": [address], "disposition": [args.disposition],
             "note": [args.note]}
        )  # fmt: skip
    elif args.import_path:
        verdicts = read_files(args.import_path, "--import")
    else:
        verdicts = None
    if verdicts is not None:
        done = dispositions.record(
            lake_of(settings), args.network, verdicts, analyst=args.analyst, lake=lake
        )
        print(
            f"recorded {done.rows} verdict(s), {done.unchanged} unchanged"
            + (f" -> {done.path}" if done.path else "")
        )
    if getattr(args, "compact", False):
        print(f"merged {dispositions.compact(lake_of(settings), args.network)} file(s) into one")
    now = dispositions.current(lake)
    counts = now.group_by("disposition").len().sort("disposition")
    print(
        f"{now.height} case(s) with a verdict in the lake: "
        + (", ".join(f"{n} {d}" for d, n in counts.iter_rows()) or "none")
    )
    return 0
