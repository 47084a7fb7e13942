"""Typologies: alerts scored from patterns, features and address labels.

The catalog is versioned configuration (``analytics_platform/typologies.yaml`` by default,
``typologies_path`` in the settings to replace it). A *pattern* typology raises one alert per
matching pattern, on its centre address; a *feature* typology one per address whose window
features meet its rules. Every alert carries the pattern ids and transfers behind it, the
values that drove it (``evidence``, JSON) and a one-sentence explanation.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from analytics_platform.domain.attribution import labelled_services
from analytics_platform.domain.calibration import ScoreMap, validate_score_map
from analytics_platform.domain.cases import DEFAULT_CONFIDENCE, with_cases
from analytics_platform.domain.readable import (
    amount_text,
    duration_text,
    pattern_type_text,
    share_text,
)
from analytics_platform.domain.schemas import ALERT_COLUMNS, PATTERN_TYPE_NAMES, conform, empty

DEFAULT_CATALOG = Path(__file__).resolve().parents[1] / "typologies.yaml"
PATTERN_EVIDENCE = (
    "pattern_id", "pattern_type", "members", "roles", "total_amount", "total_amount_usd",
    "first_time", "last_time", "details",
)  # fmt: skip
"""The pattern columns a pattern alert carries as evidence (and a case report shows)."""
DERIVED_FEATURES = ("day_event_count", "day_event_ratio", "exchange_out_share", "in_value")
_PLACEHOLDER = re.compile(r"\{(\w+)(?::([%,]))?\}")  # {key}, {key:%}, {key:,}


@dataclass(frozen=True)
class Typology:
    name: str
    description: str
    source: str  # "pattern" | "feature"
    min_score: float
    high_amount: float
    explanation: str
    confidence: float = DEFAULT_CONFIDENCE
    """Share of this typology's alerts analysts confirm (weights it in the case score)."""
    rationale: str = ""
    """Why the rule separates laundering from the benign activity that resembles it."""
    materiality: bool = True
    """Whether the network's ``alert_min_value`` applies (not to sanctions exposure)."""
    needs_history: bool = False
    """Judges how new an address is: silent until the network's history covers the feature
    window (on a network's first days every address looks new)."""
    patterns: tuple[str, ...] = ()
    where: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    version: str
    feature_window: int
    typologies: tuple[Typology, ...]
    score_map: ScoreMap = ()
    """The case score mapped onto the share of cases confirmed (written by ``calibrate``;
    none in the shipped catalog: its confidences are priors)."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "feature_window": self.feature_window,
                "typologies": [
                    {**t.__dict__, "patterns": list(t.patterns), "where": dict(t.where)}
                    for t in self.typologies
                ],
                "score_map": [list(p) for p in self.score_map],
            },
            indent=1,
        )


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate a catalog; errors name the typology and field."""
    path = Path(path) if path else DEFAULT_CATALOG
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or "typologies" not in raw or "version" not in raw:
        raise ValueError(f"{path}: expected a mapping with 'version' and 'typologies'")
    items = []
    for name, body in raw["typologies"].items():
        where = {k: dict(v) for k, v in (body.get("where") or {}).items()}
        typ = Typology(
            name=name,
            description=str(body["description"]),
            source=str(body["source"]),
            min_score=float(body.get("min_score", 0.0)),
            high_amount=float(body["high_amount"]),
            explanation=str(body["explanation"]),
            confidence=float(body.get("confidence", DEFAULT_CONFIDENCE)),
            rationale=str(body.get("rationale", "")),
            materiality=bool(body.get("materiality", True)),
            needs_history=bool(body.get("needs_history", False)),
            patterns=tuple(body.get("patterns") or ()),
            where=where,
        )
        if not 0 < typ.confidence <= 1:
            raise ValueError(
                f"typologies.{name}.confidence: expected a share in (0, 1], got {typ.confidence}"
            )
        if typ.source not in ("pattern", "feature"):
            raise ValueError(
                f"typologies.{name}.source: expected pattern or feature, got {typ.source!r}"
            )
        unknown = set(typ.patterns) - set(PATTERN_TYPE_NAMES)
        if typ.source == "pattern" and (not typ.patterns or unknown):
            raise ValueError(
                f"typologies.{name}.patterns: unknown or missing types {sorted(unknown)}"
            )
        for key, rule in where.items():
            if set(rule) - {"min", "max", "equals", "in", "unknown"}:
                raise ValueError(
                    f"typologies.{name}.where.{key}: rules are min, max, equals, in, unknown; "
                    f"got {rule}"
                )
            if rule.get("unknown", "fail") not in ("pass", "fail"):
                raise ValueError(
                    f"typologies.{name}.where.{key}.unknown: expected pass or fail, "
                    f"got {rule['unknown']!r}"
                )
        items.append(typ)
    return Catalog(
        str(raw["version"]),
        int(raw.get("feature_window", 7)),
        tuple(items),
        validate_score_map(raw.get("score_map"), "score_map"),
    )


