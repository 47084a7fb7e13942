"""The benchmarks' memory and CPU figures: a worker's own peak, and the peak and the CPU time
while each stage ran."""

import mmap
import subprocess
import sys
import threading
import time

import numpy as np

from analytics_platform.bench.memory import MemoryTimeline, peak_rss_bytes, rss_bytes
from analytics_platform.engines.timing import StageTimer

MiB = 2**20


def test_a_child_process_reports_its_own_peak_not_its_parents():
    held = np.ones(400 * MiB // 8)  # 400 MiB touched in this (parent) process
    code = "from analytics_platform.bench.memory import peak_rss_bytes; print(peak_rss_bytes())"
    child = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True).stdout)  # fmt: skip
    current = rss_bytes()  # read first: the high-water mark covers it whatever runs beside
    assert peak_rss_bytes() >= current > 400 * MiB
    assert child < 200 * MiB
    del held


def test_each_stage_gets_the_peak_seen_while_it_ran():
    memory = MemoryTimeline(interval=0.005)
    timer = StageTimer(on_stage=memory.stage_ended)

    def sampled() -> None:
        """Until the sampler has taken two samples from now on (on a busy machine its thread
        may wait longer than a stage lasts)."""
        now, deadline = time.perf_counter(), time.perf_counter() + 30
        while sum(t > now for t, _ in memory.samples) < 2 and time.perf_counter() < deadline:
            time.sleep(0.005)

    with memory.sampling():
        with timer.stage("small"):
            sampled()
        with timer.stage("large"):
            # Pages of a fresh anonymous mapping, not the allocator's: in a worker that has
            # run other tests, malloc may serve 300 MiB from freed pages it still holds
            # resident, and the RSS does not move (CI on stop 46 saw one value in both stages).
            block = mmap.mmap(-1, 300 * MiB)
            np.frombuffer(block, dtype=np.uint8).fill(1)
            sampled()
            block.close()
        with timer.stage("after"):
            sampled()
    peaks = memory.stage_peaks
    assert peaks["large"] - peaks["small"] > 250 * MiB
    assert peaks["after"] < peaks["large"] - 250 * MiB
    assert memory.peak[1] == peaks["large"]


def test_each_stage_gets_the_cpu_its_process_spent_meanwhile():
    """A stage that computes counts its CPU time; one that waits counts almost none; a stage
    that waits on another thread's work counts that thread's CPU (the process's)."""
    timer = StageTimer()

    def spin(seconds: float) -> None:
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    with timer.stage("busy"):
        spin(0.3)
    with timer.stage("idle"):
        time.sleep(0.3)
    with timer.stage("beside"):
        worker = threading.Thread(target=spin, args=(0.3,))
        worker.start()
        worker.join()
    assert timer.cpu_seconds["busy"] >= 0.3
    assert timer.cpu_seconds["idle"] < 0.1 < timer.seconds["idle"]
    assert timer.cpu_seconds["beside"] >= 0.3
