"""``analytics-platform evaluate <dataset-dir | synthetic>``: detection quality through the product.

A dataset directory holds ``transfers.csv.gz`` (tx_hash, from_address, to_address, amount,
asset, block_time), ``gt_transactions.csv.gz`` and ``gt_accounts.csv.gz`` (pattern_id,
pattern_type, address, optional is_sar: false marks a benign look-alike), and optionally
``labels.csv`` and ``prices.csv`` (the label and price sources of a deployment).

The run is a deployment: a checked-in *profile* (``analytics_platform/profiles/<name>.yaml``,
a config file like any other, chosen with ``--profile`` or by the dataset directory's name)
gives every setting; evaluate only points its one network at the dataset's files and days. The
whole asset graph runs through Dagster on an embedded store (transfers to typology alerts, one
ranged run, as a backfill does), and what it stored is scored (``domain.evaluation``):
patterns, alerted addresses per typology, planted patterns alerted (look-alikes apart), the
precision of each day's top k cases, and alerts outside every planted pattern per day; beside
the right type, how much of it the planted patterns' shapes show (``domain.shapes``).

``synthetic`` writes the project's generator output (every type planted, with benign
look-alikes) as such a directory first, and evaluates it with the ``synthetic`` profile.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml

from analytics_platform.domain.evaluation import (
    account_scores,
    alerted_patterns,
    pattern_scores,
    product_scores,
    refit_calibration,
    type_by_size,
)
from analytics_platform.domain.shapes import shape_ambiguity
from analytics_platform.domain.typologies import load_catalog

if TYPE_CHECKING:
    from analytics_platform.domain.synthetic import SyntheticConfig

REQUIRED = {
    "transfers.csv.gz": ("tx_hash", "from_address", "to_address", "amount", "asset", "block_time"),
    "gt_transactions.csv.gz": ("pattern_id", "pattern_type", "tx_hash"),
    "gt_accounts.csv.gz": ("pattern_id", "pattern_type", "address"),
}
PROFILES = Path(__file__).resolve().parents[1] / "profiles"


def check_dataset(folder: Path) -> dict[str, list[str]]:
    """Column names per file; a clear error for a missing file or column."""
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset-dir: no such directory {str(folder)!r}")
    found = {}
    for name, columns in REQUIRED.items():
        path = folder / name
        if not path.exists():
            raise FileNotFoundError(f"dataset-dir: {name} missing in {folder}")
        header = pl.read_csv(path, n_rows=1).columns
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{name}: missing column(s) {missing} (has {header})")
        found[name] = header
    return found


def load_truth(folder: Path) -> pl.DataFrame:
    accounts = pl.read_csv(folder / "gt_accounts.csv.gz", infer_schema_length=0)
    if "is_sar" in accounts.columns:
        accounts = accounts.with_columns(pl.col("is_sar").str.to_lowercase() == "true")
    else:
        accounts = accounts.with_columns(pl.lit(True).alias("is_sar"))
    return accounts.select("pattern_id", "pattern_type", "is_sar", "address")


def load_truth_transactions(folder: Path, truth: pl.DataFrame) -> pl.DataFrame:
    """pattern_id, pattern_type, is_sar, tx_hash of every planted pattern's transfers."""
    txs = pl.read_csv(
        folder / "gt_transactions.csv.gz", columns=["pattern_id", "tx_hash"], infer_schema_length=0
    )
    kinds = truth.select("pattern_id", "pattern_type", "is_sar").unique("pattern_id")
    return txs.join(kinds, on="pattern_id").select(
        "pattern_id", "pattern_type", "is_sar", "tx_hash"
    )


def resolve_profile(profile: str | None, folder: Path) -> Path:
    """A profile path, a profile name, or (none given) the profile whose name starts the
    dataset directory's name, whatever its case (``amlsim_s1``, ``AMLSim-10K`` -> ``amlsim``)."""
    known = sorted(p.stem for p in PROFILES.glob("*.yaml"))
    if profile and Path(profile).is_file():
        return Path(profile)
    if profile:
        if profile not in known:
            raise FileNotFoundError(f"--profile: no profile {profile!r} (known: {known})")
        return PROFILES / f"{profile}.yaml"
    for name in sorted(known, key=len, reverse=True):
        if folder.name.lower().startswith(name):
            return PROFILES / f"{name}.yaml"
    raise FileNotFoundError(
        f"--profile: none given and none named like {folder.name!r} (known: {known})"
    )


