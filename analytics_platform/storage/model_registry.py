"""The risk models' registry on MLflow: every training run logged, versions per network, the
``champion`` and ``challenger`` aliases, and a journal of every move between them.

- **Where.** ``MLFLOW_TRACKING_URI`` when set (production: an MLflow server with a PostgreSQL
  backend and S3 artifacts); otherwise SQLite and artifact files under the home, no server.
- **What a training run logs.** The model's parameters, validation metrics, thresholds,
  feature list and its hash, training window, and the data and code versions it came from;
  the model's two files (``RiskModel.save``) are its artifact ``model``.
- **Names.** One registered model per network, ``<network>-risk``; a version is the registry's
  number. Registry *stages* are deprecated in MLflow; aliases replace them.
- **Journal.** Each move of an alias is a registered-model tag ``move.<n>`` holding when, who,
  why and both versions: it lives with the registry, wherever that is.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analytics_platform.domain.risk.model import RiskModel, load

CHAMPION = "champion"
CHALLENGER = "challenger"
ALIASES = (CHAMPION, CHALLENGER)
_MOVE = "move."


def embedded_store(home: Path) -> Path:
    """The SQLite file of the embedded default."""
    return home.resolve() / "mlflow" / "mlflow.db"


def tracking_uri(home: Path) -> str:
    """``MLFLOW_TRACKING_URI``, or the embedded default: SQLite under ``home``."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if uri:
        return uri
    store = embedded_store(home)
    store.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{store}"


def model_name(network: str) -> str:
    return f"{network}-risk"


@dataclass(frozen=True)
class Version:
    """One registered version: its number, aliases, training cutoff and headline figures."""

    version: int
    aliases: tuple[str, ...]
    run_id: str
    created: datetime
    tags: dict[str, str]

    @property
    def cutoff(self) -> str:
        return self.tags.get("cutoff", "")

    @property
    def feature_hash(self) -> str:
        return self.tags.get("feature_hash", "")


@dataclass(frozen=True)
class Move:
    """A move of an alias: ``alias`` went from version ``before`` to ``after``."""

    number: int
    at: str
    by: str
    why: str
    alias: str
    before: int | None
    after: int | None


