#!/usr/bin/env bash
# bench/run.sh - the speed benchmarks (README "How fast"), against ota-emulator on loopback.
#
# usage: bench/run.sh [short|full]     (default short)
#
#   short  about a minute and a half: pacing at the x10-scaled quota
#          (200/s, 1,000,000 devices), short adaptation (x10 scaled), engine
#          overhead (V3 and V2), ingest of 10^4..10^6 rows.
#   full   adds pacing at the real quota (20/s, 1,000,000 devices, ~250 s)
#          with latency 100-800 ms and 1-3 s, adaptation at 15/s, ingest of
#          10^7 rows, and the cost of faults (5% 5xx, 2% lost responses).
#
# Builds a Release binary in build-bench/, generates inventories in
# $BENCH_DATA (default /tmp/ota-bench), measures whole processes with
# /usr/bin/time -v and the tool's end-of-run summary, reports medians, and
# writes bench/RESULTS.md (or $BENCH_OUT). Environment knobs:
#   BENCH_RUNS     repetitions of the short measurements (default 3)
#   BENCH_LONG_RUNS repetitions of each ~250 s pacing run (default 1: a
#                  full run with 3 takes about 50 minutes)
#   BENCH_QPS      --qps of the engine-overhead runs (default 100000, with
#                  --force-qps; the tool accepts up to 10^6)
#   BENCH_ONLY     space-separated figures to run (engine ingest pace-x10
#                  adapt-x10 pace-20 pace-20-slow adapt-15 faults-20);
#                  default: all of the mode's
# Exactly once is checked from the emulator's /__emu/stats and /__emu/jobs
# against the report by bench/exactly_once.py (python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-short}
case $MODE in short | full) ;; *)
    echo "usage: bench/run.sh [short|full]" >&2
    exit 2
    ;;
esac
RUNS=${BENCH_RUNS:-3}
LONG_RUNS=${BENCH_LONG_RUNS:-1}
DATA=${BENCH_DATA:-/tmp/ota-bench}
OUT=${BENCH_OUT:-$ROOT/bench/RESULTS.md}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
TOOL=$BUILD/ota-rollout
EMU=$BUILD/ota-emulator
FLOOR=$BUILD/csvfloor
mkdir -p "$DATA"
WORK=$(mktemp -d "$DATA/run-XXXXXX")

# Credentials for the local emulator only (never real ones).
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIbench000000000
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=bench-secret-for-the-emulator-only
# Never the ECS metadata service (100.100.100.200): only loopback traffic.
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
FW=(--firmware a1BwAGVabcd=UkOZxXXnVaLfqvvv8YzC000100
    --firmware a1Ko2mPq7Rt=UkOZxXXnVaLfqvvv8YzC000101)

# --- tools ----------------------------------------------------------------
if [ ! -x /usr/bin/time ]; then
    echo "bench: installing GNU time (/usr/bin/time)" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get install -y time >/dev/null
fi

echo "bench: building Release binaries in $BUILD" >&2
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DORCH_TESTS=OFF \
    >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ota-rollout ota-emulator \
    >/dev/null
cc -O2 -Wall -Wextra -o "$FLOOR" "$ROOT/bench/csvfloor.c" -lcsv

# --- helpers --------------------------------------------------------------
. "$ROOT/bench/emu.sh"
emu_stats() { curl -s "http://127.0.0.1:$PORT/__emu/stats"; }
cleanup() {
    [ -n "$EMU_PID" ] && kill -TERM "$EMU_PID" 2>/dev/null || true
    [ -n "${POLL_PID:-}" ] && kill "$POLL_PID" 2>/dev/null || true
}
trap cleanup EXIT

