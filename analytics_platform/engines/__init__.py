"""Engines behind ``address_features``: CPU (polars + igraph) and GPU (cuDF + cuGraph).

An engine executes the feature pipeline's polars plans and runs the graph algorithms on
integer-encoded edges, returning numpy arrays indexed by vertex id; the feature code around it
is shared, so both engines compute the same catalog (``bench.parity`` compares them).
"""

from __future__ import annotations

from analytics_platform.engines.base import GraphEngine
from analytics_platform.engines.choice import choose_engine, get_engine

__all__ = ["GraphEngine", "choose_engine", "get_engine"]
