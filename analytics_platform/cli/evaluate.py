"""``evaluate DIR``: the whole graph on a labelled dataset, judged on what it stored."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analytics_platform.cli.arguments import day


def register(sub) -> None:
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
        type=day,
        help="also train a risk model on the labels known by this day and judge rules, model "
        "and both on the days after it",
    )
    ev.add_argument(
        "--train-on",
        type=Path,
        help="a risk model trained on this other dataset's labels scores the evaluated one "
        "(never trained on its labels); rules, model and both judged on every day",
    )
    ev.set_defaults(handler=run_evaluation)


def run_evaluation(args: argparse.Namespace) -> int:
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
