"""The pages' Jinja2 templates (``templates/``, autoescaped) and how a page is rendered."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from analytics_platform.workspace.auth import csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def page(request: Request, template: str, **context) -> HTMLResponse:
    """A page with the CSRF token its forms need."""
    return TEMPLATES.TemplateResponse(request, template, {"csrf": csrf_token(request), **context})
