"""Per-address features over rolling windows (the catalog is ``domain.feature_catalog``).

Inputs are the window's daily partitions, never raw transfers: ``daily_edges`` (one row per
day, sender, recipient and asset) and ``address_activity`` (one row per day and address), plus
the labels valid at the window's end. So one more day costs the window aggregation plus that
day's edges.

The product reduces a window in the warehouse (``storage.window_sql``) and hands the pieces
to :func:`features_from_pieces`; :func:`window_features` reduces frames in memory with the
polars plans below. Those plans are the reference the SQL is tested against (column for
column), and the path the engine benchmarks and the GPU parity tests run.

Addresses are encoded to integers once (their rank in sorted order); every later step works on
integers. Aggregations are polars plans executed by the engine (``engine.collect``: CPU polars
or cuDF); graph algorithms go to ``engine.graph_features``. Graph vertices are the addresses
with at least one transfer to or from someone else, numbered in address order, so "the
smallest vertex of a group" is also "the smallest address". Self-transfers count in activity
and volume features but are not graph edges.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from analytics_platform.domain.feature_catalog import (
    EXPOSURE_CATEGORIES,
    FEATURE_COLUMNS,
    RISKY_CATEGORIES,
)
from analytics_platform.domain.schemas import ADDRESS_FEATURES, TIMESTAMP, conform, empty
from analytics_platform.domain.windows import window_days
from analytics_platform.engines.base import (
    GraphEngine,
    GraphParams,
    WindowGraph,
    betweenness_sources,
)
from analytics_platform.engines.timing import StageTimer

LABEL_PRIORITY = ("sanctioned", "mixer", "scam", "exchange", "gambling", "defi", "other")
"""When an address carries several labels, its category is the first of these it has."""


def compute_address_features(
    edges: pl.DataFrame | pl.LazyFrame,
    activity: pl.DataFrame | pl.LazyFrame,
    labels: pl.DataFrame,
    *,
    network: str,
    day: date,
    windows: Iterable[int],
    engine: GraphEngine,
    params: GraphParams | None = None,
    timer: StageTimer | None = None,
) -> pl.DataFrame:
    """Features of every address active in each window ending on ``day``.

    ``edges`` and ``activity`` cover at least the largest window (extra days are ignored);
    ``labels`` has ``address`` and ``category`` (labels valid at the end of ``day``).
    """
    frames = []
    for window in sorted(set(windows)):
        first, last = window_days(day, window)
        frames.append(
            window_features(
                edges.filter(pl.col("date").is_between(first, last)),
                activity.filter(pl.col("date").is_between(first, last)),
                labels,
                network=network,
                day=day,
                window=window,
                engine=engine,
                params=params or GraphParams(),
                timer=timer or StageTimer(),
            )
        )
    return pl.concat(frames) if frames else empty(ADDRESS_FEATURES)


def window_features(
    edges: pl.DataFrame | pl.LazyFrame,
    activity: pl.DataFrame | pl.LazyFrame,
    labels: pl.DataFrame,
    *,
    network: str,
    day: date,
    window: int,
    engine: GraphEngine,
    params: GraphParams,
    timer: StageTimer,
) -> pl.DataFrame:
    """The whole catalog for one window (``edges``/``activity`` already cut to the window).

    Lazy inputs (e.g. ``pl.scan_parquet`` of the daily pieces) are read column by column as
    needed, so the window's address strings are never all in memory at once.
    """
    with timer.stage("encode"):
        names, e, act = _encode(edges.lazy(), activity.lazy(), engine)
    if names.height == 0:
        return empty(ADDRESS_FEATURES)
    with timer.stage("flows"):
        flows = engine.collect(_flows(e))

    def reduce_window() -> tuple[pl.DataFrame, pl.DataFrame]:
        # The per-edge and per-day frames are the largest; each is released once reduced.
        nonlocal e, act
        with timer.stage("address_sums"):  # the warehouse path's stage of the same name
            volume = engine.collect(_volume_features(e))
            e = None
            temporal = engine.collect(_temporal_sums(act))
            act = None
        return volume, temporal

    pieces = ReducedWindow(names, flows, reduce_window)
    del flows
    return features_from_pieces(
        pieces, labels, network=network, day=day, window=window, engine=engine, params=params,
        timer=timer,
    )  # fmt: skip


@dataclass(frozen=True)
class GraphCut:
    """A window whose graph passed the edge budget (``GraphParams.max_edges``): the graph
    algorithms ran on its ``kept`` heaviest of ``pairs`` ordered pairs (volume at least
    ``weight_floor``; equal volumes kept in id order). Addresses left without a kept pair get
    the values of an address outside the graph (0, their own component and community); the
    other features still see every pair."""

    day: date
    window: int
    pairs: int
    kept: int
    weight_floor: float


WindowReduction = Callable[[], tuple[pl.DataFrame, pl.DataFrame]]
"""Returns the window's per-address volume sums and temporal sums (the columns of
``_volume_features`` and ``_temporal_sums``, keyed by ``id``)."""


@dataclass
class ReducedWindow:
    """A window's reduced pieces, handed over to :func:`features_from_pieces`, which takes
    ``flows`` out and releases it once the flows' features are computed (at 42M pairs it is
    1.7 GiB): the caller keeps no reference.

    ``names``: ``id`` (UInt32, the address's rank in sorted order) and ``address`` of every
    address in the window's edges; ``flows``: the columns of ``_flows``, ids for addresses;
    ``sums``: called once, while the graph algorithms run."""

    names: pl.DataFrame
    flows: pl.DataFrame | None
    sums: WindowReduction


OVERLAP_MAX_PAIRS = 20_000_000
"""Up to this many pairs the graph algorithms run in a second thread beside the aggregations;
above, one after the other, so their working memory never adds up (at 100M transfers, 42M
pairs, the two together peaked at 21.4 GiB; ``docs/benchmarks.md``)."""


def features_from_pieces(
    window_pieces: ReducedWindow,
    labels: pl.DataFrame,
    *,
    network: str,
    day: date,
    window: int,
    engine: GraphEngine,
    params: GraphParams,
    timer: StageTimer,
    cuts: list[GraphCut] | None = None,
) -> pl.DataFrame:
    """The catalog from a window's reduced pieces, wherever they were reduced (polars plans
    here, or SQL in the warehouse: ``storage.window_sql``). A window over the edge budget is
    appended to ``cuts``.
    """
    names, flows = window_pieces.names, window_pieces.flows
    window_pieces.flows = None
    if flows is None:
        raise ValueError("features_from_pieces: the window's flows were already taken")
    if not names["id"].is_sorted():  # row i is address i below
        names = names.sort("id")
    with timer.stage("graph_prepare"):
        graph_flows = _graph_flows(flows, params, cuts, day, window)
        graph, vertex_ids = _window_graph(graph_flows, names.height, params)
        del graph_flows
        lab = engine.collect(
            _label_categories(labels).join(names.lazy(), on="address").select("id", "category")
        ).lazy()
    if flows.height > OVERLAP_MAX_PAIRS:
        graph_out = engine.graph_features(graph, params, timer)
        degree, graph_n = _undirected_degree(graph), graph.n
        del graph
        parts = _aggregate(window_pieces.sums, flows, lab, day, window, engine, timer)
    else:
        # The graph algorithms run in a second thread while the aggregations run here: polars
        # (and chDB) release the GIL while they execute, so igraph (or cuGraph) and the
        # aggregations overlap. Their stage timings overlap too; the window's wall time is
        # less than their sum.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph") as pool:
            graph_job = pool.submit(engine.graph_features, graph, params, timer)
            parts = _aggregate(window_pieces.sums, flows, lab, day, window, engine, timer)
            graph_out = graph_job.result()
        degree, graph_n = _undirected_degree(graph), graph.n
        del graph
    del flows
    with timer.stage("assemble"):
        graph_columns = _graph_columns(graph_out, graph_n, degree, vertex_ids, names["address"])
        feats = _assemble(names, parts, graph_columns, lab)
        feats = feats.with_columns(
            pl.lit(network).alias("network"),
            pl.lit(day).alias("date"),
            pl.lit(window, dtype=pl.Int32).alias("window_days"),
        )
        return conform(feats, ADDRESS_FEATURES)


def _graph_flows(
    flows: pl.DataFrame, params: GraphParams, cuts: list[GraphCut] | None, day: date, window: int
) -> pl.DataFrame:
    """The pairs the graph is built from: all, or the heaviest ``params.max_edges`` (the cut
    appended to ``cuts``)."""
    if params.max_edges is None or flows.height <= params.max_edges:
        return flows
    kept = (
        flows.sort(["volume", "s", "d"], descending=[True, False, False])
        .head(params.max_edges)
        .sort("s", "d")
    )
    if cuts is not None:
        floor = float(kept["volume"].min())
        cuts.append(GraphCut(day, window, flows.height, kept.height, floor))
    return kept


def _aggregate(
    sums: WindowReduction,
    flows: pl.DataFrame,
    lab: pl.LazyFrame,
    day: date,
    window: int,
    engine: GraphEngine,
    timer: StageTimer,
) -> list[pl.DataFrame]:
    """The per-address parts of the catalog that are not graph algorithms, keyed by ``id``.
    The sums are read first, outside the stage: they are timed as ``address_sums`` (a window
    beside its graph waits for the warehouse here)."""
    volume, temporal_sums = sums()
    with timer.stage("aggregate"):
        parts = [volume, engine.collect(_temporal_features(temporal_sums.lazy(), day, window))]
        del volume, temporal_sums  # parts own them now (joined and released one by one)
        ranges = _flow_ranges(flows)
        one_step = _in_ranges(engine, ranges, _one_step)
        parts.append(one_step.select("id", "out_degree", "in_degree"))
        parts += [
            _in_ranges(engine, ranges, lambda sides: _counterparty_features(sides, lab)),
            _in_ranges(engine, ranges, _concentration_features),
            _in_ranges(engine, ranges, lambda sides: _reach_features(sides, one_step.lazy())),
            _in_ranges(engine, ranges, lambda sides: _exposure_features(sides, lab)),
        ]
        return parts


@dataclass(frozen=True)
class FlowSides:
    """The flows seen from a range of addresses: ``out``, those they sent (``s`` in the
    range); ``into``, those they received (``d`` in the range). Every per-address feature of
    the flows is computed from the two sides of its address's range."""

    out: pl.LazyFrame
    into: pl.LazyFrame