def dataset_config(folder: Path, profile: Path) -> tuple[dict[str, Any], str]:
    """The profile's config with its one network reading the dataset (files, days, labels,
    prices); the network's name."""
    config = yaml.safe_load(profile.read_text()) or {}
    networks = config.get("networks") or {}
    if len(networks) != 1:
        raise ValueError(f"{profile}: networks: a profile declares exactly one network")
    ((name, net),) = networks.items()
    times = pl.read_csv(folder / "transfers.csv.gz", columns=["block_time"])["block_time"]
    days = times.str.slice(0, 10).str.to_date("%Y-%m-%d")
    net = {
        **(net or {}),
        "start_date": days.min().isoformat(),
        "end_date": days.max().isoformat(),
        "source": {"kind": "files", "path": str(folder / "transfers.csv.gz")},
    }
    if (folder / "prices.csv").exists():
        net["prices_path"] = str(folder / "prices.csv")
    config["networks"] = {name: net}
    if (folder / "labels.csv").exists():
        config["labels_path"] = str(folder / "labels.csv")
    return config, name


def run_graph(
    folder: Path,
    home: Path,
    profile: Path,
    progress: Callable[[str], None] | None,
    tables: tuple[str, ...] = ("structural_patterns", "typology_alerts"),
) -> dict[str, pl.DataFrame]:
    """Materialise every asset over the dataset's days; the stored ``tables`` and active
    addresses per day. ``progress``: lines, or ``None`` for a bar on a terminal."""
    from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
    from analytics_platform.storage import clickhouse as ch
    from analytics_platform.storage.daily_metrics import active_addresses
    from analytics_platform.storage.tables import TABLES

    config, network = dataset_config(folder, profile)
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    settings = _settings_of(home)
    net = settings.network(network)
    first, last = net.start_date, net.end_date
    assert last is not None
    instance = instance_for(settings)
    refresh_labels(settings, network, instance=instance)
    n_days = (last - first).days + 1
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    say(f"running every asset of {network!r} over {n_days} days ({first}..{last})")
    results = run_range(
        settings,
        network,
        first,
        last,
        chunk_days=n_days,
        progress=progress,
        instance=instance,
    )
    if not all(r.success for r in results):
        raise RuntimeError("evaluation run failed; see the Dagster run logs under the home")
    stored = {}
    with ch.session(settings.clickhouse) as client:
        for table in tables:
            stored[table] = ch.read_days(
                client,
                network,
                table,
                schema=TABLES[table].schema,
                cluster=settings.clickhouse.cluster,
            )
        stored["active"] = active_addresses(client, network, settings.clickhouse.cluster)
    return stored


