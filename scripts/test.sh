#!/usr/bin/env bash
# Set up, lint (code, import layers), build the docs, validate the Dagster definitions and run
# the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check analytics_platform analytics_platform_tests scripts docs
.venv/bin/lint-imports
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet
ANALYTICS_HOME=$(mktemp -d) .venv/bin/dagster definitions validate -w workspace.yaml
# dg: component YAML against its schema, then the definitions as dg loads them.
ANALYTICS_HOME=$(mktemp -d) VIRTUAL_ENV="$PWD/.venv" .venv/bin/dg check defs
# The slowest tests in the log: the suite is kept under about 15 minutes on 2 cores. Two
# workers (pytest-xdist), each test file on one of them (its module fixtures set up once):
# many tests wait on servers and subprocesses, so two at a time took 10 minutes, not 21.
# PYTEST_WORKERS=0 runs it in this process.
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile --durations=20 "$@"
