"""``transfers``, its dead letters ``transfers_rejected`` and its ``transfers_quality``."""

from datetime import timedelta

import dagster as dg

from analytics_platform.domain.schemas import INGESTION_SHARES
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import (
    counts,
    days_of,
    numeric_values,
    record_days,
)
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import SERVER_RETRIES, NetworkSpec
from analytics_platform.lib.compute import CPU_TAGS
from analytics_platform.lib.resources import WarehouseResource
from analytics_platform.pipeline.ingest import (
    files_holding,
    ingest,
    quality,
    read_raw,
    timeliness,
    volume_anomalies,
)
from analytics_platform.storage.daily_metrics import stored_metrics

SHARES = ("score", *INGESTION_SHARES)
OUTPUTS = {
    "transfers": "Validated, de-duplicated token transfers, one partition per UTC day of block "
    "time.",
    "transfers_rejected": "Dead letters: raw records rejected during ingestion, with the field, "
    "value and reason.",
    "transfers_quality": "Ingestion quality per day: completeness, validity, uniqueness and "
    "timeliness of the raw transfers, and their mean, the quality score.",
}


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    key = spec.key("transfers")

    @dg.multi_asset(
        name=f"{spec.name}__ingest_transfers",
        outs={name: spec.out(name, description) for name, description in OUTPUTS.items()},
        partitions_def=spec.partitions,
        backfill_policy=spec.backfill_policy,
        check_specs=[
            *qc.specs(key, qc.TRANSFERS),
            *qc.specs(spec.key("transfers_quality"), qc.TRANSFERS_QUALITY),
        ],
        op_tags=CPU_TAGS,
        retry_policy=SERVER_RETRIES,
    )
    @retry_only_transient
    def transfers(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        days = days_of(context)
        try:
            raw = read_raw(spec.net, days[0], days[-1], warehouse.target())
        except ValueError as exc:  # no source configured: not worth a retry
            raise dg.Failure(str(exc), allow_retries=False) from exc
        got = ingest(spec.net, raw, days)
        for file in raw.unreadable:
            context.log.warning(f"source.path: {file} (quarantined in transfers_rejected)")
        context.log.info(f"{spec.name} {days[0]}..{days[-1]}: {got.result.counts}")
        lookback = timedelta(days=spec.net.anomaly_lookback_days)
        with warehouse.session() as client:
            stored = stored_metrics(
                client, spec.name, days[0] - lookback, days[0] - timedelta(days=1),
                warehouse.clickhouse.cluster,
            )  # fmt: skip
        anomalies = volume_anomalies(spec.net, got, days, stored)
        scored = quality(
            spec.net,
            got,
            days,
            raw.source,
            timeliness(spec.net, days[0], days[-1], warehouse.target()),
        )
        per_day = _record_days(context, spec, got, scored, days)
        yield dg.Output(got.accepted, "transfers")
        yield dg.Output(got.rejected, "transfers_rejected")
        yield dg.Output(scored, "transfers_quality")
        yield from qc.results(
            key,
            qc.TRANSFERS,
            df=got.accepted,
            per_day=per_day,
            anomalies=anomalies,
            quality=scored,
            min_score=spec.net.min_quality_score,
            unreadable={day: [f.path for f in files_holding(raw.unreadable, day)] for day in days},
            max_amounts=spec.net.max_amounts,
        )
        yield from qc.results(spec.key("transfers_quality"), qc.TRANSFERS_QUALITY, quality=scored)

    return transfers


def _record_days(context, spec: NetworkSpec, got, scored, days) -> dict[str, int]:
    """Per-day metadata of the three outputs (counts, rejection reasons, numeric quality
    shares for the UI's Plots tab); returns the accepted rows per day."""
    per_day = record_days(
        context,
        got.accepted,
        days,
        lambda day, _: {k: dg.MetadataValue.int(v) for k, v in got.counts_on(day).items()},
        asset_key=spec.key("transfers"),
    )
    record_days(
        context,
        got.rejected,
        days,
        lambda _, rows: {"reasons": counts(rows, "field")},
        asset_key=spec.key("transfers_rejected"),
    )
    record_days(
        context, scored, days, numeric_values(SHARES), asset_key=spec.key("transfers_quality")
    )
    return per_day
