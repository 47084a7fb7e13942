"""Time-ordered paths: layering / peel chains (cycles are in ``cycles``).

- layering chain: >= ``min_chain_hops`` hops through intermediates with at most
  ``max_chain_degree`` counterparties, each forwarded within ``chain_hop_window``. Only maximal
  chains are reported (no qualifying hop before the first or after the last; a chain longer than
  ``max_chain_hops`` is reported as its first ``max_chain_hops`` hops).
- peel chain: a layering chain whose every hop passes on between ``peel_min_ratio`` and all of
  what arrived (the rest is peeled off elsewhere).

Why hand-written (numba) rather than a polars join per hop: every transfer starts a path, so the
joins carried a list-valued row per transfer and hop (20 s at 10M transfers). Here each start
transfer that no qualifying hop precedes walks depth-first over the time-sorted out-transfers of
low-degree addresses (binary search to the first one not earlier than the arrival), with at most
``chain_origin_budget`` extensions per start (counted as ``chain_origin_budget``).
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

from analytics_platform.domain.patterns.details import json_details
from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.domain.patterns.span import (
    Span,
    csr_offsets,
    finish,
    low_degree,
    on_path,
    walk_hops,
)
from analytics_platform.domain.patterns.values import (
    comparable_ratio,
    hop_ratio,
    hop_values,
    side_helpers,
    side_values,
)


@numba.njit(cache=True, nogil=True)
def _hop_into(origin, t0, in_offsets, in_times, hop):
    """Whether a transfer into ``origin`` at most ``hop`` before ``t0`` exists (then a chain
    starting at ``t0`` is not maximal)."""
    a, b = in_offsets[origin], in_offsets[origin + 1]
    k = a + np.searchsorted(in_times[a:b], t0, side="right") - 1
    return k >= a and t0 - in_times[k] <= hop


@numba.njit(cache=True, nogil=True)
def _doubled(out, r_min, r_max):
    """The found chains' arrays with twice the room."""
    found, width = out.shape
    grown = np.full((2 * found, width), -1, dtype=np.int64)
    grown[:found] = out
    return (
        grown,
        np.concatenate((r_min, np.empty(found))),
        np.concatenate((r_max, np.empty(found))),
    )


@numba.njit(cache=True, nogil=True)
def _walk(
    offsets, dst, times, amts, usd, assets, src_of, inner, in_offsets, in_times, min_hops,
    max_hops, hop, budget, close_from, close_to,
):  # fmt: skip
    """Maximal chains ending on the day: edge indices per hop (-1 padded), the smallest and
    largest hop-to-hop amount ratio (both start at 1), and how often the budget was hit."""
    out = np.full((1024, max_hops), -1, dtype=np.int64)
    r_min = np.empty(1024)
    r_max = np.empty(1024)
    found = 0
    budget_hits = 0
    path = np.empty(max_hops, dtype=np.int64)
    nodes = np.empty(max_hops + 1, dtype=np.int64)
    cursor = np.empty(max_hops + 1, dtype=np.int64)
    extended = np.zeros(max_hops + 1, dtype=np.bool_)
    lo_r = np.empty(max_hops + 1)
    hi_r = np.empty(max_hops + 1)
    for start in range(len(dst)):
        origin = src_of[start]
        t0 = times[start]
        if t0 >= close_to:
            continue
        if inner[origin] and _hop_into(origin, t0, in_offsets, in_times, hop):
            continue  # not maximal at the start: a qualifying hop came into the origin
        path[0] = start
        nodes[0] = origin
        nodes[1] = dst[start]
        lo_r[1] = 1.0
        hi_r[1] = 1.0
        depth = 1
        extended[1] = False
        node = dst[start]
        cursor[1] = offsets[node] + np.searchsorted(times[offsets[node] : offsets[node + 1]], t0)
        expansions = 0
        while depth >= 1:
            last = path[depth - 1]
            node = nodes[depth]
            pushed = False
            if depth < max_hops and inner[node]:
                end = offsets[node + 1]
                while cursor[depth] < end:
                    e = cursor[depth]
                    cursor[depth] += 1
                    if times[e] - times[last] > hop:
                        break
                    nxt = dst[e]
                    if on_path(nodes, depth, nxt):
                        continue
                    extended[depth] = True
                    expansions += 1
                    if expansions > budget:
                        budget_hits += 1
                        depth = -1  # abandon this start transfer
                        break
                    ratio = hop_ratio(amts, usd, assets, last, e)
                    path[depth] = e
                    nodes[depth + 1] = nxt
                    lo_r[depth + 1] = min(lo_r[depth], ratio)
                    hi_r[depth + 1] = max(hi_r[depth], ratio)
                    depth += 1
                    extended[depth] = False
                    lo_t = offsets[nxt]
                    cursor[depth] = lo_t + np.searchsorted(times[lo_t : offsets[nxt + 1]], times[e])
                    pushed = True
                    break
            if depth < 0:
                break
            if pushed:
                continue
            # No further hop: the path ends here.
            t_last = times[path[depth - 1]]
            if not extended[depth] and depth >= min_hops and close_from <= t_last < close_to:
                if found == len(out):
                    out, r_min, r_max = _doubled(out, r_min, r_max)
                out[found, :depth] = path[:depth]
                r_min[found] = lo_r[depth]
                r_max[found] = hi_r[depth]
                found += 1
            depth -= 1
    return out[:found], r_min[:found], r_max[:found], budget_hits


