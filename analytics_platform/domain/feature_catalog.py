"""The address feature catalog: one documented row per column of ``address_features``.

Every engine (CPU, GPU, and the NetworkX benchmark baseline) produces exactly these columns;
the table schema, the pandera checks and the docs' table are derived from this list.
Window = the ``window_days`` UTC days ending on the partition date (``domain.windows``).
Volumes are summed in each asset's native units; the ``*_usd`` columns value each day's
amount at that day's USD price and are null where one transfer had no price, never a partial
sum (a rule that weighs across assets reads them: a sum of yen and euros is no amount).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analytics_platform.domain.dtypes import TIMESTAMP

EXPOSURE_CATEGORIES = ("mixer", "sanctioned", "exchange", "scam")
"""Label categories whose 1-hop exposure is a feature (counts and volumes, both directions)."""
RISKY_CATEGORIES = ("mixer", "sanctioned", "scam")


@dataclass(frozen=True)
class Feature:
    name: str
    dtype: pl.DataType
    unit: str
    definition: str
    group: str
    nullable: bool = False
    bounds: tuple[float, float] | None = None  # inclusive value range checked by pandera


_I, _F, _S = pl.Int64(), pl.Float64(), pl.String()
_RATIO = (0.0, 1.0)


def _f(name, dtype, unit, definition, group, nullable=False, bounds=None) -> Feature:
    return Feature(name, dtype, unit, definition, group, nullable, bounds)


IDENTITY: tuple[Feature, ...] = (
    _f("network", _S, "-", "network name", "identity"),
    _f("date", pl.Date(), "day", "last day of the window (the partition date)", "identity"),
    _f("window_days", pl.Int32(), "days", "window length", "identity"),
    _f("address", _S, "-", "the address", "identity"),
)

_CORE: tuple[Feature, ...] = (
    # activity
    _f("in_count", _I, "transfers", "transfers received (self-transfers included)", "activity"),
    _f("out_count", _I, "transfers", "transfers sent (self-transfers included)", "activity"),
    _f(
        "total_count",
        _I,
        "transfers",
        "transfers sent or received, a self-transfer once",
        "activity",
    ),
    _f("self_transfer_count", _I, "transfers", "transfers from the address to itself", "activity"),
    _f("asset_count", _I, "assets", "distinct assets moved", "activity"),
    # counterparties
    _f("in_degree", _I, "addresses", "distinct senders (self excluded)", "counterparties"),
    _f("out_degree", _I, "addresses", "distinct recipients (self excluded)", "counterparties"),
    _f(
        "counterparties",
        _I,
        "addresses",
        "distinct addresses sent to or received from",
        "counterparties",
    ),
    _f(
        "reciprocal_counterparties",
        _I,
        "addresses",
        "counterparties both sent to and received from",
        "counterparties",
    ),
    _f(
        "reciprocity",
        _F,
        "ratio",
        "reciprocal_counterparties / counterparties",
        "counterparties",
        bounds=_RATIO,
    ),
    _f(
        "repeat_counterparty_ratio",
        _F,
        "ratio",
        "share of counterparties dealt with on two or more distinct days (stability)",
        "counterparties",
        bounds=_RATIO,
    ),
    # volume
    _f("in_volume", _F, "native", "sum received", "volume"),
    _f("out_volume", _F, "native", "sum sent", "volume"),
    _f("total_volume", _F, "native", "in_volume + out_volume", "volume"),
    _f("net_flow", _F, "native", "in_volume - out_volume", "volume"),
    _f(
        "in_volume_usd",
        _F,
        "USD",
        "sum received, each day's amount at that day's USD price; null if one had no price",
        "volume",
        nullable=True,
    ),
    _f(
        "out_volume_usd",
        _F,
        "USD",
        "sum sent, each day's amount at that day's USD price; null if one had no price",
        "volume",
        nullable=True,
    ),
    _f(
        "flow_through_ratio",
        _F,
        "ratio",
        "min(in, out) / max(in, out) volume: 1 = everything received is passed on",
        "volume",
        bounds=_RATIO,
    ),
    _f("in_amount_mean", _F, "native", "mean amount received", "volume", nullable=True),
    _f("out_amount_mean", _F, "native", "mean amount sent", "volume", nullable=True),
    _f(
        "in_amount_std", _F, "native", "population std of amounts received", "volume", nullable=True
    ),
    _f("out_amount_std", _F, "native", "population std of amounts sent", "volume", nullable=True),
    _f("in_amount_max", _F, "native", "largest amount received", "volume", nullable=True),
    _f("out_amount_max", _F, "native", "largest amount sent", "volume", nullable=True),
    _f("in_amount_min", _F, "native", "smallest amount received", "volume", nullable=True),
    _f("out_amount_min", _F, "native", "smallest amount sent", "volume", nullable=True),
    # amount patterns
    _f(
        "round_amount_count",
        _I,
        "transfers",
        "transfers sent or received whose amount is >= 1 with at most two significant digits",
        "amounts",
    ),
    _f(
        "round_amount_ratio",
        _F,
        "ratio",
        "round_amount_count / total_count",
        "amounts",
        bounds=_RATIO,
    ),
    _f(
        "structuring_count",
        _I,
        "transfers",
        "transfers sent within the structuring band just below the asset's reporting threshold "
        "(per-asset thresholds in native units; none configured = 0)",
        "amounts",
    ),
    _f("structuring_ratio", _F, "ratio", "structuring_count / out_count", "amounts", bounds=_RATIO),
    # concentration
    _f(
        "in_volume_gini",
        _F,
        "index",
        "Gini coefficient of received volume across senders (0 = even)",
        "concentration",
        bounds=_RATIO,
    ),
    _f(
        "out_volume_gini",
        _F,
        "index",
        "Gini coefficient of sent volume across recipients",
        "concentration",
        bounds=_RATIO,
    ),
    _f(
        "in_volume_entropy",
        _F,
        "nats",
        "Shannon entropy of received volume shares by sender",
        "concentration",
    ),
    _f(
        "out_volume_entropy",
        _F,
        "nats",
        "Shannon entropy of sent volume shares by recipient",
        "concentration",
    ),
    _f(
        "in_top_share",
        _F,
        "ratio",
        "largest sender's share of received volume",
        "concentration",
        bounds=_RATIO,
    ),
    _f(
        "out_top_share",
        _F,
        "ratio",
        "largest recipient's share of sent volume",
        "concentration",
        bounds=_RATIO,
    ),
    # temporal
    _f("first_seen", TIMESTAMP, "time", "first transfer in the window", "temporal"),
    _f("last_seen", TIMESTAMP, "time", "last transfer in the window", "temporal"),
    _f("lifetime_days", _F, "days", "last_seen - first_seen", "temporal"),
    _f("recency_days", _F, "days", "window end - last_seen", "temporal"),
    _f("active_days", pl.Int32(), "days", "distinct days with a transfer", "temporal"),
    _f("activity_ratio", _F, "ratio", "active_days / window_days", "temporal", bounds=_RATIO),
    _f("mean_daily_count", _F, "transfers", "total_count / active_days", "temporal"),
    _f("max_daily_count", _I, "transfers", "most transfers on one day", "temporal"),
    _f(
        "daily_count_std",
        _F,
        "transfers",
        "population std of transfers per day over all window days (idle days count as 0)",
        "temporal",
    ),
    _f(
        "day_entropy",
        _F,
        "ratio",
        "entropy of transfers over days / ln(window_days): 0 = one day, 1 = spread evenly",
        "temporal",
        bounds=_RATIO,
    ),
    _f(
        "active_hours",
        pl.Int32(),
        "hours",
        "distinct hours of day (UTC) with a transfer",
        "temporal",
    ),
    _f(
        "weekend_ratio",
        _F,
        "ratio",
        "share of transfers on Saturdays and Sundays (UTC)",
        "temporal",
        bounds=_RATIO,
    ),
    _f(
        "interarrival_mean_s",
        _F,
        "seconds",
        "mean time between consecutive transfers",
        "temporal",
        nullable=True,
    ),
    _f(
        "interarrival_std_s",
        _F,
        "seconds",
        "population std of the time between consecutive transfers",
        "temporal",
        nullable=True,
    ),
    _f(
        "interarrival_min_s",
        _F,
        "seconds",
        "shortest time between consecutive transfers",
        "temporal",
        nullable=True,
    ),
    _f(
        "burstiness",
        _F,
        "index",
        "(std - mean) / (std + mean) of inter-arrival times (Goh-Barabasi): -1 periodic, 0 "
        "Poisson, toward 1 bursty; replaces the old max/mean burst_factor, which was always >= 1",
        "temporal",
        nullable=True,
        bounds=(-1.0, 1.0),
    ),
    # graph (self-transfers are not edges of the graph algorithms)
    _f(
        "pagerank",
        _F,
        "probability",
        "PageRank over the directed window graph weighted by volume (damping 0.85)",
        "graph",
        bounds=_RATIO,
    ),
    _f(
        "hub_score",
        _F,
        "probability",
        "HITS hub score (unweighted, 1-norm)",
        "graph",
        bounds=_RATIO,
    ),
    _f(
        "authority_score",
        _F,
        "probability",
        "HITS authority score (unweighted, 1-norm)",
        "graph",
        bounds=_RATIO,
    ),
    _f(
        "component_id",
        _S,
        "address",
        "weakly connected component, named by its smallest address",
        "graph",
    ),
    _f("component_size", _I, "addresses", "addresses in the weakly connected component", "graph"),
    _f(
        "community_id",
        _S,
        "address",
        "Leiden community (modularity, volume-weighted undirected graph), named by its smallest "
        "address",
        "graph",
    ),
    _f("community_size", _I, "addresses", "addresses in the community", "graph"),
    _f("kcore", _I, "order", "k-core number in the undirected simple graph", "graph"),
    _f(
        "triangles",
        _I,
        "triangles",
        "triangles through the address (undirected simple graph)",
        "graph",
    ),
    _f(
        "clustering",
        _F,
        "ratio",
        "local clustering coefficient (undirected simple graph)",
        "graph",
        bounds=_RATIO,
    ),
    _f(
        "betweenness",
        _F,
        "paths",
        "directed, unweighted betweenness estimated from k sampled sources, scaled by n / k",
        "graph",
    ),
    # reach
    _f(
        "out_2hop_paths",
        _I,
        "paths",
        "two-step directed paths out (sum of recipients' out_degree)",
        "reach",
    ),
    _f(
        "in_2hop_paths",
        _I,
        "paths",
        "two-step directed paths in (sum of senders' in_degree)",
        "reach",
    ),
    _f("out_2hop_volume", _F, "native", "volume sent on by the address's recipients", "reach"),
    _f("in_2hop_volume", _F, "native", "volume received by the address's senders", "reach"),
)


def _exposure(direction: str, cat: str, what: str) -> Feature:
    verb = "received from" if direction == "in" else "sent to"
    if what == "count":
        definition = f"transfers {verb} addresses labelled {cat} as of the window end"
        return _f(f"{direction}_{cat}_count", _I, "transfers", definition, "exposure")
    if what == "volume":
        definition = f"volume {verb} {cat} addresses"
        return _f(f"{direction}_{cat}_volume", _F, "native", definition, "exposure")
    definition = f"volume {verb} {cat} addresses in USD; null if one transfer had no price"
    return _f(f"{direction}_{cat}_volume_usd", _F, "USD", definition, "exposure", nullable=True)


_EXPOSURE: tuple[Feature, ...] = tuple(
    _exposure(direction, cat, what)
    for cat in EXPOSURE_CATEGORIES
    for direction in ("in", "out")
    for what in ("count", "volume", "volume_usd")
) + (
    _f("labelled_counterparties", _I, "addresses", "counterparties carrying any label", "exposure"),
    _f(
        "risky_volume_share",
        _F,
        "ratio",
        f"share of total_volume exchanged with {'/'.join(RISKY_CATEGORIES)} addresses",
        "exposure",
        bounds=_RATIO,
    ),
    _f(
        "label_category",
        _S,
        "-",
        "the address's own label category, if any",
        "exposure",
        nullable=True,
    ),
)

CATALOG: tuple[Feature, ...] = IDENTITY + _CORE + _EXPOSURE
FEATURE_COLUMNS: tuple[str, ...] = tuple(f.name for f in _CORE + _EXPOSURE)
SCHEMA: dict[str, pl.DataType] = {f.name: f.dtype for f in CATALOG}
NULLABLE: tuple[str, ...] = tuple(f.name for f in CATALOG if f.nullable)


def markdown_table() -> str:
    """The catalog as a Markdown table (the docs' feature catalog; ``docs/hooks.py``)."""
    rows = ["| feature | group | unit | definition |", "|---|---|---|---|"]
    rows += [f"| `{f.name}` | {f.group} | {f.unit} | {f.definition} |" for f in _CORE + _EXPOSURE]
    return "\n".join(rows)
