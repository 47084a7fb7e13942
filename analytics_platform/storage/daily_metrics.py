"""The volume-anomaly figures of stored days, aggregated in the warehouse.

The same figures as :func:`analytics_platform.domain.anomalies.transfer_metrics` (a test keeps
the two equal): ClickHouse does the aggregations, so that 28 trailing days of a busy chain are
never read into memory, and ``metrics_frame`` the rest, as for the run's own days.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from analytics_platform.domain.anomalies import METRICS_SCHEMA, metrics_frame
from analytics_platform.storage.clickhouse import DISTRIBUTED_SUFFIX, query_frame, table_exists
from analytics_platform.storage.identifiers import validate_identifier


def stored_metrics(
    client: Any, network: str, first: date, last: date, cluster: str = ""
) -> pl.DataFrame:
    """(date, metric, value) of days ``first..last`` already in the warehouse."""
    db = validate_identifier(network, "network")
    suffix = DISTRIBUTED_SUFFIX if cluster else ""
    transfers, rejected = f"transfers{suffix}", f"transfers_rejected{suffix}"
    if not table_exists(client, db, transfers):
        return pl.DataFrame(schema=METRICS_SCHEMA)
    params = {"first": first, "last": last}
    window = "`date` BETWEEN {first:Date} AND {last:Date}"
    counts = query_frame(
        client,
        f"SELECT date, toFloat64(count()) AS transfers, "
        f"toFloat64(uniqExactArray([from_address, to_address])) AS active_addresses "
        f"FROM `{db}`.`{transfers}` WHERE {window} GROUP BY date",
        params,
    )
    volumes = query_frame(
        client,
        f"SELECT date, asset, sum(toFloat64(amount)) AS value "
        f"FROM `{db}`.`{transfers}` WHERE {window} GROUP BY date, asset",
        params,
    )
    bad = (
        query_frame(
            client,
            f"SELECT date, toFloat64(count()) AS rejected FROM `{db}`.`{rejected}` "
            f"WHERE {window} GROUP BY date",
            params,
        )
        if table_exists(client, db, rejected)
        else pl.DataFrame(schema={"date": pl.Date, "rejected": pl.Float64})
    )
    return metrics_frame(counts, bad, volumes)


def active_addresses(client: Any, network: str, cluster: str = "") -> pl.DataFrame:
    """(date, active): the addresses with activity on each stored day (the denominator of the
    evaluation's outside share)."""
    db = validate_identifier(network, "network")
    table = f"address_activity{DISTRIBUTED_SUFFIX if cluster else ''}"
    schema = {"date": pl.Date, "active": pl.Int64}
    if not table_exists(client, db, table):
        return pl.DataFrame(schema=schema)
    frame = query_frame(
        client, f"SELECT date, count() AS active FROM `{db}`.`{table}` GROUP BY date"
    )
    return frame.cast(schema) if frame.height else pl.DataFrame(schema=schema)
