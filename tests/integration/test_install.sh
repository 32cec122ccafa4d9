#!/usr/bin/env bash
# test_install.sh - the installed package: build the .deb with
# cpack, extract it into a scratch root (dpkg-deb -x: nothing is installed
# on this machine), run ota-rollout --version and `plan` on a sample from
# the installed location, check the man pages, the completion and the
# package's dependencies; that every long option of --help is documented
# in the man page, that --help, the man page and README agree with the
# binary on the points checked in 1b, and that the completion completes
# option values as --help shows them (1c).
#   usage: test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$(cd "${1:?build dir}" && pwd)
src=$(cd "${2:?source dir}" && pwd)
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
    grep -qF -- "$o" "$src/orchestrator/cli/man/ota-rollout.1" ||
        grep -qF -- "$esc" "$src/orchestrator/cli/man/ota-rollout.1" ||
        missing="$missing $o"
done
[ -z "$missing" ] || fail "ota-rollout.1 does not document:$missing"
"$build/ota-emulator" --help >"$scratch/emu-help.txt"
for o in $(grep -oE -- '--[a-z0-9][a-z0-9-]+' "$scratch/emu-help.txt" | sort -u); do
    esc=$(printf '%s' "$o" | sed 's/-/\\-/g')
    grep -qF -- "$esc" "$src/orchestrator/cli/man/ota-emulator.1" ||
        grep -qF -- "$o" "$src/orchestrator/cli/man/ota-emulator.1" ||
        fail "ota-emulator.1 does not document $o"
done
ok "every --help option is in the man pages"

# 1b. The docs say what the binary does (from the build and the sources).
man1="$src/orchestrator/cli/man/ota-rollout.1"
readme="$src/README.md"
#   Every command of --help's list has a usage line and is named by the
#   errors for a missing or an unknown command.
cmds=$(sed -n '/^Commands:/,/^$/p' "$scratch/help.txt" |
       grep -oE '^  [a-z]+ ' | tr -d ' ')
[ -n "$cmds" ] || fail "no Commands: list in --help"
"$build/ota-rollout" >/dev/null 2>"$scratch/nocmd.err" && fail "no command: exit 0"
"$build/ota-rollout" frob >/dev/null 2>"$scratch/badcmd.err" && fail "frob: exit 0"
for c in $cmds; do
    grep -q "^  ota-rollout $c " "$scratch/help.txt" ||
        fail "--help has no usage line for $c"
    grep -qw "$c" "$scratch/nocmd.err" || fail "no-command error does not name $c"
    grep -qw "$c" "$scratch/badcmd.err" || fail "unknown-command error does not name $c"
done
#   Exit statuses: a refused pre-flight is 2, "no" at the question is 4,
#   --wait's 1 counts FAILED and CANCELED tasks.
exits=$(sed -n '/^Exit codes:/,$p' "$scratch/help.txt")
echo "$exits" | tr '\n' ' ' | grep -qE ' 2  [^0-9]*pre-flight' ||
    fail "--help: exit 2 does not mention the pre-flight"
echo "$exits" | tr '\n' ' ' | grep -qE ' 4  [^0-9]*"no"' ||
    fail "--help: exit 4 does not mention answering no"
grep -qE '^\| 2 \|.*pre-flight' "$readme" || fail "README: exit 2 and the pre-flight"
grep -qE '^\| 4 \|.*"no"' "$readme" || fail "README: exit 4 and answering no"
for f in "$scratch/help.txt" "$man1" "$readme"; do
    grep -A3 -e '--wait' -e '\\-\\-wait' "$f" | tr -s '\n ' '  ' |
        grep -q 'FAILED or were CANCELED' ||
        fail "$(basename "$f"): --wait's exit 1 without CANCELED"
done
#   The error prefix README shows is the real one ("ota-rollout: ...").
grep -q '^ota-rollout: \(error\|fatal\): ' "$readme" &&
    fail "README shows an error prefix the tool does not print"
grep -q '^ota-rollout: unknown command' "$scratch/badcmd.err" ||
    fail "error prefix changed: $(cat "$scratch/badcmd.err")"
#   --json exit names: every list in the man page has all of them.
for n in ok partial usage inventory aborted gate paused; do
    grep -qw "\"$n\"" "$src/orchestrator/base/jsonout.c" || fail "jsonout.c: no exit name $n"
done
grep '^(ok, partial' "$man1" | grep -v 'aborted, gate, paused)' >&2 &&
    fail "ota-rollout.1: an exit.name list lacks gate or paused"
