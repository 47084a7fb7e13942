"""Named stage timings, for asset metadata, logs and the benchmark."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates wall seconds per named stage; ``on_stage`` hears each stage as it ends."""

    def __init__(self, on_stage: Callable[[str, float], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self._on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
            if self._on_stage:
                self._on_stage(name, elapsed)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())
