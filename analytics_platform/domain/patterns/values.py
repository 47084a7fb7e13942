"""Amounts and ratios of pattern sides: native where one asset, USD where priced, and which
unit a ratio is in."""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
import polars as pl


def side_values(side: str, legs: Callable[[pl.Expr], pl.Expr] = lambda c: c) -> list[pl.Expr]:
    """Aggregations of one side of a flow (what a centre received, or paid on): its native
    total ``side`` and what :func:`comparable_ratio` needs (its USD total, whether every leg
    has a price, its lowest and highest asset). ``legs`` picks the side's transfers of the
    group (default all; e.g. ``lambda c: c.first()``)."""
    return [
        legs(pl.col("amt")).sum().alias(side),
        legs(pl.col("usd")).sum().alias(f"_{side}_usd"),
        legs(pl.col("usd")).is_not_null().all().alias(f"_{side}_priced"),
        legs(pl.col("asset_id")).min().alias(f"_{side}_lo"),
        legs(pl.col("asset_id")).max().alias(f"_{side}_hi"),
    ]


def _comparable(num: str, den: str) -> tuple[pl.Expr, pl.Expr]:
    """Whether two :func:`side_values` sides move one asset, and whether all are priced."""
    lo, hi = (lambda s: pl.col(f"_{s}_lo")), (lambda s: pl.col(f"_{s}_hi"))
    one_asset = (lo(num) == hi(num)) & (lo(den) == hi(den)) & (lo(num) == lo(den))
    return one_asset, pl.col(f"_{num}_priced") & pl.col(f"_{den}_priced")


def comparable_ratio(num: str, den: str) -> pl.Expr:
    """``num / den`` of two :func:`side_values` sides: in native units where every leg of both
    moves one asset (exact, whatever its price did), else in USD where every leg has a price,
    else null: a sum of euros over a sum of yuan says nothing about what was passed on."""
    one_asset, priced = _comparable(num, den)
    return (
        pl.when(one_asset)
        .then(pl.col(num) / pl.col(den))
        .when(priced)
        .then(pl.col(f"_{num}_usd") / pl.col(f"_{den}_usd"))
        .otherwise(None)
    )


def ratio_unit(num: str, den: str) -> pl.Expr:
    """What :func:`comparable_ratio` of the same sides was measured in, for the analyst."""
    one_asset, priced = _comparable(num, den)
    return (
        pl.when(one_asset)
        .then(pl.lit("native units"))
        .when(priced)
        .then(pl.lit("USD"))
        .otherwise(pl.lit("no common unit: currencies without prices"))
    )


def in_ratio_unit(num: str, den: str) -> list[pl.Expr]:
    """The ``num`` and ``den`` sides' totals in the unit :func:`comparable_ratio` divides them
    in (native where every leg moves one asset, USD where every leg is priced, else null), so
    a flow's details show the two amounts its ratio is made of, not sums across currencies."""
    one_asset, priced = _comparable(num, den)
    return [
        pl.when(one_asset).then(pl.col(side)).when(priced).then(pl.col(f"_{side}_usd")).alias(side)
        for side in (num, den)
    ]


@numba.njit(cache=True, nogil=True)
def hop_ratio(amts, usd, assets, a, b):
    """Transfer ``b``'s value over transfer ``a``'s, like :func:`comparable_ratio`: in native
    units when both move one asset, else in USD when both have a price (``usd`` NaN where
    not), else infinite: not measurable, so never a peel and outside any bounded band."""
    if assets[a] == assets[b]:
        return amts[b] / amts[a] if amts[a] > 0 else np.inf
    if usd[a] > 0 and usd[b] == usd[b]:
        return usd[b] / usd[a]
    return np.inf


def hop_values(edges: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``amts, usd, assets`` arrays :func:`hop_ratio` reads, from coded transfers."""
    return (
        edges["amt"].to_numpy(),
        edges["usd"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        edges["asset_id"].to_numpy().astype(np.int64),
    )


def side_helpers(*sides: str) -> list[str]:
    """The helper columns :func:`side_values` adds for ``sides``, to drop once compared."""
    return [f"_{s}_{k}" for s in sides for k in ("usd", "priced", "lo", "hi")]