def detect_chains(span: Span, lim: PatternLimits) -> pl.DataFrame:
    """Maximal layering chains; those that peel at every hop are typed ``peel_chain``."""
    t, names = span.coded()
    small, skipped = low_degree(t, lim.max_chain_degree)
    span.hit("chain_hubs_skipped", skipped)
    # Intermediates must be low-degree; the two ends may be anything.
    inner = np.zeros(names.len(), dtype=np.bool_)
    inner[small.to_numpy()] = True
    t = t.with_columns(pl.col("time").dt.epoch("ms").alias("ms"))
    edges = t.sort("src", "ms", "tx")
    into = t.sort("dst", "ms")
    src = edges["src"].to_numpy().astype(np.int64)
    close_from = int(span.start.timestamp() * 1000)
    found, r_min, r_max, budget_hits = _walk(
        csr_offsets(src, names.len()), edges["dst"].to_numpy().astype(np.int64),
        edges["ms"].to_numpy(), *hop_values(edges), src, inner,
        csr_offsets(into["dst"].to_numpy(), names.len()),
        into["ms"].to_numpy(), lim.min_chain_hops, lim.max_chain_hops,
        int(lim.chain_hop_window.total_seconds() * 1000), lim.chain_origin_budget, close_from,
        close_from + 86_400_000,
    )  # fmt: skip
    span.hit("chain_origin_budget", int(budget_hits))
    if found.shape[0] == 0:
        return pl.concat(
            [finish(pl.DataFrame(), span, k) for k in ("layering_chain", "peel_chain")]
        )
    found_df = (
        walk_hops(found, edges, span)
        .group_by("walk", maintain_order=True)
        .agg(
            pl.col("src").append(pl.col("dst").last()).alias("members"),
            pl.col("tx").alias("tx_hashes"),
            pl.col("time").first().alias("first_time"),
            pl.col("time").last().alias("last_time"),
            pl.col("amt").sum().alias("total_amount"),
            *side_values("kept", lambda c: c.last()),
            *side_values("sent", lambda c: c.first()),
            pl.len().alias("hops"),
        )
        .with_columns(comparable_ratio("kept", "sent").round(4).alias("kept_ratio"))
        .drop("kept", "sent", *side_helpers("kept", "sent"))
        .sort("walk")
        .with_columns(pl.Series("ratio_min", r_min), pl.Series("ratio_max", r_max))
    )
    hops_e = pl.col("hops")
    found_df = found_df.with_columns(
        pl.concat_list(
            pl.lit("source"),
            pl.col("members").list.slice(1, hops_e - 1).list.eval(pl.lit("intermediate")),
            pl.lit("sink"),
        ).alias("roles"),
        pl.col("members").list.first().alias("center_address"),
        (
            (pl.col("ratio_min") >= lim.peel_min_ratio)
            & (pl.col("ratio_max") <= 1.0)
            & (pl.col("ratio_min") < 1.0)
        ).alias("peels"),
    ).with_columns(
        (
            0.5 * ((hops_e - lim.min_chain_hops + 1) / lim.min_chain_hops).clip(0, 1)
            + 0.5 * pl.when(pl.col("peels")).then(1.0).otherwise(0.6)
        ).alias("score"),
        json_details("hops", "kept_ratio", "peels"),
    )
    return pl.concat(
        [
            finish(found_df.filter(~pl.col("peels")), span, "layering_chain"),
            finish(found_df.filter(pl.col("peels")), span, "peel_chain"),
        ]
    )
