"""analytics_platform: blockchain transaction analytics (AML) as a Dagster asset graph.

Where each thing lives, and the layers: ``docs/architecture.md``.
"""

__version__ = "0.1.0"