FLOW_PAIRS_PER_RANGE = 10_000_000
"""The flows' features are computed over ranges of addresses of about this many pairs each:
their joins and group-bys hold a range's pairs, not the window's (at 100M transfers, 42M
pairs at once took the step to 20.6 GiB; ``docs/benchmarks.md``)."""


def _flow_ranges(flows: pl.DataFrame) -> list[FlowSides]:
    """``flows`` (sorted by ``s``) cut into ranges of addresses of about
    :data:`FLOW_PAIRS_PER_RANGE` sent pairs each; one range (every flow on both sides) when
    they fit."""
    if flows.height <= FLOW_PAIRS_PER_RANGE:
        return [FlowSides(flows.lazy(), flows.lazy())]
    count = -(-flows.height // FLOW_PAIRS_PER_RANGE)
    cuts = {int(flows["s"][flows.height * k // count]) for k in range(1, count)}
    lows = [0, *sorted(cuts - {0})]
    highs = [*lows[1:], None]

    def within(column: str, low: int, high: int | None) -> pl.Expr:
        above = pl.col(column) >= low
        return above if high is None else above & (pl.col(column) < high)

    return [
        FlowSides(
            flows.lazy().filter(within("s", low, high)),
            flows.lazy().filter(within("d", low, high)),
        )
        for low, high in zip(lows, highs, strict=True)
    ]


def _in_ranges(
    engine: GraphEngine, ranges: list[FlowSides], plan: Callable[[FlowSides], pl.LazyFrame]
) -> pl.DataFrame:
    """``plan`` collected over each range of addresses, one after the other, the results
    stacked (each address's row comes from its own range)."""
    frames = [engine.collect(plan(sides)) for sides in ranges]
    return frames[0] if len(frames) == 1 else pl.concat(frames)


# -- encoding -------------------------------------------------------------------------------


_HASH_SEEDS = (0x5EED, 0xC0FFEE)


def _endpoints(edges: pl.LazyFrame) -> pl.LazyFrame:
    """Both ends of every edge, as one ``address`` column (with repeats)."""
    return pl.concat(
        [
            edges.select(pl.col("from_address").alias("address")),
            edges.select(pl.col("to_address").alias("address")),
        ]
    )


def _encode(edges: pl.LazyFrame, activity: pl.LazyFrame, engine):
    """Integer ids for addresses (rank in sorted order) and the inputs re-keyed by them.

    Joining tens of millions of 42-character strings is the slowest part of a window on the
    CPU, so rows are matched on a 64-bit hash of the address instead, and only the distinct
    addresses are sorted. A second, independent hash detects collisions; if one ever occurs the
    window is encoded by joining the strings themselves (exact, slower). Engines that join
    strings fast (``encode_by_hash = False``: the GPU) always take the exact path, whose joins
    stay inside the plans.
    """
    if not engine.encode_by_hash:
        return _encode_exact(edges, activity, engine)
    h1, h2 = (pl.col("address").hash(seed) for seed in _HASH_SEEDS)
    keyed = engine.collect(
        _endpoints(edges)
        .group_by(h1.alias("h"))
        .agg(pl.col("address").first(), h2.n_unique().alias("strings"))
    )
    if keyed.height and keyed["strings"].max() > 1:
        return _encode_exact(edges, activity, engine)
    names = keyed.sort("address").select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("id"), "address", "h"
    )
    index = names.lazy().select("id", "h")
    # Narrow joins (hash -> id) in row order, then the ids are placed beside the other columns:
    # nothing but two integer columns is gathered.
    ids = engine.collect(
        edges.lazy()
        .select(
            pl.col("from_address").hash(_HASH_SEEDS[0]).alias("hs"),
            pl.col("to_address").hash(_HASH_SEEDS[0]).alias("hd"),
        )
        .join(index.rename({"h": "hs", "id": "s"}), on="hs", how="left", maintain_order="left")
        .join(index.rename({"h": "hd", "id": "d"}), on="hd", how="left", maintain_order="left")
        .select("s", "d")
    )
    e = engine.collect(edges.lazy().with_columns(ids["s"], ids["d"]).select(*_EDGE_COLUMNS))
    act_ids = engine.collect(
        activity.lazy()
        .select(pl.col("address").hash(_HASH_SEEDS[0]).alias("h"))
        .join(index, on="h", how="left", maintain_order="left")
        .select("id")
    )
    act = engine.collect(activity.lazy().with_columns(act_ids["id"]).select(*_ACTIVITY_COLUMNS))
    return names.select("id", "address"), e.lazy(), act.lazy()


_EDGE_COLUMNS = (
    "s",
    "d",
    "date",
    # Only distinct assets per address are counted: a hash is enough (and, unlike the
    # Categorical type, cudf-polars runs it).
    pl.col("asset").hash(_HASH_SEEDS[0]).alias("asset"),
    "transfer_count",
    pl.col("amount_sum").cast(pl.Float64).alias("volume"),
    pl.col("amount_sum").alias("exact_volume"),
    "amount_sq_sum",
    "amount_max",
    "amount_min",
    "round_count",
    "structuring_count",
    "amount_usd",
)
_ACTIVITY_COLUMNS = (
    "id",
    "date",
    "event_count",
    "first_time",
    "last_time",
    "gap_count",
    "gap_sum_s",
    "gap_sq_sum_s",
    "gap_min_s",
    "hour_mask",
)


def _encode_exact(edges: pl.LazyFrame, activity: pl.LazyFrame, engine):
    """:func:`_encode` by string joins: the fallback for a (vanishingly rare) hash collision."""
    names = engine.collect(
        _endpoints(edges)
        .unique()
        .sort("address")
        .with_row_index("id")
        .select(pl.col("id").cast(pl.UInt32), "address")
    )
    index = names.lazy()
    e = engine.collect(
        edges.lazy()
        .join(index.rename({"address": "from_address", "id": "s"}), on="from_address")
        .join(index.rename({"address": "to_address", "id": "d"}), on="to_address")
        .select(*_EDGE_COLUMNS)
    )
    act = engine.collect(activity.lazy().join(index, on="address").select(*_ACTIVITY_COLUMNS))
    return names, e.lazy(), act.lazy()


def _label_categories(labels: pl.DataFrame) -> pl.LazyFrame:
    """One category per address: the highest in ``LABEL_PRIORITY``."""
    rank = {c: i for i, c in enumerate(LABEL_PRIORITY)}
    return (
        labels.lazy()
        .select("address", "category")
        .with_columns(
            pl.col("category")
            .replace_strict(rank, default=len(rank), return_dtype=pl.Int32)
            .alias("_rank")
        )
        .sort("address", "_rank")
        .unique("address", keep="first")
        .select("address", "category")
    )


# -- aggregations (polars plans) -------------------------------------------------------------


def _flows(e: pl.LazyFrame) -> pl.LazyFrame:
    """Directed window flows between distinct addresses: one row per (s, d).

    Volumes are summed as exact decimals and converted once, and the rows are sorted: a float
    sum depends on the order of its terms, and the graph algorithms (Leiden above all) would
    otherwise depend on how the window's rows happened to be ordered.
    """
    return (
        e.filter(pl.col("s") != pl.col("d"))
        .group_by("s", "d")
        .agg(
            pl.col("transfer_count").sum().alias("count"),
            pl.col("exact_volume").sum().cast(pl.Float64).alias("volume"),
            _usd_sum().alias("volume_usd"),
            pl.col("date").min().alias("first_day"),
            pl.col("date").max().alias("last_day"),
        )
        # One edge order for the graph algorithms, whose float sums follow it.
        .sort("s", "d")
    )


def _sum_where(values: pl.Expr, condition: pl.Expr) -> pl.Expr:
    """Sum of ``values`` where ``condition`` holds, in a group-by (0 when it never does).

    ``values.filter(condition).sum()`` says the same, but cudf-polars cannot filter inside an
    aggregation; a pointwise ``when`` it can.
    """
    return pl.when(condition).then(values).otherwise(0).sum()


def _usd_sum() -> pl.Expr:
    """Sum of ``amount_usd``; null as soon as one edge had no price (never a partial sum)."""
    usd = pl.col("amount_usd")
    return pl.when(usd.count() == pl.len()).then(usd.sum()).otherwise(None)


def _usd_sum_where(usd: pl.Expr, condition: pl.Expr) -> pl.Expr:
    """:func:`_usd_sum` of the rows where ``condition`` holds, in a group-by (0 where it never
    does): null as soon as one of them had no price."""
    unpriced = _sum_where(usd.is_null().cast(pl.Int64), condition)
    return pl.when(unpriced == 0).then(_sum_where(usd, condition)).otherwise(None)


def _volume_features(e: pl.LazyFrame) -> pl.LazyFrame:
    is_self = pl.col("s") == pl.col("d")
    out_side = e.group_by(pl.col("s").alias("id")).agg(
        pl.col("transfer_count").sum().alias("out_count"),
        pl.col("volume").sum().alias("out_volume"),
        _usd_sum().alias("out_volume_usd"),
        pl.col("amount_sq_sum").sum().alias("_out_sq"),
        pl.col("amount_max").max().alias("out_amount_max"),
        pl.col("amount_min").min().alias("out_amount_min"),
        pl.col("structuring_count").sum().alias("structuring_count"),
        _sum_where(pl.col("transfer_count"), is_self).alias("self_transfer_count"),
    )
    in_side = e.group_by(pl.col("d").alias("id")).agg(
        pl.col("transfer_count").sum().alias("in_count"),
        pl.col("volume").sum().alias("in_volume"),
        _usd_sum().alias("in_volume_usd"),
        pl.col("amount_sq_sum").sum().alias("_in_sq"),
        pl.col("amount_max").max().alias("in_amount_max"),
        pl.col("amount_min").min().alias("in_amount_min"),
    )
    # Both ends of every edge (a self-edge once): assets and round amounts per address.
    incident = pl.concat(
        [
            e.select(pl.col("s").alias("id"), "asset", "round_count"),
            e.filter(pl.col("s") != pl.col("d")).select(
                pl.col("d").alias("id"), "asset", "round_count"
            ),
        ]
    )
    per_address = incident.group_by("id").agg(
        pl.col("asset").n_unique().cast(pl.Int64).alias("asset_count"),
        pl.col("round_count").sum().alias("round_amount_count"),
    )
    return per_address.join(out_side, on="id", how="left").join(in_side, on="id", how="left")


def _counterparty_features(sides: FlowSides, lab: pl.LazyFrame):
    """Distinct counterparties (either direction), those dealt with on two or more days, the
    labelled ones, and the reciprocal ones (both directions).

    Each sent flow looks up its reverse, so a reciprocal pair is one row per end; a received
    flow adds a row only when not reciprocated. 2.4 s against 3.8-3.9 s at 4.3M pairs (2
    cores) for both views of every flow stacked and grouped by (address, counterparty)."""
    first, last = pl.col("first_day"), pl.col("last_day")
    reverse = sides.into.select(
        pl.col("d").alias("s"), pl.col("s").alias("d"), first.alias("_rf"), last.alias("_rl")
    )
    # Dealt with on two or more days <=> the pair's first and last days (either way) differ;
    # each direction's first <= last, so they differ unless all four are one day.
    rf, rl = pl.col("_rf").fill_null(first), pl.col("_rl").fill_null(first)
    sent = (
        sides.out.select("s", "d", "first_day", "last_day")
        .join(reverse, on=["s", "d"], how="left")
        .select(
            pl.col("s").alias("id"),
            pl.col("d").alias("other"),
            ((first != last) | (rf != first) | (rl != first)).alias("repeat"),
            pl.col("_rf").is_not_null().alias("reciprocal"),
        )
    )
    forward = sides.out.select(pl.col("d").alias("s"), pl.col("s").alias("d"))
    received_only = sides.into.join(forward, on=["s", "d"], how="anti").select(
        pl.col("d").alias("id"),
        pl.col("s").alias("other"),
        (first != last).alias("repeat"),
        pl.lit(False).alias("reciprocal"),
    )
    labelled = pl.concat([sent, received_only]).join(
        lab.rename({"id": "other"}), on="other", how="left"
    )
    return labelled.group_by("id").agg(
        pl.len().cast(pl.Int64).alias("counterparties"),
        pl.col("repeat").sum().cast(pl.Int64).alias("_repeat"),
        pl.col("category").is_not_null().sum().cast(pl.Int64).alias("labelled_counterparties"),
        pl.col("reciprocal").sum().cast(pl.Int64).alias("reciprocal_counterparties"),
    )


def _one_step(sides: FlowSides) -> pl.LazyFrame:
    """Per address: distinct recipients/senders and the flow volume on each side (self
    excluded). The degree features, and the 2-hop features built from them."""
    out_side = sides.out.group_by(pl.col("s").alias("id")).agg(
        pl.len().cast(pl.Int64).alias("out_degree"), pl.col("volume").sum().alias("_flow_out")
    )
    in_side = sides.into.group_by(pl.col("d").alias("id")).agg(
        pl.len().cast(pl.Int64).alias("in_degree"), pl.col("volume").sum().alias("_flow_in")
    )
    return out_side.join(in_side, on="id", how="full", coalesce=True).with_columns(
        pl.col("out_degree", "in_degree").fill_null(0),
        pl.col("_flow_out", "_flow_in").fill_null(0.0),
    )


def _concentration(flows: pl.LazyFrame, key: str, prefix: str) -> pl.LazyFrame:
    """Gini, entropy and top share of one side's volume across its counterparties."""
    x = pl.col("volume")
    # Position within the group after one global sort: row number minus the group's first
    # row number (a forward fill; a window expression over "id" is several times slower).
    row = pl.col("_row").cast(pl.Int64)
    first_row = pl.when(pl.col("id") != pl.col("id").shift(1)).then(row).forward_fill()
    ranked = (
        flows.select(pl.col(key).alias("id"), "volume")
        .sort("id", "volume")
        .with_row_index("_row")
        .with_columns((row - first_row.fill_null(0) + 1).cast(pl.Float64).alias("_i"))
    )
    # Group sums only, combined afterwards: cudf-polars cannot broadcast a group's total back
    # over its rows (so the entropy is log T - sum(x log x) / T rather than -sum(p log p)).
    total, m = pl.col("_total"), pl.col("_m")
    return (
        ranked.group_by("id")
        .agg(
            x.sum().alias("_total"),
            pl.len().cast(pl.Float64).alias("_m"),
            (pl.col("_i") * x).sum().alias("_ix"),
            _sum_where(x * x.log(), x > 0).alias("_xlogx"),
            x.max().alias("_max"),
        )
        .select(
            "id",
            pl.when(total > 0)
            .then(2.0 * pl.col("_ix") / (m * total) - (m + 1.0) / m)
            .otherwise(0.0)
            .clip(0.0, 1.0)
            .alias(f"{prefix}_volume_gini"),
            pl.when(total > 0)
            .then((total.log() - pl.col("_xlogx") / total).clip(lower_bound=0.0))
            .otherwise(0.0)
            .alias(f"{prefix}_volume_entropy"),
            pl.when(total > 0)
            .then(pl.col("_max") / total)
            .otherwise(0.0)
            .alias(f"{prefix}_top_share"),
        )
    )


def _concentration_features(sides: FlowSides) -> pl.LazyFrame:
    return _concentration(sides.out, "s", "out").join(
        _concentration(sides.into, "d", "in"), on="id", how="full", coalesce=True
    )


def _temporal_features(sums: pl.LazyFrame, day: date, window: int) -> pl.LazyFrame:
    """Activity and inter-arrival statistics, from the window's :func:`_temporal_sums`."""
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    w = float(window)
    days_per_ms = 1.0 / 86_400_000
    # Hours active on any day: one OR-ed mask from the warehouse, or the 24 bits as columns.
    if "hours" in sums.collect_schema():
        active_hours = pl.col("hours").bitwise_count_ones().cast(pl.Int32)
    else:
        active_hours = pl.sum_horizontal((pl.col(f"_h{h}") > 0).cast(pl.Int32) for h in range(24))
    return (
        sums.with_columns(
            pl.col("total_count").cast(pl.Float64).alias("_t"),
            pl.when(pl.col("_gaps") > 0)
            .then(pl.col("_gap_sum") / pl.col("_gaps"))
            .alias("interarrival_mean_s"),
        )
        .with_columns(
            (
                (pl.col("last_seen") - pl.col("first_seen")).dt.total_milliseconds() * days_per_ms
            ).alias("lifetime_days"),
            (
                (pl.lit(end).cast(TIMESTAMP) - pl.col("last_seen")).dt.total_milliseconds()
                * days_per_ms
            ).alias("recency_days"),
            (pl.col("active_days") / w).alias("activity_ratio"),
            (pl.col("_t") / pl.col("active_days")).alias("mean_daily_count"),
            (pl.col("_c2") / w - (pl.col("_t") / w) ** 2)
            .clip(lower_bound=0.0)
            .sqrt()
            .alias("daily_count_std"),
            (
                pl.when(w > 1)
                .then((pl.col("_t").log() - pl.col("_clogc") / pl.col("_t")) / math.log(w))
                .otherwise(0.0)
                .clip(0.0, 1.0)
            ).alias("day_entropy"),
            active_hours.alias("active_hours"),
            (pl.col("_weekend") / pl.col("_t")).alias("weekend_ratio"),
            pl.when(pl.col("_gaps") > 0)
            .then(
                (pl.col("_gap_sq") / pl.col("_gaps") - pl.col("interarrival_mean_s") ** 2)
                .clip(lower_bound=0.0)
                .sqrt()
            )
            .alias("interarrival_std_s"),
        )
        .with_columns(
            pl.when((pl.col("interarrival_std_s") + pl.col("interarrival_mean_s")) > 0)
            .then(
                (pl.col("interarrival_std_s") - pl.col("interarrival_mean_s"))
                / (pl.col("interarrival_std_s") + pl.col("interarrival_mean_s"))
            )
            .alias("burstiness")
        )
    )


def _temporal_sums(act: pl.LazyFrame) -> pl.LazyFrame:
    """Per address: first and last seen, active days, counts and the sums the temporal
    features are derived from (squares, logs, gaps within and across days, hour bits)."""
    # After sorting by (id, date): the gap since the previous active day of the same address.
    cross_gap = pl.when(pl.col("id") == pl.col("id").shift(1)).then(
        (pl.col("first_time") - pl.col("last_time").shift(1)).dt.total_milliseconds() / 1000.0
    )
    c = pl.col("event_count").cast(pl.Float64)
    return (
        # One integer key sorts much faster than two columns (3.3 s vs 5.6 s on 17M rows).
        act.sort(
            pl.col("id").cast(pl.UInt64) * (1 << 32) + pl.col("date").cast(pl.Int32).cast(pl.UInt64)
        )
        .with_columns(cross_gap.alias("_cross"))
        .group_by("id")
        .agg(
            pl.col("first_time").min().alias("first_seen"),
            pl.col("last_time").max().alias("last_seen"),
            pl.len().cast(pl.Int32).alias("active_days"),
            pl.col("event_count").sum().alias("total_count"),
            pl.col("event_count").max().alias("max_daily_count"),
            (c * c).sum().alias("_c2"),
            (c * c.log()).sum().alias("_clogc"),
            _sum_where(c, pl.col("date").dt.weekday() >= 6).alias("_weekend"),
            (pl.col("gap_count").sum() + pl.col("_cross").count()).alias("_gaps"),
            (pl.col("gap_sum_s").sum() + pl.col("_cross").sum()).alias("_gap_sum"),
            (pl.col("gap_sq_sum_s").sum() + (pl.col("_cross") ** 2).sum()).alias("_gap_sq"),
            pl.min_horizontal(pl.col("gap_min_s").min(), pl.col("_cross").min()).alias(
                "interarrival_min_s"
            ),
            # Hours active on any day: the OR of the daily 24-bit masks, bit by bit (cudf-polars
            # has no bitwise_or aggregation or popcount).
            *[(pl.col("hour_mask") & (1 << h)).max().alias(f"_h{h}") for h in range(24)],
        )
    )


def _reach_features(sides: FlowSides, one_step: pl.LazyFrame) -> pl.LazyFrame:
    """Two-step paths and volumes, from each neighbour's one-step totals (``one_step``: every
    address's, not only the sides' own)."""
    out2 = (
        sides.out.join(one_step, left_on="d", right_on="id", how="left")
        .group_by(pl.col("s").alias("id"))
        .agg(
            pl.col("out_degree").sum().alias("out_2hop_paths"),
            pl.col("_flow_out").sum().alias("out_2hop_volume"),
        )
    )
    in2 = (
        sides.into.join(one_step, left_on="s", right_on="id", how="left")
        .group_by(pl.col("d").alias("id"))
        .agg(
            pl.col("in_degree").sum().alias("in_2hop_paths"),
            pl.col("_flow_in").sum().alias("in_2hop_volume"),
        )
    )
    return out2.join(in2, on="id", how="full", coalesce=True)


def _exposure_features(sides: FlowSides, lab: pl.LazyFrame) -> pl.LazyFrame:
    """Counts and volumes (native, and USD where every transfer is priced) exchanged directly
    with labelled addresses, per category."""

    def side(flows: pl.LazyFrame, key: str, other: str, direction: str) -> pl.LazyFrame:
        tagged = flows.join(lab.rename({"id": other}), on=other, how="inner")
        aggs = []
        for cat in EXPOSURE_CATEGORIES:
            hit = pl.col("category") == cat
            aggs += [
                _sum_where(pl.col("count"), hit).alias(f"{direction}_{cat}_count"),
                _sum_where(pl.col("volume"), hit).alias(f"{direction}_{cat}_volume"),
                _usd_sum_where(pl.col("volume_usd"), hit).alias(f"{direction}_{cat}_volume_usd"),
            ]
        risky = pl.col("category").is_in(list(RISKY_CATEGORIES))
        aggs.append(_sum_where(pl.col("volume"), risky).alias(f"_{direction}_risky"))
        return tagged.group_by(pl.col(key).alias("id")).agg(aggs)

    out_side, in_side = side(sides.out, "s", "d", "out"), side(sides.into, "d", "s", "in")
    return out_side.join(in_side, on="id", how="full", coalesce=True)


# -- graph ------------------------------------------------------------------------------------


def _window_graph(
    flows: pl.DataFrame, n_names: int, params: GraphParams
) -> tuple[WindowGraph, np.ndarray]:
    """The window's graph (the same arrays for every engine), and for each address id its
    vertex id (-1: not in the graph)."""
    src_ids = flows["s"].to_numpy().astype(np.int64)
    dst_ids = flows["d"].to_numpy().astype(np.int64)
    present = np.zeros(n_names, dtype=bool)
    present[src_ids] = True
    present[dst_ids] = True
    vertex_of = np.where(present, np.cumsum(present) - 1, -1)
    n = int(present.sum())
    src, dst = vertex_of[src_ids], vertex_of[dst_ids]
    # Zero-amount flows still connect: a tiny weight rather than a dropped edge.
    weight = np.maximum(flows["volume"].to_numpy(), 1e-12)
    usrc, udst, uweight = _undirected(src, dst, weight, n)
    graph = WindowGraph(
        n=n,
        src=src,
        dst=dst,
        weight=weight,
        usrc=usrc,
        udst=udst,
        uweight=uweight,
        sources=betweenness_sources(n, params.betweenness_samples, params.seed),
    )
    return graph, vertex_of


def _undirected(
    src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The undirected simple view of the directed edges: one edge per unordered pair
    (``u < v``), sorted by ``(u, v)``, weighing the sum of its directions (at most two, so
    the sum does not depend on their order).

    numpy, not a polars group-by on ``(u, v)``: one sort of a single 64-bit key. At 42M pairs
    the two-key group-by took the step from about 6.5 to 13.7 GiB (``docs/benchmarks.md``).
    """
    if src.size == 0:
        return src.copy(), dst.copy(), weight.copy()
    size = np.uint64(n)
    key = np.minimum(src, dst).astype(np.uint64) * size + np.maximum(src, dst).astype(np.uint64)
    order = np.argsort(key, kind="stable")  # the flows come sorted by source: long runs
    key = key[order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    uweight = np.add.reduceat(weight[order], starts)
    del order
    key = key[starts]
    return (key // size).astype(np.int64), (key % size).astype(np.int64), uweight


def _undirected_degree(graph: WindowGraph) -> np.ndarray:
    """Each vertex's neighbours in the undirected simple view."""
    both = np.concatenate([graph.usrc, graph.udst])
    return np.bincount(both, minlength=graph.n).astype(np.float64)


def _graph_columns(
    out: dict[str, np.ndarray],
    graph_n: int,
    degree: np.ndarray,
    vertex_of: np.ndarray,
    names: pl.Series,
) -> list[pl.Series]:
    """Per-address graph columns (``graph_n`` vertices of undirected ``degree``); addresses
    outside the graph get their own singleton groups."""
    in_graph = vertex_of >= 0
    v = np.where(in_graph, vertex_of, 0)
    vertex_address = np.flatnonzero(in_graph)  # address id of each vertex (ascending)

    def per_address(values: np.ndarray, outside: float) -> np.ndarray:
        return np.where(in_graph, values[v], outside) if graph_n else np.full(len(v), outside)

    def group(labels: np.ndarray) -> tuple[pl.Series, np.ndarray]:
        if graph_n:
            sizes = np.bincount(labels, minlength=graph_n)
            label_id = np.where(in_graph, vertex_address[labels[v]], np.arange(len(v)))
            size = np.where(in_graph, sizes[labels[v]], 1)
        else:
            label_id, size = np.arange(len(v)), np.ones(len(v), dtype=np.int64)
        return names.gather(label_id), size

    tri = out["triangles"].astype(np.float64)
    possible = degree * (degree - 1) / 2
    clustering = np.divide(tri, possible, out=np.zeros(graph_n), where=possible > 0)
    comp_name, comp_size = group(out["component"])
    comm_name, comm_size = group(out["community"])
    return [
        pl.Series("pagerank", per_address(out["pagerank"], 0.0)),
        pl.Series("hub_score", per_address(out["hub_score"], 0.0)),
        pl.Series("authority_score", per_address(out["authority_score"], 0.0)),
        comp_name.alias("component_id"),
        pl.Series("component_size", comp_size, dtype=pl.Int64),
        comm_name.alias("community_id"),
        pl.Series("community_size", comm_size, dtype=pl.Int64),
        pl.Series("kcore", per_address(out["kcore"], 0), dtype=pl.Int64),
        pl.Series("triangles", per_address(out["triangles"], 0), dtype=pl.Int64),
        pl.Series("clustering", per_address(clustering, 0.0)),
        pl.Series("betweenness", per_address(out["betweenness"], 0.0)),
    ]


# -- assembly ---------------------------------------------------------------------------------

_ZERO_INT = (
    "in_count",
    "out_count",
    "self_transfer_count",
    "structuring_count",
    "in_degree",
    "out_degree",
    "counterparties",
    "reciprocal_counterparties",
    "labelled_counterparties",
    "out_2hop_paths",
    "in_2hop_paths",
)


def _assemble(
    names: pl.DataFrame,
    parts: list[pl.DataFrame],
    graph_columns: list[pl.Series],
    lab: pl.LazyFrame,
) -> pl.DataFrame:
    """One row per address of ``names``, in id order. ``parts`` is emptied as it is joined:
    each part is released once its columns are in (at 10M addresses a part is up to 1.4 GiB).
    """
    feats = names
    while parts:
        feats = feats.join(parts.pop(0), on="id", how="left", maintain_order="left")
    feats = feats.join(lab.collect(), on="id", how="left", maintain_order="left")
    feats = _with_zeros(feats.rename({"category": "label_category"}))
    feats = feats.with_columns(*_derived_columns())
    feats = feats.with_columns(graph_columns)
    missing = set(FEATURE_COLUMNS) - set(feats.columns)
    if missing:  # a programming error, not bad data
        raise RuntimeError(f"features: catalog columns not produced: {sorted(missing)}")
    return feats


def _with_zeros(feats: pl.DataFrame) -> pl.DataFrame:
    """Counts and volumes an address has none of are 0, not null."""
    exposure_sides = [f"{d}_{c}" for c in EXPOSURE_CATEGORIES for d in ("in", "out")]
    exposure_cols = [f"{side}_{w}" for side in exposure_sides for w in ("count", "volume")]
    zero_float = [
        "in_volume",
        "out_volume",
        "out_2hop_volume",
        "in_2hop_volume",
        "_in_risky",
        "_out_risky",
        "in_volume_gini",
        "out_volume_gini",
        "in_volume_entropy",
        "out_volume_entropy",
        "in_top_share",
        "out_top_share",
    ]
    return feats.with_columns(
        *[pl.col(c).fill_null(0) for c in _ZERO_INT],
        *[pl.col(c).fill_null(0) for c in exposure_cols],
        *[pl.col(c).fill_null(0.0) for c in zero_float],
    )


def _derived_columns() -> list[pl.Expr]:
    """Means, spreads, USD volumes, totals and ratios derived from the merged sums."""
    exposure_sides = [f"{d}_{c}" for c in EXPOSURE_CATEGORIES for d in ("in", "out")]
    total_volume = pl.col("in_volume") + pl.col("out_volume")

    def mean_std(side: str) -> list[pl.Expr]:
        count = pl.col(f"{side}_count")
        mean = pl.col(f"{side}_volume") / count
        var = pl.col(f"_{side}_sq") / count - mean * mean
        return [
            pl.when(count > 0).then(mean).alias(f"{side}_amount_mean"),
            pl.when(count > 0).then(var.clip(lower_bound=0.0).sqrt()).alias(f"{side}_amount_std"),
        ]

    return [
        *mean_std("in"),
        *mean_std("out"),
        # Nothing received (sent) is 0 USD; a null that remains is a missing price.
        *[
            pl.when(pl.col(f"{side}_count") == 0)
            .then(0.0)
            .otherwise(pl.col(f"{side}_volume_usd"))
            .alias(f"{side}_volume_usd")
            for side in ("in", "out", *exposure_sides)
        ],
        total_volume.alias("total_volume"),
        (pl.col("in_volume") - pl.col("out_volume")).alias("net_flow"),
        pl.when(pl.max_horizontal("in_volume", "out_volume") > 0)
        .then(
            pl.min_horizontal("in_volume", "out_volume")
            / pl.max_horizontal("in_volume", "out_volume")
        )
        .otherwise(0.0)
        .alias("flow_through_ratio"),
        (pl.col("reciprocal_counterparties") / pl.col("counterparties"))
        .fill_nan(0.0)
        .fill_null(0.0)
        .alias("reciprocity"),
        (pl.col("_repeat") / pl.col("counterparties"))
        .fill_nan(0.0)
        .fill_null(0.0)
        .alias("repeat_counterparty_ratio"),
        (pl.col("round_amount_count") / pl.col("total_count")).alias("round_amount_ratio"),
        pl.when(pl.col("out_count") > 0)
        .then(pl.col("structuring_count") / pl.col("out_count"))
        .otherwise(0.0)
        .alias("structuring_ratio"),
        pl.when(total_volume > 0)
        .then(((pl.col("_in_risky") + pl.col("_out_risky")) / total_volume).clip(0.0, 1.0))
        .otherwise(0.0)
        .alias("risky_volume_share"),
    ]
