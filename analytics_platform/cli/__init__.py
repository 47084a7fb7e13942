"""``analytics-platform`` command line: demo, generate, ingest, materialize, backfill, summary,
address, cases, calibrate, case export|dispose|dispositions, lake, evaluate, bench."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _positive(text: str) -> int:
    """A count or a number of days: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


# Mistakes a user can fix (config, names, dates, an empty store): one line on stderr and exit
# code 2, no traceback unless --debug. Anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, LookupError, FileNotFoundError, PermissionError)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.debug:  # the driver logs a failed request before raising it, said below
        logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
    try:
        return _run(args)
    except USER_ERRORS as exc:
        if args.debug:
            raise
        message = exc.args[0] if isinstance(exc, LookupError) and exc.args else exc
        print(f"analytics-platform: error: {message}", file=sys.stderr)
        return 2
    except Exception as exc:
        from analytics_platform.lib.assets.retries import is_transient
        from analytics_platform.lib.runner import first_line

        if args.debug or not is_transient(exc):
            raise
        # A store that does not answer (warehouse, lake, broker): one line, not a traceback.
        print(f"analytics-platform: error: a store did not answer: {first_line(exc)}",
              file=sys.stderr)  # fmt: skip
        return 2


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument said in one line (the usage is one ``--help`` away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    """Every command and option; imports nothing heavy, so ``--help`` answers at once."""
    parser = _Parser(prog="analytics-platform", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)

    for name, home, helptext in (
        ("demo", ".analytics/demo", "generate a synthetic network and run every asset"),
        ("generate", ".analytics", "write a synthetic network as landing files + config.yaml"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--home", default=home)
        p.add_argument("--days", type=_positive, default=21)
        p.add_argument("--start", type=_date, default=date(2026, 10, 1))
        p.add_argument("--transfers-per-day", type=_positive, default=10_000)
        p.add_argument("--addresses", type=_positive, default=5_000)
        p.add_argument("--seed", type=int, default=7)

    for name, helptext in (
        ("ingest", "ingest raw transfers for a date range (transfers asset only)"),
        ("materialize", "materialise every daily asset for one day"),
        ("backfill", "materialise every daily asset for a date range"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--network", default="torus")
        if name == "materialize":
            p.add_argument("--date", type=_date, required=True)
        else:
            p.add_argument("--start", type=_date, required=True)
            p.add_argument("--end", type=_date, required=True)
        p.add_argument("--chunk-days", type=_positive, default=7)
    labels = sub.add_parser("labels", help="refresh the SCD2 address labels from labels_path")
    labels.add_argument("--network", default="torus")
    summary = sub.add_parser("summary", help="print rows per asset/day and alerts by typology")
    summary.add_argument("--network", default="torus")
    view = sub.add_parser(
        "address", help="one address from the lake (DuckDB): labels, alerts, patterns, features"
    )
    view.add_argument("address")
    view.add_argument("--network", default="torus")
    view.add_argument("--days", type=_positive, default=30, help="days ending with the latest one")
    cases = sub.add_parser(
        "cases", help="one day's cases from the lake (DuckDB), best first, with the budget cut"
    )
    cases.add_argument("--network", default="torus")
    cases.add_argument("--date", type=_date, help="default: the latest day with alerts")
    cases.add_argument("--top", type=_positive, default=20)
    cases.add_argument(
        "--open",
        action="store_true",
        help="the open work instead: one row per address episode (its cases at most "
        "--gap-days apart) without a verdict, best first",
    )
    cases.add_argument("--gap-days", type=_positive, default=7)
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
    export.add_argument("--date", type=_date, help="for an address: default its latest alert day")
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
    dispose.add_argument("--date", type=_date, help="for an address: default its latest alert day")
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
    _model_parser(sub)
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
            cmd.add_argument("--days", type=_positive, default=30)
            cmd.add_argument("--plot", type=Path, help="write the rows-per-day plot here (PNG)")
        if name == "restore":
            cmd.add_argument("--tables", help="comma-separated (default: every lake table)")
        if name == "cleanup":
            cmd.add_argument("--dry-run", action="store_true", help="show the plan, delete nothing")
            cmd.add_argument(
                "--as-of", type=_date, help="count retention back from (default: today)"
            )
            cmd.add_argument(
                "--force",
                action="store_true",
                help="apply a plan from a future --as-of, or one that empties a table",
            )
    bench = sub.add_parser("bench", help="benchmarks (figures printed, never asserted)")
    bench_sub = bench.add_subparsers(dest="benchmark", required=True)
    feats = bench_sub.add_parser("features", help="address features per engine on one window")
    feats.add_argument("--transfers", type=int, default=1_000_000)
    feats.add_argument("--addresses", type=int, default=100_000)
    feats.add_argument("--days", type=int, default=90, help="window length (days of data)")
    feats.add_argument("--engines", default="cpu,gpu,networkx")
    feats.add_argument("--betweenness-samples", type=int, default=16)
    feats.add_argument("--timeout", type=float, default=600, help="seconds per engine")
    feats.add_argument("--seed", type=int, default=7)
    feats.add_argument("--folder", default=".analytics/bench")
    feats.add_argument("--json", action="store_true", help="print one JSON object")

    pats = bench_sub.add_parser("patterns", help="pattern detection on one span of transfers")
    pats.add_argument("--transfers", type=int, default=10_000_000)
    pats.add_argument("--addresses", type=int, default=1_000_000)
    pats.add_argument("--days", type=int, default=3, help="span length (days of data)")
    pats.add_argument("--seed", type=int, default=7)
    pats.add_argument(
        "--dormancy-days",
        type=int,
        default=0,
        help="also judge dormant accounts (cycles and gather-scatter on unusual legs)",
    )
    pats.add_argument(
        "--funnels",
        action="store_true",
        help="with --dormancy-days: fan-ins as funnels over the whole span (funnel_days)",
    )
    pats.add_argument(
        "--relationship-days",
        type=int,
        default=None,
        help="with --dormancy-days: how far back a payment makes a pair established "
        "(relationship_days; default: the dormancy days)",
    )
    pats.add_argument("--folder", default=".analytics/bench")
    pats.add_argument("--json", action="store_true", help="print one JSON object")
    kafka = bench_sub.add_parser(
        "kafka", help="Kafka topic -> ClickHouse throughput and produce -> partition lag"
    )
    kafka.add_argument("--messages", type=int, default=100_000)
    kafka.add_argument("--days", type=int, default=3, help="days the messages spread over")
    kafka.add_argument("--batch-messages", type=int, default=50_000)
    kafka.add_argument("--json", action="store_true", help="print one JSON object")
    scoring = bench_sub.add_parser(
        "scoring", help="risk scores for a day's addresses and a case's contributions"
    )
    scoring.add_argument("--addresses", type=_positive, default=1_000_000)
    scoring.add_argument("--features", type=_positive, default=127)
    scoring.add_argument("--json", action="store_true", help="print one JSON object")
    ev = sub.add_parser(
        "evaluate",
        help="run the whole graph on a labelled dataset with a checked-in profile and score "
        "what it stored (patterns, alerts, cases)",
    )
    ev.add_argument("dataset_dir", help="a dataset directory, or 'synthetic' (the generator)")
    ev.add_argument(
        "--profile",
        help="profile name in analytics_platform/profiles or a config file (default: the "
        "profile named like the dataset directory)",
    )
    ev.add_argument("--home", type=Path, help="keep the run's store here (default: temporary)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--plot", type=Path, help="also draw the result as a PNG here")
    ev.add_argument(
        "--cutoff",
        type=_date,
        help="also train a risk model on the labels known by this day and judge rules, model "
        "and both on the days after it",
    )
    ev.add_argument(
        "--train-on",
        type=Path,
        help="a risk model trained on this other dataset's labels scores the evaluated one "
        "(never trained on its labels); rules, model and both judged on every day",
    )
    return parser


def _model_parser(sub) -> None:
    model = sub.add_parser(
        "model", help="the risk model: train, list, status, promote, rollback (MLflow registry)"
    )
    model_sub = model.add_subparsers(dest="model_command", required=True)
    train = model_sub.add_parser("train", help="train on the warehouse and register a version")
    train.add_argument("--cutoff", type=_date, help="labels known by then (default: last day)")
    train.add_argument("--labels", help="a labels file besides the verdicts and risk.labels_path")
    train.add_argument(
        "--as", dest="alias", choices=("champion", "challenger"),
        help="the alias it takes (default: challenger, or champion when there is none)",
    )  # fmt: skip
    model_sub.add_parser("list", help="every version with its aliases, cutoff and features")
    model_sub.add_parser("status", help="champion, challenger and the journal of moves")
    promote = model_sub.add_parser(
        "promote", help="make the challenger the champion if it beat it on the shadow days"
    )
    promote.add_argument("--force", action="store_true", help="promote anyway (needs --reason)")
    rollback = model_sub.add_parser("rollback", help="the champion back to the one before")
    for p in (train, promote, rollback):
        p.add_argument("--by", default="", help="who (default: the login name)")
    promote.add_argument("--reason", default="", help="why (recorded in the journal)")
    rollback.add_argument("--reason", required=True, help="why (recorded in the journal)")
    for p in model_sub.choices.values():
        p.add_argument("--network", default="torus")


def _model(settings, args: argparse.Namespace) -> int:
    import getpass

    from analytics_platform.pipeline import model_ops

    settings.network(args.network)
    by = getattr(args, "by", "") or getpass.getuser()
    command = args.model_command
    if command == "train":
        done = model_ops.train_model(
            settings, args.network, cutoff=args.cutoff, by=by, labels_path=args.labels,
            alias=args.alias,
        )  # fmt: skip
        v, model = done.version, done.trained.model
        print(
            f"{args.network}: version {v.version} ({', '.join(v.aliases) or 'no alias'}), "
            f"cutoff {model.cutoff}, {len(model.features)} features ({model.feature_hash}), "
            f"classes {', '.join(model.classes[1:])}; validation F1 "
            f"{model.metrics.get('validation_f1')}"
        )
        return 0
    registry = model_ops.registry_of(settings)
    if command == "list":
        versions = registry.versions(args.network)
        if not versions:
            print(f"{args.network}: no model trained yet (analytics-platform model train)")
        for v in versions:
            print(
                f"{v.version:>4}  {','.join(v.aliases) or '-':<20} cutoff {v.cutoff}  "
                f"features {v.feature_hash}  {v.created:%Y-%m-%d %H:%M} UTC"
            )
        return 0
    if command == "status":
        for alias in ("champion", "challenger"):
            print(f"{alias}: {registry.version_of(args.network, alias) or 'none'}")
        for m in registry.journal(args.network):
            print(f"  {m.at} {m.alias}: {m.before or '-'} -> {m.after or '-'} by {m.by}: {m.why}")
        print(f"registry: {registry.uri}")
        return 0
    if command == "promote":
        version, judged = model_ops.promote(
            settings, args.network, by=by, reason=args.reason, force=args.force
        )
        detail = f" (shadow days {judged.days}, recall in budget {judged.recall})" if judged else ""
        print(f"{args.network}: version {version} is the champion{detail}")
        return 0
    before, after = model_ops.rollback(settings, args.network, by=by, reason=args.reason)
    print(f"{args.network}: champion back from version {before} to {after}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.command == "bench":
        # Before any settings import: `bench features` runs on a bare GPU machine that has the
        # core's packages but no warehouse client (scripts/gpu-device-check.sh).
        runners = {
            "patterns": _bench_patterns,
            "kafka": _bench_kafka,
            "features": _bench,
            "scoring": _bench_scoring,
        }
        return runners[args.benchmark](args)
    from analytics_platform.config import load_settings

    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "demo":
        from analytics_platform.cli.demo import run_demo
        from analytics_platform.domain.synthetic import demo_config

        cfg = demo_config(args.days, args.seed, args.transfers_per_day, args.addresses, args.start)
        run_demo(Path(args.home).resolve(), cfg)
        return 0
    if args.command == "generate":
        from analytics_platform.cli.demo import prepare
        from analytics_platform.domain.synthetic import demo_config

        settings, net = prepare(
            Path(args.home).resolve(),
            demo_config(args.days, args.seed, args.transfers_per_day, args.addresses, args.start),
        )
        print(f"wrote {net.transfers.height:,} transfers and {settings.home / 'config.yaml'}")
        return 0

    settings = load_settings()
    if args.command == "address":
        from analytics_platform.casework.address_view import address_view, render

        settings.network(args.network)
        print(render(address_view(settings.lake.url, args.network, args.address, args.days)))
        return 0
    if args.command == "case" and args.case_command != "export":
        return _dispositions(settings, args)
    if args.command == "case":
        from analytics_platform.casework.export import export_case

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
    if args.command == "lake":
        return _lake(settings, args)
    if args.command == "model":
        return _model(settings, args)
    if args.command == "calibrate":
        return _calibrate(settings, args)
    if args.command == "cases" and args.open:
        from analytics_platform.casework.case_view import open_episodes, render_episodes

        settings.network(args.network)
        day, work = open_episodes(settings.lake.url, args.network, args.date, args.gap_days)
        print(render_episodes(day, work, args.gap_days, args.top))
        return 0
    if args.command == "cases":
        from analytics_platform.casework.case_view import day_cases, render

        settings.network(args.network)
        day, found = day_cases(settings.lake.url, args.network, args.date)
        print(render(day, found, args.top))
        return 0
    from analytics_platform.lib.runner import refresh_labels, run_range
    from analytics_platform.storage.tables import INGEST_TABLES

    if args.command == "labels":
        refresh_labels(settings, args.network)
    elif args.command == "summary":
        from analytics_platform.cli.demo import print_summary, summarise

        print_summary(summarise(settings, args.network, None))
    else:
        first = args.date if args.command == "materialize" else args.start
        last = args.date if args.command == "materialize" else args.end
        assets = list(INGEST_TABLES) if args.command == "ingest" else None
        run_range(
            settings, args.network, first, last, assets=assets, chunk_days=args.chunk_days,
            progress=None,  # a bar on a terminal, lines on stderr otherwise
            # A failed step is said in one line (main); its log and traceback with --debug.
            log_level="WARNING" if args.debug else "CRITICAL",
        )  # fmt: skip
    return 0


def _calibrate(settings, args: argparse.Namespace) -> int:
    import polars as pl

    from analytics_platform.casework.calibration import refit_catalog

    refit = refit_catalog(
        settings, args.network, dispositions_path=args.dispositions, prior_weight=args.prior_weight
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


def _dispositions(settings, args: argparse.Namespace) -> int:
    """``case dispose`` and ``case dispositions [--import]``."""
    import polars as pl

    from analytics_platform.casework import dispositions
    from analytics_platform.casework.case_view import find_case
    from analytics_platform.lake.manager import lake_of
    from analytics_platform.lake.sql import LakeSql
    from analytics_platform.storage.files import read_files

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


def _lake(settings, args: argparse.Namespace) -> int:
    import polars as pl

    from analytics_platform.lake import manager as lake_manager

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


def _evaluate(args: argparse.Namespace) -> int:
    from analytics_platform.evaluation.run import evaluate, to_json, to_text

    # Progress goes to stderr, so with --json stdout is exactly one JSON object.
    result = evaluate(
        args.dataset_dir,
        profile=args.profile,
        home=args.home.resolve() if args.home else None,
        progress=None,  # a bar on a terminal, lines on stderr otherwise
        cutoff=args.cutoff,
        train_on=args.train_on,
    )
    print(to_json(result) if args.json else to_text(result))
    if args.plot:
        from analytics_platform.evaluation.plot import plot_evaluation

        print(f"plot: {plot_evaluation(result, args.plot)}", file=sys.stderr)
    return 0


def _bench_patterns(args: argparse.Namespace) -> int:
    import json

    from analytics_platform.bench.patterns import format_report, run_pattern_bench

    report = run_pattern_bench(
        args.transfers,
        args.addresses,
        args.days,
        args.seed,
        Path(args.folder).resolve(),
        dormancy_days=args.dormancy_days,
        funnels=args.funnels,
        relationship_days=args.relationship_days,
    )
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _bench_scoring(args: argparse.Namespace) -> int:
    import json

    from analytics_platform.bench.scoring import format_report, run_scoring_bench

    report = run_scoring_bench(args.addresses, args.features)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _bench_kafka(args: argparse.Namespace) -> int:
    import json

    from analytics_platform.bench.kafka import format_report, run_kafka_bench

    report = run_kafka_bench(args.messages, args.days, args.batch_messages)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _bench(args: argparse.Namespace) -> int:
    import json

    from analytics_platform.bench.features import BenchInput, format_table, run_bench

    spec = BenchInput(args.transfers, args.addresses, args.days, args.seed)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    # Progress goes to stderr, so with --json stdout is exactly one JSON object.
    report = run_bench(
        spec,
        engines,
        folder=Path(args.folder).resolve(),
        window=args.days,
        samples=args.betweenness_samples,
        timeout_s=args.timeout,
    )
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0
