"""``prices``: the day's USD price of every asset, from the network's configured price file."""

import dagster as dg

from analytics_platform.domain.prices import normalise_prices
from analytics_platform.domain.schemas import PRICES, empty
from analytics_platform.lib import checks as qc
from analytics_platform.lib.assets.metadata import counts, days_of, record_days
from analytics_platform.lib.assets.retries import retry_only_transient
from analytics_platform.lib.assets.spec import NetworkSpec
from analytics_platform.storage.files import NoFilesError, read_files


def build(spec: NetworkSpec) -> dg.AssetsDefinition:
    @dg.asset(
        **spec.asset(
            "prices",
            "Daily USD price per asset (date, asset, decimals, usd_price, source) from "
            "networks.<name>.prices_path; a day without a price for an asset leaves its USD "
            "values null downstream (the daily_edges check lists them).",
            checks=qc.PRICES,
        )
    )
    @retry_only_transient
    def prices(context: dg.AssetExecutionContext):
        days = days_of(context)
        path = spec.net.prices_path
        if path:
            try:
                raw = read_files(path, f"networks.{spec.name}.prices_path")
            except NoFilesError as exc:  # a configuration error: retrying will not help
                raise dg.Failure(str(exc), allow_retries=False) from exc
            frame = normalise_prices(raw, network=spec.name, days=days)
        else:
            context.log.warning("prices_path is not configured: USD values will be null")
            frame = empty(PRICES)
        record_days(context, frame, days, lambda _, rows: {"assets": counts(rows, "asset")})
        yield dg.Output(frame)
        yield from qc.results(spec.key("prices"), qc.PRICES, prices=frame)

    return prices
