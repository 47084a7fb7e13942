"""The address-day matrix a risk model reads: what the platform stored about an address on a
day, one row per (address, date) active that day.

Columns: every numeric feature of every window (``<feature>_w<days>``: ``address_features``)
and, per detector type, how many of the day's detections the address is a member of
(``member_<type>``) and the centre of (``centre_<type>``: ``structural_patterns``). The rules
read the same two tables, so the model adds what their thresholds leave out, not new data.
"""

from __future__ import annotations

import hashlib

import polars as pl

from analytics_platform.domain.patterns import PATTERN_TYPES
from analytics_platform.domain.risk.relations import relation_features

KEY = ("address", "date")
PATTERN_COLUMNS = tuple(f"{role}_{t}" for t in PATTERN_TYPES for role in ("member", "centre"))
_NOT_FEATURES = {"network", "date", "window_days", "address"}


def _numeric(features: pl.DataFrame) -> list[str]:
    return [c for c, t in features.schema.items() if c not in _NOT_FEATURES and t.is_numeric()]


def feature_names(features: pl.DataFrame, windows: list[int]) -> list[str]:
    """The matrix's feature columns for ``features``' numeric columns and ``windows``, in a
    fixed order (its hash names the model's inputs)."""
    own = [f"{c}_w{w}" for w in sorted(windows) for c in _numeric(features)]
    return [*own, *PATTERN_COLUMNS]


def feature_hash(names: list[str]) -> str:
    """A short, stable name for a feature list (a model is refused data of another list)."""
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]


NEIGHBOUR_SOURCES = ("in_degree", "out_degree", "counterparties")
NEIGHBOUR_PATTERNS = ("centre_fan_in", "centre_fan_out", "member_fan_in", "member_fan_out")


def neighbour_names(windows: list[int]) -> list[str]:
    own = [f"{c}_w{w}" for w in sorted(windows) for c in NEIGHBOUR_SOURCES]
    return [f"{side}_max_{c}" for side in ("payee", "payer") for c in (*own, *NEIGHBOUR_PATTERNS)]


def with_neighbours(matrix: pl.DataFrame, edges: pl.DataFrame, windows: list[int]) -> pl.DataFrame:
    """``matrix`` plus, per address-day, the largest of a few figures of the addresses it paid
    (``payee_max_*``) and was paid by (``payer_max_*``) that day (``edges``: date,
    from_address, to_address): how connected its counterparties are (a payer into a fan-in
    pays an address that many pay), which no feature of the address itself says."""
    own = [f"{c}_w{w}" for w in sorted(windows) for c in NEIGHBOUR_SOURCES]
    sources = [c for c in (*own, *NEIGHBOUR_PATTERNS) if c in matrix.columns]
    pairs = edges.select("date", "from_address", "to_address").unique()
    figures = matrix.select("address", "date", *sources)
    out = matrix
    for side, me, other in (("payee", "from_address", "to_address"),
                            ("payer", "to_address", "from_address")):  # fmt: skip
        agg = (
            pairs.join(figures, left_on=[other, "date"], right_on=["address", "date"])
            .group_by(pl.col(me).alias("address"), "date")
            .agg(pl.col(c).max().alias(f"{side}_max_{c}") for c in sources)
        )
        out = out.join(agg, on=list(KEY), how="left")
    names = neighbour_names(windows)
    return out.with_columns(
        pl.col(n).fill_null(0.0) if n in out.columns else pl.lit(0.0).alias(n) for n in names
    )


def address_days(
    features: pl.DataFrame,
    patterns: pl.DataFrame,
    edges: pl.DataFrame | None = None,
    lookback: int | None = None,
) -> pl.DataFrame:
    """One row per (address, date) of ``features``: the columns of :func:`feature_names`
    (Float64; a pattern count is 0 where the address was in no detection of that type), with
    ``edges`` (``daily_edges``) those of :func:`with_neighbours`, and with ``lookback`` too
    those of ``relations.relation_features`` (``edges`` must then reach ``lookback`` days
    before each day)."""
    windows = sorted(features["window_days"].unique().to_list())
    if not windows:
        raise ValueError("address_features: no rows to build the risk matrix from")
    numeric = _numeric(features)
    wide = None
    for window in windows:
        part = features.filter(pl.col("window_days") == window).select(
            *KEY, *(pl.col(c).cast(pl.Float64).alias(f"{c}_w{window}") for c in numeric)
        )
        wide = part if wide is None else wide.join(part, on=list(KEY), how="full", coalesce=True)
    roles = pl.concat(
        [
            patterns.select(
                pl.col("members").alias("address"), "date", "pattern_type",
                pl.lit("member").alias("role"),
            ).explode("address", empty_as_null=False),
            patterns.select(
                pl.col("center_address").alias("address"), "date", "pattern_type",
                pl.lit("centre").alias("role"),
            ),
        ]
    ).drop_nulls("address")  # fmt: skip
    counts = (
        roles.group_by(*KEY, "role", "pattern_type")
        .len()
        .select(*KEY, pl.format("{}_{}", "role", "pattern_type").alias("column"), "len")
    )
    if counts.height:
        wide = wide.join(
            counts.pivot(on="column", index=list(KEY), values="len"), on=list(KEY), how="left"
        )
    names = feature_names(features, windows)
    missing = [n for n in names if n not in wide.columns]
    matrix = (
        wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(n) for n in missing)
        .select(*KEY, *(pl.col(n).cast(pl.Float64) for n in names))
        .with_columns(pl.col(n).fill_null(0) for n in PATTERN_COLUMNS)
    )
    if edges is not None:
        matrix = with_neighbours(matrix, edges, windows)
        if lookback:
            related = relation_features(matrix.select(KEY), edges, lookback)
            matrix = matrix.join(related, on=list(KEY), how="left")
    return matrix.sort(*KEY)
