"""The pages: sign in, the queue (filters, counts, the budget line, new cases pushed by
server-sent events), the case page (alerts, evidence pictures, patterns, transfers, features,
the model's contributions, confirm or dismiss with a note, the case as a download), the open
episodes, search, the address page and the network page, each plotted where a chart says
more."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from analytics_platform.workspace import model, plots, reads
from analytics_platform.workspace.api import (
    AddressDays,
    GapDays,
    QueueQuery,
    SearchText,
    lake_of,
    who,
)
from analytics_platform.workspace.auth import check_csrf, log, may_write
from analytics_platform.workspace.notes import record_note
from analytics_platform.workspace.rendering import TEMPLATES, page
from analytics_platform.workspace.users import User
from analytics_platform.workspace.verdicts import record_verdict

router = APIRouter(include_in_schema=False)
EVENT_SECONDS = 2.0
"""How often the queue's event stream looks for a new run's cases."""


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return page(request, "login.html", next=next, error="")


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
):
    user = request.app.state.workspace.users.check(name, password)
    if user is None:
        log.warning("refused login for %s", name)
        return page(request, "login.html", next=next, error="wrong name or password")
    request.session.clear()
    request.session["user"] = user.name
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = ""):
    check_csrf(request, csrf, request.session.get("user", "anonymous"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request, user: Annotated[User, Depends(who)]):
    first = request.app.state.workspace.settings.networks[0].name
    return RedirectResponse(f"/n/{first}/queue", status_code=303)


@router.get("/n/{network}/queue")
def queue(
    request: Request,
    network: str,
    query: Annotated[QueueQuery, Query()],
    user: Annotated[User, Depends(who)],
):
    q = reads.queue(lake_of(request, network), network, query.date, query.filter())
    days = reads.days(lake_of(request, network), network)
    params = {k: v for k, v in query.model_dump().items() if v is not None and k != "page"}
    champion = model.has_champion(request.app.state.workspace.settings, network)
    return page(
        request, "queue.html", user=user, network=network, q=q, days=days, query=query,
        rows=q.cases.to_dicts(), params=urlencode(params), champion=champion,
    )  # fmt: skip


@router.get("/n/{network}/queue/rows")
def queue_rows(
    request: Request,
    network: str,
    query: Annotated[QueueQuery, Query()],
    user: Annotated[User, Depends(who)],
):
    q = reads.queue(lake_of(request, network), network, query.date, query.filter())
    return TEMPLATES.TemplateResponse(
        request, "_queue_rows.html", {"network": network, "q": q, "rows": q.cases.to_dicts()}
    )


@router.get("/n/{network}/events")
async def events(request: Request, network: str, user: Annotated[User, Depends(who)]):
    """``cases`` events whenever the latest day's cases or verdicts change."""
    lake = lake_of(request, network)

    def signature() -> str:
        try:
            q = reads.queue(lake, network, None, reads.QueueFilter(size=1))
        except LookupError:
            return "none"
        return f"{q.day}|{q.total}|{q.open_cases}"

    async def stream():
        seen = None
        while not await request.is_disconnected():
            now = await asyncio.to_thread(signature)
            if now != seen:
                yield f"event: cases\ndata: {json.dumps({'state': now})}\n\n"
                seen = now
            await asyncio.sleep(EVENT_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream")


@router.get("/n/{network}/cases/{case_id}")
def case(request: Request, network: str, case_id: str, user: Annotated[User, Depends(who)]):
    found = reads.case(lake_of(request, network), network, case_id)
    rank = found.frames["alerts"].row(0, named=True) if found.frames["alerts"].height else {}
    return page(
        request, "case.html", user=user, network=network, case=found, head=rank,
        frames={k: v.to_dicts() for k, v in found.frames.items()},
        risk=found.risk.to_dicts(), earlier=found.earlier.to_dicts(),
        notes=found.notes.to_dicts(), assignee=found.assignee,
        analysts=[u.name for u in request.app.state.workspace.users.users() if u.can("analyst")],
        recorded=request.query_params.get("recorded"),
    )  # fmt: skip


@router.post("/n/{network}/cases/{case_id}/disposition")
def dispose(
    request: Request,
    network: str,
    case_id: str,
    user: Annotated[User, Depends(who)],
    disposition: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
):
    may_write(request, user, "analyst", csrf)
    done = record_verdict(
        request.app.state.workspace.settings, network, case_id, disposition, note, user.name
    )
    return RedirectResponse(f"/n/{network}/cases/{case_id}?recorded={done.rows}", status_code=303)


@router.post("/n/{network}/cases/{case_id}/notes")
def note(
    request: Request,
    network: str,
    case_id: str,
    user: Annotated[User, Depends(who)],
    kind: Annotated[Literal["comment", "assignment"], Form()],
    text: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
):
    may_write(request, user, "analyst", csrf)
    ws = request.app.state.workspace
    record_note(ws.settings, ws.users, network, case_id, kind, text, user.name)
    return RedirectResponse(f"/n/{network}/cases/{case_id}#work", status_code=303)


@router.get("/n/{network}/episodes")
def episodes(
    request: Request,
    network: str,
    user: Annotated[User, Depends(who)],
    gap_days: GapDays = 7,
):
    day, work = reads.open_episodes(lake_of(request, network), network, gap_days)
    return page(
        request, "episodes.html", user=user, network=network, day=day, gap_days=gap_days,
        rows=work.to_dicts(),
    )  # fmt: skip


@router.get("/n/{network}/search")
def search(request: Request, network: str, q: SearchText, user: Annotated[User, Depends(who)]):
    """Straight to the case or address the text names; otherwise the addresses it starts."""
    found = reads.search(lake_of(request, network), network, q.strip())
    if found.case_id:
        return RedirectResponse(f"/n/{network}/cases/{quote(found.case_id)}", status_code=303)
    if found.address and found.matches.height <= 1:
        return RedirectResponse(f"/n/{network}/addresses/{quote(found.address)}", status_code=303)
    return page(
        request, "search.html", user=user, network=network, q=q, rows=found.matches.to_dicts()
    )


@router.get("/n/{network}/addresses/{address}")
def address(
    request: Request,
    network: str,
    address: str,
    user: Annotated[User, Depends(who)],
    days: AddressDays = 30,
):
    found = reads.address(lake_of(request, network), network, address, days)
    daily = found.daily
    usd = {side: daily[f"{side}_usd"].to_list() for side in ("in", "out")} if daily.height else {}
    chart = plots.line_chart("USD per day", daily["date"].to_list() if daily.height else [], usd)
    v = found.view
    return page(
        request, "address.html", user=user, network=network, v=v, chart=chart,
        tables={
            "Labels": v.labels.to_dicts(), "Alerts": v.alerts.to_dicts(),
            "Patterns": v.patterns.to_dicts(),
            "Counterparties": v.counterparties.head(50).to_dicts(),
            "Verdicts": v.verdicts.to_dicts(), "Features": v.features.to_dicts(),
        },
    )  # fmt: skip


@router.get("/n/{network}")
def network_page(request: Request, network: str, user: Annotated[User, Depends(who)]):
    figures = reads.day_figures(lake_of(request, network), network)
    days = figures["date"].to_list() if figures.height else []

    def series(name: str) -> list:
        return figures[name].to_list() if name in figures.columns else []

    charts = [
        plots.line_chart("Transfers per day", days, {"transfers": series("transfers")}),
        plots.line_chart(
            "Alerts and cases per day", days, {"alerts": series("alerts"), "cases": series("cases")}
        ),
        plots.line_chart("Quality score", days, {"quality": series("quality")}),
    ]
    rows = figures.sort("date", descending=True).to_dicts() if figures.height else []
    settings = request.app.state.workspace.settings
    return page(
        request, "network.html", user=user, network=network, charts=charts, rows=rows,
        model=model.status(settings, network), done=request.query_params.get("done"),
    )  # fmt: skip


@router.post("/n/{network}/model/{move}")
def move_model(
    request: Request,
    network: str,
    move: Literal["promote", "rollback"],
    user: Annotated[User, Depends(who)],
    reason: Annotated[str, Form()] = "",
    force: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form()] = "",
):
    may_write(request, user, "admin", csrf)
    done = model.move(request.app.state.workspace.settings, network, move, user.name, reason, force)
    return RedirectResponse(f"/n/{network}?{urlencode({'done': done})}", status_code=303)
