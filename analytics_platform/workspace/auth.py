"""Who is asking: a session cookie set at login (signed, ``HttpOnly``, ``SameSite=strict``,
``Secure`` unless serving plain HTTP on localhost), an API token (``Authorization: Bearer``),
or, only where configured, a header set by an OIDC proxy in front of the app. Every refused
request is logged with who, what and why."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from analytics_platform.workspace.users import User, UserStore

log = logging.getLogger("analytics_platform.workspace")


class NotSignedIn(Exception):
    """No user: pages redirect to the login page, the API answers 401."""


class Refused(Exception):
    """A user without the role a request needs (403), or a form without its CSRF token."""


@dataclass(frozen=True)
class AuthSettings:
    secret: str
    """Signs the session cookie (``ANALYTICS_WORKSPACE_SECRET``, else a file under the home)."""
    secure_cookies: bool = True
    trusted_user_header: str = ""
    """A header an authenticating proxy sets to the user's name; empty: none is trusted."""


def secret_for(home: Path, from_env: str | None) -> str:
    """The session secret: the environment's, else one kept (0600) under ``home``."""
    if from_env:
        return from_env
    path = home / "workspace" / "session-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def current_user(request: Request, users: UserStore, auth: AuthSettings) -> User:
    """The user behind ``request``, or :class:`NotSignedIn`."""
    if auth.trusted_user_header:
        name = request.headers.get(auth.trusted_user_header)
        if name:
            user = users.get(name)
            if user is None:
                refuse(request, name, "proxy user unknown here")
            return user
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = users.by_token(header[7:].strip())
        if user is None:
            log.warning("refused %s %s: bad API token", request.method, request.url.path)
            raise NotSignedIn
        return user
    name = request.session.get("user")
    user = users.get(name) if name else None
    if user is None:
        raise NotSignedIn
    return user


def require(request: Request, user: User, role: str) -> None:
    """:class:`Refused` (logged) unless ``user`` has ``role``."""
    if not user.can(role):
        refuse(request, user.name, f"needs role {role}, has {user.role}")


def may_write(request: Request, user: User, role: str, csrf: str | None) -> None:
    """What every change asks first: ``user`` has ``role`` (:func:`require`) and sent the
    session's CSRF token (:func:`check_csrf`); :class:`Refused`, logged, otherwise."""
    require(request, user, role)
    check_csrf(request, csrf, user.name)


def refuse(request: Request, who: str, why: str) -> None:
    log.warning("refused %s %s for %s: %s", request.method, request.url.path, who, why)
    raise Refused(why)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made at first use), for every form the pages render."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, sent: str | None, who: str) -> None:
    """:class:`Refused` unless a form's token is the session's (a bearer token needs none)."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    expected = request.session.get("csrf", "")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        refuse(request, who, "missing or wrong CSRF token")
