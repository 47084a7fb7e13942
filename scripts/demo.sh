#!/usr/bin/env bash
# Set up, then run the main job on the embedded default (chDB + local lake, no servers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/analytics-platform demo "$@"
