"""An analyst's verdict on a case, recorded the way ``case dispose`` records it: the same
append-only log in the lake (``casework.dispositions``) and the same rules, with the user."""

from __future__ import annotations

import polars as pl

from analytics_platform.casework import case_view, dispositions
from analytics_platform.config import Settings
from analytics_platform.lake.manager import lake_of
from analytics_platform.lake.sql import LakeSql
from analytics_platform.workspace import reads

DISPOSITIONS = ("confirmed", "dismissed")


def record_verdict(
    settings: Settings, network: str, case_id: str, disposition: str, note: str, analyst: str
) -> dispositions.Recorded:
    """Record ``disposition`` on ``case_id``; ``LookupError`` for no such case (nothing is
    written), ``ValueError`` for a disposition that is not one of :data:`DISPOSITIONS`."""
    if disposition not in DISPOSITIONS:
        raise ValueError(f"disposition: expected confirmed or dismissed, got {disposition!r}")
    case_view.check_case_id(case_id)
    settings.network(network)
    lake = LakeSql(settings.lake.url, network)
    address, day = case_view.find_case(lake, case_id, None, "disposition")
    verdict = pl.DataFrame(
        {"date": [str(day)], "address": [address], "disposition": [disposition], "note": [note]}
    )
    done = dispositions.record(lake_of(settings), network, verdict, analyst=analyst, lake=lake)
    reads.forget()
    return done
