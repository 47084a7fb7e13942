"""The risk model's daily operations on a deployment: train from what the warehouse stored,
list and show versions, promote a challenger that earned it, roll back.

The ``model`` CLI and the ``<network>__risk_model`` jobs call these, so both behave alike.

**Promotion is judged on the shadow days.** A challenger scores beside the champion from the
day it is registered, stored (``address_risk_scores``, alias ``challenger``) and never
alerting. Those days are its holdout, frozen by when it was registered: neither model was
trained on them (both cutoffs come before), and the verdicts recorded since judge both. The
challenger is promoted when, over those days, its recall of the labelled addresses within
each day's case budget is at least the champion's and no pattern type's F1 is worse by more
than ``risk.max_type_loss``; otherwise only with ``force`` and a reason.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from analytics_platform import __version__
from analytics_platform.config import Settings
from analytics_platform.domain.risk.labels import LABELS
from analytics_platform.domain.risk.model import NONE, RiskModel
from analytics_platform.domain.risk.training_set import TrainingSet
from analytics_platform.domain.schemas import ADDRESS_RISK_SCORES
from analytics_platform.lake.manager import lake_of
from analytics_platform.pipeline.risk import (
    history_window,
    read_labels,
    train_on_set,
    training_set_on,
    verdict_labels,
)
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage import tables, training_sets
from analytics_platform.storage.model_registry import (
    CHALLENGER,
    CHAMPION,
    ModelRegistry,
    Version,
)

SET_TABLES = ("address_features", "structural_patterns", "daily_edges")
"""What a training set is built from (a model is then fitted beside the rule alerts of its
validation days)."""


def registry_of(settings: Settings) -> ModelRegistry:
    return ModelRegistry(settings.home)


def read_table(
    settings: Settings, network: str, table: str, first: date | None, last: date | None
) -> pl.DataFrame:
    """The warehouse's rows of ``table`` on ``first..last`` (either bound optional)."""
    return tables.read_table(settings.clickhouse, network, table, first, last)


def last_featured_day(settings: Settings, network: str) -> date:
    """The latest day ``address_features`` holds: the default cutoff."""
    with ch.session(settings.clickhouse) as client:
        if not ch.table_exists(client, network, "address_features"):
            raise LookupError(f"model train: {network} has no address_features yet (run it)")
        found = ch.query_frame(client, f"SELECT max(date) AS d FROM `{network}`.address_features")
    day = found["d"][0] if found.height else None
    if day is None:
        raise LookupError(f"model train: {network} has no address_features yet (run it)")
    return day


def labels_known(settings: Settings, network: str, extra: str | None = None) -> pl.DataFrame:
    """Every label the team has (:data:`LABELS`): the analysts' verdicts on cases, and the
    network's ``risk.labels_path`` (or ``extra``) file."""
    from analytics_platform.casework import dispositions
    from analytics_platform.lake.sql import LakeSql

    frames = []
    lake = LakeSql(settings.lake.url, network)
    verdicts = dispositions.current(lake)
    if verdicts.height:
        days = (verdicts["date"].min(), verdicts["date"].max())
        frames.append(
            verdict_labels(
                verdicts,
                read_table(settings, network, "typology_alerts", *days),
                read_table(settings, network, "structural_patterns", *days),
            )
        )
    path = extra or settings.network(network).risk.labels_path
    if path:
        frames.append(read_labels(path))
    return pl.concat(frames) if frames else pl.DataFrame(schema=LABELS)


def data_version(history: dict[str, pl.DataFrame]) -> str:
    """A short digest of the rows each table gave per day: another day's data, another
    version."""
    digest = hashlib.sha256()
    for name in sorted(history):
        per_day = history[name].group_by("date").len().sort("date")
        digest.update(name.encode() + per_day.write_csv().encode())
    return digest.hexdigest()[:12]


