"""The original Celery pipeline's way of computing address features, kept for benchmarks only.

A weighted NetworkX ``DiGraph`` of the window's flows built row by row, per-node Python loops
for the statistics, NetworkX algorithms for the graph features and betweenness sampled with
``k = 1000`` sources. The old pipeline's known defects are not repeated: burstiness is the
bounded inter-arrival coefficient (not a max/mean ratio, which is always >= 1), self-loops are
removed before ``core_number``, no threshold mixes native amounts with USD, and the window is
half-open everywhere. It computes the catalog's graph, degree, volume and temporal core so its
time is comparable with the engines'; it is slow by design and never used by the assets.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import networkx as nx
import numpy as np
import polars as pl

from analytics_platform.engines.timing import StageTimer

BASELINE_BETWEENNESS_K = 1000


def baseline_features(
    transfers: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    day: date,
    window: int,
    timer: StageTimer,
    seed: int = 42,
) -> pl.DataFrame:
    """Features of every address in ``transfers`` (already cut to the window)."""
    with timer.stage("build_graph"):
        g, per_node = _graph_of(transfers)
        category = dict(labels.select("address", "category").iter_rows())
    with timer.stage("node_statistics"):
        rows_out = _node_rows(g, per_node, category)
    pagerank, hubs, authorities, component_size, community_size, core, triangles, clustering, \
        betweenness = _graph_measures(g, timer, seed)  # fmt: skip
    with timer.stage("assemble"):
        for node, row in rows_out.items():
            row.update(
                pagerank=pagerank.get(node, 0.0),
                hub_score=hubs.get(node, 0.0),
                authority_score=authorities.get(node, 0.0),
                component_size=component_size.get(node, 1),
                community_size=community_size.get(node, 1),
                kcore=core.get(node, 0),
                triangles=triangles.get(node, 0),
                clustering=clustering.get(node, 0.0),
                betweenness=betweenness.get(node, 0.0),
                activity_ratio=row["active_days"] / window,
            )
        return pl.DataFrame(list(rows_out.values()), infer_schema_length=None).sort("address")


def _graph_of(transfers: pl.DataFrame) -> tuple[nx.DiGraph, dict[str, dict]]:
    """The weighted DiGraph of the transfers, and per address its transfer times, amounts
    out and in, and active days."""
    g = nx.DiGraph()
    times: dict[str, list[float]] = defaultdict(list)
    amounts_out: dict[str, list[float]] = defaultdict(list)
    amounts_in: dict[str, list[float]] = defaultdict(list)
    days: dict[str, set] = defaultdict(set)
    rows = transfers.select(
        "from_address",
        "to_address",
        pl.col("amount").cast(pl.Float64),
        pl.col("block_time").dt.epoch("ms"),
        "date",
    ).iter_rows()
    for src, dst, amount, ms, d in rows:
        if g.has_edge(src, dst):
            g[src][dst]["weight"] += amount
            g[src][dst]["count"] += 1
        else:
            g.add_edge(src, dst, weight=amount, count=1)
        amounts_out[src].append(amount)
        amounts_in[dst].append(amount)
        times[src].append(ms / 1000.0)
        days[src].add(d)
        if dst != src:
            times[dst].append(ms / 1000.0)
            days[dst].add(d)
    per_node = {"times": times, "amounts_out": amounts_out, "amounts_in": amounts_in,
                "days": days}  # fmt: skip
    return g, per_node


def _node_rows(g: nx.DiGraph, per_node: dict[str, dict], category: dict) -> dict[str, dict]:
    """Per address, the statistics computed node by node in Python loops."""
    times, days = per_node["times"], per_node["days"]
    amounts_out, amounts_in = per_node["amounts_out"], per_node["amounts_in"]
    rows_out: dict[str, dict] = {}
    for node in list(g.nodes):
        outs, ins = amounts_out.get(node, []), amounts_in.get(node, [])
        succ = [v for v in g.successors(node) if v != node]
        pred = [u for u in g.predecessors(node) if u != node]
        ts = sorted(times[node])
        gaps = np.diff(ts) if len(ts) > 1 else np.array([])
        mean_gap = float(gaps.mean()) if gaps.size else None
        std_gap = float(gaps.std()) if gaps.size else None
        burst = (
            (std_gap - mean_gap) / (std_gap + mean_gap)
            if gaps.size and (std_gap + mean_gap) > 0
            else None
        )
        exposure = defaultdict(float)
        for v in succ:
            if v in category:
                exposure[f"out_{category[v]}_volume"] += g[node][v]["weight"]
        for u in pred:
            if u in category:
                exposure[f"in_{category[u]}_volume"] += g[u][node]["weight"]
        rows_out[node] = {
            "address": node,
            "in_count": len(ins),
            "out_count": len(outs),
            "in_degree": len(pred),
            "out_degree": len(succ),
            "counterparties": len(set(succ) | set(pred)),
            "in_volume": float(sum(ins)),
            "out_volume": float(sum(outs)),
            "out_amount_std": float(np.std(outs)) if outs else None,
            "active_days": len(days[node]),
            "interarrival_mean_s": mean_gap,
            "burstiness": burst,
            **exposure,
        }
    return rows_out


def _graph_measures(g: nx.DiGraph, timer: StageTimer, seed: int) -> tuple[dict, ...]:
    """PageRank, HITS, component and community sizes, k-core, triangles, clustering and
    betweenness, each timed as its own stage (``g`` loses its self-loops and isolates)."""
    with timer.stage("graph_algorithms_input"):
        # The catalog's graph: no self-loops, no addresses that only paid themselves.
        g.remove_edges_from(list(nx.selfloop_edges(g)))
        g.remove_nodes_from(list(nx.isolates(g)))
    with timer.stage("pagerank"):
        pagerank = nx.pagerank(g, alpha=0.85, weight="weight")
    with timer.stage("hits"):
        # nx.hits reads the "weight" attribute; the catalog's HITS is unweighted.
        hubs, authorities = nx.hits(nx.DiGraph(g.edges()), max_iter=1000, tol=1e-10)
    with timer.stage("components"):
        component_size = {}
        for comp in nx.weakly_connected_components(g):
            for node in comp:
                component_size[node] = len(comp)
    with timer.stage("simple_undirected"):
        u = nx.Graph()
        u.add_nodes_from(g.nodes)
        for a, b, data in g.edges(data=True):  # no self-loops: core_number fails on them
            w = u[a][b]["weight"] + data["weight"] if u.has_edge(a, b) else data["weight"]
            u.add_edge(a, b, weight=w)
    with timer.stage("communities"):
        community_size = {}
        for comm in nx.community.louvain_communities(u, weight="weight", seed=seed):
            for node in comm:
                community_size[node] = len(comm)
    with timer.stage("kcore"):
        core = nx.core_number(u)
    with timer.stage("triangles"):
        triangles = nx.triangles(u)
        clustering = nx.clustering(u)
    with timer.stage("betweenness"):
        k = min(BASELINE_BETWEENNESS_K, g.number_of_nodes())
        betweenness = nx.betweenness_centrality(g, k=k, normalized=False, seed=seed)
    return (pagerank, hubs, authorities, component_size, community_size, core, triangles,
            clustering, betweenness)  # fmt: skip
