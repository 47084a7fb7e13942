#!/usr/bin/env bash
# The GPU checks of issue 17, as one command on the device machine (see README, "Engines").
# Expects RAPIDS staged by ../shared/gpu/stage-device.sh and unpacked to /tmp/devstage; writes
# its log and the benchmark's JSON under $OUT (or ./gpu-check when OUT is unset).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
# shellcheck disable=SC1091
[ -f /tmp/devstage/site/env.sh ] && source /tmp/devstage/site/env.sh
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "from analytics_platform.engines.gpu import gpu_unavailable_reason as r; print('gpu engine:', r() or 'available')"
  python3 -m pytest -q -s -p no:cacheprovider -m gpu analytics_platform_tests/engines/test_gpu_parity.py
  python3 -m analytics_platform.cli bench features --transfers "${TRANSFERS:-10000000}" \
    --addresses "${ADDRESSES:-1000000}" --engines cpu,gpu --folder /tmp/bench --json \
    > "$OUT/bench-features.json"
  python3 -c "import json,sys; from analytics_platform.bench.features import format_table; print(format_table(json.load(open(sys.argv[1]))))" "$OUT/bench-features.json"
} 2>&1 | tee "$OUT/gpu-check.log"
