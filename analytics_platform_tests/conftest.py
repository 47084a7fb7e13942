"""Shared fixtures: small synthetic networks and prepared embedded homes (real chDB)."""

from __future__ import annotations

import os
import warnings
from datetime import date
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*is currently in beta.*")

START = date(2026, 10, 1)


def small_config(days: int = 5, **kw):
    from analytics_platform.demo import default_config

    return default_config(
        days=days,
        transfers_per_day=kw.pop("transfers_per_day", 2_000),
        addresses=kw.pop("addresses", 1_000),
        start=START,
        **kw,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    """A fresh ANALYTICS_HOME with a generated 5-day network and its config."""
    from analytics_platform.demo import prepare

    h = tmp_path / "home"
    monkeypatch.setenv("ANALYTICS_HOME", str(h))
    monkeypatch.delenv("ANALYTICS_CLICKHOUSE_DSN", raising=False)
    monkeypatch.delenv("ANALYTICS_LAKE_URL", raising=False)
    monkeypatch.delenv("ANALYTICS_CONFIG", raising=False)
    prepare(h, small_config())
    yield h
    os.environ.pop("DAGSTER_HOME", None)
