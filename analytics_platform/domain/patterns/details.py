"""What a detection carries besides its members: legs, values, USD totals, roles, the JSON
details, one-off and novel shares."""

from __future__ import annotations

import polars as pl

from analytics_platform.domain.readable import amount_text


def pattern_legs(patterns: pl.DataFrame, t: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """One row per pattern transfer: ``_p`` (the pattern's row), ``tx`` and ``columns`` of
    ``t`` (the span's transfers, or any frame keyed by ``tx``)."""
    return (
        patterns.select(pl.col("tx_hashes").alias("tx"))
        .with_row_index("_p")
        .explode("tx", empty_as_null=False)
        .join(t.select("tx", *columns), on="tx")
    )


def valued_legs(patterns: pl.DataFrame, t: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """:func:`pattern_legs` of the transfers a pattern's ``total_amount`` sums: those between
    two of its members (a funnel's own legs, not the other traffic of its transfers' senders),
    and of a ``risky_proximity`` path only the subject's own transfer (its last hop: the
    amount the exposure is about; the hops before it move the same funds again)."""
    keyed = patterns.select("members").with_row_index("_p").explode("members", empty_as_null=False)
    proximity = pl.col("pattern_type") == "risky_proximity"
    valued = patterns.with_columns(
        pl.when(proximity)
        .then(pl.col("tx_hashes").list.tail(1))
        .otherwise(pl.col("tx_hashes"))
        .alias("tx_hashes")
    )
    legs = pattern_legs(valued, t, "src", "dst", *columns)
    for side in ("src", "dst"):
        legs = legs.join(keyed.rename({"members": side}), on=["_p", side])
    return legs


def with_usd_totals(patterns: pl.DataFrame, t: pl.DataFrame) -> pl.DataFrame:
    """``total_amount_usd``: the USD value of the transfers the pattern's total_amount sums
    (:func:`valued_legs`); null when one of them has no price.

    Computed once for every detector from the pattern's transfers, so no detector carries a
    second currency through its joins."""
    if patterns.height == 0:
        return patterns.with_columns(pl.lit(None, pl.Float64).alias("total_amount_usd"))
    legs = (
        valued_legs(patterns, t, "usd")
        .group_by("_p")
        .agg(
            pl.when(pl.col("usd").is_null().any())
            .then(None)
            .otherwise(pl.col("usd").sum())
            .alias("total_amount_usd")
        )
    )
    return (
        patterns.drop("total_amount_usd", strict=False)
        .with_row_index("_p")
        .join(legs, on="_p", how="left", maintain_order="left")
        .drop("_p")
    )


def with_amounts(patterns: pl.DataFrame, t: pl.DataFrame) -> pl.DataFrame:
    """``details`` gain ``assets_n`` (how many assets the pattern's transfers move) and
    ``amounts`` (what ``total_amount`` sums, per asset: "4,000.00 TOR + 1.55 WETH"), so an
    alert shows and weighs amounts an analyst can read rather than a sum across currencies."""
    if patterns.height == 0:
        return patterns
    per_asset = (
        valued_legs(patterns, t, "amt", "asset")
        .group_by("_p", "asset")
        .agg(pl.col("amt").sum())
        .sort("_p", "asset")
        .with_columns(pl.format("{} {}", amount_text(pl.col("amt")), "asset").alias("text"))
    )
    values = per_asset.group_by("_p", maintain_order=True).agg(
        pl.len().alias("assets_n"), pl.col("text").str.join(" + ").alias("amounts")
    )
    return with_details(patterns, values)


def roles_list(*parts: tuple[pl.Expr, str]) -> tuple[pl.Expr, pl.Expr]:
    """Members and their roles from (list-of-addresses expression, role) parts."""
    members = pl.concat_list([expr for expr, _ in parts])
    roles = pl.concat_list([expr.list.eval(pl.lit(role)) for expr, role in parts])
    return members, roles


def json_details(*columns: str) -> pl.Expr:
    return pl.struct(columns).struct.json_encode().alias("details")


def with_one_off_share(found: pl.DataFrame, t: pl.DataFrame, others: str) -> pl.DataFrame:
    """``found`` with ``one_off_share``: of the counterparties in list column ``others``, the
    share that transacted with the row's ``center`` exactly once over the span ``t`` (either
    direction). Mules and smurfs meet their counterparties once; payrolls, pool payouts and
    merchants see the same ones again. ``center``/``others`` are in ``t``'s src/dst terms."""
    if found.height == 0:
        return found.with_columns(pl.lit(None, pl.Float64).alias("one_off_share"))
    centers = found["center"].unique().implode()
    pairs = (
        pl.concat(
            [
                t.filter(pl.col("src").is_in(centers)).select(
                    pl.col("src").alias("center"), pl.col("dst").alias("other")
                ),
                t.filter(pl.col("dst").is_in(centers)).select(
                    pl.col("dst").alias("center"), pl.col("src").alias("other")
                ),
            ]
        )
        .group_by("center", "other")
        .agg(pl.len().alias("_n"))
    )
    shares = (
        found.select("center", pl.col(others).alias("other"))
        .with_row_index("_row")
        .explode("other", empty_as_null=False)
        .join(pairs, on=["center", "other"], how="left")
        .group_by("_row")
        .agg((pl.col("_n") == 1).mean().round(3).alias("one_off_share"))
    )
    return (
        found.with_row_index("_row").join(shares, on="_row", how="left").sort("_row").drop("_row")
    )


def with_novel_share(patterns: pl.DataFrame, t: pl.DataFrame) -> pl.DataFrame:
    """``details`` gains ``novel_share``: of the pattern's transfers, the share whose sender
    paid that recipient only once in the span (a pair with no other transfer: no prior or
    later relationship). Laundering hops are one-off; salaries, subscriptions, trading
    partners and friends repeat. Computed once for every detector from its transfers."""
    if patterns.height == 0:
        return patterns
    legs = pattern_legs(patterns, t, "src", "dst")
    pairs = (
        t.select("src", "dst")
        .join(legs.select("src", "dst").unique(), on=["src", "dst"], how="semi")
        .group_by("src", "dst")
        .agg(pl.len().alias("_n"))
    )
    shares = (
        legs.join(pairs, on=["src", "dst"])
        .group_by("_p")
        .agg((pl.col("_n") == 1).mean().round(3).alias("_novel"))
    )
    return with_details(patterns, shares.rename({"_novel": "novel_share"}))


def with_details(patterns: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """``details`` (JSON) gains the columns of ``values`` (``_p``: the pattern's row; one
    numeric or text column per key). A pattern without a value for a key keeps its details as
    they were."""
    keys = [c for c in values.columns if c != "_p"]
    joined = patterns.with_row_index("_p").join(values, on="_p", how="left", maintain_order="left")
    details = pl.col("details")
    for key in keys:
        body = details.fill_null("{}").str.strip_chars()
        value = pl.col(key).cast(pl.String)
        if values.schema[key] == pl.String:
            # A JSON string literal: polars escapes text only inside json_encode, so encode a
            # one-field struct ('{"v":"..."}') and keep its value.
            value = pl.struct(value.alias("v")).struct.json_encode().str.slice(5).str.head(-1)
        item = pl.format(f'"{key}": {{}}', value)
        details = (
            pl.when(pl.col(key).is_null())
            .then(details)
            .when(body == "{}")
            .then(pl.concat_str(pl.lit("{"), item, pl.lit("}")))
            .otherwise(pl.concat_str(body.str.strip_suffix("}"), pl.lit(", "), item, pl.lit("}")))
        )
    return joined.with_columns(details.alias("details")).drop("_p", *keys)
