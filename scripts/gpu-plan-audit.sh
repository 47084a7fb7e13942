#!/usr/bin/env bash
# Check, without a GPU, that cudf-polars can run every polars plan of the GPU feature engine:
# installs the project and cudf-polars (RAPIDS 26.10, CUDA 13; about 3 GB, a few minutes the
# first time) into .gpu-audit/venv, apart from .venv, and runs test_gpu_plans.py there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
venv=.gpu-audit/venv
stamp=$venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "Installing the project and cudf-polars into $venv (about 3 GB)..."
  [ -x $venv/bin/python ] || "$PY" -m venv $venv
  $venv/bin/python -m pip install -q --upgrade pip
  $venv/bin/python -m pip install -q -e '.[test]' 'cudf-polars-cu13==26.10.*'
  rm -f $venv/.installed-* && touch "$stamp"
fi
exec $venv/bin/python -m pytest -q -p no:cacheprovider analytics_platform_tests/engines/test_gpu_plans.py "$@"
