#!/usr/bin/env bash
# Installs what rullama needs on Debian 12: the wasm toolchain, Chromium (browser
# tests, and the SwiftShader Vulkan driver that gives Dawn a GPU on CPU-only
# machines) and the npm packages. Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(build-essential clang lld wasi-libc libclang-rt-dev-wasm32 libclang-rt-dev chromium libvulkan1 nodejs npm xz-utils)
missing=()
for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# NodeSource's nodejs bundles npm; do not ask apt for Debian's npm when node >= 20 is already there.
if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "rullama needs Node.js >= 20 (found $(node --version)); install it from NodeSource or your distribution" >&2
    exit 1
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.rullama-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
fi
