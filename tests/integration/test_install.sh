#!/usr/bin/env bash
# test_install.sh - the installed package (issue 7): build the .deb with
# cpack, extract it into a scratch root (dpkg-deb -x: nothing is installed
# on this machine), run ota-rollout --version and `plan` on a sample from
# the installed location, check the man pages, the completion and the
# package's dependencies; and that every long option of --help is
# documented in the man page.
#   usage: test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=${1:?build dir}
src=${2:?source dir}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ota-install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
fail() { echo "test_install: FAIL: $*" >&2; exit 1; }
ok() { echo "test_install: ok: $*"; }

# 1. Every long option of --help is in the man page (run from the build,
#    so this part holds even where cpack cannot run).
"$build/ota-rollout" --help >"$scratch/help.txt"
opts=$(grep -oE -- '--[a-z0-9][a-z0-9-]+' "$scratch/help.txt" | sort -u)
[ -n "$opts" ] || fail "no options in ota-rollout --help"
missing=""
for o in $opts; do
    # roff writes a hyphen in an option as \- ; accept both spellings.
    esc=$(printf '%s' "$o" | sed 's/-/\\-/g')
    grep -qF -- "$o" "$src/orchestrator/man/ota-rollout.1" ||
        grep -qF -- "$esc" "$src/orchestrator/man/ota-rollout.1" ||
        missing="$missing $o"
done
[ -z "$missing" ] || fail "ota-rollout.1 does not document:$missing"
"$build/ota-emulator" --help >"$scratch/emu-help.txt"
for o in $(grep -oE -- '--[a-z0-9][a-z0-9-]+' "$scratch/emu-help.txt" | sort -u); do
    esc=$(printf '%s' "$o" | sed 's/-/\\-/g')
    grep -qF -- "$esc" "$src/orchestrator/man/ota-emulator.1" ||
        grep -qF -- "$o" "$src/orchestrator/man/ota-emulator.1" ||
        fail "ota-emulator.1 does not document $o"
done
ok "every --help option is in the man pages"

# 2. The package.
command -v cpack >/dev/null || fail "cpack not found"
command -v dpkg-deb >/dev/null || fail "dpkg-deb not found"
(cd "$scratch" && timeout 180 cpack -G DEB --config "$build/CPackConfig.cmake" \
    -B "$scratch/pkg" >"$scratch/cpack.log" 2>&1) ||
    { cat "$scratch/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$scratch"/pkg/ota-rollout_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { cat "$scratch/cpack.log" >&2; fail "no .deb built"; }
ok "built $(basename "$deb")"

dpkg-deb -f "$deb" Package | grep -qx 'ota-rollout' || fail "package name"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libcurl4 libssl3 libcsv3 libjansson4 libmicrohttpd12; do
    echo "$depends" | grep -qE "(^|[ ,])$lib([ ,(]|$)" ||
        fail "Depends lacks $lib: $depends"
done
ok "Depends: $depends"

root="$scratch/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/ota-rollout usr/bin/ota-emulator \
         usr/share/man/man1/ota-rollout.1 usr/share/man/man1/ota-emulator.1 \
         usr/share/bash-completion/completions/ota-rollout \
         usr/share/bash-completion/completions/ota-emulator \
         usr/share/doc/ota-rollout/README.md \
         usr/share/doc/ota-rollout/samples/fleet.csv; do
    [ -e "$root/$f" ] || fail "$f is not in the package"
done
[ -x "$root/usr/bin/ota-rollout" ] || fail "ota-rollout is not executable"
ok "layout"

# 3. Run from the installed location.
ver=$("$root/usr/bin/ota-rollout" --version)
for want in "ota-rollout " "libcurl " "OpenSSL " "libcsv " "jansson "; do
    echo "$ver" | grep -q "^$want" || fail "--version lacks $want: $ver"
done
ok "--version"
"$root/usr/bin/ota-emulator" --help >/dev/null || fail "ota-emulator --help"

sample="$root/usr/share/doc/ota-rollout/samples/fleet.csv"
fw=UkOZxXXnVaLfqvvv8YzC000100
set +e
env -u ALIBABA_CLOUD_ACCESS_KEY_ID -u ALIBABA_CLOUD_ACCESS_KEY_SECRET \
    HOME="$scratch" "$root/usr/bin/ota-rollout" plan "$sample" \
    --firmware-id "$fw" --product-key a1BwAGVabcd \
    --report "$scratch/plan.report.csv" >"$scratch/plan.out" 2>"$scratch/plan.err"
code=$?
set -e
[ "$code" -eq 0 ] || { cat "$scratch/plan.err" >&2; fail "plan exited $code"; }
grep -q "CreateOTAStaticUpgradeJob" "$scratch/plan.out" || fail "plan output"
grep -q "FirmwareId=$fw" "$scratch/plan.out" || fail "plan: no FirmwareId"
grep -qE "^chunks: [1-9]" "$scratch/plan.out" || fail "plan: no chunks"
ok "plan on the installed sample"

# 4. Man pages render; the completion loads.
for page in ota-rollout ota-emulator; do
    f="$root/usr/share/man/man1/$page.1"
    head -c 4096 "$f" | grep -q '^\.TH ' || fail "$page.1 has no .TH"
    if command -v man >/dev/null && command -v groff >/dev/null; then
        MANWIDTH=80 man -l "$f" >"$scratch/$page.txt" 2>"$scratch/man.err" ||
            fail "man -l $page.1"
        grep -q "SYNOPSIS" "$scratch/$page.txt" || fail "$page.1 render"
        grep -q "EXIT STATUS" "$scratch/$page.txt" || fail "$page.1 EXIT STATUS"
    fi
done
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" FILES \
         ENVIRONMENT EXAMPLES; do
    grep -q "^\.SH \"\{0,1\}$s" "$root/usr/share/man/man1/ota-rollout.1" ||
        fail "ota-rollout.1 lacks section $s"
done
ok "man pages"
bash -c "source '$root/usr/share/bash-completion/completions/ota-rollout' &&
         complete -p ota-rollout && complete -p ota-emulator" >/dev/null ||
    fail "completion does not load"
ok "completion"
echo "test_install: all ok"
