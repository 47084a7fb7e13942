"""``analytics-platform`` command line: demo, generate, ingest, materialize, backfill, labels,
summary, address, cases, case export|dispose|dispositions, calibrate, serve, user, model, lake,
evaluate, bench.

Each command's arguments sit beside its handler in one module of this package
(``register(sub)`` adds them and sets ``handler``); the modules import nothing heavy at the
top, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import sys

from analytics_platform.cli import bench, casework, demo, evaluate, lake, model, runs, serve

COMMANDS = (demo, runs, casework, serve, model, lake, bench, evaluate)
"""The command modules, in the order ``--help`` lists them."""


# Mistakes a user can fix (config, names, dates, an empty store): one line on stderr and exit
# code 2, no traceback unless --debug. Anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, LookupError, FileNotFoundError, PermissionError)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.debug:  # the driver logs a failed request before raising it, said below
        logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
    try:
        return args.handler(args)
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
    """Every command and option of :data:`COMMANDS`."""
    parser = _Parser(prog="analytics-platform", description=__doc__.split("\n\n")[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser
