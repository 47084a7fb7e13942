"""Progress of long runs: a rich bar on a terminal, one line per event elsewhere."""

import io

from analytics_platform.lib.progress import BarProgress, LineProgress, progress_for


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _two_chunks(progress) -> None:
    for i, label in ((1, "torus 2026-10-01..2026-10-07"), (2, "torus 2026-10-08..2026-10-09")):
        progress.chunk(i, 2, label, steps=3)
        progress.step("torus__transfers", True, 1.0)
        progress.step("torus__daily_edges", i == 1, 2.0)
        progress.step("torus__typology_alerts", True, 3.0)
        progress.chunk_done(i, 2, label, "0123456789abcdef", i == 1, 3.5)
    progress.close()


def test_a_terminal_gets_a_bar_over_every_step_of_every_chunk():
    terminal = _Terminal()
    bar = progress_for(None, stream=terminal)
    assert isinstance(bar, BarProgress)
    _two_chunks(bar)
    task = bar._bar.tasks[0]
    assert (task.completed, task.total) == (6, 6)
    shown = terminal.getvalue()
    assert "[1/2] torus 2026-10-01..2026-10-07: run 01234567 ok in 3.5s" in shown
    assert "torus__daily_edges FAILED at 2.0s" in shown and "FAILED in 3.5s" in shown


def test_logs_and_pipes_get_one_line_per_event():
    pipe = io.StringIO()
    lines = progress_for(None, stream=pipe)
    assert isinstance(lines, LineProgress)
    _two_chunks(lines)
    said = pipe.getvalue().splitlines()
    assert said[0] == "[1/2] torus 2026-10-01..2026-10-07: running..."
    assert said[1] == "    torus__transfers done at 1.0s"
    assert said[-1] == "[2/2] torus 2026-10-08..2026-10-09: run 01234567 FAILED in 3.5s"
    assert len(said) == 10
    heard: list[str] = []
    assert isinstance(progress_for(heard.append), LineProgress)
