#!/usr/bin/env bash
# Runs on the lent GPU machine (see ../shared/docs/gpu-device.md): generates the
# full-size e2b model there (too large to send), benchmarks it, and runs the
# kernel parity suite on the real GPU. Output goes to $OUT when set.
#   run: source .device/env.sh && scripts/device-bench.sh [bench args...]
# When node-llama-cpp is there (scripts/device-prep-bench.sh packs it, or
# NODE_LLAMA_CPP_DIR points at an install), the llama.cpp-layout twin of the same
# weights (same preset, seed and type: rullama-gen --layout llamacpp) is generated
# too and upstream llama.cpp runs as the baseline in the same bench (--baseline).
# GEN_ARGS (e.g. "--seed 2 --type Q8_0") go to both generator runs; MODEL_DIR (/tmp)
# is where the two files are written (and reused when present).
set -uo pipefail
out=${OUT:-/tmp}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
gen() { # gen FILE [generator args...]
    local file=$1 t0
    shift
    [ -f "$file" ] && return 0
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    if ! build/native/rullama-gen --preset e2b --out "$file" --quiet ${GEN_ARGS:-} "$@" 2>/dev/null; then
        node tools/gen.mjs --preset e2b --out "$file" --quiet ${GEN_ARGS:-} "$@"
    fi
    echo "generated $file in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"
}
dir=${MODEL_DIR:-/tmp}
model=$dir/e2b.gguf
gen "$model"
ls -la "$model"
baseline=()
if [ -n "${NODE_LLAMA_CPP_DIR:-}" ] || node -e "import('node-llama-cpp')" >/dev/null 2>&1; then
    twin=$dir/e2b-llamacpp.gguf
    gen "$twin" --layout llamacpp
    ls -la "$twin"
    baseline=(--baseline "$twin")
else
    echo "node-llama-cpp not found: no llama.cpp baseline (scripts/device-prep-bench.sh packs it)"
fi
node bin/rullama bench "$model" "$@" "${baseline[@]}" --json-out "$out/bench.json" 2>&1 | tee "$out/bench.txt"
