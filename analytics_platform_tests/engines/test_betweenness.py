"""Sampled betweenness (level-synchronous Brandes over numpy) against igraph's own."""

import igraph as ig
import numpy as np
import pytest

from analytics_platform.engines.betweenness import DENSE_LEVEL, sampled_betweenness


def _igraph_betweenness(src: np.ndarray, dst: np.ndarray, n: int, sources: np.ndarray):
    g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist(), strict=True)), directed=True)
    return np.asarray(g.betweenness(directed=True, sources=sources.tolist()))


def _random_graph(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    pairs = np.unique(src[keep] * n + dst[keep])  # one edge per ordered pair, sorted
    return pairs // n, pairs % n


@pytest.mark.parametrize(
    ("n", "m", "seed"),
    [
        (200, 3_000, 1),  # dense: every level summed over all vertices
        (5_000, 6_000, 2),  # sparse, many components and long paths: levels summed by edge
        (2_000, 8_000, 3),
    ],
)
def test_sampled_betweenness_is_igraphs_to_rounding(n, m, seed):
    src, dst = _random_graph(n, m, seed)
    sources = np.sort(np.random.default_rng(seed).choice(n, 40, replace=False))
    ours = sampled_betweenness(src, dst, n, sources)
    expected = _igraph_betweenness(src, dst, n, sources)
    assert expected.max() > 0
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-9)


def test_counts_every_shortest_path_and_skips_unreachable_vertices():
    # 0 -> {1, 2} -> 3 -> 4 (two shortest paths to 3 and 4); 5 -> 6 apart; 4 is a sink.
    src = np.array([0, 0, 1, 2, 3, 5])
    dst = np.array([1, 2, 3, 3, 4, 6])
    ours = sampled_betweenness(src, dst, 7, np.array([0, 4]))
    # From 0: 1 and 2 each carry half of the paths to 3 and 4; 3 carries the path to 4.
    np.testing.assert_allclose(ours, [0, 1, 1, 1, 0, 0, 0])


def test_unsorted_edges_and_a_long_chain_of_tiny_levels():
    n = 40 * DENSE_LEVEL
    chain = np.arange(n - 1)
    order = np.random.default_rng(5).permutation(n - 1)  # edges in no order
    src, dst = chain[order], chain[order] + 1
    ours = sampled_betweenness(src, dst, n, np.array([0]))
    # From the chain's start, vertex k lies on the paths to the n - 1 - k vertices after it.
    np.testing.assert_array_equal(ours, np.r_[0, n - 1 - np.arange(1, n)])


def test_the_same_bits_every_run():
    src, dst = _random_graph(3_000, 20_000, 7)
    sources = np.arange(0, 3_000, 97)
    first = sampled_betweenness(src, dst, 3_000, sources)
    assert first.tobytes() == sampled_betweenness(src, dst, 3_000, sources).tobytes()
