"""Named stage timings, for asset metadata, logs and the benchmark, with where plans ran."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ACTIVE: ContextVar[tuple[StageTimer, str] | None] = ContextVar("active_stage", default=None)


class StageTimer:
    """Accumulates wall seconds per named stage; ``on_stage`` hears each stage as it ends.

    ``cpu_seconds``: the process's CPU time (every thread's, user and system) while each stage
    ran; stages that overlap (a window's graph thread beside its sums) count the same CPU.

    ``plans`` counts, per stage, the polars plans executed on each device (see
    :func:`note_plan`): the GPU engine's metadata says where each stage really ran.
    """

    def __init__(self, on_stage: Callable[[str, float], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.plans: dict[str, Counter[str]] = {}
        self._on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start, cpu_start = time.perf_counter(), time.process_time()
        token = _ACTIVE.set((self, name))
        try:
            yield
        finally:
            _ACTIVE.reset(token)
            elapsed = time.perf_counter() - start
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
            cpu = time.process_time() - cpu_start
            self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + cpu
            if self._on_stage:
                self._on_stage(name, elapsed)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def plan_devices(self, stage: str) -> str:
        """``"gpu 5, cpu 1"``: the plans a stage executed per device ("" when none)."""
        return ", ".join(f"{d} {n}" for d, n in sorted(self.plans.get(stage, {}).items()))


def note_plan(device: str) -> None:
    """Count one executed plan on ``device`` against the stage running in this thread."""
    active = _ACTIVE.get()
    if active is not None:
        timer, stage = active
        timer.plans.setdefault(stage, Counter())[device] += 1
