"""The REST API (``/api``, OpenAPI at ``/docs``): networks and days, a day's cases with
filters and paging, a case, its evidence pictures and its export, the open episodes, a
search, an address, each day's figures, and a verdict posted by an analyst."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, field_validator

from analytics_platform.workspace import handover, model, reads
from analytics_platform.workspace.auth import current_user, may_write
from analytics_platform.workspace.notes import record_note
from analytics_platform.workspace.users import User
from analytics_platform.workspace.verdicts import record_verdict

router = APIRouter(prefix="/api", tags=["api"])
Severity = Literal["low", "medium", "high", "critical"]
SearchText = Annotated[str, Query(min_length=1, max_length=200)]
GapDays = Annotated[int, Query(ge=1, le=90)]
"""How far apart an address's cases may be and still be one episode."""
AddressDays = Annotated[int, Query(ge=1, le=365)]
"""How many days of an address to show."""


def who(request: Request) -> User:
    ws = request.app.state.workspace
    return current_user(request, ws.users, ws.auth)


def lake_of(request: Request, network: str) -> str:
    return request.app.state.workspace.lake(network)


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN as null)."""
    if frame.height == 0:
        return []
    return frame.with_columns(pl.col(pl.Float32, pl.Float64).fill_nan(None)).to_dicts()


class QueueQuery(BaseModel):
    """A day's cases: ``date`` (default the latest), filters, order and page."""

    date: dt.date | None = None
    typology: str | None = None
    severity: Severity | None = None
    source: reads.Source | None = None
    in_budget: bool | None = None
    disposition: reads.Disposition | None = None
    assignee: str | None = Query(None, max_length=100)
    sort: reads.Sort = "rank"
    page: int = Query(1, ge=1)
    size: int = Query(50, ge=1, le=500)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """A form's empty field (``severity=``) means no filter."""
        return None if value == "" else value

    def filter(self) -> reads.QueueFilter:
        return reads.QueueFilter(
            self.typology, self.severity, self.source, self.in_budget, self.disposition,
            self.assignee, self.sort, self.page, self.size,
        )  # fmt: skip


@router.get("/networks")
def networks(request: Request, user: Annotated[User, Depends(who)]) -> list[dict[str, Any]]:
    ws = request.app.state.workspace
    return [
        {"name": n.name, "days": reads.days(ws.settings.lake.url, n.name)}
        for n in ws.settings.networks
    ]


class KeptJSON(Response):
    """A JSON answer encoded once and kept with the read it comes from (``reads.kept``): the
    hot endpoints answer fifty analysts from bytes, not by encoding the same rows again."""

    media_type = "application/json"


def encoded(payload: Any) -> bytes:
    return json.dumps(jsonable_encoder(payload), separators=(",", ":")).encode()


@reads.kept
def _queue_json(lake_url: str, network: str, day: dt.date | None, how: reads.QueueFilter):
    q = reads.queue(lake_url, network, day, how)
    return encoded({
        "date": q.day, "total": q.total, "matching": q.matching, "open": q.open_cases,
        "in_budget": q.budget, "page": how.page, "cases": records(q.cases),
    })  # fmt: skip


@router.get("/networks/{network}/cases", response_class=KeptJSON)
def cases(
    request: Request,
    network: str,
    query: Annotated[QueueQuery, Query()],
    user: Annotated[User, Depends(who)],
) -> KeptJSON:
    """A day's cases: date, total, matching, open, in_budget, page, cases."""
    lake = lake_of(request, network)
    return KeptJSON(_queue_json(lake, network, query.date, query.filter()))


@reads.kept
def _case_json(lake_url: str, network: str, case_id: str) -> bytes:
    found = reads.case(lake_url, network, case_id)
    return encoded({
        "case_id": found.case_id, "address": found.address, "date": found.day,
        **{name: records(frame) for name, frame in found.frames.items()},
        "risk": records(found.risk), "earlier_cases": records(found.earlier),
        "assignee": found.assignee, "notes": records(found.notes),
    })  # fmt: skip


@router.get("/networks/{network}/cases/{case_id}", response_class=KeptJSON)
def case(
    request: Request, network: str, case_id: str, user: Annotated[User, Depends(who)]
) -> KeptJSON:
    """Everything behind a case: alerts, patterns, transfers, features, labels, verdicts, the
    risk model's scores, earlier cases."""
    return KeptJSON(_case_json(lake_of(request, network), network, case_id))


@router.get(
    "/networks/{network}/cases/{case_id}/evidence/{alert_id}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def evidence(
    request: Request,
    network: str,
    case_id: str,
    alert_id: str,
    user: Annotated[User, Depends(who)],
) -> Response:
    pictures = reads.evidence(lake_of(request, network), network, case_id)
    if alert_id not in pictures:
        raise LookupError(f"evidence: case {case_id} has no picture for alert {alert_id!r}")
    return Response(pictures[alert_id], media_type="image/png")


