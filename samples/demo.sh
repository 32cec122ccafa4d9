#!/usr/bin/env bash
# Demo: install what is missing, build, start ota-emulator on a free loopback
# port, and roll out firmware to samples/fleet.csv (about 3,000 devices of two
# products) against it. Prints where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target ota-rollout ota-emulator

out=${DEMO_OUT:-$(mktemp -d /tmp/ota-demo-XXXXXX)}
mkdir -p "$out"
# Demo credentials for the local emulator only: real ones never go on a
# command line, and ota-rollout reads them from the environment.
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIdemo0000000000
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=demo-secret-for-the-emulator-only
# Never the ECS metadata service (100.100.100.200): only loopback traffic.
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true

coproc EMU { exec ./build/ota-emulator --port 0 --fixture samples/fixture.json \
    --auto-create --access-key "$ALIBABA_CLOUD_ACCESS_KEY_ID:$ALIBABA_CLOUD_ACCESS_KEY_SECRET" \
    --request-log "$out/emulator-requests.jsonl" 2>"$out/emulator.log"; }
emu_pid=$EMU_PID
trap 'kill $emu_pid 2>/dev/null || true' EXIT
read -r -t 10 port <&"${EMU[0]}"
echo "ota-emulator listening on 127.0.0.1:$port"

set +e
./build/ota-rollout run samples/fleet.csv \
    --firmware a1BwAGVabcd=UkOZxXXnVaLfqvvv8YzC000100 \
    --firmware a1Ko2mPq7Rt=UkOZxXXnVaLfqvvv8YzC000101 \
    --endpoint "http://127.0.0.1:$port" --yes \
    --report "$out/fleet.report.csv"
rc=$?
set -e
echo
echo "exit code: $rc"
echo "report:          $out/fleet.report.csv"
echo "failed devices:  $out/fleet.report.csv.failed.csv"
echo "emulator log:    $out/emulator-requests.jsonl"
exit $rc
