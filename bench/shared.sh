#!/usr/bin/env bash
# bench/shared.sh - the pacing figures of every call and of several
# processes on one AccessKey (bench/RESULTS.md, "Pacing of every call"),
# against ota-emulator at its default (documented) quotas, calls counted
# from its request log.
#
# usage: bench/shared.sh            prints the rows (markdown) on stdout
#
#   adapt-15   hidden 15/s Create quota, tool at its default 20/s, 100 jobs
#              (20,000 devices): Creates throttled, mean accepted Creates/s
#              = (accepted - 1) / (last - first accepted arrival). BENCH_RUNS
#              runs (default 3).
#   b2b        a 10,000-device rollout (50 jobs, tasks kept running), then
#              status, status, status --watch (3 refreshes), cancel, status,
#              each started as the previous one ends: throttled answers and
#              the most arrivals of each action in any sliding second.
#   at-once    on one AccessKey at the same time: `run --waves` (gated) of
#              product A, `status --watch` of product B's rollout, `cancel`
#              of product C's rollout: same figures.
# Environment: BENCH_BUILD (default build-bench/, built Release when its
# binaries are missing), BENCH_DATA (default /tmp/ota-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${BENCH_RUNS:-3}
DATA=${BENCH_DATA:-/tmp/ota-bench}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
TOOL=$BUILD/ota-rollout
EMU=$BUILD/ota-emulator
mkdir -p "$DATA"
WORK=$(mktemp -d "$DATA/shared-XXXXXX")

export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIbench000000000
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=bench-secret-for-the-emulator-only
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
# One runtime directory for every process of the bench: they share quotas.
export XDG_RUNTIME_DIR=$WORK/runtime
mkdir -m 700 -p "$XDG_RUNTIME_DIR"

