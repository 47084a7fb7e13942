"""Scoring detections against planted (ground-truth) patterns.

Pattern level: a planted pattern is *found* when a detection contains more than
``min_overlap`` of its member addresses (the datasets' "shares most members" rule); it is
found *with the right type* when such a detection has the planted type (dataset type names are
normalised: ``SCATTER-GATHER`` -> ``scatter_gather``; ``RANDOM``, a random walk of hops, is a
``layering_chain`` or ``peel_chain``). A detection is a true hit when it matches a planted
suspicious pattern of its own type, a decoy hit when it matches only look-alikes
(``is_sar`` false).

Account level, per type: the addresses in detections of that type against the members of the
planted suspicious patterns of that type. Members of decoys are counted as decoy hits, apart
from both true and false positives: precision = true / (true + false).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import polars as pl

from analytics_platform.domain.calibration import fit_confidences
from analytics_platform.domain.cases import episodes, fit_case_score_map, with_cases

# Dataset type -> the detector types that count as that type.
TYPE_ALIASES: dict[str, tuple[str, ...]] = {"random": ("layering_chain", "peel_chain")}


def normalise_type(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.replace_all("-", "_").str.strip_chars()


def _accepts(planted_type: pl.Expr, detected_type: pl.Expr) -> pl.Expr:
    cond = planted_type == detected_type
    for planted, detected in TYPE_ALIASES.items():
        cond = cond | ((planted_type == planted) & detected_type.is_in(list(detected)))
    return cond.fill_null(False)


def _overlaps(truth: pl.DataFrame, detected: pl.DataFrame, min_overlap: float) -> pl.DataFrame:
    """(planted, detection) pairs sharing more than ``min_overlap`` of the planted members."""
    members = (
        detected.select(
            pl.col("pattern_id").alias("detection"),
            pl.col("pattern_type").alias("detected_type"),
            pl.col("members").alias("address"),
        )
        .explode("address", empty_as_null=False)
        .unique()
    )
    planted = truth.select("pattern_id", "pattern_type", "is_sar", "address").unique()
    sizes = planted.group_by("pattern_id").agg(pl.len().alias("size"))
    return (
        planted.join(members, on="address")
        .group_by("pattern_id", "pattern_type", "is_sar", "detection", "detected_type")
        .agg(pl.len().alias("shared"))
        .join(sizes, on="pattern_id")
        .filter(pl.col("shared") / pl.col("size") > min_overlap)
        .with_columns(_accepts(pl.col("pattern_type"), pl.col("detected_type")).alias("same_type"))
    )


def pattern_scores(
    truth: pl.DataFrame, detected: pl.DataFrame, min_overlap: float = 0.5
) -> pl.DataFrame:
    """Per planted type: planted, found (any type), found with the right type, recall, type
    accuracy; and per detected type: detections, true hits, decoy hits, precision.

    ``truth``: pattern_id, pattern_type, is_sar, address (one row per member).
    ``detected``: pattern_id, pattern_type, members.
    """
    truth = truth.with_columns(normalise_type(pl.col("pattern_type")))
    pairs = _overlaps(truth, detected, min_overlap)
    sar = truth.filter(pl.col("is_sar"))
    planted = sar.group_by("pattern_type").agg(pl.col("pattern_id").n_unique().alias("planted"))
    found_any = (
        pairs.filter(pl.col("is_sar"))
        .group_by("pattern_type")
        .agg(pl.col("pattern_id").n_unique().alias("found_any_type"))
    )
    found = (
        pairs.filter(pl.col("is_sar") & pl.col("same_type"))
        .group_by("pattern_type")
        .agg(pl.col("pattern_id").n_unique().alias("found"))
    )
    true_hits = pairs.filter(pl.col("is_sar") & pl.col("same_type"))
    decoy_hits = pairs.filter(~pl.col("is_sar") & pl.col("same_type")).join(
        true_hits.select("detection"), on="detection", how="anti"
    )
    per_detected = (
        detected.group_by(pl.col("pattern_type").alias("detected_type"))
        .agg(pl.len().alias("detections"))
        .join(
            true_hits.group_by("detected_type").agg(
                pl.col("detection").n_unique().alias("true_hits")
            ),
            on="detected_type",
            how="left",
        )
        .join(
            decoy_hits.group_by("detected_type").agg(
                pl.col("detection").n_unique().alias("decoy_hits")
            ),
            on="detected_type",
            how="left",
        )
        .fill_null(0)
    )
    out = (
        planted.join(found_any, on="pattern_type", how="left")
        .join(found, on="pattern_type", how="left")
        .fill_null(0)
        .with_columns(
            (pl.col("found_any_type") / pl.col("planted")).alias("recall_any_type"),
            (pl.col("found") / pl.col("planted")).alias("recall"),
            (pl.col("found") / pl.col("found_any_type")).fill_nan(None).alias("right_type"),
        )
    )
    out = (
        out.join(
            per_detected.rename({"detected_type": "pattern_type"}),
            on="pattern_type",
            how="full",
            coalesce=True,
        )
        .fill_null(0)
        .with_columns(
            (pl.col("true_hits") / (pl.col("detections") - pl.col("decoy_hits")))
            .fill_nan(None)
            .alias("precision"),
        )
    )
    return out.with_columns(_f1()).sort("pattern_type")


def type_by_size(
    truth: pl.DataFrame,
    transactions: pl.DataFrame,
    detected: pl.DataFrame,
    min_overlap: float = 0.5,
) -> pl.DataFrame:
    """:func:`pattern_scores`' recall and right type by the planted pattern's number of
    transfers (1, 2, 3 or more): one payment shows no shape, two show little, so a type is
    only read from larger patterns. ``transactions``: pattern_id, tx_hash."""
    truth = truth.with_columns(normalise_type(pl.col("pattern_type"))).filter(pl.col("is_sar"))
    size = pl.col("transfers")
    bucket = pl.when(size >= 3).then(pl.lit("3+")).otherwise(size.cast(pl.String))
    sizes = (
        transactions.group_by("pattern_id")
        .agg(pl.col("tx_hash").n_unique().alias("transfers"))
        .join(truth.select("pattern_id").unique(), on="pattern_id")
        .select("pattern_id", bucket.alias("transfers"))
    )
    found = (
        _overlaps(truth, detected, min_overlap)
        .group_by("pattern_id")
        .agg(pl.lit(True).alias("found_any_type"), pl.col("same_type").any().alias("found"))
    )
    return (
        sizes.join(found, on="pattern_id", how="left")
        .fill_null(False)
        .group_by("transfers")
        .agg(
            pl.len().alias("planted"),
            pl.col("found_any_type").sum(),
            pl.col("found").sum(),
        )
        .with_columns(
            (pl.col("found_any_type") / pl.col("planted")).alias("recall_any_type"),
            (pl.col("found") / pl.col("found_any_type")).fill_nan(None).alias("right_type"),
        )
        .sort("transfers")
    )


def account_scores(truth: pl.DataFrame, detected: pl.DataFrame) -> pl.DataFrame:
    """Per type: flagged addresses, true / false / decoy hits, precision, recall, F1."""
    truth = truth.with_columns(normalise_type(pl.col("pattern_type")))
    alias_rows = [(d, p) for p, ds in TYPE_ALIASES.items() for d in ds]
    mapping = pl.DataFrame(alias_rows, schema=["detected_type", "pattern_type"], orient="row")
    members = detected.select(
        pl.col("pattern_type").alias("detected_type"), pl.col("members").alias("address")
    ).explode("address", empty_as_null=False)
    # A detection counts for its own type and for the dataset's types that accept it (a
    # layering chain is a layering chain, and a RANDOM walk where the truth has those).
    flagged = pl.concat(
        [
            members.select(pl.col("detected_type").alias("pattern_type"), "address"),
            members.join(mapping, on="detected_type")
            .join(truth.select("pattern_type").unique(), on="pattern_type", how="semi")
            .select("pattern_type", "address"),
        ]
    ).unique()
    sar = truth.filter(pl.col("is_sar")).select("pattern_type", "address").unique()
    decoy = (
        truth.filter(~pl.col("is_sar"))
        .select("pattern_type", "address")
        .unique()
        .join(sar, on=["pattern_type", "address"], how="anti")
    )
    tagged = flagged.join(
        sar.with_columns(pl.lit("true").alias("hit")), on=["pattern_type", "address"], how="left"
    )
    tagged = tagged.join(
        decoy.with_columns(pl.lit("decoy").alias("decoy")),
        on=["pattern_type", "address"],
        how="left",
    ).with_columns(pl.coalesce("hit", "decoy", pl.lit("false")).alias("hit"))
    counts = tagged.group_by("pattern_type").agg(
        pl.len().alias("flagged"),
        (pl.col("hit") == "true").sum().alias("true_hits"),
        (pl.col("hit") == "false").sum().alias("false_hits"),
        (pl.col("hit") == "decoy").sum().alias("decoy_hits"),
    )
    members = sar.group_by("pattern_type").agg(pl.len().alias("members"))
    return (
        members.join(counts, on="pattern_type", how="full", coalesce=True)
        .fill_null(0)
        .with_columns(
            (pl.col("true_hits") / (pl.col("true_hits") + pl.col("false_hits")))
            .fill_nan(None)
            .alias("precision"),
            (pl.col("true_hits") / pl.col("members")).fill_nan(None).alias("recall"),
        )
        .with_columns(_f1())
        .sort("pattern_type")
    )


def alerted_patterns(patterns: pl.DataFrame, alerts: pl.DataFrame) -> pl.DataFrame:
    """The patterns behind at least one alert: what a case shows an analyst (its members and
    roles), so :func:`account_scores` of them is the account level through the product."""
    ids = alerts.select(
        pl.col("pattern_ids").explode(empty_as_null=False).alias("pattern_id")
    ).unique()
    return patterns.join(ids, on="pattern_id", how="semi")


def _f1() -> pl.Expr:
    p, r = pl.col("precision"), pl.col("recall")
    return pl.when((p + r) > 0).then(2 * p * r / (p + r)).otherwise(None).alias("f1")


def match_planted(truth: pl.DataFrame, detected: pl.DataFrame) -> pl.DataFrame:
    """Per planted type of the project's synthetic data (patterns suspicious unless ``is_sar``
    says otherwise)."""
    if "is_sar" not in truth.columns:
        truth = truth.with_columns(pl.lit(True).alias("is_sar"))
    return pattern_scores(truth, detected)


# --- Alerts and cases: what the platform shows an analyst --------------------------------


def _member_kind(truth: pl.DataFrame) -> pl.DataFrame:
    """address -> ``planted`` (member of a suspicious pattern) or ``decoy`` (of look-alikes
    only)."""
    sar = truth.filter(pl.col("is_sar")).select("address").unique()
    decoy = (
        truth.filter(~pl.col("is_sar"))
        .select("address")
        .unique()
        .join(sar, on="address", how="anti")
    )
    return pl.concat(
        [
            sar.with_columns(pl.lit("planted").alias("kind")),
            decoy.with_columns(pl.lit("decoy").alias("kind")),
        ]
    )


def _tagged(truth: pl.DataFrame, alerts: pl.DataFrame) -> pl.DataFrame:
    return alerts.join(_member_kind(truth), on="address", how="left").with_columns(
        pl.col("kind").fill_null("outside")
    )


def alert_scores(truth: pl.DataFrame, alerts: pl.DataFrame) -> pl.DataFrame:
    """Per typology (and ``any``): alerted addresses, how many are members of a planted
    suspicious pattern, of a benign look-alike only, or of neither; precision = planted /
    (planted + outside), look-alikes apart. Counted once per address over all days."""
    tagged = _tagged(truth, alerts).select("typology", "address", "kind").unique()
    both = pl.concat([tagged, tagged.with_columns(pl.lit("any").alias("typology")).unique()])
    return (
        both.group_by("typology")
        .agg(
            pl.len().alias("alerted"),
            (pl.col("kind") == "planted").sum().alias("planted"),
            (pl.col("kind") == "decoy").sum().alias("decoys"),
            (pl.col("kind") == "outside").sum().alias("outside"),
        )
        .with_columns(
            (pl.col("planted") / (pl.col("planted") + pl.col("outside")))
            .fill_nan(None)
            .alias("precision")
        )
        .sort(pl.col("typology") == "any", "typology")
    )


def planted_alerted(transactions: pl.DataFrame, alerts: pl.DataFrame) -> pl.DataFrame:
    """Per planted type: patterns (suspicious and look-alike apart) that an alert was raised
    on, i.e. whose transfers are among an alert's evidence; the share alerted is the recall
    for suspicious patterns and the false-alarm rate on look-alikes (whose members are ordinary
    users, alerted for other activity at times: only alerts on the pattern's own transfers
    count). ``transactions``: pattern_id, pattern_type, is_sar, tx_hash."""
    transactions = transactions.with_columns(normalise_type(pl.col("pattern_type")))
    evidence = (
        alerts.select(pl.col("tx_hashes").alias("tx_hash"))
        .explode("tx_hash", empty_as_null=False)
        .drop_nulls()
        .unique()
        .with_columns(pl.lit(True).alias("_hit"))
    )
    per_pattern = (
        transactions.join(evidence, on="tx_hash", how="left")
        .group_by("pattern_id", "pattern_type", "is_sar")
        .agg(pl.col("_hit").any().fill_null(False).alias("alerted"))
    )
    return (
        per_pattern.group_by("pattern_type", "is_sar")
        .agg(pl.len().alias("patterns"), pl.col("alerted").sum())
        .with_columns((pl.col("alerted") / pl.col("patterns")).alias("share"))
        .with_columns(
            pl.when(pl.col("is_sar"))
            .then(pl.lit("suspicious"))
            .otherwise(pl.lit("look-alike"))
            .alias("planted_as")
        )
        .select("pattern_type", "planted_as", "patterns", "alerted", "share")
        .sort("planted_as", "pattern_type", descending=[True, False])
    )


def precision_at_k(
    truth: pl.DataFrame, alerts: pl.DataFrame, ks: tuple[int, ...] = (5, 10, 20, 50)
) -> pl.DataFrame:
    """Cases ranked within each day: of the top ``k`` cases of every day, the share on planted
    members (and on look-alikes), as if the day's case budget were ``k``."""
    cases = _tagged(truth, alerts.select("date", "address", "case_rank").unique())
    rows = []
    for k in ks:
        top = cases.filter(pl.col("case_rank") <= k)
        n = top.height
        rows.append(
            {
                "k": k,
                "cases": n,
                "planted": int((top["kind"] == "planted").sum()),
                "decoys": int((top["kind"] == "decoy").sum()),
                "precision": float((top["kind"] == "planted").sum()) / n if n else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "k": pl.Int64,
            "cases": pl.Int64,
            "planted": pl.Int64,
            "decoys": pl.Int64,
            "precision": pl.Float64,
        },
    )


