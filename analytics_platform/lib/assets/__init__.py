"""One network's asset graph, daily partitions (UTC), one module per asset.

``transfers`` (+ ``transfers_rejected``, ``transfers_quality``) -> ``daily_edges`` +
``address_activity`` (-> ``quality``) -> ``address_features`` -> ``structural_patterns`` ->
``address_risk_scores`` (the risk model, where one is champion) -> ``typology_alerts`` ->
``model_monitoring``, with ``address_labels`` (SCD2) beside them. Every asset handles a range
of days in one run (``BackfillPolicy.single_run``), or runs of ``backfill_days_per_run`` days
each.
"""

from __future__ import annotations

import warnings

import dagster as dg

from analytics_platform.config import NetworkConfig, Settings
from analytics_platform.lib.assets import (
    address_activity,
    address_features,
    address_labels,
    address_risk_scores,
    daily_edges,
    model_monitoring,
    prices,
    quality,
    risk_model,
    risk_training_set,
    structural_patterns,
    transfers,
    typology_alerts,
)
from analytics_platform.lib.assets.spec import NetworkSpec

warnings.filterwarnings("ignore", category=dg.BetaWarning)

BUILDERS = (
    prices,
    transfers,
    daily_edges,
    address_activity,
    quality,
    address_labels,
    address_features,
    structural_patterns,
    address_risk_scores,
    typology_alerts,
    model_monitoring,
    risk_training_set,
    risk_model,
)


def build_network_assets(net: NetworkConfig, settings: Settings) -> list[dg.AssetsDefinition]:
    """Assets and checks of one network, keyed ``<network>/<asset>``, with code references."""
    spec = NetworkSpec(net, settings)
    return list(dg.with_source_code_references([b.build(spec) for b in BUILDERS]))


def build_freshness(
    net: NetworkConfig,
) -> tuple[list[dg.AssetChecksDefinition], dg.SensorDefinition]:
    """A check that yesterday's ``typology_alerts`` partition exists by ``alerts_deadline_cron``
    (UTC), and the sensor that evaluates it.

    Dagster marks these factories superseded by ``FreshnessPolicy``, which judges when an asset
    last materialised; an analyst's question is whether *yesterday's partition* exists, which
    only the time-partition check answers (a backfill of old days would satisfy a policy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        checks = list(
            dg.build_time_partition_freshness_checks(
                assets=[dg.AssetKey([net.name, "typology_alerts"])],
                deadline_cron=net.alerts_deadline_cron,
                timezone="UTC",
            )
        )
        sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks, name=f"{net.name}__freshness_sensor"
        )
    return checks, sensor