# timed NAME cmd...: runs cmd under /usr/bin/time -v; output in
# $WORK/NAME.log, the time report in $WORK/NAME.time. Never fails.
timed() {
    local name=$1
    shift
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.log" 2>&1 ||
        true
    t1=$(date +%s%N)
    # /usr/bin/time rounds wall time to 10 ms: keep our own, to the ms.
    echo "Precise wall (s): $(((t1 - t0) / 1000000000)).$(printf %03d $(((t1 - t0) / 1000000 % 1000)))" \
        >>"$WORK/$name.time"
}
# tv NAME FIELD: wall (s), user, sys, cpu (user+sys), rss (KB), status
tv() {
    awk -v f="$2" -F': ' '
        /User time/ { u = $2 } /System time/ { s = $2 }
        /Maximum resident/ { r = $2 } /Exit status/ { x = $2 }
        /^Precise wall/ { w = $2 + 0 }
        END {
            if (f == "wall") print w; else if (f == "user") print u
            else if (f == "sys") print s; else if (f == "cpu") print u + s
            else if (f == "rss") print r; else if (f == "status") print x + 0
        }' "$WORK/$1.time"
}
# sm NAME FIELD: a figure of the tool's end-of-run summary.
sm() {
    local l=$WORK/$1.log
    case $2 in
    calls) sed -n 's/^  calls: \([0-9]*\),.*/\1/p' "$l" ;;
    retries) sed -n 's/.*retries: \([0-9]*\),.*/\1/p' "$l" ;;
    throttled) sed -n 's/.*throttled answers: \([0-9]*\),.*/\1/p' "$l" ;;
    created) sed -n 's/^  chunks: \([0-9]*\) created.*/\1/p' "$l" ;;
    failed) sed -n 's/.* created, \([0-9]*\) failed.*/\1/p' "$l" ;;
    chunks) sed -n 's/^chunks: \([0-9]*\).*/\1/p' "$l" ;;
    rate) sed -n 's/^  sending pace: \([0-9.]*\) calls\/s.*/\1/p' "$l" ;;
    esac | tail -n1
}
# js FILE KEY...: a number from the emulator's stats JSON (python-free).
js() {
    local f=$1
    shift
    case $* in
    requests) grep -o '"requests":[0-9]*' "$f" | head -1 | cut -d: -f2 ;;
    throttled) grep -o '"throttled":[0-9]*' "$f" | head -1 | cut -d: -f2 ;;
    jobs) grep -o '"jobs":[0-9]*' "$f" | head -1 | cut -d: -f2 ;;
    devices) grep -o '"devices_assigned":[0-9]*' "$f" | cut -d: -f2 ;;
    maxcreate) grep -o '"create":[0-9]*' "$f" | head -1 | cut -d: -f2 ;;
    double) grep -o '"double_assigned":\[[^]]*\]' "$f" |
        sed 's/.*:\[//; s/\]$//' | awk -F, '{ print ($0 == "" ? 0 : NF) }' ;;
    lose) grep -o '"lose":[0-9]*' "$f" | cut -d: -f2 ;;
    fail5xx) grep -o '"5xx":[0-9]*' "$f" | cut -d: -f2 ;;
    esac
}
# verdict EXPR: "pass" when the awk expression holds, else "MISS".
verdict() { awk "BEGIN { print (($1) ? \"pass\" : \"MISS\") }"; }
median() { sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]
    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"$1\n\", ($2) }"; }
