"""``serve``: the analysts' workspace (web pages and REST API); ``user add | token | list``:
who may use it."""

from __future__ import annotations

import argparse
import os

from analytics_platform.cli.arguments import positive


def register(sub) -> None:
    serve = sub.add_parser("serve", help="the analysts' workspace: web pages and a REST API")
    serve.add_argument("--home", help="the store to serve (default: $ANALYTICS_HOME)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=positive, default=8000)
    serve.add_argument(
        "--workers", type=positive, default=2, help="server processes (default 2: each keeps "
        "its own answers, and they share the port)",
    )  # fmt: skip
    serve.set_defaults(handler=run_server)
    user = sub.add_parser("user", help="the workspace's users: add, token, list")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a user, or change a user's role and password")
    add.add_argument("name")
    add.add_argument("--role", choices=("viewer", "analyst", "admin"), default="analyst")
    add.add_argument(
        "--password-env", help="the variable holding the password (default: asked for)"
    )
    token = user_sub.add_parser("token", help="a new API token for scripts (shown once)")
    token.add_argument("name")
    user_sub.add_parser("list", help="every user and role")
    for p in user_sub.choices.values():
        p.add_argument("--home", help="default: $ANALYTICS_HOME")
    user.set_defaults(handler=manage_users)


def _settings(home: str | None):
    from analytics_platform.config import load_settings

    env = dict(os.environ)
    if home:
        env["ANALYTICS_HOME"] = home
    return load_settings(env)


def run_server(args: argparse.Namespace) -> int:
    import uvicorn

    from analytics_platform.workspace.server import user_store

    if args.home:
        os.environ["ANALYTICS_HOME"] = args.home
    os.environ["ANALYTICS_WORKSPACE_HOST"] = args.host
    user_store(_settings(args.home))  # a bad setting fails here, in one line, not in a worker
    print(f"workspace on http://{args.host}:{args.port} (API: /docs)", flush=True)
    uvicorn.run(
        "analytics_platform.workspace.server:app_from_env", factory=True, host=args.host,
        port=args.port, workers=args.workers, log_level="warning",
    )  # fmt: skip
    return 0


def manage_users(args: argparse.Namespace) -> int:
    import getpass

    from analytics_platform.workspace.server import user_store

    users = user_store(_settings(args.home))
    if args.user_command == "list":
        for u in users.users():
            print(f"{u.name}\t{u.role}")
    elif args.user_command == "token":
        print(users.new_token(args.name))
    else:
        if args.password_env:
            password = os.environ.get(args.password_env)
            if password is None:
                raise ValueError(f"--password-env: {args.password_env} is not set")
        else:
            password = getpass.getpass(f"password for {args.name}: ")
        user = users.add(args.name, args.role, password)
        print(f"{user.name}: {user.role}")
    return 0
