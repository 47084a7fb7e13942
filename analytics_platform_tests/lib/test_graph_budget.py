"""The window graph's edge budget through the product: a network whose windows pass
``features.max_graph_edges`` still stores a feature row for every active address (the
checks pass), and each day's materialisation says which windows were cut, and to what. The
same run keeps its rows in the configured spill folder."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from analytics_platform.config import ConfigError, FeatureSettings, load_settings
from analytics_platform.lib.assets import address_features
from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
from analytics_platform_tests.conftest import START


def test_windows_over_the_edge_budget_are_cut_and_say_so(home: Path, monkeypatch):
    spill = home / "spill"
    spill.mkdir()
    folders: list = []
    real = address_features.TemporaryDirectory

    def spied(*args, **kwargs):
        folders.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(address_features, "TemporaryDirectory", spied)
    config = yaml.safe_load((home / "config.yaml").read_text())
    config["features"] = {"max_graph_edges": 1_500, "spill_folder": str(spill)}
    (home / "config.yaml").write_text(yaml.safe_dump(config))
    settings = load_settings()
    instance = instance_for(settings)
    refresh_labels(settings, "torus", instance=instance)
    last = START + timedelta(days=1)
    assets = ["transfers", "transfers_quality", "transfers_rejected", "daily_edges",
              "address_activity", "address_labels", "address_features"]  # fmt: skip
    results = run_range(
        settings, "torus", START, last, assets=assets, instance=instance, progress=lambda _: None
    )
    assert all(r.success for r in results)  # the feature checks passed: every address has rows
    assert folders and set(folders) == {str(spill)} and not list(spill.iterdir())  # cleaned up

    key = dg.AssetKey(["torus", "address_features"])
    cut_days = {}
    for day in (START, last):
        (record,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]), limit=1
        ).records
        meta = record.asset_materialization.metadata
        assert meta["graph_edge_budget"].value == 1_500
        cut_days[day] = meta["graph_windows_cut"].value
        if cut_days[day]:
            cut = json.loads(json.dumps(meta["graph_cut"].value))
            assert all(c["kept"] == 1_500 < c["pairs"] and c["floor"] > 0 for c in cut.values())
    # The second day's longer windows hold more pairs than one day's: at least as many cut.
    assert cut_days[last] >= cut_days[START] >= 1


def test_a_spill_folder_that_is_not_there_is_named(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match=r"features.spill_folder: no such folder here \(got '"):
        address_features._spill_folder(FeatureSettings(spill_folder=str(missing)))
    assert address_features._spill_folder(FeatureSettings(spill_folder=str(tmp_path))) == str(
        tmp_path
    )
    assert address_features._spill_folder(FeatureSettings()) is None  # the system's TMPDIR
