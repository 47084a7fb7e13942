#!/usr/bin/env bash
# Regenerate requirements.lock: every package of the environment (the project's dependencies and
# its test extras) pinned with hashes, for CPython 3.11 on x86_64 Linux (this machine, CI and
# the CPU image). scripts/setup.sh installs exactly this; requirements-runtime.lock is the same
# pins without the test extras, for deploy/Dockerfile; requirements-gpu.lock adds the `gpu`
# extra (RAPIDS for CUDA 13) to them, for deploy/Dockerfile.gpu (Python 3.12). Run after changing pyproject.toml's
# dependencies; `--upgrade` moves every pin to the newest versions the bounds allow.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/uv ] || bash scripts/setup.sh
common=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes
        --no-annotate --custom-compile-command "bash scripts/lock.sh")
.venv/bin/uv pip compile pyproject.toml --extra test "${common[@]}" -o requirements.lock "$@"
.venv/bin/uv pip compile pyproject.toml "${common[@]}" -c requirements.lock \
  -o requirements-runtime.lock
# The GPU image runs Ubuntu 24.04's Python 3.12: resolved for it, held to the same pins.
.venv/bin/uv pip compile pyproject.toml --extra gpu "${common[@]/3.11/3.12}" -c requirements.lock \
  -o requirements-gpu.lock
