#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time (FUZZ_SECONDS,
# default 20) from its seed corpus. Any crash, leak or sanitizer report fails.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-20}
passed=0; failed=0
targets=$(ls fuzz/fuzz_*.c 2>/dev/null)
if [ -z "$targets" ]; then echo "RESULT fuzz passed=0 failed=0"; exit 0; fi
if ! make -s fuzz >/tmp/rullama-fuzz-build.log 2>&1; then
    cat /tmp/rullama-fuzz-build.log; echo "RESULT fuzz passed=0 failed=1"; exit 1
fi
for src in $targets; do
    name=$(basename "$src" .c)
    work=$(mktemp -d)
    seeds=fuzz/corpus/${name#fuzz_}
    [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
    if build/fuzz/$name -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$work/" "$work" >"$work/log" 2>&1; then
        passed=$((passed + 1)); echo "  ok $name ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | head -1 || true)$(tail -1 "$work/log" | grep -o 'Done [0-9]* runs' || true))"
    else
        failed=$((failed + 1)); echo "  not ok $name"; tail -40 "$work/log"
    fi
done
echo "RESULT fuzz passed=$passed failed=$failed"
[ "$failed" -eq 0 ]
