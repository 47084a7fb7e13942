"""Graph engines: the algorithms behind ``address_features`` on CPU (igraph) or GPU (cuGraph).

Engines take integer-encoded edges (numpy arrays) and return numpy arrays indexed by vertex id,
so the polars feature code around them is shared and both engines mean the same thing.
"""

from __future__ import annotations

from analytics_platform.engines.base import GraphEngine, get_engine

__all__ = ["GraphEngine", "get_engine"]
