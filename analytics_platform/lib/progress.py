"""Progress of long runs (backfills, the demo, evaluate): a bar on a terminal, lines elsewhere.

:func:`run_range` reports each chunk of days it starts, each step as it ends and each chunk's
outcome to a :class:`RunProgress`. On a terminal that is a rich progress bar over every step
of every chunk (rich comes with Dagster); in logs, pipes and CI, one line per event.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, Protocol, runtime_checkable


@runtime_checkable
class RunProgress(Protocol):
    def chunk(self, index: int, total: int, label: str, steps: int) -> None:
        """Chunk ``index`` of ``total`` (days ``label``) starts; it has ``steps`` steps."""

    def step(self, step_key: str, ok: bool, seconds: float) -> None:
        """A step ended, ``seconds`` after its chunk started."""

    def chunk_done(
        self, index: int, total: int, label: str, run_id: str, ok: bool, seconds: float
    ) -> None:
        """The chunk's run ended."""

    def close(self) -> None:
        """No more chunks."""


class LineProgress:
    """One line per event, through ``say`` (``print`` by default)."""

    def __init__(self, say: Callable[[str], None] = print) -> None:
        self.say = say

    def chunk(self, index: int, total: int, label: str, steps: int) -> None:
        self.say(f"[{index}/{total}] {label}: running...")

    def step(self, step_key: str, ok: bool, seconds: float) -> None:
        self.say(f"    {step_key} {'done' if ok else 'FAILED'} at {seconds:.1f}s")

    def chunk_done(
        self, index: int, total: int, label: str, run_id: str, ok: bool, seconds: float
    ) -> None:
        self.say(
            f"[{index}/{total}] {label}: run {run_id[:8]} {'ok' if ok else 'FAILED'} in "
            f"{seconds:.1f}s"
        )

    def close(self) -> None:
        return None


class BarProgress:
    """A rich bar over all steps of all chunks, naming the chunk and the last step; each
    chunk's outcome stays printed above it."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream or sys.stderr),
        )
        self._task = None
        self._chunk = ""

    def chunk(self, index: int, total: int, label: str, steps: int) -> None:
        self._chunk = f"[{index}/{total}] {label}"
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task(self._chunk, total=steps * total)
        self._bar.update(self._task, description=self._chunk)

    def step(self, step_key: str, ok: bool, seconds: float) -> None:
        self._bar.update(self._task, advance=1, description=f"{self._chunk}: {step_key}")
        if not ok:
            self._say(f"    {step_key} FAILED at {seconds:.1f}s")

    def chunk_done(
        self, index: int, total: int, label: str, run_id: str, ok: bool, seconds: float
    ) -> None:
        self._say(
            f"[{index}/{total}] {label}: run {run_id[:8]} {'ok' if ok else 'FAILED'} in "
            f"{seconds:.1f}s"
        )

    def _say(self, line: str) -> None:
        self._bar.console.print(line, markup=False, highlight=False)

    def close(self) -> None:
        if self._task is not None:
            self._bar.stop()


def progress_for(
    say: Callable[[str], None] | RunProgress | None = None, stream: IO[str] | None = None
) -> RunProgress:
    """``say`` when it is a :class:`RunProgress`; lines through ``say`` when it is a function;
    with neither, a bar when ``stream`` (stderr) is a terminal, else lines on it."""
    if isinstance(say, RunProgress):
        return say
    if say is not None:
        return LineProgress(say)
    stream = stream or sys.stderr
    if stream.isatty():
        return BarProgress(stream)
    return LineProgress(lambda line: print(line, file=stream, flush=True))
