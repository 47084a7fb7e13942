"""Cycles: time-ordered round trips, enumerated depth-first over a time-ordered adjacency.

A cycle is ``min_cycle_length``..``max_cycle_length`` hops through distinct addresses that
returns to its origin within ``cycle_window`` of its first transfer; each hop leaves no earlier
than the previous one arrived and passes on ``min_hop_ratio``..``max_hop_ratio`` of it (``None``
turns the amount test off; in USD where the asset changes, and failed where that has no price:
:func:`~analytics_platform.domain.patterns.values.hop_ratio`). Only cycles closing on the
span's day are reported. With ``cycle_order: any`` the hops may come in any time order (a ring
of accounts paying each other within the window, as bank-ledger typologies define a cycle); the
walk then starts at the cycle's first transfer and the cycle belongs to the day of its last.
A ring closed through several transfers between the same accounts is one cycle
(:func:`one_per_ring`), not one per combination of them.

Why hand-written (numba) rather than a polars join per hop: a join materialises every partial
path of every origin before filtering on time and amount, which took 20 s and most of the
memory at 1M transfers. Here each start transfer walks the out-transfers of the address it
reached, sorted by time, starting at the first one not earlier than its arrival (binary search)
and stopping at the end of the window, so only paths that satisfy every test are ever built.
Bounds, all counted in ``limits_hit``: addresses with more than ``max_cycle_degree`` recipients
are not expanded (``cycle_hubs_not_expanded``), each start transfer may extend at most
``cycle_origin_budget`` partial paths (``cycle_origin_budget``), at most ``MAX_CYCLES`` cycles are
kept (``cycle_output_limit``).
"""

from __future__ import annotations

from datetime import timedelta

import numba
import numpy as np
import polars as pl

from analytics_platform.domain.patterns.details import json_details
from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.domain.patterns.span import Span, csr_offsets, finish, on_path, walk_hops
from analytics_platform.domain.patterns.values import (
    comparable_ratio,
    hop_ratio,
    hop_values,
    side_helpers,
    side_values,
)

MAX_CYCLES = 1_000_000


@numba.njit(cache=True, nogil=True)
def _enumerate(
    offsets, dst, times, txs, amts, usd, assets, n_edges, src_of, max_len, min_len, window, lo, hi,
    use_ratio, budget, close_from, close_to, max_out, any_order,
):  # fmt: skip
    """Cycles as rows of edge indices (-1 padded), and how often the budget was hit.

    ``any_order``: hops in any time order, all within ``window`` after the first transfer of
    the cycle (the walk starts there: every other hop is later in (time, row) order), reported
    on the day of its last transfer. Otherwise each hop leaves no earlier than the previous
    one arrived."""
    out = np.full((max_out, max_len), -1, dtype=np.int64)
    found = 0
    budget_hits = 0
    path = np.empty(max_len, dtype=np.int64)  # edge per hop
    nodes = np.empty(max_len + 1, dtype=np.int64)
    cursor = np.empty(max_len, dtype=np.int64)  # next candidate edge per depth
    latest = np.empty(max_len + 1, dtype=np.int64)  # latest hop time on the path, per depth
    for start in range(n_edges):
        origin = src_of[start]
        t_first = times[start]
        if t_first + window < close_from or t_first >= close_to:
            continue  # cannot close on the span's day
        path[0] = start
        nodes[0] = origin
        nodes[1] = dst[start]
        latest[1] = t_first
        depth = 1  # hops on the path
        node = dst[start]
        cursor[1] = np.searchsorted(times[offsets[node] : offsets[node + 1]], t_first)
        cursor[1] += offsets[node]
        expansions = 0
        while depth >= 1:  # a path is never pushed beyond max_len - 1 hops
            last = path[depth - 1]
            node = nodes[depth]
            end = offsets[node + 1]
            advanced = False
            while cursor[depth] < end:
                e = cursor[depth]
                cursor[depth] += 1
                t = times[e]
                if t - t_first > window:
                    break  # out-transfers are time-sorted: none later can qualify
                if any_order and t == t_first and txs[e] < txs[start]:
                    continue  # the walk starts at the cycle's first transfer
                t_last = max(latest[depth], t)
                if any_order and t_last >= close_to:
                    continue  # would end after the span's day
                if use_ratio:
                    ratio = hop_ratio(amts, usd, assets, last, e)
                    if ratio < lo or ratio > hi:
                        continue
                nxt = dst[e]
                if nxt == origin:
                    if depth + 1 >= min_len and close_from <= t_last < close_to and found < max_out:
                        out[found, :depth] = path[:depth]
                        out[found, depth] = e
                        found += 1
                    continue
                if on_path(nodes, depth, nxt) or depth + 1 >= max_len:
                    continue
                expansions += 1
                if expansions > budget:
                    budget_hits += 1
                    cursor[depth] = end
                    depth = 0  # abandon this start transfer
                    break
                path[depth] = e
                nodes[depth + 1] = nxt
                depth += 1
                latest[depth] = t_last
                lo_t = offsets[nxt]
                since = t_first if any_order else t
                cursor[depth] = lo_t + np.searchsorted(times[lo_t : offsets[nxt + 1]], since)
                advanced = True
                break
            if not advanced and depth >= 1:
                depth -= 1
    return out[:found], budget_hits


