"""The Dagster machinery the instances in ``defs/`` use: the network component
(``component``), one builder per asset (``assets/``), checks, IO managers, resources,
schedules, Kafka sensors, the platform's resources (``platform``) and in-process runs
(``runner``, ``progress``). ``dg list components`` shows the components."""

from analytics_platform.lib.component import ConfiguredNetworks, NetworkPipeline

__all__ = ["ConfiguredNetworks", "NetworkPipeline"]
