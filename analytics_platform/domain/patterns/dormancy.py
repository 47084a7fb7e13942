"""Dormant payers and payees, and new pairs: each leg judged once against the days before it
(``LegJudge``), the shares a pattern reports, and the unusual legs some detectors see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from analytics_platform.domain.patterns.details import pattern_legs, with_details

DORMANCY_KEYS = ("dormant_payer_share", "dormant_payee_share", "dormant_party_share")


LEG_FLAGS = ("payer_dormant", "payee_dormant", "new_pair")


def leg_dormancy(
    t: pl.DataFrame,
    history: pl.DataFrame,
    *,
    dormancy_days: int,
    known_from: date,
    relationship_days: int | None = None,
) -> pl.DataFrame:
    """``t`` (src, dst, time) with, per transfer, ``payer_dormant`` (the sender had paid no one
    in the ``dormancy_days`` days before the transfer's day), ``payee_dormant`` (nobody had
    paid the recipient) and ``new_pair`` (the sender had not paid this recipient in the
    ``relationship_days`` before, by default the same days: with a longer memory, an account
    that pays an established counterparty again after a quiet spell starts no new pair); null
    on days before ``known_from``, where the history does not cover the dormancy look-back.
    ``history``: date, from_address, to_address (``daily_edges``) of those days."""
    history = history.filter(pl.col("from_address") != pl.col("to_address"))
    legs = t.with_row_index("_leg").with_columns(
        pl.col("time").dt.date().alias("_day"),
        (pl.col("time").dt.date() - timedelta(days=1)).alias("_before"),
    )
    known = pl.col("_day") >= known_from
    out = legs.sort("_before")
    sides = (  # the span's columns and the history's, and the look-back, per flag of LEG_FLAGS
        (["src"], ["from_address"], dormancy_days),
        (["dst"], ["to_address"], dormancy_days),
        (["src", "dst"], ["from_address", "to_address"], relationship_days or dormancy_days),
    )
    for (by, columns, days), flag in zip(sides, LEG_FLAGS, strict=True):
        since = pl.col("_day") - timedelta(days=days)
        active = (
            history.select(pl.col("date").alias("_last"), *columns)
            .rename(dict(zip(columns, by, strict=True)))
            .unique()
            .sort("_last")
        )
        out = (
            out.join_asof(
                active,
                left_on="_before",
                right_on="_last",
                by=by,
                strategy="backward",
                check_sortedness=False,  # both sorted on their keys above
            )
            .with_columns(
                pl.when(known)
                .then(pl.col("_last").is_null() | (pl.col("_last") < since))
                .alias(flag)
            )
            .drop("_last")
        )
    return out.sort("_leg").drop("_leg", "_day", "_before")


@dataclass
class LegJudge:
    """:func:`leg_dormancy` for one partition that judges each (payer, payee, day) once: the
    flags depend on nothing else, and the span, a funnel's memory and the patterns' legs
    overlap (a partition asks about the same day's transfers up to three times)."""

    history: pl.DataFrame
    dormancy_days: int
    known_from: date
    relationship_days: int | None = None
    _judged: pl.DataFrame | None = None  # src, dst, _on (the day) and LEG_FLAGS

    def __call__(self, t: pl.DataFrame) -> pl.DataFrame:
        """``t`` (src, dst, time) with LEG_FLAGS, in its order."""
        key = ["src", "dst", "_on"]
        t = t.with_columns(pl.col("time").dt.date().alias("_on"))
        todo = t.select(key).unique()
        if self._judged is not None:
            todo = todo.join(self._judged, on=key, how="anti")
        if todo.height or self._judged is None:
            at = pl.col("_on").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("time")
            judged = leg_dormancy(
                todo.with_columns(at),
                self.history,
                dormancy_days=self.dormancy_days,
                known_from=self.known_from,
                relationship_days=self.relationship_days,
            ).drop("time")
            self._judged = judged if self._judged is None else pl.concat([self._judged, judged])
        return t.join(self._judged, on=key, how="left", maintain_order="left").drop("_on")


def with_dormancy(patterns: pl.DataFrame, flags: pl.DataFrame, dormancy_days: int) -> pl.DataFrame:
    """``details`` gains the dormancy shares of the pattern's transfers: ``dormant_payer_share``,
    ``dormant_payee_share`` and ``dormant_party_share`` (either), and the look-back they were
    judged over (``dormancy_days``). An account that only receives and suddenly pays a
    stranger, or a payee nobody paid for a month, is the "dormant account activity" red flag;
    salaried, paying and trading accounts have a habit in both directions. ``flags``:
    :func:`leg_dormancy` of (at least) the patterns' transfers; shares are over the transfers
    judged, none judged: no key."""
    if patterns.height == 0:
        return patterns
    payer, payee = pl.col("payer_dormant"), pl.col("payee_dormant")
    shares = (
        pattern_legs(patterns, flags, "payer_dormant", "payee_dormant")
        .drop_nulls("payer_dormant")
        .group_by("_p")
        .agg(
            payer.mean().round(3).alias(DORMANCY_KEYS[0]),
            payee.mean().round(3).alias(DORMANCY_KEYS[1]),
            (payer | payee).mean().round(3).alias(DORMANCY_KEYS[2]),
            pl.lit(dormancy_days).alias("dormancy_days"),
        )
    )
    if shares.height == 0:
        return patterns
    return with_details(patterns, shares)


def unusual_legs(flags: pl.DataFrame) -> pl.DataFrame:
    """The transfers of ``flags`` (:func:`leg_dormancy` of the span) that are a new pair with a
    dormant payer or payee, without the flags. Transfers not judged (the network's first days)
    are not unusual: a detector on these legs stays silent until the history covers the
    look-back, as on a new network every account would look dormant."""
    dormant = pl.col("payer_dormant") | pl.col("payee_dormant")
    keep = (pl.col("new_pair") & dormant).fill_null(False)
    return flags.filter(keep).drop(*LEG_FLAGS)
