"""Planted patterns by shape: how much of their type the graph of their transfers shows.

Two planted patterns have the same *shape* when their transfer graphs are the same up to the
accounts' names: directed, with the number of transfers between each pair (self-transfers
included), times and amounts left out. Where a dataset gives one shape several types, the
shape alone cannot name them all: read from it, the most that is right is the shape's most
common type. Amounts and times can tell more (a peel chain keeps a falling share of the first
amount, a layering chain all of it: the same path); where they do not, the shape is what there
is. AMLworld, for one, labels A -> B, B -> A a cycle, a stack, a scatter-gather or a
gather-scatter. :func:`shape_ambiguity` reports this next to the right type measured
(``evaluation.type_by_size``), by the same numbers of transfers.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import igraph as ig
import polars as pl

from analytics_platform.domain.evaluation import normalise_type


def canonical_shape(pairs: list[tuple[str, str]]) -> str:
    """A key that two transfer lists share exactly when their graphs are isomorphic.

    Each distinct (payer, payee) pair becomes a node of its own between the two accounts,
    coloured by its number of transfers, so that igraph's canonical labelling (BLISS, for
    simple coloured graphs) also tells two payments apart from one and keeps self-transfers.
    Exact, unlike a hash of degrees or Weisfeiler-Lehman labels, which let different shapes
    collide; planted patterns are small, so labelling each is cheap."""
    counts = Counter(pairs)
    accounts = sorted({a for pair in counts for a in pair})
    index = {a: i for i, a in enumerate(accounts)}
    colours = [0] * len(accounts)
    edges = []
    for (payer, payee), n in sorted(counts.items()):
        node = len(colours)
        colours.append(n)  # a pair node: how many transfers it carried
        edges += [(index[payer], node), (node, index[payee])]
    graph = ig.Graph(n=len(colours), edges=edges, directed=True, vertex_attrs={"c": colours})
    # permute_vertices moves the colours with their vertices, as it moves the edges
    canon = graph.permute_vertices(graph.canonical_permutation(color=colours))
    placed = canon.vs["c"]
    text = f"{placed}|{sorted(canon.get_edgelist())}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def shape_ambiguity(transactions: pl.DataFrame) -> pl.DataFrame:
    """Per number of transfers (1, 2, 3+) and for all: suspicious planted patterns, their
    distinct shapes, how many share their shape with a pattern of another type, and the
    right type read from the shape alone had they all been found (each shape named as its
    most common type). ``transactions``: pattern_id, pattern_type,
    is_sar, from_address, to_address (one row per transfer)."""
    planted = transactions.filter(pl.col("is_sar")).with_columns(
        normalise_type(pl.col("pattern_type"))
    )
    per_pattern = planted.group_by("pattern_id").agg(
        pl.col("pattern_type").first(), pl.col("from_address"), pl.col("to_address")
    )
    shapes = per_pattern.select(
        "pattern_id",
        "pattern_type",
        pl.col("from_address").list.len().alias("transfers"),
        pl.Series(
            "shape",
            [
                canonical_shape(list(zip(src, dst, strict=True)))
                for src, dst in per_pattern.select("from_address", "to_address").iter_rows()
            ],
            dtype=pl.String,
        ),
    )
    by_type = shapes.group_by("shape", "pattern_type").agg(
        pl.len().alias("n"), pl.col("transfers").first()
    )
    by_shape = by_type.group_by("shape").agg(
        pl.col("n").sum().alias("planted"),
        pl.col("n").max().alias("best"),
        pl.col("pattern_type").n_unique().alias("types"),
        pl.col("transfers").first(),
    )
    bucket = pl.when(pl.col("transfers") >= 3).then(pl.lit("3+"))
    summary = [
        pl.len().alias("shapes"),
        pl.col("planted").sum(),
        pl.col("planted").filter(pl.col("types") > 1).sum().alias("shared_shape"),
        (pl.col("best").sum() / pl.col("planted").sum()).alias("right_type_by_shape"),
    ]
    sized = by_shape.with_columns(
        bucket.otherwise(pl.col("transfers").cast(pl.String)).alias("transfers")
    )
    return pl.concat(
        [
            sized.group_by("transfers").agg(summary).sort("transfers"),
            by_shape.select(pl.lit("all").alias("transfers"), *summary),
        ]
    ).select("transfers", "planted", "shapes", "shared_shape", "right_type_by_shape")
