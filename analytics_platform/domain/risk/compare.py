"""Rules, model and both, judged on the days after a cutoff (``evaluate --cutoff``).

The truth judged is the planted patterns not yet known at the cutoff (their last day is after
it), look-alikes of those days apart: what a model trained at the cutoff could not have seen.
Rules are the alerts raised after the cutoff (the patterns behind them, as an analyst sees a
case); the model flags an address for a type when one of its days after the cutoff reaches the
type's validation threshold. *Both* combines them per type as the validation days chose
(:func:`choose_blend`): rules, model, either, or both agreeing, whichever had the best
account-level F1 on the labels known at the cutoff. Each is scored per type at the account
level (``domain.evaluation.account_scores``).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics_platform.domain.evaluation import account_scores, alerted_patterns

BLENDS = ("rules", "model", "either", "agreeing")


def truth_after(
    truth: pl.DataFrame, spans: pl.DataFrame, cutoff: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``truth`` (pattern_id, pattern_type, is_sar, address) of the patterns whose last day
    (``spans``: pattern_id, last_day) is after ``cutoff``, and the (pattern_type, address)
    pairs known before it and not after: flagging those again is neither a hit nor a false
    alarm (the team knew them), so :func:`side_by_side` leaves them out."""
    later = spans.filter(pl.col("last_day") > cutoff).select("pattern_id")
    judged = truth.join(later, on="pattern_id", how="semi")
    key = ["pattern_type", "address"]
    earlier = (
        truth.filter(pl.col("is_sar"))
        .join(later, on="pattern_id", how="anti")
        .select(key)
        .unique()
        .join(judged.select(key), on=key, how="anti")
    )
    return judged, earlier