@router.get(
    "/networks/{network}/cases/{case_id}/export.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def export(
    request: Request, network: str, case_id: str, user: Annotated[User, Depends(who)]
) -> Response:
    """The case as ``case export`` writes it (tables as Parquet and CSV, evidence pictures,
    the self-contained report), zipped."""
    name, data = handover.case_archive(lake_of(request, network), network, case_id)
    disposition = f'attachment; filename="{name}"'
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": disposition})  # fmt: skip


@router.get("/networks/{network}/episodes")
def episodes(
    request: Request,
    network: str,
    user: Annotated[User, Depends(who)],
    gap_days: GapDays = 7,
) -> dict[str, Any]:
    """The open work: each address's run of cases at most ``gap_days`` apart with no verdict
    yet, best first (``cases --open``)."""
    day, work = reads.open_episodes(lake_of(request, network), network, gap_days)
    return {"date": day, "gap_days": gap_days, "episodes": records(work)}


@router.get("/networks/{network}/search")
def search(
    request: Request, network: str, q: SearchText, user: Annotated[User, Depends(who)]
) -> dict[str, Any]:
    """What ``q`` names: a case (case or alert id), an address, and the alerted addresses
    starting with it."""
    found = reads.search(lake_of(request, network), network, q.strip())
    return {"case_id": found.case_id, "address": found.address, "matches": records(found.matches)}


@reads.kept
def _address_json(lake_url: str, network: str, address: str, days: int) -> bytes:
    found = reads.address(lake_url, network, address, days)
    v = found.view
    return encoded({
        "address": v.address, "first": v.first, "last": v.last, "daily": records(found.daily),
        "labels": records(v.labels), "alerts": records(v.alerts),
        "patterns": records(v.patterns), "features": records(v.features),
        "counterparties": records(v.counterparties), "verdicts": records(v.verdicts),
    })  # fmt: skip


@router.get("/networks/{network}/addresses/{address}", response_class=KeptJSON)
def address(
    request: Request,
    network: str,
    address: str,
    user: Annotated[User, Depends(who)],
    days: AddressDays = 30,
) -> KeptJSON:
    """An address over ``days``: daily USD in and out, labels, alerts, patterns, features,
    counterparties, verdicts."""
    return KeptJSON(_address_json(lake_of(request, network), network, address, days))


@router.get("/networks/{network}/figures")
def figures(
    request: Request, network: str, user: Annotated[User, Depends(who)]
) -> list[dict[str, Any]]:
    return records(reads.day_figures(lake_of(request, network), network))


class Verdict(BaseModel):
    disposition: Literal["confirmed", "dismissed"]
    note: str = ""


@router.post("/networks/{network}/cases/{case_id}/disposition")
def dispose(
    request: Request,
    network: str,
    case_id: str,
    verdict: Verdict,
    user: Annotated[User, Depends(who)],
) -> dict[str, Any]:
    may_write(request, user, "analyst", request.headers.get("x-csrf-token"))
    done = record_verdict(
        request.app.state.workspace.settings, network, case_id, verdict.disposition,
        verdict.note, user.name,
    )  # fmt: skip
    return {"recorded": done.rows, "unchanged": done.unchanged, "analyst": user.name}


class Note(BaseModel):
    kind: Literal["comment", "assignment"]
    text: str = ""
    """The comment, or the assignee's user name (empty: unassigned)."""


@router.post("/networks/{network}/cases/{case_id}/notes")
def note(
    request: Request,
    network: str,
    case_id: str,
    body: Note,
    user: Annotated[User, Depends(who)],
) -> dict[str, Any]:
    """Comment on a case or assign it (analysts; a session also sends its ``X-CSRF-Token``)."""
    may_write(request, user, "analyst", request.headers.get("x-csrf-token"))
    ws = request.app.state.workspace
    done = record_note(ws.settings, ws.users, network, case_id, body.kind, body.text, user.name)
    return {"recorded": done, "analyst": user.name}


@router.get("/networks/{network}/model")
def model_status(
    request: Request, network: str, user: Annotated[User, Depends(who)]
) -> dict[str, Any]:
    return model.status(request.app.state.workspace.settings, network)


class ModelMove(BaseModel):
    reason: str = ""
    force: bool = False


@router.post("/networks/{network}/model/{move}")
def move_model(
    request: Request,
    network: str,
    move: Literal["promote", "rollback"],
    body: ModelMove,
    user: Annotated[User, Depends(who)],
) -> dict[str, str]:
    may_write(request, user, "admin", request.headers.get("x-csrf-token"))
    settings = request.app.state.workspace.settings
    return {"done": model.move(settings, network, move, user.name, body.reason, body.force)}
