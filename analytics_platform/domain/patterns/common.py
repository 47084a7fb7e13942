"""What every detector shares: the prepared transfer frame, pattern ids and the output shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numba
import numpy as np
import polars as pl

from analytics_platform.domain.prices import with_usd
from analytics_platform.domain.readable import amount_text
from analytics_platform.domain.schemas import STRUCTURAL_PATTERNS, conform, empty


@dataclass
class PatternResult:
    patterns: pl.DataFrame
    limits_hit: dict[str, int] = field(default_factory=dict)


@dataclass
class Span:
    """The transfers a detector may look at (the day's horizon) and the day it reports."""

    t: pl.DataFrame  # row, tx, src, dst, time, amt, asset, usd
    network: str
    day: date
    hits: dict[str, int]
    _coded: tuple[pl.DataFrame, pl.Series] | None = None

    def coded(self) -> tuple[pl.DataFrame, pl.Series]:
        """:func:`address_ids` of ``t`` (computed once per span)."""
        if self._coded is None:
            self._coded = address_ids(self.t)
        return self._coded

    @property
    def start(self) -> datetime:
        """The first instant of the reported day (UTC)."""
        return datetime.combine(self.day, time(), tzinfo=UTC)

    def hit(self, limit: str, count: int = 1) -> None:
        if count:
            self.hits[limit] = self.hits.get(limit, 0) + int(count)


def prepare(
    transfers: pl.DataFrame, exclude: Iterable[str], prices: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Self-transfers and excluded service addresses dropped; short column names; ``usd``: the
    transfer's USD value at its day's price (null without one)."""
    excluded = pl.Series(list(exclude), dtype=pl.String).implode()
    if prices is not None:
        transfers = with_usd(transfers, prices, "amount", "usd")
    else:
        transfers = transfers.with_columns(pl.lit(None, pl.Float64).alias("usd"))
    return (
        transfers.lazy()
        .filter(pl.col("from_address") != pl.col("to_address"))
        .filter(~pl.col("from_address").is_in(excluded) & ~pl.col("to_address").is_in(excluded))
        .select(
            pl.col("tx_hash").alias("tx"),
            pl.col("from_address").alias("src"),
            pl.col("to_address").alias("dst"),
            pl.col("block_time").alias("time"),
            pl.col("amount").cast(pl.Float64).alias("amt"),
            pl.col("asset"),
            pl.col("usd"),
        )
        .sort("time", "tx")
        .with_row_index("row")
        .collect()
    )


def address_ids(t: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """``t`` as integers, for detectors whose joins and lists are cheaper on them: ``src``/
    ``dst`` become address ids (rank in address order), ``tx`` the transfer's row; with the
    addresses by id. Rows stay in ``t``'s order (``tx`` indexes ``t["tx"]``). ``usd`` and
    ``asset_id`` (the asset's rank) travel along for :func:`side_values`."""
    names = pl.concat([t["src"], t["dst"]]).unique().sort()
    index = pl.DataFrame({"a": names, "id": pl.int_range(names.len(), dtype=pl.UInt32, eager=True)})
    coded = (
        t.join(index.rename({"a": "src", "id": "s"}), on="src", how="left", maintain_order="left")
        .join(index.rename({"a": "dst", "id": "d"}), on="dst", how="left", maintain_order="left")
        .select(
            pl.col("s").alias("src"),
            pl.col("d").alias("dst"),
            pl.col("row").alias("tx"),
            "time",
            "amt",
            "usd",
            pl.col("asset").rank("dense").alias("asset_id"),
        )
    )
    return coded, names


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
def on_path(nodes, depth, node):
    """Whether ``node`` is one of ``nodes[0..depth]`` (a walk's path so far)."""
    for k in range(depth + 1):  # noqa: SIM110 (numba compiles a loop, not any() of a generator)
        if nodes[k] == node:
            return True
    return False


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


def decode_ids(df: pl.DataFrame, values: dict[str, pl.Series]) -> pl.DataFrame:
    """Columns of integer positions (ids, transfer rows), or lists of them, replaced by the
    ``values`` at those positions."""
    if df.height == 0:
        return df.with_columns(
            pl.col(c).cast(pl.List(v.dtype) if isinstance(df.schema[c], pl.List) else v.dtype)
            for c, v in values.items()
        )
    keyed = df.with_row_index("_i")
    for column, lookup in values.items():
        if not isinstance(df.schema[column], pl.List):
            keyed = keyed.with_columns(pl.lit(lookup).gather(pl.col(column)).alias(column))
            continue
        decoded = (
            keyed.select("_i", column)
            .explode(column, empty_as_null=False)
            .select("_i", pl.lit(lookup).gather(pl.col(column)).alias(column))
            .group_by("_i", maintain_order=True)
            .agg(pl.col(column).drop_nulls())
        )
        keyed = (
            keyed.drop(column)
            .join(decoded, on="_i", how="left", maintain_order="left")
            .with_columns(pl.col(column).fill_null(pl.lit([], dtype=pl.List(lookup.dtype))))
        )
    return keyed.drop("_i").select(df.columns)


def walk_hops(found: np.ndarray, edges: pl.DataFrame, span: Span) -> pl.DataFrame:
    """Walks a compiled search found (rows of indices into ``edges``, -1 padded) as one row per
    hop, in walk order: walk, src, dst (addresses), tx (hash), time, amt, usd, asset_id. Only
    the hops kept are decoded."""
    hops = (found >= 0).sum(axis=1)
    flat = pl.DataFrame(
        {"walk": np.repeat(np.arange(found.shape[0]), hops), "edge": found[found >= 0]}
    )
    rows = flat.join(
        edges.select("src", "dst", "tx", "time", "amt", "usd", "asset_id")
        .with_row_index("edge")
        .with_columns(pl.col("edge").cast(pl.Int64)),
        on="edge",
        maintain_order="left",
    )
    names = span.coded()[1]
    return decode_ids(rows, {"src": names, "dst": names, "tx": span.t["tx"]})


def csr_offsets(keys: np.ndarray, n: int) -> np.ndarray:
    """Where each of the ids ``0..n-1`` starts in ``keys`` (sorted), plus the end: the rows of
    id ``i`` are ``offsets[i]:offsets[i + 1]``."""
    return np.searchsorted(keys, np.arange(n + 1)).astype(np.int64)


def degree(t: pl.DataFrame) -> pl.DataFrame:
    """Distinct counterparties per address (both directions) in the span."""
    pairs = pl.concat(
        [
            t.select(pl.col("src").alias("a"), pl.col("dst").alias("b")),
            t.select("dst", "src").rename({"dst": "a", "src": "b"}),
        ]
    )
    return pairs.group_by("a").agg(pl.col("b").n_unique().alias("degree"))


def low_degree(t: pl.DataFrame, max_degree: int) -> tuple[pl.Series, int]:
    """Addresses with at most ``max_degree`` counterparties, and how many were above it."""
    d = degree(t)
    return d.filter(pl.col("degree") <= max_degree)["a"], int((d["degree"] > max_degree).sum())


def busiest_windows(
    rows: pl.DataFrame, period: timedelta, size: pl.Expr, minimum: int, *extra: pl.Expr
) -> pl.DataFrame:
    """Per centre and day, the sliding window (``period``) over its transfers with the largest
    ``size`` (ties: the earliest), if at least ``minimum``.

    ``rows``: center, other, tx, amt, time, sorted by center and time. The result has size,
    others, tx_hashes, total_amount, first_time, last_time and the ``extra`` aggregations.
    """
    windows = rows.rolling(index_column="time", period=period, group_by="center").agg(
        size.alias("size"),
        pl.col("other").unique(maintain_order=True).alias("others"),
        pl.col("tx").alias("tx_hashes"),
        pl.col("amt").sum().alias("total_amount"),
        pl.col("time").min().alias("first_time"),
        pl.col("time").max().alias("last_time"),
        *extra,
    )
    return (
        windows.filter(pl.col("size") >= minimum)
        .with_columns(pl.col("last_time").dt.date().alias("day"))
        .sort(["center", "day", "size", "last_time"], descending=[False, False, True, False])
        .group_by("center", "day", maintain_order=True)
        .first()
    )


def pattern_id(network: str, pattern_type: str, tx_hashes: pl.Expr) -> pl.Expr:
    """Deterministic id: hash of network, type and the sorted transfer hashes."""
    key = pl.format(
        "{}|{}|{}", pl.lit(network), pl.lit(pattern_type), tx_hashes.list.sort().list.join(",")
    )
    return pl.format("{}-{}", pl.lit(pattern_type), key.hash(seed=20261123).cast(pl.String))


def finish(found: pl.DataFrame, span: Span, pattern_type: str) -> pl.DataFrame:
    """Patterns ending on ``span.day`` in the ``structural_patterns`` shape.

    ``found`` has members, roles, tx_hashes, center_address, total_amount, first_time,
    last_time, score and details (a JSON object of the values that define the pattern).
    """
    if found.height == 0:
        return empty(STRUCTURAL_PATTERNS)
    out = (
        found.filter(pl.col("last_time").dt.date() == span.day)
        .with_columns(
            pl.lit(span.network).alias("network"),
            pl.col("last_time").dt.date().alias("date"),
            pl.lit(pattern_type).alias("pattern_type"),
            pl.col("tx_hashes").list.len().cast(pl.Int64).alias("transfer_count"),
            pl.col("score").clip(0.0, 1.0),
            pl.lit(None, pl.Float64).alias("total_amount_usd"),  # see with_usd_totals
        )
        .with_columns(
            pattern_id(span.network, pattern_type, pl.col("tx_hashes")).alias("pattern_id")
        )
        .unique("pattern_id", keep="first", maintain_order=True)
    )
    return conform(out, STRUCTURAL_PATTERNS)


def pattern_legs(patterns: pl.DataFrame, t: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """One row per pattern transfer: ``_p`` (the pattern's row), ``tx`` and ``columns`` of
    ``t`` (the span's transfers, or any frame keyed by ``tx``)."""
    return (
        patterns.select(pl.col("tx_hashes").alias("tx"))
        .with_row_index("_p")
        .explode("tx", empty_as_null=False)
        .join(t.select("tx", *columns), on="tx")
    )


def valued_legs(patterns: pl.DataFrame, t: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """:func:`pattern_legs` of the transfers a pattern's ``total_amount`` sums: those between
    two of its members (a funnel's own legs, not the other traffic of its transfers' senders),
    and of a ``risky_proximity`` path only the subject's own transfer (its last hop: the
    amount the exposure is about; the hops before it move the same funds again)."""
    keyed = patterns.select("members").with_row_index("_p").explode("members", empty_as_null=False)
    proximity = pl.col("pattern_type") == "risky_proximity"
    valued = patterns.with_columns(
        pl.when(proximity)
        .then(pl.col("tx_hashes").list.tail(1))
        .otherwise(pl.col("tx_hashes"))
        .alias("tx_hashes")
    )
    legs = pattern_legs(valued, t, "src", "dst", *columns)
    for side in ("src", "dst"):
        legs = legs.join(keyed.rename({"members": side}), on=["_p", side])
    return legs


def with_usd_totals(patterns: pl.DataFrame, t: pl.DataFrame) -> pl.DataFrame:
    """``total_amount_usd``: the USD value of the transfers the pattern's total_amount sums
    (:func:`valued_legs`); null when one of them has no price.

    Computed once for every detector from the pattern's transfers, so no detector carries a
    second currency through its joins."""
    if patterns.height == 0:
        return patterns.with_columns(pl.lit(None, pl.Float64).alias("total_amount_usd"))
    legs = (
        valued_legs(patterns, t, "usd")
        .group_by("_p")
        .agg(
            pl.when(pl.col("usd").is_null().any())
            .then(None)
            .otherwise(pl.col("usd").sum())
            .alias("total_amount_usd")
        )
    )
    return (
        patterns.drop("total_amount_usd", strict=False)
        .with_row_index("_p")
        .join(legs, on="_p", how="left", maintain_order="left")
        .drop("_p")
    )


def with_amounts(patterns: pl.DataFrame, t: pl.DataFrame) -> pl.DataFrame:
    """``details`` gain ``assets_n`` (how many assets the pattern's transfers move) and
    ``amounts`` (what ``total_amount`` sums, per asset: "4,000.00 TOR + 1.55 WETH"), so an
    alert shows and weighs amounts an analyst can read rather than a sum across currencies."""
    if patterns.height == 0:
        return patterns
    per_asset = (
        valued_legs(patterns, t, "amt", "asset")
        .group_by("_p", "asset")
        .agg(pl.col("amt").sum())
        .sort("_p", "asset")
        .with_columns(pl.format("{} {}", amount_text(pl.col("amt")), "asset").alias("text"))
    )
    values = per_asset.group_by("_p", maintain_order=True).agg(
        pl.len().alias("assets_n"), pl.col("text").str.join(" + ").alias("amounts")
    )
    return with_details(patterns, values)


def roles_list(*parts: tuple[pl.Expr, str]) -> tuple[pl.Expr, pl.Expr]:
    """Members and their roles from (list-of-addresses expression, role) parts."""
    members = pl.concat_list([expr for expr, _ in parts])
    roles = pl.concat_list([expr.list.eval(pl.lit(role)) for expr, role in parts])
    return members, roles


def json_details(*columns: str) -> pl.Expr:
    return pl.struct(columns).struct.json_encode().alias("details")


def with_one_off_share(found: pl.DataFrame, t: pl.DataFrame, others: str) -> pl.DataFrame:
    """``found`` with ``one_off_share``: of the counterparties in list column ``others``, the
    share that transacted with the row's ``center`` exactly once over the span ``t`` (either
    direction). Mules and smurfs meet their counterparties once; payrolls, pool payouts and
    merchants see the same ones again. ``center``/``others`` are in ``t``'s src/dst terms."""
    if found.height == 0:
        return found.with_columns(pl.lit(None, pl.Float64).alias("one_off_share"))
    centers = found["center"].unique().implode()
    pairs = (
        pl.concat(
            [
                t.filter(pl.col("src").is_in(centers)).select(
                    pl.col("src").alias("center"), pl.col("dst").alias("other")
                ),
                t.filter(pl.col("dst").is_in(centers)).select(
                    pl.col("dst").alias("center"), pl.col("src").alias("other")
                ),
            ]
        )
        .group_by("center", "other")
        .agg(pl.len().alias("_n"))
    )
    shares = (
        found.select("center", pl.col(others).alias("other"))
        .with_row_index("_row")
        .explode("other", empty_as_null=False)
        .join(pairs, on=["center", "other"], how="left")
        .group_by("_row")
        .agg((pl.col("_n") == 1).mean().round(3).alias("one_off_share"))
    )
    return (
        found.with_row_index("_row").join(shares, on="_row", how="left").sort("_row").drop("_row")
    )


def with_novel_share(patterns: pl.DataFrame, t: pl.DataFrame) -> pl.DataFrame:
    """``details`` gains ``novel_share``: of the pattern's transfers, the share whose sender
    paid that recipient only once in the span (a pair with no other transfer: no prior or
    later relationship). Laundering hops are one-off; salaries, subscriptions, trading
    partners and friends repeat. Computed once for every detector from its transfers."""
    if patterns.height == 0:
        return patterns
    legs = pattern_legs(patterns, t, "src", "dst")
    pairs = (
        t.select("src", "dst")
        .join(legs.select("src", "dst").unique(), on=["src", "dst"], how="semi")
        .group_by("src", "dst")
        .agg(pl.len().alias("_n"))
    )
    shares = (
        legs.join(pairs, on=["src", "dst"])
        .group_by("_p")
        .agg((pl.col("_n") == 1).mean().round(3).alias("_novel"))
    )
    return with_details(patterns, shares.rename({"_novel": "novel_share"}))


def with_details(patterns: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """``details`` (JSON) gains the columns of ``values`` (``_p``: the pattern's row; one
    numeric or text column per key). A pattern without a value for a key keeps its details as
    they were."""
    keys = [c for c in values.columns if c != "_p"]
    joined = patterns.with_row_index("_p").join(values, on="_p", how="left", maintain_order="left")
    details = pl.col("details")
    for key in keys:
        body = details.fill_null("{}").str.strip_chars()
        value = pl.col(key).cast(pl.String)
        if values.schema[key] == pl.String:
            # A JSON string literal: polars escapes text only inside json_encode, so encode a
            # one-field struct ('{"v":"..."}') and keep its value.
            value = pl.struct(value.alias("v")).struct.json_encode().str.slice(5).str.head(-1)
        item = pl.format(f'"{key}": {{}}', value)
        details = (
            pl.when(pl.col(key).is_null())
            .then(details)
            .when(body == "{}")
            .then(pl.concat_str(pl.lit("{"), item, pl.lit("}")))
            .otherwise(pl.concat_str(body.str.strip_suffix("}"), pl.lit(", "), item, pl.lit("}")))
        )
    return joined.with_columns(details.alias("details")).drop("_p", *keys)


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
