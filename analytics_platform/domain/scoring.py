"""A quality score per partition of raw transfers, from what ingestion counted.

Four shares in [0, 1], each the answer to one question an operator asks of a day's data:

- **completeness**: of the rows read, the share with every required field present (a row
  rejected for an absent tx hash, time, address or amount is incomplete);
- **validity**: of the distinct rows read, the share accepted;
- **uniqueness**: of the rows read, the share that were not exact duplicates;
- **timeliness**: of the accepted transfers, the share ingested within ``timeliness_target``
  of their block time (Kafka sources, which record when each message arrived; null for files
  and tables, which do not).

The score is the mean of the shares that were measured. The ``quality`` asset adds a fifth,
once the day is processed:

- **consistency**: whether the processed tables account for every accepted transfer: the
  transfers counted in ``daily_edges`` against those accepted, and the events of
  ``address_activity`` against two per transfer (one for a self-transfer); each as
  ``min / max`` of the two sums, and their mean.

and its score is the mean of all five (those measured).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics_platform.domain.schemas import INGESTION_SHARES, QUALITY, TRANSFERS_QUALITY


def _share(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(part / whole, 6)


def day_quality(
    *,
    network: str,
    day: date,
    source: str,
    counts: dict[str, int],
    rejected: pl.DataFrame,
    timely: float | None = None,
) -> dict:
    """The quality row of one day: ``counts`` (read, accepted, rejected, duplicates) and the
    day's dead letters (``value`` empty where a required field was absent)."""
    read, accepted, duplicates = counts["read"], counts["accepted"], counts["duplicates"]
    absent = int((rejected["value"].fill_null("") == "").sum()) if rejected.height else 0
    shares = {
        "completeness": _share(read - absent, read),
        "validity": _share(accepted, read - duplicates),
        "uniqueness": _share(read - duplicates, read),
        "timeliness": timely if accepted else None,
    }
    measured = [v for v in shares.values() if v is not None]
    return {
        "network": network,
        "date": day,
        "source": source,
        **{k: counts[k] for k in ("read", "accepted", "rejected", "duplicates")},
        **shares,
        "score": round(sum(measured) / len(measured), 6) if measured else None,
    }


def quality_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=TRANSFERS_QUALITY)


def _agreement(a: int, b: int) -> float:
    """1 when two counts that should be equal are, shrinking towards 0 as they part."""
    return 1.0 if a == b else round(min(a, b) / max(a, b), 6)


def partition_quality(
    ingestion: pl.DataFrame, edges: pl.DataFrame, activity: pl.DataFrame, days: list[date]
) -> pl.DataFrame:
    """One ``QUALITY`` row per day of ``days``: the day's ``transfers_quality`` shares and the
    consistency of its ``daily_edges`` and ``address_activity`` with its accepted transfers
    (null on a day that accepted nothing, like the other shares)."""
    rows = []
    for day in days:
        ingested = ingestion.filter(pl.col("date") == day)
        if ingested.height == 0:
            continue
        row = ingested.row(0, named=True)
        accepted = row["accepted"]
        day_edges = edges.filter(pl.col("date") == day)
        in_edges = int(day_edges["transfer_count"].sum() or 0)
        self_transfers = int(
            day_edges.filter(pl.col("from_address") == pl.col("to_address"))["transfer_count"].sum()
            or 0
        )
        events = int(activity.filter(pl.col("date") == day)["event_count"].sum() or 0)
        consistency = None
        if accepted:
            edge_share = _agreement(in_edges, accepted)
            event_share = _agreement(events, 2 * accepted - self_transfers)
            consistency = round((edge_share + event_share) / 2, 6)
        shares = {k: row[k] for k in INGESTION_SHARES} | {"consistency": consistency}
        measured = [v for v in shares.values() if v is not None]
        rows.append(
            {
                "network": row["network"],
                "date": day,
                **shares,
                "score": round(sum(measured) / len(measured), 6) if measured else None,
            }
        )
    return pl.DataFrame(rows, schema=QUALITY)