inv() { # inv ROWS: path of a plain inventory of ROWS rows, made once
    local f=$DATA/inv-$1.csv
    [ -s "$f" ] || "$ROOT/samples/gen-inventory.sh" "$1" >"$f"
    echo "$f"
}
# Polls the emulator's stats every 0.5 s into FILE as "t requests
# throttled jobs" lines, until killed.
POLL_PID=
poll_start() {
    local f=$1
    : >"$f"
    (
        while :; do
            s=$(curl -s "http://127.0.0.1:$PORT/__emu/stats" || true)
            r=$(echo "$s" | grep -o '"requests":[0-9]*' | head -1 | cut -d: -f2)
            t=$(echo "$s" | grep -o '"throttled":[0-9]*' | head -1 | cut -d: -f2)
            j=$(echo "$s" | grep -o '"jobs":[0-9]*' | head -1 | cut -d: -f2)
            echo "$(date +%s.%N) ${r:-0} ${t:-0} ${j:-0}" >>"$f"
            sleep 0.5
        done
    ) &
    POLL_PID=$!
}
poll_stop() {
    kill "$POLL_PID" 2>/dev/null || true
    wait "$POLL_PID" 2>/dev/null || true
    POLL_PID=
}
# steady FILE: creates per second (jobs) over the second half of the busy
# period (from the first to the last change of the job count).
steady() {
    awk '{ t[NR] = $1; j[NR] = $4 }
        END {
            a = 0; b = 0
            for (i = 2; i <= NR; i++) if (j[i] > j[i - 1]) { if (!a) a = i - 1; b = i }
            if (!a) { print "n/a"; exit }
            m = a; while (m < b && t[m] < (t[a] + t[b]) / 2) m++
            if (t[b] > t[m]) printf "%.2f\n", (j[b] - j[m]) / (t[b] - t[m])
            else print "n/a"
        }' "$1"
}

# --- the report -----------------------------------------------------------
MD=$WORK/RESULTS.md
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null |
    grep -c . || true)
{
    echo "# Benchmark results ($MODE mode)"
    echo
    echo "Written by \`bench/run.sh $MODE\` on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
    echo "Commit measured: \`$commit\`$([ "$dirty" != 0 ] && echo " plus $dirty uncommitted file(s) in the tree")."
    echo
    echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ { print $2 }') GiB memory, $(uname -sr)."
    echo "Build: \`cmake -DCMAKE_BUILD_TYPE=Release -DORCH_TESTS=OFF\` ($(basename "$BUILD")/), $(cc --version | head -1)."
    echo "Tool and emulator share the same cores; the emulator runs with \`--auto-create\`"
    echo "and no request log; medians of $RUNS runs where a figure says so."
    echo
} >"$MD"

