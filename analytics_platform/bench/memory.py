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


def peak_rss_bytes() -> int:
    """This process's peak resident set (``VmHWM`` of ``/proc/self/status``; Linux).

    Not ``getrusage().ru_maxrss``: a child started by ``subprocess`` or ``multiprocessing``
    inherits its parent's maximum there, so a benchmark's worker would report at least what
    the parent held when it generated the input (2 GiB in a parent gave a bare ``python -c``
    child a "peak" of 2 GiB). ``VmHWM`` belongs to the process's own address space.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    raise RuntimeError("/proc/self/status: no VmHWM line")


class MemoryTimeline:
    """Samples this process's RSS every ``interval`` seconds in a daemon thread; stages are
    reported as they end (``stage_ended``, a :class:`~analytics_platform.engines.timing.StageTimer`
    ``on_stage`` hook), so each stage gets the peak seen while it ran.

    A sampler, not ``getrusage``'s lifetime maximum: that cannot say when the peak happened.
    A peak shorter than ``interval`` can be missed; :func:`peak_rss_bytes` stays the run's
    figure.
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
        # A copy: the sampler appends concurrently. A stage shorter than the interval gets
        # the RSS at its end.
        inside = [rss for t, rss in list(self._samples) if t >= start]
        peak = max(inside, default=0) or rss_bytes()
        self.stage_peaks[name] = max(peak, self.stage_peaks.get(name, 0))

    @property
    def samples(self) -> list[tuple[float, int]]:
        """(``time.perf_counter()``, bytes) of every sample so far, oldest first."""
        return list(self._samples)

    @property
    def peak(self) -> tuple[float, int]:
        """(seconds since sampling began, bytes) of the highest sample."""
        if not self._samples:
            return 0.0, rss_bytes()
        t0 = self._samples[0][0]
        t, rss = max(self._samples, key=lambda s: s[1])
        return t - t0, rss