def write_synthetic_dataset(folder: Path, cfg: SyntheticConfig | None = None) -> Path:
    """The generator's network (by default the demo's, over 7 days) as a dataset directory:
    planted patterns suspicious, look-alikes not, with its labels and prices."""
    from analytics_platform.domain.synthetic import demo_config, generate

    net = generate(cfg or demo_config(days=7))
    folder.mkdir(parents=True, exist_ok=True)
    net.transfers.select(
        "tx_hash",
        "from_address",
        "to_address",
        pl.col("amount").cast(pl.String),
        "asset",
        pl.col("block_time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
    ).write_csv(folder / "transfers.csv.gz", compression="gzip")
    truth = net.ground_truth.with_columns(
        pl.col("is_sar") if "is_sar" in net.ground_truth.columns else pl.lit(True).alias("is_sar")
    )
    truth.select("pattern_id", "pattern_type", "is_sar", "address").write_csv(
        folder / "gt_accounts.csv.gz", compression="gzip"
    )
    truth.select("pattern_id", "pattern_type", "is_sar", "tx_hashes").unique("pattern_id").explode(
        "tx_hashes", empty_as_null=True
    ).rename({"tx_hashes": "tx_hash"}).write_csv(
        folder / "gt_transactions.csv.gz", compression="gzip"
    )
    net.labels.write_csv(folder / "labels.csv")
    net.prices.write_csv(folder / "prices.csv")
    return folder


def evaluate(
    folder: Path | str,
    *,
    profile: str | None = None,
    home: Path | None = None,
    progress: Callable[[str], None] | None = print,
    cutoff: date | None = None,
    train_on: Path | str | None = None,
) -> dict[str, Any]:
    """Run the graph on the dataset and score what it stored (module docstring); with a
    ``cutoff``, also a risk model trained through the product on the labels known then, and
    rules / model / both on the days after it (:func:`risk_through_product`); with
    ``train_on`` (another dataset), a model trained on that one's labels made champion before
    this dataset is run, which is then scored without its labels being read for training."""
    if cutoff is not None and train_on is not None:
        raise ValueError("evaluate: --cutoff and --train-on exclude each other")
    tables = ("structural_patterns", "typology_alerts")
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="evaluate-"))
        if str(folder) == "synthetic":
            folder = write_synthetic_dataset(Path(tmp) / "synthetic")
        folder = Path(folder).resolve()
        check_dataset(folder)
        profile_path = resolve_profile(profile, folder)
        truth = load_truth(folder)
        truth_transactions = load_truth_transactions(folder, truth)
        run_home = (home or Path(tmp) / "home").resolve()
        train_home = Path(tmp) / "train-home" if train_on is not None else run_home
        stack.enter_context(_registry_of(train_home))
        elsewhere = None
        if train_on is not None:
            elsewhere = train_elsewhere(Path(train_on).resolve(), profile_path, train_home,
                                        progress)  # fmt: skip
        started = time.perf_counter()
        stored = run_graph(folder, run_home, profile_path, progress, tables)
        seconds = time.perf_counter() - started
        edges = pl.read_csv(
            folder / "transfers.csv.gz",
            columns=["tx_hash", "from_address", "to_address", "block_time"],
            infer_schema_length=0,
        )
        risk = {}
        if cutoff is not None:
            risk = risk_through_product(
                truth, truth_transactions, edges, stored, cutoff, run_home, progress
            )
        elif elsewhere is not None:
            risk = _judged_elsewhere(truth, truth_transactions, edges, stored, run_home,
                                     elsewhere, Path(train_on).name)  # fmt: skip
    # the catalog the run scored with (dataset_config reads the transfers: not again for this)
    catalog = load_catalog((yaml.safe_load(profile_path.read_text()) or {}).get("typologies_path"))
    prior = {t.name: t.confidence for t in catalog.typologies}
    patterns, alerts = stored["structural_patterns"], stored["typology_alerts"]
    per_pattern = pattern_scores(truth, patterns)
    planted = truth.filter(pl.col("is_sar"))["pattern_id"].n_unique()
    found_any = per_pattern["found_any_type"].sum()
    return {
        "dataset": folder.name,
        "profile": str(profile_path),
        "transfers": edges.height,
        "planted_patterns": planted,
        "decoy_patterns": truth.filter(~pl.col("is_sar"))["pattern_id"].n_unique(),
        "detections": patterns.height,
        "alerts": alerts.height,
        "cases": alerts.select("date", "address").n_unique(),
        "graph_seconds": round(seconds, 1),
        "recall_any_type": found_any / planted if planted else None,
        "right_type_share": per_pattern["found"].sum() / found_any if found_any else None,
        "pattern_level": per_pattern,
        "type_by_size": type_by_size(truth, truth_transactions, patterns),
        "shape_ambiguity": shape_ambiguity(truth_transactions.join(edges, on="tx_hash")),
        "account_level": account_scores(truth, patterns),
        "alerted_account_level": account_scores(truth, alerted_patterns(patterns, alerts)),
        **product_scores(truth, truth_transactions, alerts, stored["active"]),
        **refit_calibration(truth, alerts, prior),
        **risk,
    }


def _judged_elsewhere(
    truth: pl.DataFrame,
    transactions: pl.DataFrame,
    transfers: pl.DataFrame,
    stored: dict[str, pl.DataFrame],
    home: Path,
    elsewhere: tuple[Any, float],
    trained_on: str,
) -> dict[str, Any]:
    """Rules, model and both on every day of a dataset whose model was trained on another."""
    (net,) = _settings_of(home).networks
    return {
        "trained_on": trained_on,
        **judge_risk(truth, transactions, transfers, stored, home, *elsewhere, net.start_date,
                     None),
    }  # fmt: skip


