"""Seconds of the CPU engine's sampled betweenness against igraph's subset betweenness.

A random directed graph (one edge per ordered pair, no self-loops), the same sources for both,
each timed twice, then the largest relative difference and whether two runs gave the same bits:

    PYTHONPATH=. .venv/bin/python scripts/analysis/betweenness_vs_igraph.py \
        [--vertices 1000000] [--edges 4300000] [--sources 16]
"""

from __future__ import annotations

import argparse
import time

import igraph as ig
import numpy as np

from analytics_platform.engines.betweenness import sampled_betweenness


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vertices", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=4_300_000)
    parser.add_argument("--sources", type=int, default=16)
    args = parser.parse_args()
    n, rng = args.vertices, np.random.default_rng(1)
    src, dst = rng.integers(0, n, args.edges), rng.integers(0, n, args.edges)
    keep = src != dst
    pairs = np.unique(src[keep] * n + dst[keep])
    src, dst = pairs // n, pairs % n
    graph = ig.Graph(n=n, edges=np.column_stack([src, dst]).tolist(), directed=True)
    sources = np.sort(rng.choice(n, args.sources, replace=False))
    ours = []
    for _ in range(2):
        start = time.perf_counter()
        expected = np.asarray(graph.betweenness(directed=True, sources=sources.tolist()))
        print(f"igraph {time.perf_counter() - start:.2f} s", flush=True)
        start = time.perf_counter()
        ours.append(sampled_betweenness(src, dst, n, sources))
        print(f"numpy  {time.perf_counter() - start:.2f} s", flush=True)
    positive = expected > 0
    relative = np.abs(ours[0] - expected)[positive] / expected[positive]
    print(f"{src.size:,} edges; largest relative difference {relative.max():.1e}; "
          f"same bits twice: {ours[0].tobytes() == ours[1].tobytes()}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