def code_version() -> str:
    """The package version and, in a git checkout, its commit."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


@dataclass(frozen=True)
class TrainingResult:
    version: Version
    model: RiskModel
    training_set: str
    """The id of the stored training set it learnt from (``storage.training_sets``)."""
    training: TrainingSet


def build_training_set(
    settings: Settings,
    network: str,
    *,
    cutoff: date | None = None,
    labels_path: str | None = None,
    progress=print,
) -> tuple[str, TrainingSet]:
    """The training set of the warehouse's days up to ``cutoff`` (default: the last featured
    day) and the labels known then, stored in the lake as the network's current one; its id
    and the set."""
    net = settings.network(network)
    cutoff = cutoff or last_featured_day(settings, network)
    first, last = history_window(cutoff, net.risk.history_days)
    first = max(first, net.start_date)
    progress(f"model train {network}: reading {first}..{last} from the warehouse")
    # daily_edges reach the relationship look-back before the first day, as the daily
    # scores' edges do (the same figures for the same address-day)
    lookback = timedelta(days=(net.risk_lookback_days or 1) - 1)
    edges_first = max(first - lookback, net.start_date)
    history = {
        t: read_table(settings, network, t, edges_first if t == "daily_edges" else first, last)
        for t in SET_TABLES
    }
    labels = labels_known(settings, network, labels_path)
    progress(
        f"model train {network}: {labels.height:,} labels, training on those known by {cutoff}"
    )
    training = training_set_on(
        history, labels, cutoff, net.risk_lookback_days,
        data_version=data_version(history), labels_path=labels_path or net.risk.labels_path or "",
    )  # fmt: skip
    unknown = training.lineage["unknown_labelled_addresses"]
    if unknown:
        progress(
            f"model train {network}: {unknown:,} address(es) labelled by {cutoff} never seen "
            "in the data up to it (left out)"
        )
    return training_sets.write(lake_of(settings), network, training), training


def train_from_set(
    settings: Settings,
    network: str,
    *,
    by: str,
    alias: str | None = None,
    name: str | None = None,
    training: TrainingSet | None = None,
) -> TrainingResult:
    """Fit a model on the stored training set ``name`` (default: the current one; or
    ``training``, the set of that id already in memory) and register it (the challenger, or
    the champion when there is none, or ``alias``)."""
    if training is None or name is None:
        name, training = training_sets.read(lake_of(settings), network, name)
    first, cutoff = training.settings.validation_start(training.cutoff), training.cutoff
    model = train_on_set(
        training,
        read_table(settings, network, "structural_patterns", first, cutoff),
        read_table(settings, network, "typology_alerts", first, cutoff),
    )
    params = {
        **training.lineage,
        "network": network,
        "training_set": name,
        "code_version": code_version(),
    }
    version = registry_of(settings).register(network, model, params=params, by=by, alias=alias)
    return TrainingResult(version, model, name, training)


def train_model(
    settings: Settings,
    network: str,
    *,
    cutoff: date | None = None,
    by: str,
    labels_path: str | None = None,
    alias: str | None = None,
    progress=print,
) -> TrainingResult:
    """:func:`build_training_set`, then :func:`train_from_set` on it (``model train``)."""
    name, training = build_training_set(
        settings, network, cutoff=cutoff, labels_path=labels_path, progress=progress
    )
    return train_from_set(settings, network, by=by, alias=alias, name=name, training=training)


# -- promotion ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """Champion and challenger on the shadow days."""

    days: int
    labelled: int
    recall: dict[str, float]
    f1: dict[str, dict[str, float]]
    reasons: list[str]

    @property
    def passed(self) -> bool:
        return not self.reasons


def _scores_of(settings: Settings, network: str, versions: dict[str, int]) -> pl.DataFrame:
    scores = read_table(settings, network, "address_risk_scores", None, None)
    if scores.height == 0:
        return pl.DataFrame(schema=ADDRESS_RISK_SCORES)
    keep = pl.lit(False)
    for alias, version in versions.items():
        keep = keep | ((pl.col("alias") == alias) & (pl.col("model_version") == version))
    return scores.filter(keep)


def judge(settings: Settings, network: str, champion: int, challenger: int) -> Judgement:
    """Champion and challenger over the days both scored (module docstring)."""
    net = settings.network(network)
    scores = _scores_of(settings, network, {CHAMPION: champion, CHALLENGER: challenger})
    both = (
        scores.group_by("date")
        .agg(pl.col("alias").n_unique().alias("n"))
        .filter(pl.col("n") == 2)
        .select("date")
    )
    scores = scores.join(both, on="date", how="semi")
    reasons: list[str] = []
    if both.height < net.risk.shadow_days:
        reasons.append(
            f"the challenger scored {both.height} shadow day(s) beside the champion "
            f"(risk.shadow_days: {net.risk.shadow_days})"
        )
    labels = labels_known(settings, network).filter(pl.col("pattern_type") != NONE)
    if both.height:
        first, last = both["date"].min(), both["date"].max()
        labels = labels.filter((pl.col("first_day") <= last) & (pl.col("last_day") >= first))
    else:
        labels = labels.clear()
    truth = labels.select("address", "pattern_type").unique()
    if truth.height == 0:
        reasons.append("no labelled address on the shadow days to judge the two on")
    budget = net.case_budget or 10**9
    recall, f1 = {}, {}
    for alias in (CHAMPION, CHALLENGER):
        mine = scores.filter(pl.col("alias") == alias)
        top = mine.filter(
            pl.col("probability").rank("ordinal", descending=True).over("date") <= budget
        )
        found = top.select("address").unique()
        hits = truth.select("address").unique().join(found, on="address", how="semi").height
        recall[alias] = hits / max(truth["address"].n_unique(), 1)
        flagged = mine.filter("flagged").select("address", "pattern_type").unique()
        f1[alias] = _f1_by_type(truth, flagged)
    if truth.height and recall[CHALLENGER] < recall[CHAMPION]:
        reasons.append(
            f"recall within the case budget {recall[CHALLENGER]:.3f} is below the champion's "
            f"{recall[CHAMPION]:.3f}"
        )
    for kind, old in f1[CHAMPION].items():
        new = f1[CHALLENGER].get(kind, 0.0)
        if truth.height and new < old - net.risk.max_type_loss:
            reasons.append(f"{kind} F1 {new:.3f} is below the champion's {old:.3f}")
    return Judgement(both.height, truth.height, recall, f1, reasons)


def _f1_by_type(truth: pl.DataFrame, flagged: pl.DataFrame) -> dict[str, float]:
    out = {}
    for kind in sorted(truth["pattern_type"].unique().to_list()):
        want = set(truth.filter(pl.col("pattern_type") == kind)["address"].to_list())
        got = set(flagged.filter(pl.col("pattern_type") == kind)["address"].to_list())
        hit = len(want & got)
        out[kind] = 2 * hit / (len(want) + len(got)) if want or got else 0.0
    return out


def promote(
    settings: Settings, network: str, *, by: str, reason: str = "", force: bool = False
) -> tuple[int, Judgement | None]:
    """Make the challenger the champion when it earned it (module docstring), or when
    ``force``d with a ``reason``; the version promoted and the judgement."""
    registry = registry_of(settings)
    challenger = registry.version_of(network, CHALLENGER)
    if challenger is None:
        raise LookupError(f"model promote: {network} has no challenger (train one first)")
    champion = registry.version_of(network, CHAMPION)
    judgement = None
    if champion is not None:
        judgement = judge(settings, network, champion, challenger)
        if not judgement.passed and not force:
            raise PermissionError(
                f"model promote: version {challenger} not promoted: "
                + "; ".join(judgement.reasons)
                + " (--force with --reason to promote anyway)"
            )
    if force and not reason.strip():
        raise ValueError("model promote: --force needs a --reason (it is recorded)")
    why = reason.strip() or "beat the champion on the shadow days"
    registry.move(network, CHAMPION, challenger, by=by, why=why)
    registry.move(network, CHALLENGER, None, by=by, why=f"promoted to champion: {why}")
    return challenger, judgement


def rollback(settings: Settings, network: str, *, by: str, reason: str) -> tuple[int, int]:
    """Point the champion back at the version it named before its last move; (from, to)."""
    if not reason.strip():
        raise ValueError("model rollback: --reason is required (it is recorded)")
    registry = registry_of(settings)
    current = registry.version_of(network, CHAMPION)
    moves = [m for m in registry.journal(network) if m.alias == CHAMPION]
    if current is None or not moves or moves[-1].before is None:
        raise LookupError(f"model rollback: {network} has no earlier champion to go back to")
    back = moves[-1].before
    registry.move(network, CHAMPION, back, by=by, why=f"rollback: {reason.strip()}")
    return current, back
