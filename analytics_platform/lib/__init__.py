"""Dagster components of the platform (``dg list components`` shows them)."""

from analytics_platform.lib.network_pipeline import ConfiguredNetworks, NetworkPipeline

__all__ = ["ConfiguredNetworks", "NetworkPipeline"]
