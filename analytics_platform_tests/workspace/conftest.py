"""A stored network the workspace tests read: 2 days through the whole graph, once per
module, with an analyst and a viewer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics_platform_tests.conftest import START, free_port, small_config

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def stored_home(tmp_path_factory) -> Iterator[Path]:
    from datetime import timedelta

    from analytics_platform.config import load_settings
    from analytics_platform.lib.demo import prepare
    from analytics_platform.lib.runner import instance_for, refresh_labels, run_range
    from analytics_platform.workspace.server import user_store

    home = tmp_path_factory.mktemp("workspace") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYTICS_HOME", str(home))
        for name in ("ANALYTICS_CLICKHOUSE_DSN", "ANALYTICS_LAKE_URL", "ANALYTICS_CONFIG"):
            mp.delenv(name, raising=False)
        for name in ("USER_HEADER", "SECURE_COOKIES", "SECRET"):
            mp.delenv(f"ANALYTICS_WORKSPACE_{name}", raising=False)
        prepare(home, small_config(days=2))
        settings = load_settings()
        instance = instance_for(settings)
        refresh_labels(settings, "torus", instance=instance)
        results = run_range(
            settings, "torus", START, START + timedelta(days=1), instance=instance, progress=None
        )
        assert all(r.success for r in results)
        users = user_store(settings)
        users.add("ana", "analyst", PASSWORD)
        users.add("vic", "viewer", PASSWORD)
        yield home


@pytest.fixture(scope="module")
def served(stored_home: Path) -> Iterator[str]:
    """The workspace served by uvicorn on a free localhost port: its base URL."""
    import uvicorn

    from analytics_platform.config import load_settings
    from analytics_platform.workspace.server import workspace_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYTICS_HOME", str(stored_home))
        app = workspace_app(load_settings())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the workspace did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
