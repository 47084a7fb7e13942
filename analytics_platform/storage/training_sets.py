"""The risk model's training sets in the lake: ``<lake>/risk_training_set/network=<n>/``.

Each set is its own folder, ``set=<cutoff>-<digest>`` (``rows.parquet``, ``labels.parquet``,
``set.json``), named by its content, so a model version's ``training_set`` parameter names the
exact rows it learnt from and writing the same set again changes nothing. ``current.json``
names the newest, written last in one PUT: a reader sees the old set or the new one, whole.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date

import polars as pl
from upath import UPath

from analytics_platform.domain.risk.labels import LABELS
from analytics_platform.domain.risk.training_set import TrainingSet, TrainingSettings
from analytics_platform.storage.lake import read_file, table_dir, write_atomic, write_text_atomic

TABLE = "risk_training_set"
CURRENT = "current.json"


def set_id(training: TrainingSet) -> str:
    """``<cutoff>-<digest>``: the digest of the rows, the labels and the settings (the same
    set, the same id, within the pinned polars version that hashes the rows)."""
    digest = hashlib.sha256()
    for frame in (training.rows, training.labels):
        digest.update(",".join(f"{c}:{t}" for c, t in frame.schema.items()).encode())
        digest.update(str(frame.height).encode())
        if frame.height:
            digest.update(str(int(frame.hash_rows(seed=11).sum())).encode())
    digest.update(json.dumps(asdict(training.settings), sort_keys=True).encode())
    return f"{training.cutoff.isoformat()}-{digest.hexdigest()[:12]}"


def write(root: UPath, network: str, training: TrainingSet) -> str:
    """Store ``training`` and make it the network's current set; its id."""
    base = table_dir(root, TABLE, network)
    name = set_id(training)
    folder = base / f"set={name}"
    write_atomic(training.rows, folder / "rows.parquet")
    write_atomic(training.labels, folder / "labels.parquet")
    meta = {
        "id": name,
        "cutoff": training.cutoff.isoformat(),
        "settings": asdict(training.settings),
        "lineage": training.lineage,
    }
    _write_json(folder / "set.json", meta)
    _write_json(base / CURRENT, {"id": name})
    return name


def read(root: UPath, network: str, name: str | None = None) -> tuple[str, TrainingSet]:
    """The set ``name`` (default: the current one) and its id; a one-line error naming the
    network, or the set, when there is none or a file of it is unreadable."""
    base = table_dir(root, TABLE, network)
    if name is None:
        try:
            name = json.loads((base / CURRENT).read_text())["id"]
        except FileNotFoundError:
            raise LookupError(
                f"{TABLE}: {network} has none yet (materialise it, or `model train`)"
            ) from None
    folder = base / f"set={name}"
    try:
        meta = json.loads((folder / "set.json").read_text())
        rows = read_file(folder / "rows.parquet")
        labels = read_file(folder / "labels.parquet").cast(LABELS)
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as exc:
        raise ValueError(f"{TABLE} {name}: cannot read it in {folder}: {exc}") from None
    training = TrainingSet(
        rows,
        labels,
        date.fromisoformat(meta["cutoff"]),
        TrainingSettings(**meta["settings"]),
        meta.get("lineage", {}),
    )
    return name, training


def _write_json(path: UPath, value: dict) -> None:
    write_text_atomic(json.dumps(value, indent=1, sort_keys=True, default=str), path)
