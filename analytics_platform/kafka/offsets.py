"""The Kafka sensor's decision per tick, as a pure function of its cursor and what it observed.

Cursor (JSON in the sensor's cursor): ``next`` (partition -> first offset not yet ingested),
``seen`` (partition -> end offset observed at the last launch) and ``pending`` (the ingestion
run in flight: its run key, start offsets and attempt). One ingestion run at a time per topic:

- a pending run still queued or running -> skip;
- a pending run that succeeded -> ``next`` = the offsets it reached (run tag), then look for
  new data in the same tick;
- a pending run that failed -> launch it again from the same start offsets (new run key),
  once the broker answers again;
- new data: an end offset beyond ``next`` (exact Kafka end offsets) or, below it, one that
  changed since the last launch (tansu's lagging end offsets still change when data arrives)
  -> launch one run from ``next``; nothing new -> skip. An unreachable broker -> skip, cursor
  unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

REACHED_TAG = "analytics/kafka_reached"
CHANGED_DAYS_TAG = "analytics/kafka_changed_days"


@dataclass
class Cursor:
    next: dict[int, int] = field(default_factory=dict)
    seen: dict[int, int] = field(default_factory=dict)
    pending: dict[str, Any] | None = None

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(
            next={int(k): int(v) for k, v in raw.get("next", {}).items()},
            seen={int(k): int(v) for k, v in raw.get("seen", {}).items()},
            pending=raw.get("pending"),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "next": {str(k): v for k, v in sorted(self.next.items())},
                "seen": {str(k): v for k, v in sorted(self.seen.items())},
                "pending": self.pending,
            },
            sort_keys=True,
        )


@dataclass(frozen=True)
class Decision:
    """``launch`` (with ``run_key`` and ``starts``) or ``skip`` (with ``reason``)."""

    action: str
    cursor: Cursor
    reason: str = ""
    run_key: str = ""
    starts: dict[int, int] = field(default_factory=dict)


def _has_new(cursor: Cursor, partition: int, low: int, high: int) -> bool:
    """Kafka's end offset is exact, so ``high > next`` means new data. A lagging end offset
    (tansu: last batch's base + 1) can sit below ``next``; there any change means new data."""
    start = cursor.next.get(partition, low)
    return high > start or (high < start and high != cursor.seen.get(partition))


def run_key(topic: str, starts: dict[int, int], attempt: int = 0) -> str:
    key = f"{topic}:" + ",".join(f"{p}@{o}" for p, o in sorted(starts.items()))
    return key if attempt == 0 else f"{key}#retry{attempt}"


def decide(
    topic: str,
    cursor: Cursor,
    watermarks: dict[int, tuple[int, int]] | Exception,
    pending_status: str | None = None,
    pending_tags: dict[str, str] | None = None,
) -> Decision:
    """The tick's decision. ``pending_status``: ``None`` (not found), ``running``, ``success``
    or ``failure`` of the pending run; ``pending_tags``: that run's tags."""
    cursor = Cursor(dict(cursor.next), dict(cursor.seen), cursor.pending)
    if cursor.pending is not None:
        pending = cursor.pending
        if pending_status in (None, "running"):
            return Decision(
                "skip", cursor, reason=f"ingestion run {pending['run_key']} in progress"
            )
        if pending_status == "failure" and isinstance(watermarks, Exception):
            return Decision(
                "skip",
                cursor,
                reason=f"run {pending['run_key']} failed and the broker is unreachable "
                f"({watermarks}); it is launched again when the broker answers",
            )
        if pending_status == "failure":
            attempt = int(pending.get("attempt", 0)) + 1
            starts = {int(k): int(v) for k, v in pending["starts"].items()}
            key = run_key(topic, starts, attempt)
            cursor.pending = {**pending, "run_key": key, "attempt": attempt}
            return Decision("launch", cursor, run_key=key, starts=starts)
        reached = json.loads((pending_tags or {}).get(REACHED_TAG, "{}"))
        ends = {int(k): int(v) for k, v in pending.get("ends", {}).items()}
        for p, start in pending["starts"].items():
            p = int(p)
            cursor.next[p] = max(int(reached.get(str(p), start)), cursor.next.get(p, 0))
            if p not in reached and p in ends:  # a run without the tag: trust the ends seen
                cursor.next[p] = max(cursor.next[p], ends[p])
        cursor.pending = None
    if isinstance(watermarks, Exception):
        return Decision("skip", cursor, reason=f"broker unreachable: {watermarks}")
    new = [p for p, (low, high) in watermarks.items() if _has_new(cursor, p, low, high)]
    if not new:
        return Decision("skip", cursor, reason="no new messages")
    starts = {p: max(cursor.next.get(p, low), low) for p, (low, _high) in watermarks.items()}
    key = run_key(topic, starts)
    cursor.seen = {p: high for p, (_low, high) in watermarks.items()}
    cursor.pending = {
        "run_key": key,
        "starts": {str(p): o for p, o in starts.items()},
        "ends": {str(p): h for p, (_l, h) in watermarks.items()},
        "attempt": 0,
    }
    return Decision("launch", cursor, run_key=key, starts=starts)


def lag(cursor: Cursor, watermarks: dict[int, tuple[int, int]]) -> dict[int, int]:
    """Per partition, the messages the broker holds beyond what has been ingested (``next``).
    tansu reports a lagging end offset (the last batch's base + 1), so its figure can be low
    by the last batch; never negative."""
    return {
        p: max(0, high - cursor.next.get(p, low)) for p, (low, high) in sorted(watermarks.items())
    }
