#!/usr/bin/env bash
# Create .venv and install the project with its test extras (idempotent: skipped when
# pyproject.toml has not changed since the last install).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "Installing analytics_platform and its dependencies into .venv (about a minute)..."
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  log=$(mktemp)
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -e '.[test]'; } >"$log" 2>&1; then
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
