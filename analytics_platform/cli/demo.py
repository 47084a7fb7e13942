"""``demo`` and ``generate``: a synthetic network with planted patterns (``lib.demo``)."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from analytics_platform.cli.arguments import day, positive


def register(sub) -> None:
    """``demo`` (a synthetic network, every asset run, the summary) and ``generate`` (its
    landing files and ``config.yaml`` only)."""
    for name, home, helptext in (
        ("demo", ".analytics/demo", "generate a synthetic network and run every asset"),
        ("generate", ".analytics", "write a synthetic network as landing files + config.yaml"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--home", default=home)
        p.add_argument("--days", type=positive, default=21)
        p.add_argument("--start", type=day, default=date(2026, 10, 1))
        p.add_argument("--transfers-per-day", type=positive, default=10_000)
        p.add_argument("--addresses", type=positive, default=5_000)
        p.add_argument("--seed", type=int, default=7)

        p.set_defaults(handler=run_demo_command if name == "demo" else generate)


def _world(args: argparse.Namespace):
    from analytics_platform.domain.synthetic import demo_config

    return demo_config(args.days, args.seed, args.transfers_per_day, args.addresses, args.start)


def run_demo_command(args: argparse.Namespace) -> int:
    from analytics_platform.lib.demo import run_demo

    home = Path(args.home).resolve()
    run_demo(home, _world(args))
    _first_user(home)
    return 0


def _first_user(home: Path) -> None:
    """An analyst for the workspace on the demo's store, its password made and said once."""
    import secrets

    from analytics_platform.config import load_settings
    from analytics_platform.workspace.server import user_store

    users = user_store(load_settings({**os.environ, "ANALYTICS_HOME": str(home)}))
    password = secrets.token_urlsafe(12)
    users.add("analyst", "analyst", password)
    print(
        "And the analysts' workspace (queue, cases, verdicts):\n"
        f"  .venv/bin/analytics-platform serve --home {home}    # http://127.0.0.1:8000\n"
        f"  sign in as analyst / {password} (analytics-platform user add NAME for more)"
    )


def generate(args: argparse.Namespace) -> int:
    from analytics_platform.lib.demo import prepare

    settings, net = prepare(Path(args.home).resolve(), _world(args))
    print(f"wrote {net.transfers.height:,} transfers and {settings.home / 'config.yaml'}")
    return 0
