"""How much of the warehouse a feature window's statements may hold (``storage.window_sql``).

Apart from the statements so that the benchmarks and the settings can name it without a
warehouse client installed (``bench features`` runs on a bare GPU machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SpillSettings:
    """How much memory a window's statements may hold before ClickHouse spills to disk.

    GROUP BYs, sorts and joins spill once the server's memory use passes ``memory_ratio`` of
    its limit (``max_bytes_ratio_before_external_group_by``, ``..._sort``, ``..._join``; the
    limit is ``max_server_memory_usage``, 90 % of RAM by default). A ratio, not the byte
    thresholds (``max_bytes_before_external_group_by``): on chDB 26.9 a 2 GiB byte threshold
    made the 10M-transfer flows statement 3x slower without ever spilling.
    ``max_memory_bytes`` (0: none) caps each statement (``max_memory_usage``).

    ``addresses_per_pass``: the flows and per-address statements run in passes over ranges of
    at most this many addresses (by id), so what one statement holds is bounded by the range,
    not the window. ClickHouse's spilling alone did not bound it: at 100M transfers the
    temporal sums held 18 GiB whatever the ratio, and the volume sums spilled 22 GB of files.
    """

    memory_ratio: float = 0.5
    max_memory_bytes: int = 0
    threads: int = 0  # 0: the server's default (one per core)
    addresses_per_pass: int = 2_000_000

    def __post_init__(self) -> None:
        if not 0 < self.memory_ratio < 1:
            raise ValueError(f"memory_ratio: expected a share in (0, 1), got {self.memory_ratio}")
        if self.addresses_per_pass < 1:
            raise ValueError(
                f"addresses_per_pass: expected a positive count, got {self.addresses_per_pass}"
            )

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "max_bytes_ratio_before_external_group_by": self.memory_ratio,
            "max_bytes_ratio_before_external_sort": self.memory_ratio,
            "max_bytes_ratio_before_external_join": self.memory_ratio,
            "join_use_nulls": 1,  # an address without out-edges has null out sums, as in polars
        }
        if self.max_memory_bytes:
            out["max_memory_usage"] = self.max_memory_bytes
        if self.threads:
            out["max_threads"] = self.threads
        return out