#   FILES: every file a run writes; the formula rule as csvout.c has it.
for f in .report.csv .failed.csv .rejects.csv .waves.csv .journal .cancel.journal; do
    sed -n '/^\.SH FILES/,/^\.SH ENVIRONMENT/p' "$man1" | grep -qF "$f" ||
        fail "ota-rollout.1 FILES lacks $f"
done
grep -q '"=+-@' "$src/orchestrator/base/csvout.c" || fail "csvout.c formula set changed"
grep -q 'starting with = + \\- @' "$man1" || fail "ota-rollout.1: formula rule lacks ="
#   --delimiter: what it accepts is what --help and the man page say.
for d in ',' ';' tab '|' ':' '!'; do
    "$build/ota-rollout" plan "$scratch/none.csv" --firmware-id F \
        --product-key a1BwAGVabcd --delimiter "$d" >/dev/null 2>"$scratch/d.err" || true
    if [ "$d" = '!' ]; then
        grep -qF -- '--delimiter:' "$scratch/d.err" || fail "--delimiter '!' accepted"
    else
        grep -qF -- '--delimiter:' "$scratch/d.err" &&
            fail "--delimiter '$d' refused: $(cat "$scratch/d.err")"
    fi
done
grep -A1 -- '--delimiter C' "$scratch/help.txt" | tr '\n' ' ' |
    grep -qF ', ; tab | :' || fail "--help: --delimiter does not list , ; tab | :"
grep -A1 -F '\-\-delimiter " C"' "$man1" | grep -qF ', ; tab | or :' ||
    fail "ota-rollout.1: --delimiter does not list , ; tab | or :"
ok "help, man page and README agree with the binary"

# 1c. Completion (the source tree's): an option that takes a value (a
#     metavar in --help) completes to file names only if the metavar is
#     FILE, to its words if it is a choice (text|json), else to nothing.
comp="$scratch/comp"
mkdir -p "$comp"
touch "$comp/fleet.csv" "$comp/notes.txt"
complete_line() { # program word... current: the candidates for current
    (cd "$comp" && bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        case ${1##*/} in
            ota-emulator) _ota_emulator ;;
            *) _ota_rollout ;;
        esac
        [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' _ \
        "$src/orchestrator/cli/completion/ota-rollout.bash" "$@" | sort | tr '\n' ' ')
}
for prog in ota-rollout ota-emulator; do
    "$build/$prog" --help |
        sed -nE 's/^  (-[a-zA-Z], )?(--[a-z0-9][a-z0-9-]*) ([^ ]+).*/\2 \3/p' \
        >"$scratch/valued.txt"
    [ -s "$scratch/valued.txt" ] || fail "$prog --help: no option with a value"
    while read -r opt meta; do
        got=$(complete_line "$build/$prog" run "$opt" "")
        case $meta in
            FILE) echo "$got" | grep -q 'fleet.csv' ||
                      fail "$prog $opt $meta: no file names ($got)" ;;
            *'|'*) [ "$got" = "$(echo "${meta//|/ }" | tr ' ' '\n' | sort | tr '\n' ' ')" ] ||
                      fail "$prog $opt $meta: completes to '$got'" ;;
            *) case $got in
                   *fleet.csv*|*notes.txt*)
                       fail "$prog $opt $meta: completes to file names" ;;
               esac ;;
        esac
    done <"$scratch/valued.txt"
done
[ "$(complete_line "$build/ota-rollout" run --log-format "")" = "json text " ] ||
    fail "--log-format does not complete to text json"
[ -z "$(complete_line "$build/ota-rollout" run fleet.csv --waves "")" ] ||
    fail "--waves completes to something"
printf 'Device Name,Site,Region\n' >"$comp/sheet.csv"
[ "$(complete_line "$build/ota-rollout" run sheet.csv --where S)" = "Site= " ] ||
    fail "--where does not complete to the inventory's columns"
[ "$(complete_line "$build/ota-rollout" run sheet.csv --wave-column R)" = "Region " ] ||
    fail "--wave-column does not complete to the inventory's columns"
complete_line "$build/ota-rollout" run --yes "" | grep -q 'fleet.csv' ||
    fail "a flag (--yes) is taken for an option with a value"
complete_line "$build/ota-rollout" run --wa | grep -q -- '--wave-timeout' ||
    fail "option names do not complete"
complete_line "$build/ota-rollout" run "" | grep -q 'notes.txt' ||
    fail "inventories (.csv, .txt) do not complete"
complete_line "$build/ota-rollout" run "" | grep -q 'fleet.csv' ||
    fail "inventories (.csv) do not complete"
ok "completion: values, files and option names"

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