class ModelRegistry:
    """The registry of ``home`` (module docstring); MLflow's client does the work."""

    def __init__(self, home: Path, uri: str | None = None) -> None:
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        from mlflow import MlflowClient

        # MLflow logs its database migrations at INFO, configured on import
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)

        self.home = home
        self.uri = uri or tracking_uri(home)
        # a SQLite registry keeps its model files beside its database (a server: its own)
        self._artifacts = (
            (Path(self.uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
            if self.uri.startswith("sqlite:///")
            else None
        )
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    # -- training runs and versions -------------------------------------------------------

    def register(
        self,
        network: str,
        model: RiskModel,
        *,
        params: dict[str, Any],
        by: str,
        alias: str | None = None,
    ) -> Version:
        """Log a training run of ``model`` with ``params`` (training window, data and code
        versions, ...) and register it as the next version of the network's model. It becomes
        ``alias`` if given; else the champion when there is none, the challenger otherwise."""
        experiment = self._experiment(network)
        tags = {
            "network": network,
            "cutoff": model.cutoff.isoformat(),
            "feature_hash": model.feature_hash,
            "classes": ",".join(model.classes),
            "trained_by": by,
        }
        run = self.client.create_run(experiment, tags=tags, run_name=f"{network} {model.cutoff}")
        run_id = run.info.run_id
        try:
            for key, value in sorted({**_flat(params), **_model_params(model)}.items()):
                self.client.log_param(run_id, key, value)
            for key, value in sorted(_metrics(model).items()):
                self.client.log_metric(run_id, key, value)
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "model"
                model.save(folder)
                (folder / "features.txt").write_text("\n".join(model.features) + "\n")
                self.client.log_artifacts(run_id, str(folder), artifact_path="model")
        except Exception:
            self.client.set_terminated(run_id, status="FAILED")
            raise
        self.client.set_terminated(run_id)
        name = self._registered(network)
        created = self.client.create_model_version(
            name, source=f"{run.info.artifact_uri}/model", run_id=run_id, tags=tags
        )
        version = int(created.version)
        if alias is None:
            alias = CHALLENGER if self.version_of(network, CHAMPION) else CHAMPION
        self.move(network, alias, version, by=by, why="trained")
        return self.get(network, version)

    def versions(self, network: str) -> list[Version]:
        """Every version of the network's model, newest first."""
        name = model_name(network)
        if not self._exists(network):
            return []
        found = self.client.search_model_versions(f"name='{name}'")
        aliases = self.client.get_registered_model(name).aliases  # search leaves them out
        out = []
        for v in found:
            named = tuple(sorted(a for a, n in aliases.items() if str(n) == str(v.version)))
            out.append(dataclasses.replace(self._version(v), aliases=named))
        return sorted(out, key=lambda v: v.version, reverse=True)

    def get(self, network: str, version: int) -> Version:
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.get_model_version(model_name(network), str(version))
        except MlflowException:
            raise LookupError(f"model: {model_name(network)} has no version {version}") from None
        return self._version(found)

    def version_of(self, network: str, alias: str) -> int | None:
        """The version ``alias`` names, or ``None``."""
        from mlflow.exceptions import MlflowException

        if not self._exists(network):
            return None
        try:
            return int(self.client.get_model_version_by_alias(model_name(network), alias).version)
        except MlflowException:
            return None

    def load(self, network: str, version: int) -> RiskModel:
        """The model of ``version``; a one-line error naming it when its artifact is missing
        or corrupt."""
        found = self.get(network, version)
        label = f"model {model_name(network)} version {version}"
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path = self.client.download_artifacts(found.run_id, "model", tmp)
            except Exception as exc:  # noqa: BLE001 - any store's failure, said in one line
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ValueError(f"{label}: its artifact cannot be read: {first}") from None
            return load(Path(path), label)

    # -- aliases and their journal --------------------------------------------------------

    def move(self, network: str, alias: str, version: int | None, *, by: str, why: str) -> Move:
        """Point ``alias`` at ``version`` (``None``: remove it) and record the move."""
        if alias not in ALIASES:
            raise ValueError(f"alias: expected one of {', '.join(ALIASES)}, got {alias!r}")
        name = model_name(network)
        before = self.version_of(network, alias)
        if version is None:
            if before is not None:
                self.client.delete_registered_model_alias(name, alias)
        else:
            self.get(network, version)
            self.client.set_registered_model_alias(name, alias, str(version))
        moves = self.journal(network)
        move = Move(
            number=(moves[-1].number + 1) if moves else 1,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            by=by,
            why=why,
            alias=alias,
            before=before,
            after=version,
        )
        record = {k: v for k, v in move.__dict__.items() if k != "number"}
        self.client.set_registered_model_tag(name, f"{_MOVE}{move.number:06d}", json.dumps(record))
        return move

    def journal(self, network: str) -> list[Move]:
        """Every move of the network's aliases, oldest first."""
        if not self._exists(network):
            return []
        tags = self.client.get_registered_model(model_name(network)).tags
        return [
            Move(number=int(key[len(_MOVE) :]), **json.loads(value))
            for key, value in sorted(tags.items())
            if key.startswith(_MOVE)
        ]

    # -- internals ------------------------------------------------------------------------

    def _experiment(self, network: str) -> str:
        name = f"analytics_platform/{network}/risk"
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        return self.client.create_experiment(name, artifact_location=self._artifacts)

    def _exists(self, network: str) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(model_name(network))
        except MlflowException:
            return False
        return True

    def _registered(self, network: str) -> str:
        name = model_name(network)
        if not self._exists(network):
            self.client.create_registered_model(
                name, description=f"Risk model of network {network} (analytics_platform)"
            )
        return name

    def _version(self, found: Any) -> Version:
        return Version(
            version=int(found.version),
            aliases=tuple(sorted(found.aliases or ())),
            run_id=found.run_id,
            created=datetime.fromtimestamp(found.creation_timestamp / 1000, UTC),
            tags=dict(found.tags or {}),
        )


def _flat(params: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v, default=str) if isinstance(v, dict | list) else str(v)
            for k, v in params.items()}  # fmt: skip


def _model_params(model: RiskModel) -> dict[str, str]:
    from analytics_platform.domain.risk.model import PARAMS

    return {
        **{f"lgb.{k}": str(v) for k, v in PARAMS.items()},
        "cutoff": model.cutoff.isoformat(),
        "classes": ",".join(model.classes),
        "feature_hash": model.feature_hash,
        "features": str(len(model.features)),
        "validation_days": str(model.settings.validation_days),
        "gap_days": str(model.settings.gap_days),
        "negative_share": str(model.settings.negative_share),
        "negative_weight": str(model.settings.negative_weight),
    }


def _metrics(model: RiskModel) -> dict[str, float]:
    out = {
        f"validation_f1.{c}": float(v) for c, v in model.metrics.get("validation_f1", {}).items()
    }
    out |= {f"threshold.{c}": float(t) for c, t in model.thresholds.items()}
    for key in ("fit_rows", "fit_positives", "validation_rows", "best_iteration"):
        if key in model.metrics:
            out[key] = float(model.metrics[key])
    return out
