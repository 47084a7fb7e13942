"""``structural_patterns``: patterns ending on each partition day, from its own horizon."""

import dagster as dg
import polars as pl

from analytics_platform.engines.timing import StageTimer
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import counts, days_of, record_days, stage_table
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.pipeline.patterns import patterns_for_days


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    span = spec.trailing(spec.net.pattern_transfer_days)  # with the funnel memory, if longer
    # Where the network judges dormant accounts: the edges of the span and the look-back.
    history = spec.trailing(spec.net.pattern_history_days)
    dormancy = (
        {"daily_edges": dg.AssetIn(spec.key("daily_edges"), partition_mapping=history)}
        if spec.net.dormancy_days
        else {}
    )

    @dg.asset(
        **spec.asset(
            "structural_patterns",
            "Structural patterns ending on the partition day (fan-in/out, fan-ins as funnels where "
            "the network sets funnel_days, cycles, scatter-gather, "
            "gather-scatter, bipartite, stacks, layering and peel chains, rapid pass-through, "
            "structuring, proximity to risky labels), with member addresses, roles, transfers, "
            "score and the limits hit.",
            checks=qc.STRUCTURAL_PATTERNS,
            ins={
                "transfers": dg.AssetIn(spec.key("transfers"), partition_mapping=span),
                "prices": dg.AssetIn(spec.key("prices"), partition_mapping=span),
                "labels": dg.AssetIn(spec.key("address_labels")),
                **dormancy,
            },
        )
    )
    @retry_only_transient
    def structural_patterns(
        context: dg.AssetExecutionContext,
        transfers: pl.DataFrame,
        prices: pl.DataFrame,
        labels: pl.DataFrame,
        **history: pl.DataFrame,
    ):
        days, timer = days_of(context), StageTimer()
        found = patterns_for_days(
            transfers, labels, spec.net, days, timer,
            progress=lambda day, rows: context.log.info(f"patterns {day}: {rows}"),
            prices=prices, edges=history.get("daily_edges"),
        )  # fmt: skip
        for day, hit in found.limits_hit.items():
            if hit:
                context.log.warning(f"pattern limits hit on {day} (work cut short): {hit}")
        record_days(
            context,
            found.patterns,
            days,
            lambda day, rows: {
                "by_type": counts(rows, "pattern_type"),
                "limits_hit": dg.MetadataValue.json(found.limits_hit[day]),
            },
        )
        yield dg.Output(found.patterns, metadata={"stage_seconds": stage_table(timer)})
        yield from qc.results(
            spec.key("structural_patterns"),
            qc.STRUCTURAL_PATTERNS,
            patterns=found.patterns,
            transfers=transfers,
        )

    return structural_patterns
