#!/usr/bin/env bash
# Runs on the lent GPU machine (see ../shared/docs/gpu-device.md): generates the
# full-size e2b model there (too large to send), benchmarks it, and runs the
# kernel parity suite on the real GPU. Output goes to $OUT when set.
#   run: source .device/env.sh && scripts/device-bench.sh [bench args...]
set -uo pipefail
out=${OUT:-/tmp}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
model=/tmp/e2b.gguf
if [ ! -f "$model" ]; then
    t0=$(date +%s.%N)
    if ! build/native/rullama-gen --preset e2b --out "$model" --quiet 2>/dev/null; then
        node tools/gen.mjs --preset e2b --out "$model" --quiet
    fi
    echo "generated e2b in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"
fi
ls -la "$model"
node bin/rullama bench "$model" "$@" 2>&1 | tee "$out/bench.txt"
node bin/rullama bench "$model" "$@" --json --no-profile > "$out/bench.json" 2>/dev/null