def workload(
    alerts: pl.DataFrame, truth: pl.DataFrame | None = None, within_days: int = 7
) -> dict[str, float | int | None]:
    """The analysts' workload: ``cases``, alerted ``addresses``, ``repeat_cases`` (cases of an
    address that had one in the ``within_days`` days before: a re-alert an analyst meets
    again) with their share of all cases, the ``episodes`` those cases make
    (:func:`~analytics_platform.domain.cases.episodes`, none closed by a verdict) and, given
    the ``truth``, the share of episodes on members of a planted pattern."""
    cases = alerts.group_by("address", "date").agg(
        pl.col("case_score").max(), pl.col("typology").unique().alias("typologies")
    )
    work = episodes(cases, within_days)
    # Without verdicts an episode starts exactly where an address had no case in the
    # within_days before: every other case is a repeat.
    repeat = cases.height - work.height
    return {
        "cases": cases.height,
        "addresses": cases["address"].n_unique(),
        "repeat_cases": repeat,
        "repeat_share": repeat / cases.height if cases.height else 0.0,
        "episodes": work.height,
        "episode_precision": (
            float((_tagged(truth, work)["kind"] == "planted").mean())
            if truth is not None and work.height
            else None
        ),
    }


def outside_share(truth: pl.DataFrame, alerts: pl.DataFrame, active: pl.DataFrame) -> pl.DataFrame:
    """Per day: addresses alerted outside every planted pattern (suspicious or look-alike),
    all alerts and the cases within the budget, as a share of the day's active addresses
    (``active``: date, active)."""
    tagged = _tagged(truth, alerts).filter(pl.col("kind") == "outside")
    per_day = tagged.group_by("date").agg(
        pl.col("address").n_unique().alias("outside"),
        pl.col("address").filter(pl.col("in_budget")).n_unique().alias("outside_in_budget"),
    )
    return (
        active.join(per_day, on="date", how="left")
        .fill_null(0)
        .with_columns(
            (pl.col("outside") / pl.col("active")).alias("share"),
            (pl.col("outside_in_budget") / pl.col("active")).alias("share_in_budget"),
        )
        .sort("date")
    )


