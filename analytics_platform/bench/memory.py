"""Resident memory over a benchmark's run, and which stages were running at its peak."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """This process's resident set now (``/proc/self/statm``; Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


class MemoryTimeline:
    """Samples this process's RSS every ``interval`` seconds in a daemon thread; stages are
    reported as they end (``stage_ended``, a :class:`~analytics_platform.engines.timing.StageTimer`
    ``on_stage`` hook), so each stage gets the peak seen while it ran.

    A sampler, not ``getrusage``'s lifetime maximum: that cannot say when the peak happened.
    A peak shorter than ``interval`` can be missed; ``ru_maxrss`` stays the run's figure.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self._interval = interval
        self._samples: list[tuple[float, int]] = []
        self.stage_peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._samples.append((time.perf_counter(), rss_bytes()))
            self._stop.wait(self._interval)

    @contextmanager
    def sampling(self) -> Iterator[MemoryTimeline]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()

    def stage_ended(self, name: str, seconds: float) -> None:
        """The peak RSS between the stage's start (``seconds`` ago) and now, kept per name
        (the largest over its runs)."""
        now = time.perf_counter()
        start = now - seconds
        # Copy first: the sampler appends concurrently. One sample before the start counts
        # too, so a stage shorter than the interval still gets a figure.
        samples = list(self._samples)
        inside = [rss for t, rss in samples if t >= start] or [rss_bytes()]
        before = [rss for t, rss in samples if t < start][-1:]
        peak = max(inside + before)
        self.stage_peaks[name] = max(peak, self.stage_peaks.get(name, 0))

    @property
    def peak(self) -> tuple[float, int]:
        """(seconds since sampling began, bytes) of the highest sample."""
        if not self._samples:
            return 0.0, rss_bytes()
        t0 = self._samples[0][0]
        t, rss = max(self._samples, key=lambda s: s[1])
        return t - t0, rss
