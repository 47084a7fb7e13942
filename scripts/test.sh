#!/usr/bin/env bash
# Set up, lint, validate the Dagster definitions and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check analytics_platform analytics_platform_tests
ANALYTICS_HOME=$(mktemp -d) .venv/bin/dagster definitions validate -m analytics_platform.definitions
exec .venv/bin/python -m pytest "$@"