# --- 3. engine overhead ---------------------------------------------------
engine() {
    local rows=1000000 f qps=${BENCH_QPS:-100000} note=""
    f=$(inv $rows)
    emu_start engine-probe --qps-scale 10000
    timed engine-probe "$TOOL" run "$f" "${FW[@]}" --endpoint \
        "http://127.0.0.1:$PORT" --yes --no-progress --force \
        --report "$WORK/engine-probe.csv" --qps "$qps" --force-qps \
        --max-in-flight 64 --chunk-size 200
    emu_stop
    if [ "$(tv engine-probe status)" = 2 ]; then
        note="the tool refused --qps $qps: \`$(grep -m1 -- '--qps' "$WORK/engine-probe.log" || true)\`; measured at --qps 1000, so calls/s is capped by the tool's own limit"
        qps=1000
    fi
    {
        echo "## 3. Engine overhead (quota lifted, zero latency)"
        echo
        echo "Emulator: \`ota-emulator --auto-create --qps-scale 10000\` (no latency, no log)."
        echo "Tool: \`ota-rollout run inv-$rows.csv --firmware ... --qps $qps --force-qps --max-in-flight M --signature-version V --yes --no-progress --force\`"
        echo "($rows devices = 5,001 calls of 200 names; --max-in-flight 64 is the default and the figure; the rows at 4 show what a user's low cap costs: with 4 in flight each dispatcher turn journals and fdatasyncs 1-4 intents before they are sent, ~550 fsyncs per 2,000 calls against ~150 per 5,000 at 64). calls/s is the tool's summary, (calls − 1) / (last start − first start). CPU per call = (user+sys of the run − user+sys of \`ota-rollout plan\` on the same file, measured in the same iteration) / calls; \"raw\" includes ingest. The emulator's CPU is read from /proc at the end of each run. Medians of $RUNS runs."
        [ -n "$note" ] && echo && echo "**Note:** $note."
        echo
        echo "| signature | max-in-flight | calls/s (tool summary) | wall s | tool CPU ms/call (net) | raw ms/call | emulator CPU ms/call | peak RSS MB | target | result |"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    } >>"$MD"
    local v m i
    for v in 3 2; do
        for m in 4 64; do
            : >"$WORK/e.rate" ; : >"$WORK/e.net" ; : >"$WORK/e.raw"
            : >"$WORK/e.wall" ; : >"$WORK/e.emu" ; : >"$WORK/e.rss"
            for i in $(seq "$RUNS"); do
                local n=engine-v$v-m$m-$i
                timed $n-plan "$TOOL" plan "$f" "${FW[@]}"
                emu_start $n --qps-scale 10000
                timed $n "$TOOL" run "$f" "${FW[@]}" --endpoint \
                    "http://127.0.0.1:$PORT" --yes --no-progress --force \
                    --report "$WORK/$n.csv" --qps $qps --force-qps \
                    --max-in-flight $m --signature-version $v
                local ecpu
                ecpu=$(awk '{ print ($14 + $15) / 100 }' "/proc/$EMU_PID/stat")
                emu_stop
                local calls
                calls=$(sm $n calls)
                [ -n "$calls" ] && [ "$calls" -gt 0 ] || continue
                sm $n rate >>"$WORK/e.rate"
                tv $n wall >>"$WORK/e.wall"
                tv $n rss >>"$WORK/e.rss"
                calc "%.4f" "($(tv $n cpu) - $(tv $n-plan cpu)) * 1000 / $calls" >>"$WORK/e.net"
                calc "%.4f" "$(tv $n cpu) * 1000 / $calls" >>"$WORK/e.raw"
                calc "%.4f" "$ecpu * 1000 / $calls" >>"$WORK/e.emu"
            done
            local mr mn
            mr=$(median <"$WORK/e.rate") mn=$(median <"$WORK/e.net")
            # The figure is the default (64); 4 in flight is a sensitivity
            # row: how much a user's low cap costs (see RESULTS.md).
            local target="≥ 5,000 calls/s, ≤ 0.1 ms" ok
            ok=$(verdict "$mr >= 5000 && $mn <= 0.1")
            if [ "$m" != 64 ]; then
                target="none (sensitivity: a user's cap below the default 64)"
                ok="info"
            fi
            echo "| V$v | $m | $mr | $(median <"$WORK/e.wall") | $mn | $(median <"$WORK/e.raw") | $(median <"$WORK/e.emu") | $(calc %.0f "$(median <"$WORK/e.rss") / 1024") | $target | $ok |" >>"$MD"
        done
    done
    echo >>"$MD"
}

# --- 4. ingest ------------------------------------------------------------
ingest() {
    local sizes="10000 100000 1000000"
    [ "$MODE" = full ] && sizes="$sizes 10000000"
    local base
    base=$(inv 100)
    {
        echo "## 4. Ingest (\`ota-rollout plan\`)"
        echo
        echo "Command: \`ota-rollout plan inv-N.csv --firmware a1BwAGVabcd=... --firmware a1Ko2mPq7Rt=...\`, plain inventories from \`samples/gen-inventory.sh N\`."
        echo "Floors on the same file in the same iteration: \`wc -l\` and \`bench/csvfloor\` (one bare libcsv pass, 1 MB reads)."
        echo "Bytes per device beyond names = (peak RSS − peak RSS of a 100-row plan − bytes of the device names) / devices. Medians of $RUNS runs."
        echo
        echo "| rows | file MB | plan wall s | MB/s | peak RSS MB | bytes/device beyond names | wc -l s | libcsv s | plan/libcsv | target | result |"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    } >>"$MD"
    local i
    for i in $(seq "$RUNS"); do timed ingest-base-$i "$TOOL" plan "$base" "${FW[@]}"; done
    local rss0
    rss0=$(for i in $(seq "$RUNS"); do tv ingest-base-$i rss; done | median)
    local n f size names target
    for n in $sizes; do
        f=$(inv $n)
        size=$(stat -c %s "$f")
        # Plain rows are NAME,PK\n with an 11-byte ProductKey.
        names=$((size - 22 - n * 13))
        : >"$WORK/i.w" ; : >"$WORK/i.r" ; : >"$WORK/i.wc" ; : >"$WORK/i.csv"
        for i in $(seq "$RUNS"); do
            timed ingest-$n-$i "$TOOL" plan "$f" "${FW[@]}"
            timed ingest-wc-$n-$i wc -l "$f"
            timed ingest-csv-$n-$i "$FLOOR" "$f"
            tv ingest-$n-$i wall >>"$WORK/i.w"
            tv ingest-$n-$i rss >>"$WORK/i.r"
            tv ingest-wc-$n-$i wall >>"$WORK/i.wc"
            tv ingest-csv-$n-$i wall >>"$WORK/i.csv"
        done
        local w r wc cs
        w=$(median <"$WORK/i.w") r=$(median <"$WORK/i.r")
        wc=$(median <"$WORK/i.wc") cs=$(median <"$WORK/i.csv")
        local bpd tw=1e9
        case $n in 1000000) target="≤ 0.3 s" tw=0.3 ;;
        10000000) target="≤ 3 s" tw=3 ;;
        *) target="linear" ;; esac
        bpd=$(calc %.1f "(($r - $rss0) * 1024 - $names) / $n")
        echo "| $n | $(calc %.1f "$size / 1e6") | $w | $(calc %.0f "$w > 0 ? $size / 1e6 / $w : 0") | $(calc %.1f "$r / 1024") | $bpd | $wc | $cs | $(calc %.1f "$cs > 0 ? $w / $cs : 0") | $target, ≤ 64 B/device | $(verdict "$w <= $tw && $bpd <= 64") |" >>"$MD"
    done
    echo >>"$MD"
}

