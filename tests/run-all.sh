#!/usr/bin/env bash
# The whole test suite: what README's test command and CI run.
#   1. install missing Debian packages; the layer check (tests/check-layers.sh)
#   2. release-ish build with warnings as errors; unit + end-to-end tests
#   3. ASan+UBSan build; the same tests
#   4. bounded libFuzzer runs on the seed corpora (tests/fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

bash tests/install-deps.sh

echo "== layers (module graph from #include lines: no upward include, no cycle)"
bash tests/check-layers.sh --self-test
bash tests/check-layers.sh

echo "== build (warnings are errors)"
cmake -S . -B build -DORCH_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
passed=0
failed=0
ctest_extra=()
# Runs ctest in build dir $1 (with ctest_extra's arguments) and adds its
# totals to passed/failed.
run_ctest() {
    local log rc=0
    log=$(mktemp)
    (cd "$1" && shift && "$@" ctest --output-on-failure -j"$jobs" \
        "${ctest_extra[@]}") 2>&1 \
        | tee "$log" || rc=1
    local total fail
    total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    fail=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
    rm -f "$log"
    passed=$((passed + ${total:-0} - ${fail:-0}))
    failed=$((failed + ${fail:-0}))
    return $rc
}

echo "== tests"
run_ctest build env

echo "== ASan+UBSan build"
cmake -S . -B build-asan -DORCH_WERROR=ON -DORCH_SANITIZE=ON \
      -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under ASan+UBSan"
# Not the six simulated hours (libfaketime x150, ~145 s that ASan only
# stretches): the plain pass runs it; its refresh code runs under ASan in
# test_credlive and test_e2e_credentials. Keeps CI within its 20 minutes.
ctest_extra=(-E 'test_e2e_cred_sixhours')
run_ctest build-asan env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

if [ -d tests/fuzz ] && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
    echo "== fuzzing (bounded)"
    CC=clang cmake -S . -B build-fuzz -DORCH_FUZZ=ON -DORCH_TESTS=OFF \
        -DORCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build build-fuzz -j"$jobs"
    for f in build-fuzz/fuzz_*; do
        name=$(basename "$f")
        work="build-fuzz/corpus-$name"
        mkdir -p "$work"
        "$f" -max_total_time="${ORCH_FUZZ_SECONDS:-30}" -timeout=10 \
            "$work" "tests/fuzz/corpus/${name#fuzz_}" 2>&1 | tail -n 2
    done
fi
echo "== all tests passed (plain and ASan+UBSan builds; fuzzers found nothing)"
echo "ctest: $passed passed, $failed failed"
