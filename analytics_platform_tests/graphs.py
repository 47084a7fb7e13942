"""Hand-built transfer frames for detector and feature tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from analytics_platform.domain.schemas import TRANSFERS, conform

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def addr(i: int) -> str:
    return f"0x{i:040x}"


def transfers(rows: list[tuple[int, int, float, float]], network: str = "torus") -> pl.DataFrame:
    """rows: (from, to, amount, hours after T0)."""
    df = pl.DataFrame(
        {
            "network": network,
            "tx_hash": [f"0xtx{i}" for i in range(len(rows))],
            "transfer_index": 0,
            "block_number": list(range(len(rows))),
            "block_time": [T0 + timedelta(hours=h) for _, _, _, h in rows],
            "from_address": [addr(f) for f, _, _, _ in rows],
            "to_address": [addr(t) for _, t, _, _ in rows],
            "asset": "TOR",
            "amount": [str(a) for _, _, a, _ in rows],
        }
    ).with_columns(
        pl.col("block_time").dt.cast_time_unit("ms"),
        pl.col("block_time").dt.date().alias("date"),
    )
    return conform(df, TRANSFERS)