# --- 1, 2 and 5. pacing, adaptation, faults --------------------------------
# pacing NAME ROWS QUOTA LAT_MAX_S KIND "EMULATOR OPTS" "TOOL OPTS" TITLE
# KIND: pace (rate >= 0.99 x quota, 0 throttled, wall <= 1.02 x ideal +
# start-up + the last call's latency), adapt (steady within 5% of the
# quota, throttled < 2% of calls, every chunk created) or faults (wall <=
# 1.10 x the clean pace-20 run). Every run: exactly once (exactly_once.py).
PACE_ROWS=()
# pacing_once NAME ...: one run; leaves its table row (with @RUNS@ where
# the calls/s of every repetition go), its calls/s and its wall time in
# $WORK/NAME.row, .rate and .wall.
pacing_once() {
    local name=$1 rows=$2 quota=$3 latmax=$4 kind=$5 eopts=$6 topts=$7
    local title=$8 f
    f=$(inv "$rows")
    # shellcheck disable=SC2086
    emu_start $name $eopts
    poll_start "$WORK/$name.poll"
    # shellcheck disable=SC2086
    timed $name "$TOOL" run "$f" "${FW[@]}" --endpoint \
        "http://127.0.0.1:$PORT" --yes --no-progress --force \
        --report "$WORK/$name.csv" $topts
    poll_stop
    emu_stats >"$WORK/$name.stats"
    curl -s "http://127.0.0.1:$PORT/__emu/jobs" >"$WORK/$name.jobs"
    emu_stop
    local chunks calls created ideal wall rate thr steady once ok allowed
    chunks=$(sm $name chunks) calls=$(sm $name calls)
    created=$(sm $name created) rate=$(sm $name rate)
    wall=$(tv $name wall) thr=$(js "$WORK/$name.stats" throttled)
    steady=$(steady "$WORK/$name.poll")
    once=$(python3 "$ROOT/bench/exactly_once.py" "$WORK/$name.stats" \
        "$WORK/$name.jobs" "$WORK/$name.csv" "$rows" 2>&1 | tail -n1 || true)
    rm -f "$WORK/$name.jobs" # up to ~100 MB for 10^6 devices
    ideal=$(calc %.2f "$chunks / $quota")
    # Start-up: the ingest of the same inventory (the plan command, median
    # of the ingest figure or measured here), plus the last call's latency.
    allowed=$(calc %.2f "1.02 * $ideal + $(startup "$f") + $latmax")
    case $kind in
    pace) ok=$(verdict "$rate >= 0.99 * $quota && $thr == 0 && $wall <= $allowed") ;;
    adapt)
        local sv=$steady
        [ "$sv" = n/a ] && sv=0
        ok=$(verdict "$sv >= 0.95 * $quota && $sv <= 1.05 * $quota && $thr < 0.02 * $calls && $created == $chunks")
        ;;
    faults) ok=$(verdict "$wall <= 1.10 * $(cat "$WORK/pace-20.wall" 2>/dev/null || echo 0)") ;;
    esac
    case $once in *" ok") ;; *) ok="MISS (exactly once)" ;; esac
    echo "| $title | \`ota-emulator $eopts\` / \`ota-rollout run inv-$rows.csv $topts\` | $chunks | $created | $calls | $rate | @RUNS@ | $steady | $thr | $(js "$WORK/$name.stats" maxcreate) | $wall | $ideal | $allowed | $(calc %.3f "$wall / $ideal") | $(tv $name cpu) | ${once% ok} | $(tv $name status) | $ok |" >"$WORK/$name.row"
    echo "${rate:-0}" >"$WORK/$name.rate"
    echo "$wall" >"$WORK/$name.wall"
}
# pacing_run NAME REPS ...(as pacing_once): REPS runs; the table shows the
# median run (by calls/s; its verdict is the row's) and every run's
# calls/s; $WORK/NAME.wall is the median run's wall time.
pacing_run() {
    local name=$1 reps=$2 i med runs=""
    shift 2
    for i in $(seq "$reps"); do
        pacing_once "$name-$i" "$@"
        runs="$runs${runs:+, }$(cat "$WORK/$name-$i.rate")"
    done
    med=$(for i in $(seq "$reps"); do
        echo "$(cat "$WORK/$name-$i.rate") $i"
    done | sort -g | awk '{ v[NR] = $2 } END { print v[int((NR + 1) / 2)] }')
    PACE_ROWS+=("$(sed "s|@RUNS@|$runs|" "$WORK/$name-$med.row")")
    cp "$WORK/$name-$med.wall" "$WORK/$name.wall"
}
# startup FILE: median wall of `ota-rollout plan FILE` (3 runs, cached).
startup() {
    local f=$1 k i
    k=$(basename "$f" .csv)
    if [ ! -s "$WORK/startup-$k" ]; then
        for i in 1 2 3; do
            timed startup-$k-$i "$TOOL" plan "$f" "${FW[@]}"
            tv startup-$k-$i wall
        done | median >"$WORK/startup-$k"
    fi
    cat "$WORK/startup-$k"
}
pacing_table() {
    {
        echo "## 1, 2, 5. Pacing, adaptation, faults"
        echo
        echo "Whole runs of \`ota-rollout run\` (inventory read, plan, pre-flight, dispatch, journal, report) against \`ota-emulator --auto-create\` (no request log). Each row is the median of its runs by calls/s (the runs' calls/s are listed; the verdict is the median run's): $RUNS runs of the short ones, $LONG_RUNS of each 250-s run (\`BENCH_LONG_RUNS\`)."
        echo "\"calls/s\" is the tool's summary, (calls − 1) / (last start − first start); \"steady/s\" is the emulator's job count per second over the second half of the busy period (its stats polled every 0.5 s)."
        echo "\"ideal s\" = chunks / quota; \"allowed s\" = 1.02 × ideal + start-up (median wall of \`ota-rollout plan\` on the same inventory) + the last call's maximum latency. \"max/s\" is the emulator's max_calls_in_any_second for Create (arrivals, throttled ones included)."
        echo "\"exactly once\" is \`bench/exactly_once.py\` over /__emu/stats, /__emu/jobs and the report: jobs = report rows, the report's JobIds = the emulator's, no device in two jobs (double_assigned and a recount), every inventory device in one job."
        echo
        echo "| run | command (emulator / tool) | chunks | created | calls | calls/s | calls/s of each run | steady/s | throttled | max/s | wall s | ideal s | allowed s | wall/ideal | tool CPU s | exactly once | exit | result |"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        local r
        for r in "${PACE_ROWS[@]}"; do echo "$r"; done
        echo
    } >>"$MD"
}

