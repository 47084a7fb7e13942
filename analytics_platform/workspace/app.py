"""The workspace's FastAPI app: the REST API under ``/api`` (OpenAPI at ``/docs``) and the
pages, over the lake of the settings' networks.

Errors a user can cause answer in their words: an unknown network, case or address is a 404
(a page for pages, JSON for the API), a malformed filter a 422 naming the field (FastAPI's
validation), a request without the role a 403 (logged), a promotion the challenger did not
earn a 409, no store yet a 503 saying what to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from analytics_platform.config import Settings
from analytics_platform.workspace.auth import AuthSettings, NotSignedIn, Refused
from analytics_platform.workspace.rendering import TEMPLATES
from analytics_platform.workspace.users import UserStore


@dataclass(frozen=True)
class Workspace:
    """What every request reads: the settings, the users and how they sign in."""

    settings: Settings
    users: UserStore
    auth: AuthSettings

    def lake(self, network: str) -> str:
        """The lake URL, once ``network`` is known (``LookupError`` otherwise)."""
        self.settings.network(network)
        return self.settings.lake.url


def create_app(settings: Settings, users: UserStore, auth: AuthSettings) -> FastAPI:
    from analytics_platform.workspace import api, pages

    app = FastAPI(
        title="analytics_platform workspace",
        description="Cases, addresses and verdicts over the platform's lake.",
    )
    app.state.workspace = Workspace(settings, users, auth)
    app.add_middleware(
        SessionMiddleware,
        secret_key=auth.secret,
        session_cookie="workspace_session",
        same_site="strict",
        https_only=auth.secure_cookies,
        max_age=12 * 3600,
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    _errors(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn):
        if _wants_json(request):
            return JSONResponse({"detail": "sign in or send an API token"}, status_code=401)
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return _error(request, 403, f"refused: {exc}")

    @app.exception_handler(PermissionError)
    async def not_earned(request: Request, exc: PermissionError):
        return _error(request, 409, str(exc))

    @app.exception_handler(LookupError)
    async def not_found(request: Request, exc: LookupError):
        return _error(request, 404, str(exc.args[0] if exc.args else exc))

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, exc: ValueError):
        return _error(request, 422, str(exc))

    @app.exception_handler(FileNotFoundError)
    async def no_store(request: Request, exc: FileNotFoundError):
        return _error(
            request, 503,
            f"no store to read yet ({exc}); run `analytics-platform demo` or a backfill first",
        )  # fmt: skip


def _error(request: Request, status: int, message: str):
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return TEMPLATES.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
