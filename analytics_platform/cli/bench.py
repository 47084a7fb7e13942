"""``bench features | patterns | kafka | scoring``: benchmarks that print their figures (never
asserted). Nothing here reads the settings: ``bench features`` runs on a bare GPU machine
with the core's packages but no warehouse client (``scripts/gpu-device-check.sh``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from analytics_platform.cli.arguments import positive
from analytics_platform.storage.spill import SpillSettings


def _register_features(feats) -> None:
    feats.add_argument("--transfers", type=int, default=1_000_000)
    feats.add_argument("--addresses", type=int, default=100_000)
    feats.add_argument("--days", type=int, default=90, help="window length (days of data)")
    feats.add_argument(
        "--engines",
        default="cpu,gpu,networkx",
        help="of cpu, gpu, warehouse (the window reduced in embedded ClickHouse), networkx",
    )
    feats.add_argument("--betweenness-samples", type=int, default=16)
    feats.add_argument(
        "--max-graph-edges",
        type=positive,
        default=None,
        help="the graph's edge budget (features.max_graph_edges); default: none",
    )
    feats.add_argument(
        "--spill-ratio",
        type=float,
        default=SpillSettings.memory_ratio,
        help="warehouse: share of chDB's memory limit before GROUP BYs and sorts spill to disk "
        "(features.spill_memory_ratio)",
    )
    feats.add_argument(
        "--addresses-per-pass",
        type=positive,
        default=SpillSettings.addresses_per_pass,
        help="warehouse: the flows and sums run over ranges of this many addresses "
        "(features.addresses_per_pass)",
    )
    feats.add_argument("--timeout", type=float, default=600, help="seconds per engine")
    feats.add_argument("--seed", type=int, default=7)
    feats.add_argument("--folder", default=".analytics/bench")
    feats.add_argument("--json", action="store_true", help="print one JSON object")
    feats.set_defaults(handler=bench_features)


def register(sub) -> None:
    bench = sub.add_parser("bench", help="benchmarks (figures printed, never asserted)")
    bench_sub = bench.add_subparsers(dest="benchmark", required=True)
    _register_features(
        bench_sub.add_parser("features", help="address features per engine on one window")
    )
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
    scoring.add_argument("--addresses", type=positive, default=1_000_000)
    scoring.add_argument("--features", type=positive, default=127)
    scoring.add_argument("--json", action="store_true", help="print one JSON object")
    work = bench_sub.add_parser(
        "workspace", help="the analysts' workspace under concurrent clients, and its queue page"
    )
    work.add_argument("--home", type=Path, default=Path(".analytics/demo"))
    work.add_argument("--clients", type=positive, default=50)
    work.add_argument("--seconds", type=positive, default=60)
    work.add_argument("--json", action="store_true", help="print one JSON object")
    work.set_defaults(handler=bench_workspace)
    pats.set_defaults(handler=bench_patterns)
    kafka.set_defaults(handler=bench_kafka)
    scoring.set_defaults(handler=bench_scoring)


def bench_patterns(args: argparse.Namespace) -> int:
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


def bench_scoring(args: argparse.Namespace) -> int:
    import json

    from analytics_platform.bench.scoring import format_report, run_scoring_bench

    report = run_scoring_bench(args.addresses, args.features)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def bench_kafka(args: argparse.Namespace) -> int:
    import json

    from analytics_platform.bench.kafka import format_report, run_kafka_bench

    report = run_kafka_bench(args.messages, args.days, args.batch_messages)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def bench_features(args: argparse.Namespace) -> int:
    import json

    from analytics_platform.bench.features import (
        BenchInput,
        WindowOptions,
        format_table,
        run_bench,
    )

    spec = BenchInput(args.transfers, args.addresses, args.days, args.seed)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    # Progress goes to stderr, so with --json stdout is exactly one JSON object.
    report = run_bench(
        spec,
        engines,
        folder=Path(args.folder).resolve(),
        options=WindowOptions(
            window=args.days,
            samples=args.betweenness_samples,
            max_edges=args.max_graph_edges,
            spill=SpillSettings(args.spill_ratio, addresses_per_pass=args.addresses_per_pass),
        ),
        timeout_s=args.timeout,
    )
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


def bench_workspace(args: argparse.Namespace) -> int:
    import json

    from analytics_platform.bench.workspace import format_report, run_workspace_bench

    report = run_workspace_bench(args.home.resolve(), args.clients, float(args.seconds))
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