# --- the runs -------------------------------------------------------------
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
[ -n "${BENCH_ONLY:-}" ] &&
    echo "Only these figures were run: \`BENCH_ONLY=\"$BENCH_ONLY\"\`." >>"$MD" &&
    echo >>"$MD"
if want engine; then
    echo "bench: engine overhead" >&2
    engine
fi
if want ingest; then
    echo "bench: ingest" >&2
    ingest
fi
# pacing NAME REPS ...: pacing_run when the figure is wanted.
pacing() { want "$1" && pacing_run "$@" || true; }
echo "bench: pacing x10 (200/s, 1,000,000 devices)" >&2
pacing pace-x10 "$RUNS" 1000000 200 0.08 pace "--qps-scale 10 --latency-ms 10-80" \
    "--qps 200 --force-qps" "1. pacing x10, latency 10-80 ms (target ≥ 198/s, 0 throttled, wall ≤ allowed)"
echo "bench: adaptation x10 (quota 150/s, tool 200/s)" >&2
pacing adapt-x10 "$RUNS" 200000 150 0.08 adapt "--qps-create 15 --qps-scale 10 --latency-ms 10-80" \
    "--qps 200 --force-qps" "2. adaptation x10: quota 150/s, tool 200/s (target steady within 5% of 150, throttled < 2%)"
