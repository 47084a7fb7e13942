"""The workspace as ``analytics-platform serve`` runs it: the app for the settings, the users
of the home (``workspace/users.db``), and how they sign in, from the environment:
``ANALYTICS_WORKSPACE_SECRET`` (signs sessions; default a file under the home),
``ANALYTICS_WORKSPACE_SECURE_COOKIES`` (default: on, except on a loopback host) and
``ANALYTICS_WORKSPACE_USER_HEADER`` (a proxy's user header; default: none trusted)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from analytics_platform.config import Settings
from analytics_platform.workspace.app import create_app
from analytics_platform.workspace.auth import AuthSettings, secret_for
from analytics_platform.workspace.users import UserStore

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def user_store(settings: Settings) -> UserStore:
    return UserStore(settings.home / "workspace" / "users.db")


def workspace_app(settings: Settings, host: str = "127.0.0.1") -> FastAPI:
    secure = os.environ.get("ANALYTICS_WORKSPACE_SECURE_COOKIES", "")
    auth = AuthSettings(
        secret=secret_for(settings.home, os.environ.get("ANALYTICS_WORKSPACE_SECRET")),
        secure_cookies=secure.lower() == "true" if secure else host not in LOOPBACK,
        trusted_user_header=os.environ.get("ANALYTICS_WORKSPACE_USER_HEADER", ""),
    )
    return create_app(settings, user_store(settings), auth)


def app_from_env() -> FastAPI:
    """The app for ``analytics-platform serve`` (a factory: each worker process builds its own
    from the environment the command set)."""
    from analytics_platform.config import load_settings

    return workspace_app(load_settings(), os.environ.get("ANALYTICS_WORKSPACE_HOST", "127.0.0.1"))
