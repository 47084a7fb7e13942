"""Run the asset graph through Dagster from Python (CLI, demo, tests).

Runs execute in-process against a persistent ``DagsterInstance`` under ``$ANALYTICS_HOME``, so
``dagster dev`` on the same home shows every run, materialisation and check afterwards.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from dagster._core.errors import (
    DagsterExecutionStepExecutionError,
    DagsterMaxRetriesExceededError,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from analytics_platform.config import CLICKHOUSE_VARIABLES, Settings
from analytics_platform.lib.assets.retries import is_transient
from analytics_platform.lib.loading import build_definitions
from analytics_platform.lib.progress import RunProgress, progress_for
from analytics_platform.storage import clickhouse as ch
from analytics_platform.storage.files import one_line


def console_level(level: str) -> dict:
    """Run config that prints the run's own log from ``level`` up (the event log keeps all)."""
    return {"loggers": {"console": {"config": {"log_level": level}}}}


QUIET = console_level("WARNING")


class RunFailedError(ValueError):
    """A step of a run failed with a ``dg.Failure``: its description says what to fix."""


def instance_for(settings: Settings) -> dg.DagsterInstance:
    """The Dagster instance of ``settings``' profile.

    ``local``: SQLite storage under ``$ANALYTICS_HOME/dagster_home`` (created on first use).
    ``production``: the instance in ``$DAGSTER_HOME`` (its ``dagster.yaml`` puts storage on
    PostgreSQL, see ``deploy/``); SQLite storage is refused there.
    """
    if settings.profile == "production":
        return _production_instance()
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    yaml_path = settings.dagster_home / "dagster.yaml"
    if not yaml_path.exists():
        yaml_path.write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return dg.DagsterInstance.get()


def _production_instance() -> dg.DagsterInstance:
    home = os.environ.get("DAGSTER_HOME", "")
    if not home or not (Path(home) / "dagster.yaml").exists():
        raise RuntimeError(
            f"DAGSTER_HOME: the production profile needs an instance directory holding "
            f"dagster.yaml (PostgreSQL storage, see deploy/dagster.yaml); got {home!r}"
        )
    instance = dg.DagsterInstance.get()
    storage = type(instance.run_storage).__name__
    if "Sqlite" in storage:
        raise RuntimeError(
            f"{home}/dagster.yaml: the production profile needs Dagster storage on PostgreSQL "
            f"(storage: postgres:), found {storage}"
        )
    return instance


def check_range(settings: Settings, network: str, first: date, last: date) -> None:
    """A clear error for an unknown network or days outside its partitions."""
    net = settings.network(network)
    if last < first:
        raise ValueError(f"range: end {last} is before start {first}")
    if first < net.start_date:
        raise ValueError(
            f"date: {first} is before {network}'s first partition {net.start_date} (start_date)"
        )
    if net.end_date and last > net.end_date:
        raise ValueError(
            f"date: {last} is after {network}'s last partition {net.end_date} (end_date)"
        )


