"""Which addresses belong to a service, beyond its labels: what a pattern should not be about.

Labelled services (exchanges' hot wallets, DeFi routers and pools) move funds for thousands of
users: fans, bounces and pass-throughs are their everyday business, not laundering. An exchange
also hands every customer a *deposit address* that forwards what arrives to its hot wallet;
those are unlabelled but just as much the exchange's (the deposit-address heuristic of Victor,
"Address clustering heuristics for Ethereum", FC 2020). Both are left out of pattern detection.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

SERVICE_CATEGORIES = ("exchange", "defi")
SWEEP_SHARE = 0.9
"""A deposit address passes on at least this share of what it received (the rest is fees)."""


def labelled_services(current: pl.DataFrame) -> list[str]:
    """Addresses of ``current`` labels (address, category) that are services."""
    return current.filter(pl.col("category").is_in(SERVICE_CATEGORIES))["address"].to_list()


def deposit_addresses(transfers: pl.DataFrame, exchanges: Iterable[str]) -> list[str]:
    """Unlabelled addresses of ``transfers`` that sent only to labelled exchanges and passed on
    at least ``SWEEP_SHARE`` of what they received, per asset (exchange deposit addresses)."""
    hot = pl.Series(list(exchanges), dtype=pl.String).implode()
    if transfers.height == 0:
        return []
    sent = transfers.group_by(pl.col("from_address").alias("address"), "asset").agg(
        pl.col("to_address").is_in(hot).all().alias("only_to_exchanges"),
        pl.col("amount").cast(pl.Float64).sum().alias("out"),
    )
    received = transfers.group_by(pl.col("to_address").alias("address"), "asset").agg(
        pl.col("amount").cast(pl.Float64).sum().alias("in")
    )
    per_asset = sent.join(received, on=["address", "asset"], how="inner").with_columns(
        (pl.col("only_to_exchanges") & (pl.col("out") >= SWEEP_SHARE * pl.col("in"))).alias(
            "sweeps"
        )
    )
    deposits = (
        per_asset.group_by("address")
        .agg(pl.col("sweeps").all())
        .filter(pl.col("sweeps") & ~pl.col("address").is_in(hot))
    )
    # Every asset an address sends must go to exchanges, including assets it never received.
    senders_elsewhere = sent.filter(~pl.col("only_to_exchanges"))["address"].implode()
    return deposits.filter(~pl.col("address").is_in(senders_elsewhere))["address"].sort().to_list()
