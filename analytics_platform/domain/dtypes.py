"""The two value types every table shares."""

from __future__ import annotations

import polars as pl

AMOUNT = pl.Decimal(38, 18)
"""Token amounts: 38 digits with 18 decimals, so 18-decimal tokens lose no precision."""
TIMESTAMP = pl.Datetime("ms", "UTC")
