"""The risk model in the product, on real MLflow: trained from what the warehouse stored,
registered with champion/challenger aliases, scoring every active address of a day, alerting
beside the rules, promoted only when it earned it, rolled back; and on an MLflow server."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
import requests

from analytics_platform.cli import main
from analytics_platform.config import load_settings
from analytics_platform.domain.risk.labels import planted_labels
from analytics_platform.domain.risk.model import train
from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.model_registry import ModelRegistry
from analytics_platform_tests.conftest import START, free_port, small_config
from analytics_platform_tests.domain.risk.test_model import SETTINGS, _labels_and_matrix

DAYS = 10
CUTOFF = START + timedelta(days=7)


def test_versions_aliases_and_every_move_are_kept_in_the_registry(tmp_path: Path):
    labels, matrix = _labels_and_matrix()
    model = train(matrix, labels, date(2026, 3, 31), SETTINGS)
    registry = ModelRegistry(tmp_path)
    first = registry.register("torus", model, params={"window": "x"}, by="ana")
    second = registry.register("torus", model, params={"window": "x"}, by="ana")
    assert (first.aliases, second.aliases) == (("champion",), ("challenger",))
    assert [v.version for v in registry.versions("torus")] == [2, 1]
    assert registry.versions("other") == [] and registry.version_of("other", "champion") is None
    loaded = registry.load("torus", 2)
    assert loaded.probabilities(matrix).equals(model.probabilities(matrix))
    assert loaded.reference["score"]["shares"] == model.reference["score"]["shares"]
    registry.move("torus", "champion", 2, by="bo", why="better on the holdout")
    moves = registry.journal("torus")
    assert [(m.alias, m.before, m.after, m.by) for m in moves] == [
        ("champion", None, 1, "ana"),
        ("challenger", None, 2, "ana"),
        ("champion", 1, 2, "bo"),
    ]
    with pytest.raises(LookupError, match="has no version 9"):
        registry.load("torus", 9)
    with pytest.raises(ValueError, match="alias: expected one of"):
        registry.move("torus", "best", 1, by="bo", why="")
    # A corrupt artifact: one line naming the version, not a LightGBM traceback.
    run = registry.client.get_run(registry.get("torus", 1).run_id)
    folder = Path(run.info.artifact_uri.removeprefix("file://")) / "model"
    (folder / "model.txt").write_text("not a model")
    with pytest.raises(ValueError, match=r"torus-risk version 1: cannot read its artifact"):
        registry.load("torus", 1)


def test_an_mlflow_server_is_the_registry_when_its_uri_is_set(tmp_path: Path, monkeypatch):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "artifacts"), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if requests.get(f"{url}/health", timeout=5).ok:
                    break
            except requests.RequestException:  # not listening yet, or still starting
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not start")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        labels, matrix = _labels_and_matrix()
        model = train(matrix, labels, date(2026, 3, 31), SETTINGS)
        registry = ModelRegistry(tmp_path / "home")
        assert registry.uri == url
        version = registry.register("torus", model, params={}, by="ci")
        assert version.aliases == ("champion",)
        assert registry.load("torus", 1).probabilities(matrix).equals(model.probabilities(matrix))
        assert not (tmp_path / "home" / "mlflow").exists()  # nothing embedded was created
        assert any((tmp_path / "artifacts").rglob("model.txt"))  # the server stored it
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def trained_home(tmp_path: Path, monkeypatch) -> Path:
    """A synthetic network of 10 days run through the graph, with its planted patterns as a
    labels file (the team's confirmed cases, each known on its last day)."""
    from analytics_platform.lib.demo import prepare

    home = tmp_path / "home"
    monkeypatch.setenv("ANALYTICS_HOME", str(home))
    for name in ("ANALYTICS_CLICKHOUSE_DSN", "ANALYTICS_LAKE_URL", "ANALYTICS_CONFIG",
                 "MLFLOW_TRACKING_URI"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    settings, net = prepare(home, small_config(days=DAYS, transfers_per_day=2_500))
    truth = net.ground_truth
    labels = planted_labels(
        truth.select("pattern_id", "pattern_type", pl.lit(True).alias("is_sar"), "address"),
        truth.select("pattern_id", "tx_hashes")
        .unique("pattern_id")
        .explode("tx_hashes", empty_as_null=True)
        .rename({"tx_hashes": "tx_hash"}),
        net.transfers.select("tx_hash", "block_time"),
    )  # fmt: skip
    labels.write_csv(home / "planted-labels.csv")
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    last = START + timedelta(days=DAYS - 1)
    results = run_range(settings, "torus", START, last, instance=instance, progress=None)
    assert all(r.success for r in results)
    return home


def _stored(settings, table: str) -> pl.DataFrame:
    from analytics_platform.storage.tables import TABLES

    with ch.session(settings.clickhouse) as client:
        return ch.read_days(client, "torus", table, schema=TABLES[table].schema)


def test_a_model_trained_on_the_verdicts_scores_alerts_and_is_promoted_or_rolled_back(
    trained_home: Path, capsys
):
    settings = load_settings()
    labels = str(trained_home / "planted-labels.csv")
    # Without a champion the graph ran on the rules only: no scores, every alert a rule's.
    assert _stored(settings, "address_risk_scores").height == 0
    assert set(_stored(settings, "typology_alerts")["source"]) == {"rule"}
    assert main(["model", "train", "--cutoff", str(CUTOFF), "--labels", labels, "--by", "ana"]) == 0
    assert "version 1 (champion)" in capsys.readouterr().out
    # The days after the cutoff again: every active address scored, the model alerting.
    later = CUTOFF + timedelta(days=1)
    last = START + timedelta(days=DAYS - 1)
    instance = instance_for(settings)
    assert all(r.success for r in run_range(settings, "torus", later, last, instance=instance,
                                            progress=None))  # fmt: skip
    scores = _stored(settings, "address_risk_scores")
    features = _stored(settings, "address_features").filter(pl.col("date") >= later)
    assert (
        scores.select("address", "date").n_unique() == features.select("address", "date").n_unique()
    )
    assert set(scores["model_version"]) == {1} and set(scores["alias"]) == {"champion"}
    flagged = scores.filter("flagged")
    assert flagged.height > 0 and (flagged["explanation"].str.len_chars() > 0).all()
    alerts = _stored(settings, "typology_alerts").filter(pl.col("date") >= later)
    model = alerts.filter(pl.col("typology") == "learned_risk")
    # every flagged address alerted, but labelled services (never alerted, as for the rules)
    assert 0 < model.height <= flagged.height
    assert (
        model.select("address", "date").join(flagged, on=["address", "date"], how="anti").is_empty()
    )
    assert set(model["source"]) <= {"model", "both"} and "both" in set(alerts["source"])
    assert model["explanation"].str.starts_with("risk model: likely ").all()
    # Watched daily: the score and the top features against the validation days.
    watched = _stored(settings, "model_monitoring")
    assert set(watched["date"]) == {later + timedelta(days=i) for i in range(DAYS - 8)}
    assert "score" in set(watched["column"]) and watched.height > (DAYS - 8) * 10
    assert watched.filter(pl.col("column") == "score")["psi"].is_not_null().all()
    assert set(watched["status"]) <= {"stable", "warn", "fail", "no data"}
    # One case per address and day, the model's alerts inside them.
    assert (
        alerts.group_by("date", "address").agg(pl.col("case_id").n_unique())["case_id"].max() == 1
    )

    # A second version, trained by the job in the Dagster UI, is the challenger; it has no
    # shadow days yet, so it is not promoted (the promote job fails with the reason).
    from analytics_platform.lib.loading import build_definitions

    defs = build_definitions(settings)
    config = {
        "torus__risk_training_set": {"config": {"cutoff": str(CUTOFF), "labels_path": labels}},
        "torus__risk_model": {"config": {"by": "bo"}},
    }
    trained = defs.resolve_job_def("torus__risk_model_train").execute_in_process(
        run_config={"ops": config}, instance=instance
    )
    (event,) = trained.asset_materializations_for_node("torus__risk_model")
    assert event.metadata["model_version"].value == 2
    assert event.metadata["aliases"].value == "challenger"
    # The job stored the training set first; the version names it, and it is the set the CLI
    # built for version 1 (the same days and labels: the same content, the same id).
    (built,) = trained.asset_materializations_for_node("torus__risk_training_set")
    set_id = built.metadata["training_set"].value
    assert event.metadata["training_set"].value == set_id and set_id.startswith(str(CUTOFF))
    assert built.metadata["fit_none"].value > 0 and built.metadata["dagster/row_count"].value > 0
    registry = ModelRegistry(trained_home)
    params = [registry.client.get_run(registry.get("torus", v).run_id).data.params for v in (1, 2)]
    assert params[0]["training_set"] == params[1]["training_set"] == set_id
    refused = defs.resolve_job_def("torus__risk_model_promote").execute_in_process(
        run_config={"ops": {"torus__promote_challenger": {"config": {"by": "bo"}}}},
        instance=instance,
        raise_on_error=False,
    )
    assert not refused.success
    capsys.readouterr()
    assert main(["model", "promote", "--network", "torus", "--by", "bo"]) == 2
    refusal = capsys.readouterr().err
    assert "version 2 not promoted: the challenger scored 0 shadow day(s)" in refusal
    assert main(["model", "promote", "--force", "--by", "bo"]) == 2  # forced needs a reason
    assert main(["model", "promote", "--force", "--reason", "audit asked", "--by", "bo"]) == 0
    assert main(["model", "rollback", "--reason", "alerts doubled", "--by", "cy"]) == 0
    capsys.readouterr()
    assert main(["model", "status"]) == 0
    status = capsys.readouterr().out
    assert "champion: 1" in status and "challenger: none" in status
    assert "champion: 2 -> 1 by cy: rollback: alerts doubled" in status
    assert "champion: 1 -> 2 by bo: audit asked" in status
