#!/usr/bin/env bash
# bench/status.sh - what a `status` refresh costs (README "Fleet status"),
# counted in ota-emulator's request log.
#
# usage: bench/status.sh [DEVICES]      (default 1000000: 5,000 jobs)
#
# One emulator (--auto-create, --sim-speed 20, --success-ratio 0.95 (some
# FAILED tasks to re-upgrade), --qps-scale 10: the setup's
# 5,000 Creates take ~25 s instead of ~250 s) and one rollout of DEVICES
# devices (chunks of 200). Then, with the tool told the scaled query quota
# (--query-qps 100 --force-qps: the call counts are those of the default
# 10/s, the time is a tenth):
#   1. the first full `status` (no cache);
#   2. a refresh when every job has ended and nothing changed;
#   3. a refresh after K jobs were re-upgraded from the console
#      (POST /__emu/console, behind the tool's back) and are running;
#   4. the same with --devices after a refresh without it (the cache then
#      lacks the per-device lines: every job is read once more).
# Prints one Markdown row per figure (for bench/RESULTS.md). Environment:
#   BENCH_K     jobs re-upgraded for figure 3 (default 10)
#   BENCH_SUCCESS  the emulator's --success-ratio (default 0.95; 1: every
#               task succeeds, each ended job is counted in one call)
#   BENCH_BUILD build directory with ota-rollout and ota-emulator
#               (default build-bench/, built Release when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-1000000}
K=${BENCH_K:-10}
SUCCESS=${BENCH_SUCCESS:-0.95}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
if [ ! -x "$BUILD/ota-rollout" ] || [ ! -x "$BUILD/ota-emulator" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DORCH_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j2 >/dev/null
fi
WORK=$(mktemp -d /tmp/ota-bench-status-XXXXXX)
cd "$WORK"
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIbench000000000
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=bench-secret-for-the-emulator-only
PK=a1BwAGVabcd
FW=UkOZxXXnVaLfqvvv8YzC000100

awk -v n="$N" 'BEGIN { print "DeviceName"; for (i = 0; i < n; i++) printf "dev-%07d\n", i }' >inv.csv
"$BUILD/ota-emulator" --auto-create --sim-speed 20 --qps-scale 10 --success-ratio "$SUCCESS" \
    --access-key "$ALIBABA_CLOUD_ACCESS_KEY_ID:$ALIBABA_CLOUD_ACCESS_KEY_SECRET" \
    --request-log req.jsonl >port.txt 2>emu.err &
EMU=$!
trap 'kill $EMU 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s port.txt ] && break; sleep 0.1; done
EP=http://127.0.0.1:$(head -1 port.txt)
"$BUILD/ota-rollout" run inv.csv --product-key $PK --firmware-id $FW \
    --endpoint "$EP" --yes --report r.csv --qps 200 --force-qps --no-progress >run.out 2>&1
JOBS=$(grep -c ',created,' r.csv)
sleep 2 # every task ends within 0.4 s at --sim-speed 20

# calls FROM-LINE: the requests since line FROM of the log, per action.
calls() { tail -n +"$(($1 + 1))" req.jsonl | grep -o '"action":"[A-Za-z]*"' | sort | uniq -c |
    awk '{ split($2, a, "\""); printf "%s%s %s", sep, a[4], $1; sep = ", " } END { print "" }'; }
total() { tail -n +"$(($1 + 1))" req.jsonl | wc -l; }
status() { # LABEL TARGET ARGS...
    local label=$1 target=$2; shift 2
    local from; from=$(wc -l <req.jsonl)
    local t0; t0=$(date +%s.%N)
    "$BUILD/ota-rollout" status r.csv --endpoint "$EP" --query-qps 100 --force-qps "$@" >"st-$label.out" 2>"st-$label.err" || true
    local t1; t1=$(date +%s.%N)
    local n; n=$(total "$from")
    printf '| %s | `ota-rollout status r.csv --query-qps 100 --force-qps %s` | %s | %s | %.1f | %.0f | %s | %s |\n' \
        "$label" "$*" "$JOBS" "$n" "$(echo "$t1 - $t0" | bc)" "$(echo "$n / 10" | bc -l)" "$(calls "$from")" "$target"
}
echo "| figure | command | jobs | calls | wall s (quota x10) | s at 10/s | calls per action | target |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
status "first full status" "<= 10,000 calls"
status "refresh, all ended, nothing changed" "<= ceil($JOBS/200)+2 = $(( (JOBS + 199) / 200 + 2 ))"
for id in $(awk -F, 'NR > 1 && $7 == "created" { print $8 }' r.csv | head -n "$K"); do
    curl -s -o /dev/null -d "job=$id&action=reupgrade" "$EP/__emu/console"
done
status "refresh, $K jobs re-upgraded and running" "<= $(( (JOBS + 199) / 200 + 2 )) + (calls for those $K jobs)"
status "refresh with --devices (cache without lines)" "info" --devices devices.csv
status "refresh with --devices again" "<= ceil($JOBS/200)+2" --devices devices.csv
cmp -s st-"first full status".out st-"refresh, all ended, nothing changed".out && echo "same screen: yes" || echo "same screen: NO"
echo "work: $WORK"
