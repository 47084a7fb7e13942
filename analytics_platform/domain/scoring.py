"""A quality score per partition of raw transfers, from what ingestion counted.

Four shares in [0, 1], each the answer to one question an operator asks of a day's data:

- **completeness**: of the rows read, the share with every required field present (a row
  rejected for an absent tx hash, time, address or amount is incomplete);
- **validity**: of the distinct rows read, the share accepted;
- **uniqueness**: of the rows read, the share that were not exact duplicates;
- **timeliness**: of the accepted transfers, the share ingested within ``timeliness_target``
  of their block time (Kafka sources, which record when each message arrived; null for files
  and tables, which do not).

The score is the mean of the shares that were measured. Cross-table consistency (edges and
activity against transfers) is checked by those assets' own checks.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics_platform.domain.schemas import TRANSFERS_QUALITY


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