if [ "$MODE" = full ]; then
    echo "bench: pacing 20/s, latency 100-800 ms (~250 s)" >&2
    pacing pace-20 "$LONG_RUNS" 1000000 20 0.8 pace "--latency-ms 100-800" "" \
        "1. pacing 20/s, latency 100-800 ms (target ≥ 19.8/s, 0 throttled, wall ≤ allowed)"
    echo "bench: pacing 20/s, latency 1-3 s (~250 s)" >&2
    pacing pace-20-slow "$LONG_RUNS" 1000000 20 3 pace "--latency-ms 1000-3000" "" \
        "1. pacing 20/s, latency 1-3 s (same targets)"
    echo "bench: adaptation (quota 15/s, tool 20/s)" >&2
    pacing adapt-15 "$RUNS" 200000 15 0.8 adapt "--qps-create 15 --latency-ms 100-800" "" \
        "2. adaptation: quota 15/s, tool 20/s (target steady within 5% of 15, throttled < 2%)"
    echo "bench: faults (5% 5xx, 2% lost responses, ~250 s)" >&2
    pacing faults-20 "$LONG_RUNS" 1000000 20 0.8 faults \
        "--latency-ms 100-800 --fail-5xx 0.05 --lose-response 0.02 --seed 7" "" \
        "5. faults: 5% 5xx + 2% lost (target wall ≤ 1.10 × the clean 20/s run, exactly once)"
fi
[ ${#PACE_ROWS[@]} -gt 0 ] && pacing_table
if [ "$MODE" = full ] && [ -s "$WORK/pace-20.wall" ]; then
    echo "Faults cost: wall(faults) / wall(clean) = $(calc %.3f "$(cat "$WORK/faults-20.wall") / $(cat "$WORK/pace-20.wall")") (target ≤ 1.10)." >>"$MD"
    echo >>"$MD"
fi
echo "Raw logs of this run: \`$WORK\`." >>"$MD"

# The engineers' notes (analysis, before/after) below the marker line of
# the previous file are kept: a rerun replaces the figures, not the notes.
MARK='<!-- notes below: kept by bench/run.sh when it rewrites the figures -->'
if [ -f "$OUT" ] && grep -qxF "$MARK" "$OUT"; then
    { echo; awk -v m="$MARK" 'f || $0 == m { f = 1; print }' "$OUT"; } >>"$MD"
fi
cp "$MD" "$OUT"
echo "bench: wrote $OUT" >&2
cat "$OUT"