def run_range(
    settings: Settings,
    network: str,
    first: date,
    last: date,
    *,
    assets: Sequence[str] | None = None,
    chunk_days: int = 7,
    progress: Callable[[str], None] | RunProgress | None = print,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
) -> list[dg.ExecuteInProcessResult]:
    """Materialise days ``first..last`` of ``network`` (all daily assets, or ``assets``), one
    run per chunk of ``chunk_days`` days (each run a partition range, as backfills do).

    ``progress`` hears each chunk, each step as it ends and each run's outcome: a
    :class:`RunProgress`, a function taking lines, or ``None`` for a bar on a terminal
    (lines on stderr otherwise). ``log_level``: what the run's own log prints (the CLI keeps it
    to ``CRITICAL`` and says what failed in one line; the UI's event log has everything)."""
    check_range(settings, network, first, last)
    check_reachable(settings.clickhouse)
    defs = build_definitions(settings)
    instance = instance or instance_for(settings)
    job_name = f"{network}__daily"
    if assets:
        selection = dg.AssetSelection.assets(*[[network, a] for a in assets])
        job = dg.define_asset_job(f"{network}__adhoc", selection=selection)
        defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
        job_name = f"{network}__adhoc"
    job_def = defs.resolve_job_def(job_name)
    results = []
    chunks = []
    day = first
    while day <= last:
        end = min(day + timedelta(days=chunk_days - 1), last)
        chunks.append((day, end))
        day = end + timedelta(days=1)
    reporter = progress_for(progress)
    steps = len(job_def.graph.nodes)
    try:
        for i, (start, end) in enumerate(chunks, 1):
            label = f"{network} {start}..{end}"
            reporter.chunk(i, len(chunks), label, steps)
            t0 = time.perf_counter()
            run_id = str(uuid.uuid4())
            instance.add_event_listener(run_id, _step_progress(reporter, t0))
            try:
                result = job_def.execute_in_process(
                    run_id=run_id,
                    instance=instance,
                    tags={
                        ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
                        ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
                    },
                    raise_on_error=True,
                    run_config=console_level(log_level),
                )
            except dg.Failure as exc:  # a step said why it cannot go on (bad config, input)
                raise RunFailedError(f"{label}: {exc.description}") from exc
            except (DagsterExecutionStepExecutionError, DagsterMaxRetriesExceededError) as exc:
                cause = _transient_cause(exc)
                if cause is None:
                    raise
                raise RunFailedError(
                    f"{label}: a store stayed unreachable through the step's retries: "
                    f"{first_line(cause)}"
                ) from exc
            reporter.chunk_done(
                i, len(chunks), label, result.run_id, result.success, time.perf_counter() - t0
            )
            results.append(result)
    finally:
        reporter.close()
    return results


def first_line(exc: BaseException) -> str:
    """An error as its type and the first line of its message (drivers add pages more)."""
    return f"{type(exc).__name__}: {one_line(exc)}"


def _transient_cause(exc: BaseException) -> BaseException | None:
    """The connection, timeout or throttling error behind a failed step, if that is what
    failed it (followed through the causes Dagster wraps it in)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if is_transient(err):
            return err
        stack += [getattr(err, "user_exception", None), err.__cause__, err.__context__]
    return None


def check_reachable(target: ch.ClickHouseTarget) -> None:
    """A server warehouse answers before any run starts, or one line says it does not (a
    step would retry for a minute and fail with a long traceback). The DSN is said with its
    password hidden. The embedded store is always there."""
    if target.embedded:
        return
    driver_log = logging.getLogger("clickhouse_connect")
    level = driver_log.level
    driver_log.setLevel(logging.CRITICAL)  # it logs the failure again, over several lines
    try:
        with ch.session(target) as client:
            client.command("SELECT 1")
    except Exception as exc:
        if not is_transient(exc):
            raise
        raise RunFailedError(
            f"warehouse: cannot reach {target.describe()} ({CLICKHOUSE_VARIABLES['dsn']}): "
            f"{first_line(exc)}"
        ) from None
    finally:
        driver_log.setLevel(level)


def _step_progress(reporter: RunProgress, started: float):
    """An event listener that reports each step of a run as it ends (a chunk of a backfill
    runs for minutes; its steps show it is moving)."""

    def listen(event) -> None:
        kind = event.dagster_event.event_type_value if event.dagster_event else None
        if kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            ok = kind == "STEP_SUCCESS"
            reporter.step(event.step_key, ok, time.perf_counter() - started)

    return listen


def refresh_labels(settings: Settings, network: str, instance: dg.DagsterInstance | None = None):
    defs = build_definitions(settings)
    return defs.resolve_job_def(f"{network}__labels").execute_in_process(
        instance=instance or instance_for(settings), run_config=QUIET
    )