def catalog_with_confidences(
    path: str | Path | None,
    confidences: Mapping[str, float],
    tag: str,
    score_map: ScoreMap = (),
) -> str:
    """The catalog at ``path`` as YAML with the named typologies' ``confidence`` replaced, its
    ``score_map`` set (none given: none kept, as it was fitted to the old confidences) and
    its ``version`` tagged ``<version>+<tag>`` (every alert scored with it says which)."""
    path = Path(path) if path else DEFAULT_CATALOG
    load_catalog(path)  # a broken catalog is named before anything is written
    raw = yaml.safe_load(path.read_text())
    for name, value in confidences.items():
        if name not in raw["typologies"]:
            raise ValueError(f"typologies.{name}: not in the catalog {path}")
        raw["typologies"][name]["confidence"] = float(value)
    raw.pop("score_map", None)
    if score_map:
        raw["score_map"] = [[float(a), float(b)] for a, b in score_map]
    raw["version"] = f"{raw['version']}+{tag}"
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)


def _severity(score: pl.Expr, amount: pl.Expr, high_amount: float) -> pl.Expr:
    return (
        pl.when((score >= 0.8) & (amount >= high_amount))
        .then(pl.lit("critical"))
        .when((score >= 0.6) | (amount >= high_amount))
        .then(pl.lit("high"))
        .when(score >= 0.4)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def _alert_id(network: str, typology: str) -> pl.Expr:
    key = pl.format(
        "{}|{}|{}|{}|{}",
        pl.lit(network),
        pl.lit(typology),
        pl.col("date").cast(pl.String),
        pl.col("address"),
        pl.col("pattern_ids").list.sort().list.join(","),
    )
    return pl.format("{}-{}", pl.lit(typology), key.hash(seed=1123).cast(pl.String))


def _rule(col: pl.Expr, rule: Mapping[str, Any]) -> pl.Expr:
    cond = pl.lit(True)
    if "min" in rule:
        cond &= col.cast(pl.Float64) >= float(rule["min"])
    if "max" in rule:
        cond &= col.cast(pl.Float64) <= float(rule["max"])
    if "equals" in rule:
        cond &= col.cast(pl.String) == str(rule["equals"])
    if "in" in rule:
        cond &= col.cast(pl.String).is_in([str(v) for v in rule["in"]])
    if rule.get("unknown") == "pass":  # no value (not judged, e.g. before the history): kept
        cond |= col.is_null()
    return cond.fill_null(False)


def _explain(template: str, schema: Mapping[str, pl.DataType]) -> pl.Expr:
    """``template`` with {key} filled from columns (missing keys left as written; shares, the
    ``*_share`` keys and any written ``{key:%}``, as percentages; ``{key:,}`` as an amount
    with thousands separated; the pattern type in words; other floats to three decimals)."""
    parts, args = [], []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.group(1) not in schema:
            continue
        parts.append(template[pos : m.start()].replace("{", "{{").replace("}", "}}"))
        parts.append("{}")
        value = pl.col(m.group(1))
        if m.group(1).endswith("_share") or m.group(2) == "%":
            value = share_text(value)
        elif m.group(2) == ",":  # a value that is no number reads "?", as a missing one does
            value = amount_text(value.cast(pl.Float64, strict=False))
        elif m.group(1) == "pattern_type":
            value = pattern_type_text(value)
        elif schema[m.group(1)].is_float():
            value = value.round(3)
        args.append(value.cast(pl.String).fill_null("?"))
        pos = m.end()
    parts.append(template[pos:].replace("{", "{{").replace("}", "}}"))
    fmt = "".join(parts).replace("{{", "(").replace("}}", ")")
    return pl.format(fmt, *args) if args else pl.lit(fmt)


def unfilled_placeholders(alerts: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Per typology, each placeholder of its explanation that stored explanations leave as
    written ("(key)": what :func:`_explain` makes of a key no column carries, a hole an analyst
    would read), with how many alerts show it. Empty when every explanation is filled in."""
    rows = []
    by_typology = alerts.select("typology", "explanation").partition_by("typology", as_dict=True)
    for typ in catalog.typologies:
        if (typ.name,) not in by_typology:
            continue
        texts = by_typology[(typ.name,)]["explanation"]
        for placeholder in _PLACEHOLDER.finditer(typ.explanation):
            hole = pl.select(_explain(placeholder[0], {})).item()
            shown = int(texts.str.contains(hole, literal=True).sum())
            if shown:
                rows.append((typ.name, placeholder[1], shown))
    return pl.DataFrame(
        rows, schema={"typology": pl.String, "key": pl.String, "alerts": pl.Int64}, orient="row"
    )


def score_alerts(
    *,
    network: str,
    day: date,
    patterns: pl.DataFrame,
    features: pl.DataFrame,
    labels: pl.DataFrame,
    transfers: pl.DataFrame,
    catalog: Catalog | None = None,
    case_budget: int | None = None,
    services: Sequence[str] = (),
    min_value: float | None = None,
    history_start: date | None = None,
    model_alerts: pl.DataFrame | None = None,
    model_confidence: float = 0.0,
) -> pl.DataFrame:
    """Alerts for ``day`` from its patterns, features, labels (as of the day) and transfers,
    grouped into ranked cases (``domain.cases``) cut at ``case_budget`` a day. Labelled
    services and the addresses in ``services`` (attributed to one) are never alerted; patterns
    that moved less than ``min_value`` (USD where priced, else the units of their one asset;
    a value across unpriced assets is unknown and kept) only by typologies exempt from
    materiality; typologies that need history stay silent before ``history_start`` (the
    network's first day) plus the feature window. ``model_alerts`` (the risk model's, of
    :data:`ALERT_COLUMNS`) join the day's cases with weight ``model_confidence`` in the case
    score's noisy-OR (``domain.cases``), as a typology's confidence does."""
    catalog = catalog or load_catalog()
    observed = (day - history_start).days + 1 if history_start else None
    excluded = pl.Series(sorted({*labelled_services(labels), *services}), dtype=pl.String)
    frames = []
    feats = None
    for typ in catalog.typologies:
        if typ.source == "pattern":
            floor = min_value if typ.materiality else None
            frames.append(_pattern_alerts(typ, network, day, patterns, excluded, floor))
        else:
            if typ.needs_history and observed is not None and observed < catalog.feature_window:
                continue
            if feats is None:
                feats = _derived_features(
                    features, transfers, labels, catalog.feature_window, day
                ).filter(~pl.col("address").is_in(excluded.implode()))
            frames.append(_feature_alerts(typ, network, day, feats))
    if model_alerts is not None:
        frames.append(model_alerts.filter(~pl.col("address").is_in(excluded.implode())))
    frames = [f for f in frames if f.height]
    alerts = (
        pl.concat(frames).unique("alert_id", keep="first").sort("typology", "alert_id")
        if frames
        else empty(ALERT_COLUMNS)
    )
    alerts = _sources(alerts)
    confidence = {t.name: t.confidence for t in catalog.typologies}
    if model_alerts is not None:
        confidence[MODEL_TYPOLOGY] = model_confidence
    return with_cases(
        alerts,
        network=network,
        confidence=confidence,
        budget=case_budget,
        score_map=catalog.score_map,
    )


MODEL_TYPOLOGY = "learned_risk"
"""The typology of the risk model's alerts (``pipeline.risk``)."""


def _sources(alerts: pl.DataFrame) -> pl.DataFrame:
    """``source`` ``both`` on the rule and model alerts of an address that agree on the
    pattern type."""
    key = ["address", "pattern_type"]
    model = pl.col("typology") == MODEL_TYPOLOGY
    sides = (
        alerts.filter(pl.col("pattern_type") != "")
        .group_by(key)
        .agg(model.any().alias("_m"), (~model).any().alias("_r"))
    )
    return (
        alerts.join(sides, on=key, how="left")
        .with_columns(
            pl.when(pl.col("_m") & pl.col("_r")).then(pl.lit("both")).otherwise("source")
            .alias("source")
        )
        .drop("_m", "_r")
    )  # fmt: skip


def _details(patterns: pl.DataFrame) -> pl.DataFrame:
    """Pattern details JSON unnested into text columns (absent keys null). Read as NDJSON:
    polars infers the union of the keys in one pass (``str.json_decode`` wants the schema)."""
    if patterns.height == 0:
        return patterns
    lines = "\n".join(d or "{}" for d in patterns["details"].to_list())
    values = pl.read_ndjson(io.StringIO(lines), infer_schema_length=None)
    if values.width == 0:
        return patterns
    return patterns.hstack(
        values.select(
            pl.col(c).cast(pl.String) for c in values.columns if c not in patterns.columns
        )
    )


def _comparable_value(usd: pl.Expr, native: pl.Expr, assets: pl.Expr) -> pl.Expr:
    """A value where it means something, for severity and materiality: ``usd`` where every
    transfer is priced, else the ``native`` total where the transfers move one asset (or the
    row predates its asset count), else unknown: a sum of yen and euros is no amount."""
    return pl.coalesce(usd, pl.when(assets.fill_null(1) <= 1).then(native))


def _comparable_share(
    part_usd: pl.Expr, whole_usd: pl.Expr, native_share: pl.Expr, assets: pl.Expr
) -> pl.Expr:
    """A share in the unit :func:`_comparable_value` weighs: of USD where both are priced,
    else the ``native_share`` where one asset moves, else unknown."""
    usd_share = pl.when(whole_usd > 0).then(part_usd / whole_usd)
    one_asset = assets.fill_null(1) <= 1
    return pl.coalesce(usd_share, pl.when(one_asset).then(native_share)).fill_nan(None)


def _pattern_alerts(
    typ: Typology, network, day, patterns: pl.DataFrame, services, min_value: float | None
) -> pl.DataFrame:
    p = patterns.filter(
        pl.col("pattern_type").is_in(list(typ.patterns))
        & (pl.col("score") >= typ.min_score)
        & ~pl.col("center_address").is_in(services.implode())
    )
    if p.height == 0:
        return empty(ALERT_COLUMNS)
    p = _details(p)
    for key in ("assets_n", "amounts"):
        if key not in p.columns:
            p = p.with_columns(pl.lit(None, pl.String).alias(key))
    assets = pl.col("assets_n").cast(pl.Int64, strict=False)
    value = _comparable_value(pl.col("total_amount_usd"), pl.col("total_amount"), assets)
    p = p.with_columns(value.alias("_value"))
    if min_value is not None:
        # A value that cannot be known (currencies without prices) is not known to be small.
        p = p.filter(pl.col("_value").is_null() | (pl.col("_value") >= min_value))
    for key, rule in typ.where.items():
        if key not in p.columns:
            if rule.get("unknown") == "pass":
                continue
            return empty(ALERT_COLUMNS)
        p = p.filter(_rule(pl.col(key), rule))
    if p.height == 0:
        return empty(ALERT_COLUMNS)
    p = p.with_columns(
        pl.col("center_address").alias("address"),
        (pl.col("members").list.len() - 1).alias("n"),
        pl.col("members").list.len().alias("members_n"),
        # per asset and named (details.amounts); a pattern stored before those: its native total
        pl.coalesce("amounts", amount_text(pl.col("total_amount"))).alias("amount"),
        pl.when(pl.col("total_amount_usd").is_null())
        .then(pl.lit("USD value unknown: no price"))
        .otherwise(pl.format("{} USD", amount_text(pl.col("total_amount_usd"))))
        .alias("amount_usd"),
        duration_text((pl.col("last_time") - pl.col("first_time")).dt.total_seconds()).alias(
            "span"
        ),
        pl.col("first_time").dt.strftime("%Y-%m-%d %H:%M").alias("first"),
        pl.col("last_time").dt.strftime("%Y-%m-%d %H:%M").alias("last"),
    )
    evidence = pl.struct(*PATTERN_EVIDENCE).struct.json_encode()
    out = p.with_columns(
        pl.lit(typ.name).alias("typology"),
        # high_amount is in USD where the pattern is priced, else in its one asset's units; an
        # amount across unpriced assets is unknown and leaves severity to the score.
        _severity(pl.col("score"), pl.col("_value"), typ.high_amount).alias("severity"),
        pl.concat_list("pattern_id").alias("pattern_ids"),
        evidence.alias("evidence"),
        _explain(typ.explanation, p.schema).alias("explanation"),
        pl.lit("rule").alias("source"),
    ).with_columns(_alert_id(network, typ.name).alias("alert_id"))
    return conform(out, ALERT_COLUMNS)


def _derived_features(features, transfers, labels, window: int, day: date) -> pl.DataFrame:
    f = features.filter(pl.col("window_days") == window)
    today = transfers.filter(pl.col("date") == day)
    counts = (
        pl.concat(
            [
                today.select(pl.col("from_address").alias("address"), "tx_hash"),
                today.select(pl.col("to_address").alias("address"), "tx_hash"),
            ]
        )
        .group_by("address")
        .agg(
            pl.len().alias("day_event_count"),
            pl.col("tx_hash").unique().sort().head(50).alias("tx_hashes"),
        )
    )
    return (
        f.join(counts, on="address", how="inner")
        .with_columns(
            (pl.col("day_event_count") / pl.col("mean_daily_count"))
            .round(2)
            .alias("day_event_ratio"),
            _comparable_share(
                pl.col("out_exchange_volume_usd"),
                pl.col("out_volume_usd"),
                pl.col("out_exchange_volume") / pl.col("out_volume"),
                pl.col("asset_count"),
            )
            .round(3)
            .alias("exchange_out_share"),
            _comparable_value(pl.col("in_volume_usd"), pl.col("in_volume"), pl.col("asset_count"))
            .round(2)
            .alias("in_value"),
            pl.lit(window).alias("window"),
        )
        .filter(~pl.col("address").is_in(labels["address"].implode()))
    )


def _feature_alerts(typ: Typology, network, day, feats: pl.DataFrame) -> pl.DataFrame:
    f = feats
    for key, rule in typ.where.items():
        if key not in f.columns:
            raise ValueError(
                f"typologies.{typ.name}.where.{key}: no such feature (see the catalog)"
            )
        f = f.filter(_rule(pl.col(key), rule))
    if f.height == 0:
        return empty(ALERT_COLUMNS)
    # Score: how far past each threshold the address is, averaged (1 at twice the threshold).
    parts = []
    for key, rule in typ.where.items():
        if "min" in rule and float(rule["min"]) > 0:
            parts.append((pl.col(key) / float(rule["min"]) - 1).clip(0, 1))
        elif "max" in rule and float(rule["max"]) > 0:
            parts.append((1 - pl.col(key) / float(rule["max"])).clip(0, 1))
    score = (0.5 + 0.5 * pl.mean_horizontal(parts)) if parts else pl.lit(0.5)
    keys = [k for k in typ.where]
    one_asset = pl.col("asset_count") <= 1
    received = (
        pl.when(pl.col("in_volume_usd").is_not_null())
        .then(pl.format("{} USD", amount_text(pl.col("in_volume_usd"))))
        .when(one_asset)
        .then(amount_text(pl.col("in_volume")))
        .otherwise(pl.format("unpriced amounts in {} assets", "asset_count"))
    )
    value = _comparable_value(
        pl.col("in_volume_usd") + pl.col("out_volume_usd"),
        pl.col("total_volume"),
        pl.col("asset_count"),
    )
    out = (
        f.with_columns(score.alias("score"), received.alias("amount"))
        .filter(pl.col("score") >= typ.min_score)
        .with_columns(
            pl.lit(typ.name).alias("typology"),
            pl.lit(network).alias("network"),
            pl.lit(day).alias("date"),
            _severity(pl.col("score"), value, typ.high_amount).alias("severity"),
            pl.lit([], dtype=pl.List(pl.String)).alias("pattern_ids"),
            pl.struct([*keys, "window"]).struct.json_encode().alias("evidence"),
            _explain(typ.explanation, {**f.schema, "amount": pl.String()}).alias("explanation"),
            pl.lit("").alias("pattern_type"),
            pl.lit("rule").alias("source"),
        )
        .with_columns(_alert_id(network, typ.name).alias("alert_id"))
    )
    return conform(out, ALERT_COLUMNS)
