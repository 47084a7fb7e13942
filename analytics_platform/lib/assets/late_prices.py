"""``<net>__late_prices``: a price that arrives or changes for a past day re-materialises what
used it, through the same plan as late Kafka transfers (``kafka.propagation``).

Each tick reads the network's price source and keeps a digest per day in the cursor; a past
day whose digest changed (a price corrected, or one that was missing and has arrived) gets its
``prices``, ``daily_edges`` and everything downstream refreshed, and the feature windows,
pattern spans and alerts of the following days that cover it, within
``late_prices_horizon_days``. Days the cursor has not seen yet are the schedule's to run.
"""

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from analytics_platform.config import NetworkConfig
from analytics_platform.domain.prices import fingerprints, normalise_prices
from analytics_platform.kafka.propagation import partitions_to_refresh
from analytics_platform.storage.files import read_files

CHANGED_DAY_ASSETS = (
    "prices",
    "daily_edges",
    "address_features",
    "structural_patterns",
    "typology_alerts",
)


def late_prices_sensor(net: NetworkConfig, daily_job) -> dg.SensorDefinition:
    path = net.prices_path
    assert path is not None

    @dg.sensor(
        name=f"{net.name}__late_prices",
        job=daily_job,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Re-materialise the days whose USD price arrived or changed in {path}, and "
        f"the windows and spans covering them within {net.late_prices_horizon_days} days.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        latest = datetime.now(UTC).date() - timedelta(days=1)
        last = min(latest, net.end_date) if net.end_date else latest
        days = [net.start_date + timedelta(days=i) for i in range((last - net.start_date).days + 1)]
        raw = read_files(path, f"networks.{net.name}.prices_path")
        now = fingerprints(normalise_prices(raw, network=net.name, days=days))
        state = json.loads(context.cursor) if context.cursor else None
        if state is None:
            return dg.SensorResult(cursor=json.dumps({"last": last.isoformat(), "days": now}))
        seen_until = date.fromisoformat(state["last"])
        before = state["days"]
        changed = sorted(
            date.fromisoformat(d)
            for d in set(before) | set(now)
            if date.fromisoformat(d) <= seen_until and before.get(d) != now.get(d)
        )
        plan = partitions_to_refresh(
            changed,
            latest_day=latest,
            first_day=net.start_date,
            last_day=net.end_date,
            span_days=net.pattern_transfer_days,  # the patterns' USD values
            max_window=net.max_window,
            horizon_days=net.late_prices_horizon_days,
            changed_assets=CHANGED_DAY_ASSETS,
        )
        cursor = json.dumps({"last": last.isoformat(), "days": now})
        # One key per change: the same follow-on day is requested again for a later change.
        change = {d.isoformat(): now.get(d.isoformat(), "") for d in changed}
        change_id = hashlib.sha1(json.dumps(change, sort_keys=True).encode()).hexdigest()[:12]
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"prices:{change_id}:{day.isoformat()}",
                    partition_key=day.isoformat(),
                    asset_selection=[dg.AssetKey([net.name, a]) for a in assets],
                    tags={"analytics/late_prices": ",".join(d.isoformat() for d in changed)},
                )
                for day, assets in plan.items()
            ],
            cursor=cursor,
        )

    return _sensor