def calibration(
    truth: pl.DataFrame, alerts: pl.DataFrame, edges: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
) -> pl.DataFrame:
    """Cases by case-score band: how many, and the share on planted members (a calibrated
    score has shares that rise with the band and sit near its scores)."""
    cases = _tagged(truth, alerts.select("date", "address", "case_score").unique())
    inner = [f"{a}-{b}" for a, b in itertools.pairwise(edges)]
    labels = [f"<{edges[0]}", *inner, f">={edges[-1]}"]
    return (
        cases.with_columns(
            pl.col("case_score").cut(list(edges), labels=labels, left_closed=True).alias("band")
        )
        .group_by("band")
        .agg(
            pl.len().alias("cases"),
            pl.col("case_score").mean().alias("mean_score"),
            (pl.col("kind") == "planted").mean().alias("planted_share"),
            (pl.col("kind") == "decoy").sum().alias("decoys"),
        )
        .sort("band")
    )


def refit_calibration(
    truth: pl.DataFrame, alerts: pl.DataFrame, prior: Mapping[str, float], weight: float = 20.0
) -> dict[str, pl.DataFrame]:
    """What dispositions would do for the case score: the cases of the first half of the days
    dispositioned from the labels (members of a planted suspicious pattern confirmed, every
    other case dismissed), the typologies' confidences and the case score map refitted to them
    as ``calibrate`` does (:func:`fit_confidences`, :func:`fit_case_score_map`), and the cases
    of the later days rescored with those as the product scores them (:func:`with_cases`).
    Returns the fitted confidences and score map and the later days' calibration before and
    after."""
    days = alerts["date"].unique().sort()
    cut = days[len(days) // 2]
    first, later = alerts.filter(pl.col("date") < cut), alerts.filter(pl.col("date") >= cut)
    verdicts = _tagged(truth, first.select("date", "address").unique()).select(
        "date",
        "address",
        pl.when(pl.col("kind") == "planted")
        .then(pl.lit("confirmed"))
        .otherwise(pl.lit("dismissed"))
        .alias("disposition"),
    )
    fitted = fit_confidences(first, verdicts, prior, weight)
    confidence = dict(zip(fitted["typology"], fitted["fitted"], strict=True))
    score_map = fit_case_score_map(first, verdicts, confidence, weight)
    rescored = with_cases(
        later.drop("case_id", "case_score", "case_rank", "in_budget"),
        network=later["network"][0],
        confidence=confidence,
        score_map=score_map,
    )
    before, after = calibration(truth, later), calibration(truth, rescored)
    return {
        "refit_confidences": fitted,
        "refit_score_map": [list(p) for p in score_map],
        "calibration_later_days": before,
        "calibration_later_days_refit": after,
        "calibration_error_later_days": calibration_error(before),
        "calibration_error_later_days_refit": calibration_error(after),
    }


def calibration_error(bands: pl.DataFrame) -> float:
    """Expected calibration error of a :func:`calibration` table: the case-weighted mean gap
    between a band's mean score and its planted share (0: the score is the planted share)."""
    gap = (pl.col("mean_score") - pl.col("planted_share")).abs() * pl.col("cases")
    total = bands["cases"].sum()
    return round(float(bands.select(gap.sum()).item() / total), 4) if total else 0.0


def product_scores(
    truth: pl.DataFrame,
    transactions: pl.DataFrame,
    alerts: pl.DataFrame,
    active: pl.DataFrame,
) -> dict:
    """What an analyst would see, scored: planted patterns alerted (``transactions``:
    pattern_id, pattern_type, is_sar, tx_hash), alerted addresses per typology, the precision
    of each day's top cases, the case-score calibration, the workload (repeat cases) and the
    outside share per day
    (``active``: date, active)."""
    per_day = outside_share(truth, alerts, active)
    return {
        "planted_alerted": planted_alerted(transactions, alerts),
        "alert_level": alert_scores(truth, alerts),
        "precision_at_k": precision_at_k(truth, alerts),
        "calibration": calibration(truth, alerts),
        "workload": workload(alerts, truth),
        "outside_share_max": float(per_day["share"].max() or 0.0),
        "outside_share_in_budget_max": float(per_day["share_in_budget"].max() or 0.0),
        "outside_per_day": per_day,
    }
