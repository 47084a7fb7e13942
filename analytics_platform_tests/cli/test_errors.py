"""The command line answers a user's mistake in one line, exit code 2, without a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from analytics_platform.cli import main

CONFIG = (
    "networks:\n  torus:\n    start_date: 2026-10-01\n    end_date: 2026-10-05\n"
    "    source: {kind: files, path: landing/*.csv}\n"
)


@pytest.mark.parametrize(
    ("config", "argv", "message"),
    [
        (CONFIG, ["materialize", "--network", "nope", "--date", "2026-10-01"],
         "network: unknown network 'nope' (configured: torus)"),
        (CONFIG, ["materialize", "--date", "2026-11-01"],
         "date: 2026-11-01 is after torus's last partition 2026-10-05 (end_date)"),
        (CONFIG, ["backfill", "--start", "2026-09-01", "--end", "2026-10-02"],
         "date: 2026-09-01 is before torus's first partition 2026-10-01 (start_date)"),
        (CONFIG, ["backfill", "--start", "2026-10-03", "--end", "2026-10-02"],
         "range: end 2026-10-02 is before start 2026-10-03"),
        (CONFIG, ["summary"], "summary: nothing stored for network 'torus'"),
        ("networks:\n  torus:\n    windos: [7]\n", ["summary"],
         "networks.torus.windos: unknown key (got [7])"),
    ],
)  # fmt: skip
def test_mistakes_get_one_line_and_exit_code_2(
    tmp_path, monkeypatch, capsys, config, argv, message
):
    (tmp_path / "config.yaml").write_text(config)
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"analytics-platform: error: {message}\n" or (
        err.startswith(f"analytics-platform: error: {message}") and err.count("\n") == 1
    )


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text(CONFIG)
    monkeypatch.setenv("ANALYTICS_HOME", str(tmp_path))
    with pytest.raises(LookupError, match="unknown network 'nope'"):
        main(["--debug", "materialize", "--network", "nope", "--date", "2026-10-01"])


def test_help_imports_nothing_heavy():
    code = (
        "import sys; from analytics_platform.cli import _parser; _parser();"
        "heavy = {'polars', 'dagster', 'pandera', 'numba'} & set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    assert out.stdout.strip() == "[]"
