"""Comments and assignments on a case from the app, kept in the lake's ``case_notes`` log
(``casework.case_notes``), with who wrote them; an assignee must be a user who may record
verdicts."""

from __future__ import annotations

from analytics_platform.casework import case_notes, case_view
from analytics_platform.config import Settings
from analytics_platform.lake.manager import lake_of
from analytics_platform.workspace import reads
from analytics_platform.workspace.users import UserStore


def record_note(
    settings: Settings,
    users: UserStore,
    network: str,
    case_id: str,
    kind: case_notes.Kind,
    text: str,
    analyst: str,
) -> bool:
    """Record a comment or an assignment (``text``: the assignee, ``""`` to unassign);
    whether anything new was written. ``LookupError`` for no such case, ``ValueError`` naming
    the field for bad text or an assignee who is no analyst."""
    case_view.check_case_id(case_id)
    settings.network(network)
    name = text.strip()
    if kind == "assignment" and name:
        assignee = users.get(name)
        if assignee is None or not assignee.can("analyst"):
            raise ValueError(f"assignee: {name!r} is no analyst of this workspace")
    path = case_notes.record(lake_of(settings), network, case_id, kind, text, analyst)
    reads.forget()
    return path is not None
