"""Reusable components: a network's pipeline (``NetworkPipeline``) and every network of the
configuration file (``ConfiguredNetworks``).

A network is a component instance. ``defs/networks/defs.yaml`` instantiates
``ConfiguredNetworks`` (the networks of ``ANALYTICS_CONFIG``, as before); a network can also be
declared on its own in a ``defs/<folder>/defs.yaml``::

    type: analytics_platform.lib.NetworkPipeline
    attributes:
      name: ether
      network:                    # the keys of networks.<name> in the configuration file
        start_date: 2026-10-01
        source: {kind: files, path: s3://raw/ether/*.parquet}

Platform-wide settings (warehouse, lake, labels, feature engine) come from the environment
and the configuration file in both cases.
"""

from typing import Any

import dagster as dg

from analytics_platform.config import NetworkConfig, Settings, parse_network
from analytics_platform.lib.assets import build_freshness, build_network_assets
from analytics_platform.lib.assets.calibration import calibrate_job
from analytics_platform.lib.assets.lake_cleanup import lake_cleanup_job, lake_cleanup_schedule
from analytics_platform.lib.assets.late_prices import late_prices_sensor
from analytics_platform.lib.assets.risk_model import (
    move_jobs,
    retrain_schedule,
    train_job,
    verdicts_sensor,
)
from analytics_platform.lib.kafka import (
    kafka_ingest_job,
    kafka_messages_asset,
    kafka_sensor,
    late_data_sensor,
)
from analytics_platform.lib.loading import settings_in_force
from analytics_platform.lib.schedules import daily_job, daily_schedule, labels_job


def network_definitions(net: NetworkConfig, settings: Settings) -> dg.Definitions:
    """One network: its assets and checks, daily, labels and calibrate jobs, schedule,
    freshness sensor, the risk model's train / promote / rollback jobs with the retraining
    schedule and verdicts sensor (both stopped), for a Kafka source the ingestion asset, job
    and sensors, and with a lake retention the cleanup job and its schedule."""
    assets: list[Any] = build_network_assets(net, settings)
    freshness, freshness_sensor = build_freshness(net)
    daily = daily_job(net, engine=settings.features.engine, freshness=freshness)
    jobs: list[Any] = [daily, labels_job(net), calibrate_job(net, settings)]
    train = train_job(net)
    jobs += [train, *move_jobs(net, settings)]
    sensors = [freshness_sensor, verdicts_sensor(net, settings, train)]
    if net.prices_path:
        sensors.append(late_prices_sensor(net, daily))
    if net.source is not None and net.source.kind == "kafka":
        ingest = kafka_ingest_job(net)
        assets.append(kafka_messages_asset(net))
        jobs.append(ingest)
        sensors += [kafka_sensor(net, ingest), late_data_sensor(net, ingest, daily)]
    schedules = [daily_schedule(net, daily), retrain_schedule(net, train)]
    if any(days is not None for days in net.lake_retention.model_dump().values()):
        cleanup = lake_cleanup_job(net, settings)
        jobs.append(cleanup)
        schedules.append(lake_cleanup_schedule(net, cleanup))
    return dg.Definitions(
        assets=assets,
        asset_checks=freshness,
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
    )


class NetworkPipeline(dg.Component, dg.Model, dg.Resolvable):
    """One network's daily asset graph, declared in YAML.

    ``network`` holds the keys of ``networks.<name>`` in the configuration file; an unknown key
    or a bad value fails loading with the key and value named.
    """

    name: str
    network: dict[str, Any] = {}

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return network_definitions(parse_network(self.name, self.network), settings_in_force())


class ConfiguredNetworks(dg.Component, dg.Model, dg.Resolvable):
    """Every network of the configuration file (``ANALYTICS_CONFIG``; default: ``torus``)."""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        settings = settings_in_force()
        return dg.Definitions.merge(*(network_definitions(n, settings) for n in settings.networks))
