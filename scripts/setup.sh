#!/usr/bin/env bash
# Create .venv and install the project with exactly the versions of requirements.lock (every
# package pinned with its hashes; scripts/lock.sh regenerates it) through uv. Idempotent:
# skipped when neither pyproject.toml nor the lock changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
UV_VERSION=0.13.8
stamp=.venv/.installed-$(cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "Installing analytics_platform and its locked dependencies into .venv..."
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  log=$(mktemp)
  if ! { .venv/bin/python -m pip install -q "uv==$UV_VERSION" &&
         .venv/bin/uv pip install -q --python .venv/bin/python --require-hashes \
           -r requirements.lock &&
         .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .; } >"$log" 2>&1
  then
    cat "$log"; echo "setup failed" >&2; exit 1
  fi
  rm -f "$log" .venv/.installed-* && touch "$stamp"
fi

# Debian's Chromium renders the exported case report in the tests (headless, no display).
if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium (headless browser for the case-report test)..."
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; then
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null
  fi
fi