def detect_cycles(span: Span, lim: PatternLimits) -> pl.DataFrame:
    t, names = span.coded()
    fan = t.group_by("src").agg(pl.col("dst").n_unique().alias("d"))
    hubs = fan.filter(pl.col("d") > lim.max_cycle_degree)["src"].implode()
    span.hit("cycle_hubs_not_expanded", fan.filter(pl.col("d") > lim.max_cycle_degree).height)
    # Out-transfers of each address in time order (tx, the row, breaks ties as span.t does).
    edges = (
        t.filter(~pl.col("src").is_in(hubs) & ~pl.col("dst").is_in(hubs))
        .with_columns(pl.col("time").dt.epoch("ms").alias("ms"))
        .sort("src", "ms", "tx")
    )
    if edges.height == 0:
        return finish(pl.DataFrame(), span, "cycle")
    src = edges["src"].to_numpy().astype(np.int64)
    offsets = csr_offsets(src, names.len())
    close_from = int(span.start.timestamp() * 1000)
    close_to = int((span.start + timedelta(days=1)).timestamp() * 1000)
    found, budget_hits = _enumerate(
        offsets,
        edges["dst"].to_numpy().astype(np.int64),
        edges["ms"].to_numpy(),
        edges["tx"].to_numpy().astype(np.int64),
        *hop_values(edges),
        edges.height,
        src,
        lim.max_cycle_length,
        lim.min_cycle_length,
        int(lim.cycle_window.total_seconds() * 1000),
        lim.min_hop_ratio if lim.min_hop_ratio is not None else 0.0,
        lim.max_hop_ratio if lim.max_hop_ratio is not None else np.inf,
        lim.min_hop_ratio is not None or lim.max_hop_ratio is not None,
        lim.cycle_origin_budget,
        close_from,
        close_to,
        MAX_CYCLES,
        lim.cycle_order == "any",
    )
    span.hit("cycle_origin_budget", int(budget_hits))
    span.hit("cycle_output_limit", int(found.shape[0] == MAX_CYCLES))
    if found.shape[0] == 0:
        return finish(pl.DataFrame(), span, "cycle")
    cycles = (
        walk_hops(found, edges, span)
        .group_by("walk", maintain_order=True)
        .agg(
            pl.col("src").alias("members"),
            pl.col("tx").alias("tx_hashes"),
            pl.col("time").min().alias("first_time"),  # the walk's first hop
            pl.col("time").max().alias("last_time"),
            pl.col("amt").alias("hop_amounts"),
            *side_values("returned", lambda c: c.last()),
            *side_values("sent", lambda c: c.first()),
            pl.len().alias("hops"),
        )
        .with_columns(comparable_ratio("returned", "sent").alias("return_ratio"))
        .drop("returned", "sent", *side_helpers("returned", "sent"))
    )
    found_df = cycles.with_columns(
        pl.col("members").list.first().alias("center_address"),
        pl.concat_list(
            pl.lit("source"), pl.col("members").list.slice(1).list.eval(pl.lit("intermediate"))
        ).alias("roles"),
        (
            # a ratio across assets without prices is unknown: neither kept nor lost, half
            0.6 * pl.col("return_ratio").clip(0.0, 1.0).fill_null(0.5)
            + 0.4 * ((pl.col("hops") - 1) / 5).clip(0.0, 1.0)
        ).alias("score"),
        pl.col("return_ratio").round(4),
    ).with_columns(json_details("hops", "return_ratio"))
    return finish(one_per_ring(found_df), span, "cycle")


def one_per_ring(cycles: pl.DataFrame) -> pl.DataFrame:
    """One cycle per ring: the same accounts in the same order from the same origin, closed
    again through other transfers between them (two payments on each of two hops make four
    walks), is one round trip to an analyst. Its transfers, times and total are those of all
    its walks; its score and return ratio those of its best walk (then the earliest, then the
    first transfers by id: the same choice in any run), whose transfers come first."""
    walks = cycles.sort(
        ["score", "first_time", "last_time", pl.col("tx_hashes").list.join(",")],
        descending=[True, False, False, False],
    )
    ring = "members"  # in walk order from the origin (members[0], the centre)
    moved = (
        walks.select(ring, "tx_hashes", "hop_amounts")
        .explode("tx_hashes", "hop_amounts", empty_as_null=False)
        .unique([ring, "tx_hashes"], keep="first", maintain_order=True)
        .group_by(ring, maintain_order=True)
        .agg(pl.col("tx_hashes"), pl.col("hop_amounts").sum().alias("total_amount"))
    )
    return (
        walks.group_by(ring, maintain_order=True)
        .agg(
            pl.all().exclude("tx_hashes", "hop_amounts", "first_time", "last_time").first(),
            pl.col("first_time").min(),
            pl.col("last_time").max(),
        )
        .join(moved, on=ring, maintain_order="left")
    )
