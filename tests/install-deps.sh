#!/usr/bin/env bash
# Installs the Debian 12 packages ota-rollout needs to build and test, if any
# are missing. Runs apt-get as root, or through sudo.
set -euo pipefail

pkgs=(build-essential cmake pkg-config curl ca-certificates
      libcurl4-openssl-dev libssl-dev libcsv-dev libjansson-dev
      libmicrohttpd-dev libcmocka-dev clang libclang-rt-14-dev valgrind
      faketime tzdata)
# valgrind: test_e2e_exactly_once runs one resumed rollout under
# --leak-check=full (an end-to-end run must show no leaks).
# faketime: test_e2e_waves_deferred runs `resume` days ahead (libfaketime)
# to create a scheduled wave that was beyond the API's 7-day horizon.
# tzdata: --window reads its time zones from /usr/share/zoneinfo (the unit
# tests of model/tzdb and model/tzwindow and test_e2e_windows too).

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