def labels_as_truth(labels: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """Known labels whose pattern ran within ``first..last``, shaped as a dataset's truth."""
    return labels.filter((pl.col("first_day") <= last) & (pl.col("last_day") >= first)).select(
        pl.format("{}|{}", "pattern_type", "known_at").alias("pattern_id"),
        "pattern_type",
        pl.lit(True).alias("is_sar"),
        "address",
    )


def rules_between(
    patterns: pl.DataFrame, alerts: pl.DataFrame, first: date, last: date
) -> pl.DataFrame:
    """The detections (pattern_type, members) behind the alerts raised on ``first..last``."""
    days = pl.col("date").is_between(first, last)
    return alerted_patterns(patterns.filter(days), alerts.filter(days)).select(
        "pattern_type", "members"
    )


def model_between(flagged: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """One detection per (type, address) the model flagged on days ``first..last``."""
    return (
        flagged.filter(pl.col("date").is_between(first, last))
        .select("pattern_type", "address")
        .unique()
        .select("pattern_type", pl.concat_list("address").alias("members"))
    )


def _flags(found: pl.DataFrame) -> pl.DataFrame:
    return (
        found.select("pattern_type", pl.col("members").alias("address"))
        .explode("address", empty_as_null=False)
        .drop_nulls()
        .unique()
    )


def blend(rules: pl.DataFrame, model: pl.DataFrame, policies: dict[str, str]) -> pl.DataFrame:
    """Detections (pattern_type, members) of each type by its policy of :data:`BLENDS` (a
    type without one: the rules)."""
    key = ["pattern_type", "address"]
    both = (
        _flags(rules)
        .with_columns(pl.lit(True).alias("r"))
        .join(_flags(model).with_columns(pl.lit(True).alias("m")), on=key, how="full",
              coalesce=True)
        .with_columns(pl.col("r", "m").fill_null(False))
    )  # fmt: skip
    policy = pl.col("pattern_type").replace_strict(policies, default="rules")
    keep = (
        pl.when(policy == "rules").then(pl.col("r"))
        .when(policy == "model").then(pl.col("m"))
        .when(policy == "agreeing").then(pl.col("r") & pl.col("m"))
        .otherwise(pl.col("r") | pl.col("m"))
    )  # fmt: skip
    return both.filter(keep).select("pattern_type", pl.concat_list("address").alias("members"))


MIN_SUPPORT = 10
"""Labelled addresses of a type the validation days need before anything but the rules is
chosen for it: fewer, and a better F1 there is as likely luck."""
MIN_GAIN = 0.02
"""How much better than the rules (F1 on validation) a combination must be to be chosen."""
RESAMPLES = 400
SURE = 0.9
"""Share of the :data:`RESAMPLES` bootstrap resamples of a type's validation addresses in
which a combination must beat the rules before it is chosen: a gain that one lucky pattern
makes on the validation days is not one the days after it keep (AMLSim's cycles gained 0.02
on validation and lost 0.01 after the cutoff before this was asked)."""


def choose_blend(truth: pl.DataFrame, rules: pl.DataFrame, model: pl.DataFrame) -> dict[str, str]:
    """Per type of ``truth`` (validation days), the policy of :data:`BLENDS` with the best
    account-level F1, kept to the rules unless it beats them by :data:`MIN_GAIN` with
    :data:`MIN_SUPPORT` labelled addresses, and in :data:`SURE` of the resamples of the
    addresses (on a tie, the earlier of :data:`BLENDS`)."""
    types = sorted(truth["pattern_type"].unique().to_list())
    support = dict(truth.group_by("pattern_type").agg(pl.col("address").n_unique()).iter_rows())
    f1 = {
        name: dict(
            account_scores(truth, blend(rules, model, dict.fromkeys(types, name)))
            .select("pattern_type", pl.col("f1").fill_null(0.0))
            .iter_rows()
        )
        for name in BLENDS
    }
    chosen = {}
    for t in types:
        best = max(BLENDS, key=lambda n: (f1[n].get(t, 0.0), -BLENDS.index(n)))
        gain = f1[best].get(t, 0.0) - f1["rules"].get(t, 0.0)
        trusted = support[t] >= MIN_SUPPORT and gain >= MIN_GAIN
        sure = trusted and _sure_gain(_address_flags(truth, rules, model, t), best)
        chosen[t] = best if sure else "rules"
    return chosen


def _address_flags(
    truth: pl.DataFrame, rules: pl.DataFrame, model: pl.DataFrame, pattern_type: str
) -> pl.DataFrame:
    """One row per address of ``pattern_type`` that is labelled or flagged: member, r
    (rules flag it), m (the model does); decoys left out, as :func:`account_scores` does."""
    of_type = pl.col("pattern_type") == pattern_type
    members = truth.filter(of_type & pl.col("is_sar")).select("address").unique()
    decoys = truth.filter(of_type & ~pl.col("is_sar")).select("address").unique()
    frames = [members.with_columns(pl.lit(True).alias("member"))]
    for name, found in (("r", rules), ("m", model)):
        frames.append(
            _flags(found.filter(of_type)).select("address").with_columns(pl.lit(True).alias(name))
        )
    out = frames[0]
    for frame in frames[1:]:
        out = out.join(frame, on="address", how="full", coalesce=True)
    return (
        out.join(decoys.join(members, on="address", how="anti"), on="address", how="anti")
        .with_columns(pl.col("member", "r", "m").fill_null(False))
        .sort("address")
    )


def _sure_gain(flags: pl.DataFrame, policy: str) -> bool:
    """Whether ``policy`` beats the rules' F1 in :data:`SURE` of :data:`RESAMPLES` bootstrap
    resamples of ``flags``' addresses (fixed seed: the same rows choose the same)."""
    import numpy as np

    member, r, m = (flags[c].to_numpy() for c in ("member", "r", "m"))
    kept = {"model": m, "either": r | m, "agreeing": r & m, "rules": r}[policy]
    picks = np.random.default_rng(0).integers(0, len(member), size=(RESAMPLES, len(member)))

    def f1(flagged: np.ndarray) -> np.ndarray:
        hit, wanted, said = ((a[picks]).sum(axis=1) for a in (flagged & member, member, flagged))
        total = wanted + said
        return np.where(total > 0, 2 * hit / np.maximum(total, 1), 0.0)

    return bool((f1(kept) > f1(r)).mean() >= SURE)


def side_by_side(
    truth: pl.DataFrame,
    rules: pl.DataFrame,
    model: pl.DataFrame,
    policies: dict[str, str],
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per planted type: precision, recall, F1 and look-alike hits of rules, model and both
    (combined by ``policies``), and which combination both is; flags of ``known``
    (pattern_type, address) pairs left out."""
    types = truth.select("pattern_type").unique()
    out = None
    for name, found in (
        ("rules", rules),
        ("model", model),
        ("both", blend(rules, model, policies)),
    ):
        flags = _flags(found)
        if known is not None:
            flags = flags.join(known, on=["pattern_type", "address"], how="anti")
        found = flags.select("pattern_type", pl.concat_list("address").alias("members"))
        scores = account_scores(truth, found).join(types, on="pattern_type", how="semi")
        part = scores.select(
            "pattern_type",
            *(pl.col(c).alias(f"{name}_{c}") for c in ("precision", "recall", "f1")),
            pl.col("decoy_hits").alias(f"{name}_decoys"),
        )
        out = part if out is None else out.join(part, on="pattern_type", how="full", coalesce=True)
    assert out is not None
    chosen = pl.DataFrame(list(policies.items()), schema=["pattern_type", "both_is"], orient="row")
    return (
        out.join(chosen, on="pattern_type", how="left")
        .with_columns(pl.col("both_is").fill_null("rules"))
        .sort("pattern_type")
    )


def _judged_pairs(judged: pl.DataFrame, known: pl.DataFrame | None) -> pl.DataFrame:
    pairs = judged.filter(pl.col("is_sar")).select("pattern_type", "address").unique()
    return pairs if known is None else pairs.join(known, on=["pattern_type", "address"], how="anti")


def pr_auc(
    judged: pl.DataFrame, scores: pl.DataFrame, known: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per judged type, the average precision (area under the precision-recall curve) of the
    model's account-level score: an address's highest probability of that type on any scored
    day (0 where the type was never its likeliest), against membership of a pattern of that
    type; the share of positives is the figure a random ranking would get."""
    from sklearn.metrics import average_precision_score

    pairs = _judged_pairs(judged, known)
    champion = scores.filter(pl.col("alias") == "champion")
    addresses = champion.select("address").unique()
    rows = []
    for kind in sorted(pairs["pattern_type"].unique().to_list()):
        best = (
            champion.filter(pl.col("pattern_type") == kind)
            .group_by("address")
            .agg(pl.col("probability").max().alias("p"))
        )
        members = pairs.filter(pl.col("pattern_type") == kind).select(
            "address", pl.lit(True).alias("y")
        )
        frame = (
            addresses.join(best, on="address", how="left")
            .join(members, on="address", how="left")
            .with_columns(pl.col("p").fill_null(0.0), pl.col("y").fill_null(False))
        )
        positives = int(frame["y"].sum())
        ap = (
            float(average_precision_score(frame["y"].to_numpy(), frame["p"].to_numpy()))
            if positives
            else None
        )
        rows.append((kind, positives, frame.height, ap, positives / max(frame.height, 1)))
    schema = ["pattern_type", "members_scored", "addresses", "pr_auc", "random"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def top_k_beside(
    judged: pl.DataFrame,
    rules_only: pl.DataFrame | None,
    with_model: pl.DataFrame,
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Of each day's top ``k`` cases, the share on members of judged planted patterns: the
    cases of the rules alone (where a run without the model exists) beside those with the
    model's alerts in them. Cases on an address of ``known`` (pattern_type, address: patterns
    the team knew at the cutoff) are left out, as :func:`side_by_side` leaves their flags out:
    a known launderer alerted again is neither a find nor a false alarm."""
    from analytics_platform.domain.evaluation import precision_at_k

    truth = judged.select("pattern_id", "pattern_type", "is_sar", "address")

    def unknown(alerts: pl.DataFrame) -> pl.DataFrame:
        if known is None:
            return alerts
        return alerts.join(known.select("address").unique(), on="address", how="anti")

    out = precision_at_k(truth, unknown(with_model)).select(
        "k", pl.col("precision").alias("with_model")
    )
    if rules_only is None:
        return out.sort("k")
    rules = precision_at_k(truth, unknown(rules_only)).select(
        "k", pl.col("precision").alias("rules_only")
    )
    return rules.join(out, on="k", how="full", coalesce=True).sort("k")


def probability_calibration(
    judged: pl.DataFrame, scores: pl.DataFrame, edges: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
) -> pl.DataFrame:
    """The champion's scored address-days by probability band: how many, their mean
    probability, and the share whose address is a member of a judged pattern of the predicted
    type (a calibrated model has shares near its probabilities)."""
    pairs = _judged_pairs(judged, None).with_columns(pl.lit(True).alias("hit"))
    inner = [f"{a}-{b}" for a, b in zip(edges, edges[1:], strict=False)]
    labels = [f"<{edges[0]}", *inner, f">={edges[-1]}"]
    return (
        scores.filter(pl.col("alias") == "champion")
        .join(pairs, on=["pattern_type", "address"], how="left")
        .with_columns(
            pl.col("hit").fill_null(False),
            pl.col("probability").cut(list(edges), labels=labels, left_closed=True).alias("band"),
        )
        .group_by("band")
        .agg(
            pl.len().alias("address_days"),
            pl.col("probability").mean().alias("mean_probability"),
            pl.col("hit").mean().alias("share_members"),
        )
        .sort("band")
    )
