#!/usr/bin/env bash
# Runs every test suite and ends with one line: "N passed, N failed".
#   scripts/test.sh            all suites
#   SUITES="c node" scripts/test.sh   a subset (c, fuzz, node, browser)
set -uo pipefail
cd "$(dirname "$0")/.."
SUITES=${SUITES:-"c fuzz node browser"}
export RULLAMA_FIXTURES=${RULLAMA_FIXTURES:-$(for d in ../shared/fixtures /work/shared/fixtures; do [ -d "$d" ] && { cd "$d" && pwd; break; }; done)}
export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}
log=$(mktemp -d)/test.log; : > "$log"
jobs=$(nproc 2>/dev/null || echo 2)

if ! make -s -j"$jobs" all tests >"$log.build" 2>&1; then
    cat "$log.build"
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

run() { # run a command, echo its output, collect its RESULT line (a crash counts as a failure)
    local name=$1; shift
    local out; out=$(mktemp)
    echo "== $name"
    "$@" 2>&1 | tee "$out"
    local rc=${PIPESTATUS[0]}
    if grep -q '^RESULT ' "$out"; then
        grep '^RESULT ' "$out" >> "$log"
        if [ "$rc" -ne 0 ] && ! grep -q '^RESULT .* failed=[1-9]' "$out"; then
            echo "RESULT $name-exit passed=0 failed=1" | tee -a "$log"   # failed after reporting success
        fi
    else
        echo "RESULT $name passed=0 failed=1" | tee -a "$log"   # crashed before reporting
    fi
    rm -f "$out"
}

for s in $SUITES; do
    case $s in
    c)
        for t in build/san/bin/test_*; do run "$(basename "$t" | sed 's/^test_//')" "$t"; done ;;
    fuzz)
        run fuzz scripts/fuzz.sh ;;
    node)
        for t in tests/node/*.test.mjs; do [ -e "$t" ] && run "$(basename "$t" .test.mjs)" node "$t"; done ;;
    browser)
        for t in tests/browser/*.test.mjs; do [ -e "$t" ] && run "browser-$(basename "$t" .test.mjs)" node "$t"; done ;;
    esac
done

read -r passed failed < <(awk '/^RESULT [^ ]+ passed=[0-9]+ failed=[0-9]+/ {
    split($3, a, "="); split($4, b, "="); p += a[2]; f += b[2] } END { print p + 0, f + 0 }' "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
