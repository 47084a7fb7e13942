"""Layered flows: scatter-gather, gather-scatter, stack and bipartite.

All four are built from *forwarding steps*: a -> m -> c where m passes funds on within
``hop_window`` of receiving them and m has at most ``max_intermediate_degree`` counterparties
(hubs are services, not layering accounts; counted as ``flow_hubs_skipped``).

- scatter-gather: one source, >= ``min_width`` distinct intermediates, one sink (the sink may
  be the source itself: funds fanned out and collected back).
- stack: the same with several sources and several sinks (layered fan-out / fan-in): a
  connected set of forwarding steps with >= 2 sources, >= ``min_width`` intermediates and >= 2
  sinks.
- gather-scatter: one centre receiving from >= ``min_width`` distinct senders and then paying
  >= ``min_width`` distinct recipients, gathers before scatters, within ``flow_window``.
- bipartite: >= ``min_bipartite_side`` senders that each pay the same >= 2 recipients
  (a dense block of low-degree accounts).
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from analytics_platform.domain.patterns.details import json_details, roles_list, with_one_off_share
from analytics_platform.domain.patterns.limits import PatternLimits
from analytics_platform.domain.patterns.span import (
    Span,
    csr_offsets,
    decode_ids,
    finish,
    low_degree,
)
from analytics_platform.domain.patterns.values import (
    comparable_ratio,
    in_ratio_unit,
    ratio_unit,
    side_helpers,
    side_values,
)


def forwarding_steps(span: Span, lim: PatternLimits) -> pl.DataFrame:
    """Every a -> m -> c with m forwarding within ``hop_window``; bounded by ``flow_budget``.

    Addresses are integer ids and transfers row numbers (``Span.coded``): the steps are the
    largest frame of pattern detection. Detectors decode what they keep.
    """
    t, _ = span.coded()
    mids, skipped = low_degree(t, lim.max_intermediate_degree)
    span.hit("flow_hubs_skipped", skipped)
    inn = t.filter(pl.col("dst").is_in(mids.implode())).select(
        pl.col("src").alias("a"),
        pl.col("dst").alias("m"),
        pl.col("time").alias("t1"),
        pl.col("tx").alias("tx1"),
        pl.col("amt").alias("amt1"),
    )
    out = t.filter(pl.col("src").is_in(mids.implode())).select(
        pl.col("src").alias("m"),
        pl.col("dst").alias("c"),
        pl.col("time").alias("t2"),
        pl.col("tx").alias("tx2"),
        pl.col("amt").alias("amt2"),
    )
    # The join's size is known before it runs: drop the widest intermediates until it fits.
    sizes = (
        inn.group_by("m")
        .len("n_in")
        .join(out.group_by("m").len("n_out"), on="m")
        .with_columns((pl.col("n_in") * pl.col("n_out")).alias("pairs"))
        .sort("pairs")
        .with_columns(pl.col("pairs").cum_sum().alias("running"))
    )
    over = sizes.filter(pl.col("running") > lim.flow_budget)
    span.hit("flow_budget_intermediates_dropped", over.height)
    keep = sizes.filter(pl.col("running") <= lim.flow_budget)["m"].implode()
    hop = pl.duration(seconds=int(lim.hop_window.total_seconds()))
    return (
        inn.filter(pl.col("m").is_in(keep))
        .join(out, on="m")
        .filter(
            (pl.col("t2") >= pl.col("t1"))
            & (pl.col("t2") - pl.col("t1") <= hop)
            & (pl.col("c") != pl.col("m"))
            & (pl.col("a") != pl.col("m"))
        )
    )


def _components(a: pl.Series, b: pl.Series, n: int) -> np.ndarray:
    """Connected-component label of each of ``n`` ids, linked pairwise by ``a`` and ``b``
    (``a`` is repeated when ``b`` is longer). scipy's sparse graph, not igraph: building an
    igraph graph goes through Python lists (5 s for the 2.5M steps of 1M transfers)."""
    rows = np.resize(a.to_numpy(), len(b))
    links = coo_matrix((np.ones(len(b), dtype=np.int8), (rows, b.to_numpy())), shape=(n, n))
    return connected_components(links, directed=False)[1]


def _flow_score(width: pl.Expr, first: pl.Expr, last: pl.Expr, lim: PatternLimits) -> pl.Expr:
    compact = 1.0 - (last - first).dt.total_seconds() / lim.flow_window.total_seconds()
    return 0.5 * ((width - lim.min_width + 1) / lim.min_width).clip(0, 1) + 0.5 * compact.clip(0, 1)


def detect_scatter_gather(span: Span, steps: pl.DataFrame, lim: PatternLimits) -> pl.DataFrame:
    names = span.coded()[1]
    window = pl.duration(seconds=int(lim.flow_window.total_seconds()))
    # Cheap counts first; the lists are gathered only for (source, sink) pairs that qualify:
    # wide enough, ending on the span's day.
    wide = (
        steps.group_by("a", "c")
        .agg(
            pl.col("m").n_unique().alias("width"),
            pl.col("t1").min().alias("first_time"),
            pl.col("t2").max().alias("last_time"),
        )
        .filter(
            (pl.col("width") >= lim.min_width)
            & (pl.col("last_time") >= span.start)
            & (pl.col("last_time") - pl.col("first_time") <= window)
        )
        .select("a", "c")
    )
    g = (
        steps.join(wide, on=["a", "c"], how="semi")
        .group_by("a", "c")
        .agg(
            pl.col("m").unique(maintain_order=True).alias("mids"),
            pl.col("tx1").append(pl.col("tx2")).unique(maintain_order=True).alias("tx_hashes"),
            pl.col("amt1").sum().alias("amount_out"),
            pl.col("amt2").sum().alias("amount_back"),
            pl.col("t1").min().alias("first_time"),
            pl.col("t2").max().alias("last_time"),
        )
    )
    g = g.filter(
        (pl.col("mids").list.len() >= lim.min_width)
        & (pl.col("last_time") - pl.col("first_time") <= window)
    )
    g = decode_ids(g, {"mids": names, "tx_hashes": span.t["tx"], "a": names, "c": names})
    members, roles = roles_list(
        (pl.concat_list("a"), "source"),
        (pl.col("mids"), "intermediate"),
        (pl.concat_list("c"), "sink"),
    )
    found = g.with_columns(
        members.alias("members"),
        roles.alias("roles"),
        pl.col("a").alias("center_address"),
        (pl.col("amount_out") + pl.col("amount_back")).alias("total_amount"),
        _flow_score(
            pl.col("mids").list.len(), pl.col("first_time"), pl.col("last_time"), lim
        ).alias("score"),
        pl.col("mids").list.len().alias("width"),
        (pl.col("a") == pl.col("c")).alias("returns_to_source"),
    ).with_columns(
        # A source == sink flow lists the address twice; keep one membership (as the source).
        pl.when(pl.col("returns_to_source"))
        .then(pl.col("members").list.head(pl.col("members").list.len() - 1))
        .otherwise(pl.col("members"))
        .alias("members"),
        pl.when(pl.col("returns_to_source"))
        .then(pl.col("roles").list.head(pl.col("roles").list.len() - 1))
        .otherwise(pl.col("roles"))
        .alias("roles"),
        json_details("width", "amount_out", "amount_back", "returns_to_source"),
    )
    return finish(found, span, "scatter_gather")


def detect_stacks(span: Span, steps: pl.DataFrame, lim: PatternLimits) -> pl.DataFrame:
    """Connected layers of forwarding steps with several sources and several sinks."""
    if steps.height == 0:
        return finish(steps.clear(), span, "stack")
    names = span.coded()[1]
    membership = _components(steps["m"], pl.concat([steps["a"], steps["c"]]), names.len())
    # Components too large to be one scheme are counted and dropped before anything is listed.
    sizes = np.bincount(membership)
    too_big = sizes > lim.max_component
    span.hit("stack_over_max_component", int(too_big.sum()))
    step_component = membership[steps["m"].to_numpy()]
    keep = ~too_big[step_component]
    tagged = steps.filter(pl.Series(keep)).with_columns(
        pl.Series("component", step_component[keep])
    )
    comp = tagged.group_by("component").agg(
        pl.col("a").unique().sort().alias("sources"),
        pl.col("m").unique().sort().alias("mids"),
        pl.col("c").unique().sort().alias("sinks"),
        pl.col("tx1").append(pl.col("tx2")).unique().sort().alias("tx_hashes"),
        (pl.col("amt1").sum() + pl.col("amt2").sum()).alias("total_amount"),
        pl.col("t1").min().alias("first_time"),
        pl.col("t2").max().alias("last_time"),
    )
    window = pl.duration(seconds=int(lim.flow_window.total_seconds()))
    comp = (
        comp.filter(pl.col("last_time") - pl.col("first_time") <= window)
        .with_columns(
            # An address in two layers keeps its first role (source, intermediate, sink).
            pl.col("mids").list.set_difference("sources").alias("mids"),
        )
        .with_columns(
            pl.col("sinks").list.set_difference(pl.concat_list("sources", "mids")).alias("sinks"),
        )
        .filter(
            (pl.col("sources").list.len() >= 2)
            & (pl.col("sinks").list.len() >= 2)
            & (pl.col("mids").list.len() >= lim.min_width)
        )
    )
    comp = decode_ids(
        comp, {"sources": names, "mids": names, "sinks": names, "tx_hashes": span.t["tx"]}
    )
    members, roles = roles_list(
        (pl.col("sources"), "source"), (pl.col("mids"), "intermediate"), (pl.col("sinks"), "sink")
    )
    found = comp.with_columns(
        members.alias("members"),
        roles.alias("roles"),
        pl.col("mids").list.first().alias("center_address"),
        _flow_score(
            pl.col("mids").list.len(), pl.col("first_time"), pl.col("last_time"), lim
        ).alias("score"),
        pl.col("sources").list.len().alias("sources_n"),
        pl.col("mids").list.len().alias("intermediates_n"),
        pl.col("sinks").list.len().alias("sinks_n"),
    ).with_columns(json_details("sources_n", "intermediates_n", "sinks_n"))
    return finish(found, span, "stack")


@numba.njit(cache=True, nogil=True)
def _best_turns(
    centers, in_off, in_other, in_time, out_off, out_other, out_time, window, start, min_width,
    n_addresses,
):  # fmt: skip
    """Per centre, the turn (an out-transfer's time) with the widest gather-scatter ending on the
    span's day: distinct senders in [turn - window, turn], distinct recipients (not senders) in
    [turn, turn + window]. Ties: the earliest turn. Width 0: none qualifies."""
    best_turn = np.zeros(len(centers), dtype=np.int64)
    best_width = np.zeros(len(centers), dtype=np.int64)
    mark = np.zeros(n_addresses, dtype=np.int64)  # 2k: sender of turn k, 2k + 1: recipient
    stamp = 0
    for i in range(len(centers)):
        c = centers[i]
        a0, a1, b0, b1 = in_off[c], in_off[c + 1], out_off[c], out_off[c + 1]
        for j in range(b0, b1):
            turn = out_time[j]
            if turn < start - window or (j > b0 and out_time[j - 1] == turn):
                continue  # too early to end on the day, or a turn already tried
            k = j
            while k < b1 and out_time[k] - turn <= window:
                k += 1
            if out_time[k - 1] < start:
                continue  # its last scatter is before the day
            stamp += 2
            senders = 0
            for p in range(a0, a1):
                if in_time[p] > turn:
                    break
                if turn - in_time[p] <= window and mark[in_other[p]] != stamp:
                    mark[in_other[p]] = stamp
                    senders += 1
            if senders < min_width:
                continue
            recipients = 0
            for q in range(j, k):
                o = out_other[q]
                if mark[o] != stamp and mark[o] != stamp + 1:
                    mark[o] = stamp + 1
                    recipients += 1
            width = min(senders, recipients)
            if width >= min_width and width > best_width[i]:
                best_width[i] = width
                best_turn[i] = turn
    return best_turn, best_width


def _by_center(rows: pl.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR view of ``rows`` (center, other, us) sorted by centre and time: offsets per centre id,
    the counterparties and the times."""
    rows = rows.sort("center", "us", "tx")
    centre = rows["center"].to_numpy()
    return csr_offsets(centre, n), rows["other"].to_numpy().astype(np.int64), rows["us"].to_numpy()


def detect_gather_scatter(span: Span, lim: PatternLimits) -> pl.DataFrame:
    """Why a numba sweep (``_best_turns``) rather than joins: every out-transfer of a centre is a
    candidate turn, and joining turns with receipts listed every (turn, receipt) pair: 54 s at
    10M transfers. The sweep counts distinct counterparties per turn with a marker array and
    lists members only for the one best turn per centre."""
    t, names = span.coded()
    window = pl.duration(seconds=int(lim.flow_window.total_seconds()))
    turns, ins, outs = _gather_scatter_turns(span, lim, t, names)
    best = _turn_sides(turns, ins, outs, window)
    best = with_one_off_share(
        best.with_columns(pl.concat_list("senders", "recipients").alias("_others")), t, "_others"
    ).drop("_others")
    best = decode_ids(
        best,
        {
            "senders": names,
            "recipients": names,
            "center": names,
            "tx_in": span.t["tx"],
            "tx_out": span.t["tx"],
        },
    )
    members, roles = roles_list(
        (pl.col("senders"), "source"),
        (pl.concat_list("center"), "intermediate"),
        (pl.col("recipients"), "sink"),
    )
    found = (
        best.with_columns(
            members.alias("members"),
            roles.alias("roles"),
            pl.col("center").alias("center_address"),
            pl.concat_list("tx_in", "tx_out").alias("tx_hashes"),
            (pl.col("amount_in") + pl.col("amount_out")).alias("total_amount"),
            _flow_score(pl.col("width"), pl.col("first_time"), pl.col("last_time"), lim).alias(
                "score"
            ),
            pl.col("senders").list.len().alias("senders_n"),
            pl.col("recipients").list.len().alias("recipients_n"),
            # What the centre passed on of what it collected: a mule keeps little.
            comparable_ratio("amount_out", "amount_in").round(3).alias("flow_through"),
            ratio_unit("amount_out", "amount_in").alias("flow_unit"),
        )
        .with_columns(in_ratio_unit("amount_out", "amount_in"))
        .drop(side_helpers("amount_in", "amount_out"))
        .with_columns(
            json_details(
                "senders_n",
                "recipients_n",
                "amount_in",
                "amount_out",
                "flow_through",
                "flow_unit",
                "one_off_share",
            )
        )
    )
    return finish(found, span, "gather_scatter")


def _gather_scatter_turns(
    span: Span, lim: PatternLimits, t: pl.DataFrame, names: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Each candidate centre's best turn (the instant its gathering becomes scattering) and
    width, and the centres' receipts (``ins``) and payments (``outs``)."""
    t = t.with_columns(pl.col("time").dt.epoch("us").alias("us"))
    value = ("amt", "usd", "asset_id")
    ins = t.select(
        pl.col("dst").alias("center"), pl.col("src").alias("other"), "time", "us", "tx", *value
    )
    outs = t.select(
        pl.col("src").alias("center"), pl.col("dst").alias("other"), "time", "us", "tx", *value
    )
    n_in = ins.group_by("center").agg(pl.col("other").n_unique().alias("n_in"))
    n_out = outs.group_by("center").agg(pl.col("other").n_unique().alias("n_out"))
    cand = n_in.join(n_out, on="center").filter(
        (pl.col("n_in") >= lim.min_width) & (pl.col("n_out") >= lim.min_width)
    )
    span.hit(
        "gather_scatter_over_max_fan",
        cand.filter(pl.col("n_in") + pl.col("n_out") > lim.max_fan).height,
    )
    # The pattern ends with its last scatter, on the span's day: the centre pays someone that
    # day, and only turns within flow_window before the day can reach it.
    paying_today = outs.filter(pl.col("time") >= span.start)["center"].unique().implode()
    cand = cand.filter(
        (pl.col("n_in") + pl.col("n_out") <= lim.max_fan) & pl.col("center").is_in(paying_today)
    )["center"].sort()
    ins, outs = (
        ins.filter(pl.col("center").is_in(cand.implode())),
        outs.filter(pl.col("center").is_in(cand.implode())),
    )
    in_off, in_other, in_time = _by_center(ins, names.len())
    out_off, out_other, out_time = _by_center(outs, names.len())
    turn_us, width = _best_turns(
        cand.to_numpy().astype(np.int64), in_off, in_other, in_time, out_off, out_other, out_time,
        int(lim.flow_window.total_seconds() * 1_000_000),
        int(span.start.timestamp() * 1_000_000), lim.min_width, names.len(),
    )  # fmt: skip
    turns = pl.DataFrame({"center": cand, "turn": turn_us, "width": width}).filter(
        pl.col("width") > 0
    )
    turns = turns.with_columns(pl.col("turn").cast(pl.Datetime("us", "UTC")).cast(t["time"].dtype))
    return turns, ins, outs


def _turn_sides(
    turns: pl.DataFrame, ins: pl.DataFrame, outs: pl.DataFrame, window: pl.Expr
) -> pl.DataFrame:
    """Per centre, the senders within ``window`` before its turn and the recipients within it
    after (those that also sent left out), with their transfers and values."""
    # Members of the chosen turn only, in transfer order.
    before = (
        turns.join(ins, on="center")
        .filter((pl.col("time") <= pl.col("turn")) & (pl.col("turn") - pl.col("time") <= window))
        .sort("center", "tx")
        .group_by("center", maintain_order=True)
        .agg(
            pl.col("other").unique(maintain_order=True).alias("senders"),
            pl.col("tx").alias("tx_in"),
            *side_values("amount_in"),
            pl.col("time").min().alias("first_time"),
        )
    )
    after = (
        turns.join(outs, on="center")
        .filter((pl.col("time") >= pl.col("turn")) & (pl.col("time") - pl.col("turn") <= window))
        .sort("center", "tx")
        .group_by("center", maintain_order=True)
        .agg(
            pl.col("other").unique(maintain_order=True).alias("recipients"),
            pl.col("tx").alias("tx_out"),
            *side_values("amount_out"),
            pl.col("time").max().alias("last_time"),
        )
    )
    return (
        turns.join(before, on="center")
        .join(after, on="center")
        .sort("center")
        .with_columns(pl.col("recipients").list.set_difference("senders").alias("recipients"))
    )


def detect_bipartite(span: Span, lim: PatternLimits) -> pl.DataFrame:
    """Blocks of senders that each paid the same >= 2 recipients, low-degree accounts only."""
    t, names = span.coded()
    small, skipped = low_degree(t, lim.max_bipartite_degree)
    span.hit("bipartite_hubs_skipped", skipped)
    e = t.filter(pl.col("src").is_in(small.implode()) & pl.col("dst").is_in(small.implode()))
    pairs = e.select("src", "dst").unique()
    # Senders sharing >= 2 recipients are linked; each connected group of linked senders with
    # the recipients they share is one block.
    shared = (
        pairs.join(pairs, on="dst", suffix="_2")
        .filter(pl.col("src") < pl.col("src_2"))
        .group_by("src", "src_2")
        .agg(pl.col("dst").alias("common"))
        .filter(pl.col("common").list.len() >= 2)
    )
    if shared.height == 0:
        return finish(e.clear(), span, "bipartite")
    nodes = pl.concat([shared["src"], shared["src_2"]]).unique().sort()
    membership = _components(shared["src"], shared["src_2"], names.len())[nodes.to_numpy()]
    block = pl.DataFrame({"src": nodes, "block": membership})
    linked = shared.join(block, on="src").explode("common", empty_as_null=False)
    sinks = linked.group_by("block").agg(pl.col("common").unique().sort().alias("sinks"))
    blocks = (
        block.group_by("block").agg(pl.col("src").sort().alias("sources")).join(sinks, on="block")
    )
    blocks = blocks.filter(
        (pl.col("sources").list.len() >= lim.min_bipartite_side)
        & (pl.col("sinks").list.len() >= 2)
        & (pl.col("sources").list.len() + pl.col("sinks").list.len() <= lim.max_component)
    ).with_columns(pl.col("sinks").list.set_difference("sources"))
    window = pl.duration(seconds=int(lim.flow_window.total_seconds()))
    tx = (
        e.join(
            blocks.explode("sources", empty_as_null=False).select(
                pl.col("sources").alias("src"), "block"
            ),
            on="src",
        )
        .join(
            blocks.explode("sinks", empty_as_null=False).select(
                pl.col("sinks").alias("dst"), "block"
            ),
            on=["dst", "block"],
        )
        .group_by("block")
        .agg(
            pl.col("tx").alias("tx_hashes"),
            pl.col("amt").sum().alias("total_amount"),
            pl.col("time").min().alias("first_time"),
            pl.col("time").max().alias("last_time"),
        )
    )
    blocks = blocks.join(tx, on="block").filter(
        pl.col("last_time") - pl.col("first_time") <= window
    )
    blocks = decode_ids(
        blocks.sort("block").with_columns(pl.col("tx_hashes").list.sort()),
        {"sources": names, "sinks": names, "tx_hashes": span.t["tx"]},
    )
    members, roles = roles_list((pl.col("sources"), "source"), (pl.col("sinks"), "sink"))
    n_s, n_t = pl.col("sources").list.len(), pl.col("sinks").list.len()
    found = blocks.with_columns(
        members.alias("members"),
        roles.alias("roles"),
        pl.col("sources").list.first().alias("center_address"),
        (pl.col("tx_hashes").list.len() / (n_s * n_t)).clip(0, 1).alias("density"),
        n_s.alias("sources_n"),
        n_t.alias("sinks_n"),
    ).with_columns(
        (0.5 * pl.col("density") + 0.5 * ((n_s + n_t - 3) / 6).clip(0, 1)).alias("score"),
        json_details("sources_n", "sinks_n", "density"),
    )
    return finish(found, span, "bipartite")