if [ ! -x "$TOOL" ] || [ ! -x "$EMU" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DORCH_TESTS=OFF \
        >/dev/null
    cmake --build "$BUILD" -j2 --target ota-rollout ota-emulator >/dev/null
fi

. "$ROOT/bench/emu.sh"
# emu_logged NAME [emulator options...]: emu_start with the request log
# $WORK/NAME.log.jsonl, which the figures are counted from.
emu_logged() {
    emu_start "$1" --request-log "$WORK/$1.log.jsonl" "${@:2}"
}
trap '[ -n "$EMU_PID" ] && kill -TERM "$EMU_PID" 2>/dev/null || true' EXIT
EP() { echo "http://127.0.0.1:$PORT"; }

# logstats LOG: "throttled=N" then "Action=max/quota" for each action seen.
logstats() {
    python3 - "$1" <<'PY'
import json, sys
quota = {"CreateOTAStaticUpgradeJob": 20, "QueryOTAJob": 10,
         "ListOTAJobByFirmware": 10, "ListOTATaskByJob": 10,
         "ListOTAJobByDevice": 10, "QueryOTAFirmware": 20,
         "QueryDeviceDetail": 50, "CancelOTATaskByJob": 5,
         "BatchQueryDeviceDetail": 5}
log = [json.loads(l) for l in open(sys.argv[1])]
thr = sum(1 for x in log if x["code"].startswith("Throttling"))
by = {}
for x in log:
    by.setdefault(x["action"], []).append(x["t"])
out, worst = [], True
for a in sorted(by):
    t = sorted(by[a]); j = best = 0
    for i in range(len(t)):
        while t[i] - t[j] >= 1000:
            j += 1
        best = max(best, i - j + 1)
    q = quota.get(a, 0)
    worst = worst and (q == 0 or best <= q)
    out.append("%s %d calls, max %d/s (quota %d)" % (a, len(t), best, q))
print("%d|%s|%s" % (thr, "; ".join(out), "pass" if thr == 0 and worst else "MISS"))
PY
}

# --- adapt-15 ------------------------------------------------------------
bash samples/gen-inventory.sh 20000 >"$WORK/inv-20000.csv"
FW=(--firmware a1BwAGVabcd=UkOZxXXnVaLfqvvv8YzC000100
    --firmware a1Ko2mPq7Rt=UkOZxXXnVaLfqvvv8YzC000101)
ADAPT=""
for r in $(seq "$RUNS"); do
    emu_logged "adapt$r" --qps-create 15 --latency-ms 100-800
    "$TOOL" run "$WORK/inv-20000.csv" "${FW[@]}" --endpoint "$(EP)" --yes \
        --no-progress --force --report "$WORK/adapt$r.report.csv" \
        >"$WORK/adapt$r.out" 2>&1 || true
    emu_stop
    ADAPT+=$(python3 - "$WORK/adapt$r.log.jsonl" <<'PY'
import json, sys
c = [json.loads(l) for l in open(sys.argv[1])]
c = [x for x in c if x["action"] == "CreateOTAStaticUpgradeJob"]
thr = sum(1 for x in c if x["code"].startswith("Throttling"))
ok = sorted(x["t"] for x in c if not x["code"])
print("%d %d %.2f" % (len(ok), thr, (len(ok) - 1) * 1000.0 / (ok[-1] - ok[0])))
PY
)$'\n'
done

# --- b2b -------------------------------------------------------------------
bash samples/gen-inventory.sh 10000 >"$WORK/inv-10000.csv"
emu_logged b2b --sim-speed 0.02
R=$WORK/b2b.report.csv
"$TOOL" run "$WORK/inv-10000.csv" "${FW[@]}" --endpoint "$(EP)" --yes \
    --no-progress --force --report "$R" >"$WORK/b2b.run.out" 2>&1 || true
: >"$WORK/b2b.log.jsonl.cut" # the queries after the run only
B2B_FROM=$(wc -l <"$WORK/b2b.log.jsonl")
t0=$(date +%s.%N)
"$TOOL" status "$R" --endpoint "$(EP)" >"$WORK/b2b.s1" 2>&1 || true
"$TOOL" status "$R" --endpoint "$(EP)" >"$WORK/b2b.s2" 2>&1 || true
timeout -s INT 14 "$TOOL" status "$R" --endpoint "$(EP)" --watch \
    --interval 1s >"$WORK/b2b.watch" 2>&1 || true
"$TOOL" cancel "$R" --endpoint "$(EP)" --yes >"$WORK/b2b.cancel" 2>&1 || true
"$TOOL" status "$R" --endpoint "$(EP)" >"$WORK/b2b.s3" 2>&1 || true
t1=$(date +%s.%N)
emu_stop
tail -n +"$((B2B_FROM + 1))" "$WORK/b2b.log.jsonl" >"$WORK/b2b.after.jsonl"
B2B=$(logstats "$WORK/b2b.after.jsonl")
B2B_WALL=$(echo "$t1 - $t0" | bc)

# --- at-once ---------------------------------------------------------------
emu_logged once --sim-speed 0.5
bash samples/gen-inventory.sh 4000 >"$WORK/inv-4000.csv"
for p in B C; do # two earlier rollouts, of other products
    sed "s/a1BwAGVabcd/a1Once${p}abcd/; s/a1Ko2mPq7Rt/a1Once${p}07Rt/" \
        "$WORK/inv-4000.csv" >"$WORK/once-$p.csv"
    "$TOOL" run "$WORK/once-$p.csv" \
        --firmware "a1Once${p}abcd=UkOZxXXnVaLfqvvv8YzC0001${p}0" \
        --firmware "a1Once${p}07Rt=UkOZxXXnVaLfqvvv8YzC0001${p}1" \
        --endpoint "$(EP)" --yes --no-progress --force \
        --report "$WORK/once-$p.report.csv" >"$WORK/once-$p.run.out" 2>&1 ||
        true
done
ONCE_FROM=$(wc -l <"$WORK/once.log.jsonl")
t0=$(date +%s.%N)
"$TOOL" run "$WORK/inv-10000.csv" "${FW[@]}" --endpoint "$(EP)" --yes \
    --no-progress --force --report "$WORK/once-A.report.csv" \
    --waves 10%,100% --success-threshold 50% --poll-interval 2s \
    >"$WORK/once-A.out" 2>&1 &
A_PID=$!
timeout -s INT 20 "$TOOL" status "$WORK/once-B.report.csv" --endpoint "$(EP)" \
    --watch --interval 1s >"$WORK/once-B.watch" 2>&1 &
B_PID=$!
"$TOOL" cancel "$WORK/once-C.report.csv" --endpoint "$(EP)" --yes \
    >"$WORK/once-C.cancel" 2>&1 || true
wait "$B_PID" || true
wait "$A_PID" || true
t1=$(date +%s.%N)
emu_stop
tail -n +"$((ONCE_FROM + 1))" "$WORK/once.log.jsonl" >"$WORK/once.after.jsonl"
ONCE=$(logstats "$WORK/once.after.jsonl")
ONCE_WALL=$(echo "$t1 - $t0" | bc)

# --- rows ------------------------------------------------------------------
echo "| figure | command (emulator / tool) | runs: accepted, throttled, mean accepted/s | target | result |"
echo "| --- | --- | --- | --- | --- |"
runs=$(echo "$ADAPT" | awk 'NF { printf "%s%s: %d, %d, %.2f/s", sep, NR, $1, $2, $3; sep = "; " }')
res=$(echo "$ADAPT" | awk 'NF && ($2 > 8 || $3 < 14) { bad = 1 } END { print bad ? "MISS" : "pass" }')
echo "| hidden 15/s Create quota, 100 jobs | \`ota-emulator --qps-create 15 --latency-ms 100-800\` / \`ota-rollout run inv-20000.csv --firmware ... --firmware ...\` (default 20/s) | $runs | ≤ 8 throttled, mean ≥ 14/s | $res |"
echo
echo "| figure | commands | throttled | per action (max arrivals in any sliding second) | wall s | target | result |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
IFS='|' read -r thr per res <<<"$B2B"
echo "| back to back: status, status, status --watch, cancel, status (50 jobs, 10,000 devices) | \`ota-emulator --auto-create --sim-speed 0.02\` / \`ota-rollout status R\`; \`status R\`; \`status R --watch --interval 1s\` (SIGINT after 14 s); \`cancel R --yes\`; \`status R\`, each as the previous one ends | $thr | $per | $B2B_WALL | 0 throttled, each action ≤ its quota | $res |"
IFS='|' read -r thr per res <<<"$ONCE"
echo "| at once on one AccessKey: \`run --waves\` + \`status --watch\` + \`cancel\` | \`ota-emulator --auto-create --sim-speed 0.5\` / \`run inv-10000.csv --waves 10%,100% --success-threshold 50% --poll-interval 2s\` (product A) & \`status B.report.csv --watch --interval 1s\` (SIGINT after 20 s) & \`cancel C.report.csv --yes\` (B, C: 4,000-device rollouts made before) | $thr | $per | $ONCE_WALL | 0 throttled, each action ≤ its quota in every sliding second | $res |"
echo
echo "Raw logs: \`$WORK\`."
