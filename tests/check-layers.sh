#!/usr/bin/env bash
# check-layers.sh - the module graph of ota-rollout and ota-emulator, from
# their #include lines: fails on an include that goes up a layer and on any
# include cycle, and prints the layers with their modules.
#
#   bash tests/check-layers.sh [ROOT]     check the tree at ROOT (default: ..)
#   bash tests/check-layers.sh --self-test  prove the check can fail
#
# A module is a file's name without its extension (orchestrator/engine/
# dispatch.c and include/orch/engine/dispatch.h are module "dispatch"); its
# layer is the folder it lives in. The layer order is written down here,
# once, lowest first: a module may include its own layer and the layers
# below it, never one above. orchestrator/main.c is the program's top.
set -euo pipefail

ORCH_LAYERS="base model cloud engine rollout commands cli"
# The emulator (tests/emulator/<layer>/): the API's state and rules at the
# bottom, the HTTP server on top.
EMU_LAYERS="world gateway ops server"

# Prints "<file> <module> <layer>" for every source file of one program.
# $1: root, $2: source dir, $3: header dir (may equal $2), $4: top module.
list_modules() {
    local root=$1 src=$2 inc=$3 top=$4 f rel layer
    while IFS= read -r f; do
        rel=${f#"$root"/}
        case "$rel" in
            "$src"/*/*) layer=${rel#"$src"/}; layer=${layer%%/*} ;;
            "$inc"/*/*) layer=${rel#"$inc"/}; layer=${layer%%/*} ;;
            "$src/$top".c) layer=TOP ;;
            *) layer=NONE ;;
        esac
        f=${rel##*/}
        echo "$rel ${f%.*} $layer"
    done < <(find "$root/$src" "$root/$inc" \( -name '*.c' -o -name '*.h' \) | sort -u)
}

# Checks one program. $1 root, $2 name, $3 layer order, $4 modules file,
# $5 the include pattern's prefix (sed regex before "<layer>/<module>.h").
# Adds to the global `bad` count; prints what it finds.
check_program() {
    local root=$1 name=$2 order=$3 mods=$4 prefix=$5
    local edges rank_of file mod layer line dep dlayer n
    edges=$(mktemp)
    declare -A rank_of=() layer_of=()
    n=0
    for layer in $order; do rank_of[$layer]=$n; n=$((n + 1)); done
    rank_of[TOP]=$n
    while read -r file mod layer; do
        if [ -z "${rank_of[$layer]+x}" ]; then
            echo "$name: $file is in no layer folder ($order)"
            bad=$((bad + 1))
            continue
        fi
        layer_of[$mod]=$layer
    done < "$mods"
    while read -r file mod layer; do
        [ -n "${rank_of[$layer]+x}" ] || continue
        while IFS=: read -r line dep; do
            dlayer=${dep%%/*}
            dep=${dep#*/}
            dep=${dep%.h}
            [ "$dep" = "$mod" ] && continue
            if [ -z "${rank_of[$dlayer]+x}" ] || [ "$dlayer" = TOP ]; then
                echo "$name: $file:$line includes a header in no layer ($dlayer/$dep.h)"
                bad=$((bad + 1))
                continue
            fi
            if [ "${rank_of[$dlayer]}" -gt "${rank_of[$layer]}" ]; then
                echo "$name: $file:$line: $layer/$mod includes $dlayer/$dep.h, a layer above"
                bad=$((bad + 1))
            fi
            echo "$mod $dep" >> "$edges"
        done < <(grep -n "^#include \"$prefix[a-z_]*/[a-z_0-9]*\.h\"" "$root/$file" \
                   | sed "s|^\([0-9]*\):#include \"$prefix\([a-z_]*/[a-z_0-9]*\.h\)\".*|\1:\2|")
    done < "$mods"
    if ! tsort "$edges" >/dev/null 2> "$edges.err"; then
        echo "$name: include cycle (the first tsort finds; each includes the next):"
        awk '/input contains a loop/ { n++; next } n == 1 { sub(/^tsort: /, ""); printf "    %s\n", $0 }' "$edges.err"
        bad=$((bad + 1))
    fi
    echo "$name: layers, lowest first ($(sort -u "$edges" | wc -l) include edges):"
    for layer in $order; do
        printf '  %-9s' "$layer"
        awk -v l="$layer" '$3 == l { print $2 }' "$mods" | sort -u | tr '\n' ' '
        echo
    done
    rm -f "$edges" "$edges.err"
}

check_tree() {
    local root=$1 mods
    bad=0
    mods=$(mktemp)
    list_modules "$root" orchestrator include/orch main > "$mods"
    check_program "$root" ota-rollout "$ORCH_LAYERS" "$mods" "orch/"
    if [ -d "$root/tests/emulator/server" ]; then
        list_modules "$root" tests/emulator tests/emulator emu_main > "$mods"
        check_program "$root" ota-emulator "$EMU_LAYERS" "$mods" ""
    fi
    rm -f "$mods"
    return $((bad > 0))
}

# Builds small trees that break the rules and checks that each is refused,
# and that a tree that keeps them passes.
self_test() {
    local t rc=0
    t=$(mktemp -d)
    mkdir -p "$t/orchestrator/base" "$t/orchestrator/engine" \
             "$t/include/orch/base" "$t/include/orch/engine"
    echo '#include "orch/base/a.h"' > "$t/orchestrator/engine/e.c"
    : > "$t/include/orch/base/a.h"
    : > "$t/include/orch/engine/e.h"
    : > "$t/orchestrator/base/a.c"
    check_tree "$t" > /dev/null || { echo "self-test: a clean tree failed"; rc=1; }
    echo '#include "orch/engine/e.h"' > "$t/orchestrator/base/a.c"
    check_tree "$t" > "$t/out" && { echo "self-test: an upward include passed"; rc=1; }
    grep -q 'a layer above' "$t/out" || { echo "self-test: upward include not named"; rc=1; }
    mkdir -p "$t/include/orch/model"
    : > "$t/orchestrator/base/a.c"
    echo '#include "orch/base/b.h"' > "$t/include/orch/base/a.h"
    echo '#include "orch/base/a.h"' > "$t/include/orch/base/b.h"
    check_tree "$t" > "$t/out" && { echo "self-test: a cycle passed"; rc=1; }
    grep -q 'include cycle' "$t/out" || { echo "self-test: cycle not named"; rc=1; }
    rm -rf "$t"
    [ $rc -eq 0 ] && echo "self-test: an upward include and a cycle are refused"
    return $rc
}

if [ "${1:-}" = "--self-test" ]; then
    self_test
    exit $?
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
bad=0
if check_tree "$root"; then
    echo "layers: no upward include, no cycle"
else
    echo "layers: $bad problem(s)"
    exit 1
fi