def _settings_of(home: Path):
    """The settings of an evaluation home (its config.yaml, written by :func:`run_graph`)."""
    from analytics_platform.config import load_settings

    return load_settings(
        {"ANALYTICS_HOME": str(home), "ANALYTICS_CONFIG": str(home / "config.yaml")}
    )


def train_champion(
    truth: pl.DataFrame,
    transactions: pl.DataFrame,
    transfers: pl.DataFrame,
    home: Path,
    cutoff: date,
    say: Callable[[str], None],
):
    """The dataset's ground truth known by ``cutoff`` as the team's confirmed cases (a labels
    file), and ``model train`` on what the graph stored in ``home``, made champion."""
    from analytics_platform.domain.risk.labels import planted_labels
    from analytics_platform.pipeline import model_ops

    settings = _settings_of(home)
    (net,) = settings.networks
    labels_path = home / "risk-labels.csv"
    planted_labels(truth, transactions, transfers).write_csv(labels_path)
    started = time.perf_counter()
    done = model_ops.train_model(
        settings, net.name, cutoff=cutoff, by="evaluate", labels_path=str(labels_path),
        alias="champion", progress=say,
    )  # fmt: skip
    return done, time.perf_counter() - started


def risk_through_product(
    truth: pl.DataFrame,
    transactions: pl.DataFrame,
    transfers: pl.DataFrame,
    stored: dict[str, pl.DataFrame],
    cutoff: date,
    home: Path,
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    """The risk model as a team would run it: :func:`train_champion` at ``cutoff``, the days
    after it scored and alerted again (``address_risk_scores``, ``typology_alerts``), and
    rules / model / both judged on what that stored (:func:`judge_risk`)."""
    from analytics_platform.lib.runner import instance_for, run_range

    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    settings = _settings_of(home)
    (net,) = settings.networks
    if net.end_date is None or not net.start_date <= cutoff < net.end_date:
        raise ValueError(
            f"--cutoff {cutoff}: outside the dataset's days {net.start_date}..{net.end_date} "
            "(training needs days up to it, judging days after it)"
        )
    done, seconds = train_champion(truth, transactions, transfers, home, cutoff, say)
    after, end = cutoff + timedelta(days=1), net.end_date
    say(f"scoring and alerting {after}..{end} again with model version {done.version.version}")
    results = run_range(
        settings, net.name, after, end, assets=["address_risk_scores", "typology_alerts"],
        chunk_days=(end - after).days + 1, progress=progress, instance=instance_for(settings),
    )  # fmt: skip
    if not all(r.success for r in results):
        raise RuntimeError("evaluation: scoring after the cutoff failed; see the run logs")
    rules_only = stored["typology_alerts"].filter(pl.col("date") >= after)
    return {
        "cutoff": cutoff.isoformat(),
        **judge_risk(
            truth, transactions, transfers, stored, home, done, seconds, after, cutoff, rules_only
        ),
    }


def judge_risk(
    truth: pl.DataFrame,
    transactions: pl.DataFrame,
    transfers: pl.DataFrame,
    stored: dict[str, pl.DataFrame],
    home: Path,
    done,
    train_seconds: float,
    first: date,
    cutoff: date | None,
    rules_only: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """Rules, the model alone and both (what the product alerts) from the scores and alerts
    stored in ``home`` on ``first`` onwards; patterns known at ``cutoff`` left out;
    ``rules_only``: the same days' alerts of a run without the model, for the top-k table."""
    from analytics_platform.domain.risk import compare
    from analytics_platform.domain.risk.labels import pattern_days
    from analytics_platform.domain.typologies import MODEL_TYPOLOGY
    from analytics_platform.pipeline import model_ops

    settings = _settings_of(home)
    (net,) = settings.networks
    end = net.end_date
    assert end is not None
    scores = model_ops.read_table(settings, net.name, "address_risk_scores", first, end)
    alerts = model_ops.read_table(settings, net.name, "typology_alerts", first, end)
    model = done.model
    patterns = stored["structural_patterns"]
    if cutoff is None:
        judged, known = truth, None
    else:
        judged, known = compare.truth_after(truth, pattern_days(transactions, transfers), cutoff)
    rule_alerts = alerts.filter(pl.col("typology") != MODEL_TYPOLOGY)
    # The model alone: every score at its type's threshold, alerting or not.
    limit = pl.col("pattern_type").replace_strict(model.thresholds, default=1.0)
    raw = scores.filter(pl.col("probability") >= limit)
    alerting = set(model.classes[1:] if model.alerting is None else model.alerting)
    policies = {t: "either" if t in alerting else "rules" for t in model.classes[1:]}
    table = compare.side_by_side(
        judged,
        compare.rules_between(patterns, rule_alerts, first, end),
        compare.model_between(raw, first, end),
        policies,
        known,
    )
    return {
        "risk_model": {
            **{k: v for k, v in model.metrics.items() if k != "blend"},
            "version": done.version.version,
            "training_set": done.training_set,
            "classes": list(model.classes),
            "alerting": sorted(alerting),
            "features": len(model.features),
            "feature_hash": model.feature_hash,
            "thresholds": {c: round(t, 4) for c, t in model.thresholds.items()},
            "train_seconds": round(train_seconds, 1),
            "scored_address_days": scores.height,
            "model_alerts": alerts.filter(pl.col("typology") == MODEL_TYPOLOGY).height,
        },
        "rules_model_both": table,
        "model_pr_auc": compare.pr_auc(judged, scores, known),
        "precision_at_k_after_cutoff": compare.top_k_beside(judged, rules_only, alerts, known),
        "model_calibration": compare.probability_calibration(judged, scores),
    }


@contextmanager
def _registry_of(home: Path) -> Iterator[None]:
    """Everything inside (training, runs) uses the embedded registry of ``home``: an
    evaluation never touches the deployment's registry."""
    from analytics_platform.storage.model_registry import embedded_store

    store = embedded_store(home)
    store.parent.mkdir(parents=True, exist_ok=True)
    before = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store}"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = before


def train_elsewhere(
    folder: Path, profile_path: Path, home: Path, progress: Callable[[str], None] | None
):
    """``evaluate --train-on``: the graph over another dataset ``folder`` in ``home``, and a
    model trained on all its labels (validation: its last days), made champion there."""
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    check_dataset(folder)
    truth = load_truth(folder)
    transactions = load_truth_transactions(folder, truth)
    say(f"training on {folder.name}: running the graph over it first")
    run_graph(folder, home, profile_path, progress, ())
    transfers = pl.read_csv(
        folder / "transfers.csv.gz", columns=["tx_hash", "block_time"], infer_schema_length=0
    )
    (net,) = _settings_of(home).networks
    assert net.end_date is not None
    return train_champion(truth, transactions, transfers, home, net.end_date, say)


SECTIONS = (
    ("Planted patterns with an alert on their transfers (look-alikes: the false-alarm rate):",
     "planted_alerted"),
    ("Alerted addresses per typology (planted / look-alike only / outside):", "alert_level"),
    ("Precision of each day's top k cases:", "precision_at_k"),
    ("Case score calibration (share of cases on planted members per score band):",
     "calibration"),
    ("Typology confidences refitted to the first half of the days' cases, dispositioned from "
     "the labels (planted members confirmed, others dismissed):", "refit_confidences"),
    ("Later days' case score calibration with the catalog's confidences:",
     "calibration_later_days"),
    ("Later days' case score calibration with the refitted confidences and score map:",
     "calibration_later_days_refit"),
    ("Pattern level (planted found by a detection sharing > half its members):",
     "pattern_level"),
    ("Pattern level by the planted pattern's transfers (one payment shows no shape):",
     "type_by_size"),
    ("Planted patterns by shape (their transfers' graph, times and amounts left out): those "
     "whose shape the dataset also gives another type, and the right type read from the shape "
     "alone had all been found (each shape named as its most common type):",
     "shape_ambiguity"),
    ("Account level through the alerts (members of the patterns behind an alert, by pattern "
     "type; look-alike hits apart):", "alerted_account_level"),
    ("Account level of the detectors (members of every detection of each type):",
     "account_level"),
)  # fmt: skip
"""The tables of the text report, in order: (title, key of the result)."""


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(
        {k: v.to_dicts() if isinstance(v, pl.DataFrame) else v for k, v in result.items()},
        indent=1,
        default=str,
    )


def _right_type_of_larger(by_size: pl.DataFrame) -> float:
    larger = by_size.filter(pl.col("transfers") == "3+")
    found_any = larger["found_any_type"].sum()
    return larger["found"].sum() / found_any if found_any else 0.0


def _right_type_by_shape(result: dict[str, Any]) -> float:
    everything = result["shape_ambiguity"].filter(pl.col("transfers") == "all")
    return everything["right_type_by_shape"].item() if everything.height else 0.0


def to_text(result: dict[str, Any]) -> str:
    def table(df: pl.DataFrame) -> str:
        with pl.Config(
            tbl_rows=50,
            tbl_cols=20,
            tbl_width_chars=200,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
            float_precision=3,
        ):
            return str(df)

    return "\n".join(
        [
            f"dataset {result['dataset']} (profile {result['profile']}): "
            f"{result['transfers']} transfers, {result['planted_patterns']} planted patterns, "
            f"{result['decoy_patterns']} look-alikes; {result['detections']} patterns, "
            f"{result['alerts']} alerts in {result['cases']} cases "
            f"({result['graph_seconds']} s through the graph)",
            f"patterns: recall (any type) {result['recall_any_type'] or 0:.3f}; right type for "
            f"{result['right_type_share'] or 0:.3f} of those found "
            f"({_right_type_of_larger(result['type_by_size']):.3f} of those of 3+ transfers; "
            f"read from the shapes alone at most {_right_type_by_shape(result):.3f})",
            "case score calibration error on the later half of the days: "
            f"{result['calibration_error_later_days']:.3f} with the catalog's confidences, "
            f"{result['calibration_error_later_days_refit']:.3f} with its confidences and score "
            "map refitted to the first half",
            f"workload: {result['workload']['cases']} cases on "
            f"{result['workload']['addresses']} addresses; {result['workload']['repeat_cases']} "
            f"({result['workload']['repeat_share']:.1%}) on an address with a case in the 7 days "
            f"before; {result['workload']['episodes']} episodes (an address's cases at most 7 "
            f"days apart), {result['workload']['episode_precision'] or 0:.1%} of them on planted "
            "members",
            f"alerted outside every planted pattern: at most {result['outside_share_max']:.2%} "
            f"of a day's active addresses ({result['outside_share_in_budget_max']:.2%} within "
            "the case budget)",
            *(line for title, key in SECTIONS for line in ("", title, table(result[key]))),
            *(_risk_lines(result, table) if "rules_model_both" in result else []),
        ]
    )


def _risk_lines(result: dict[str, Any], table: Callable[[pl.DataFrame], str]) -> list[str]:
    model = result["risk_model"]
    when = (
        f"on the days after the cutoff {result['cutoff']}"
        if "cutoff" in result
        else f"on every day, the model trained on {result['trained_on']} only"
    )
    return [
        "",
        f"Rules, model and both {when} (account level per planted type through the stored "
        "alerts, patterns known at a cutoff left out; look-alike hits apart; model: every "
        "score at its type's threshold; both: what the product alerts, the model only for the "
        "types the validation days chose):",
        table(result["rules_model_both"]),
        "",
        "The model's account-level ranking per type (PR-AUC; random: the share of members):",
        table(result["model_pr_auc"]),
        "",
        "Precision of each day's top k cases judged, rules only (where run) and with the model:",
        table(result["precision_at_k_after_cutoff"]),
        "",
        "The model's calibration (scored address-days by probability band; share on members "
        "of a judged pattern of the predicted type):",
        table(result["model_calibration"]),
        f"risk model version {model['version']}: {model['features']} features "
        f"({model['feature_hash']}), {model['fit_rows']:,} training rows "
        f"({model['fit_positives']:,} labelled), {model['validation_rows']:,} validation rows, "
        f"{model['best_iteration']} rounds, trained in {model['train_seconds']} s; "
        f"{model['scored_address_days']:,} address-days scored, {model['model_alerts']:,} model "
        f"alerts (types {', '.join(model['alerting']) or 'none'}); thresholds (chosen on "
        f"validation) {model['thresholds']}",
    ]
