# bash completion for ota-rollout and ota-emulator        -*- shell-script -*-
# Options, and which of them take a value, are read from `--help` so that
# the lists never go stale.

_ota_rollout_opts()
{
    "$1" --help 2>/dev/null | grep -oE -- '--[a-z0-9][a-z0-9-]+' | sort -u
}

# The metavar of option $2 in `$1 --help` ("N", "FILE", "text|json"), or
# nothing for a flag. --help writes an option that takes a value as
# "--name METAVAR" (one space), and pads a flag to its description with
# two or more.
_ota_rollout_metavar()
{
    "$1" --help 2>/dev/null |
        sed -nE 's/^  (-[a-zA-Z], )?(--[a-z0-9][a-z0-9-]*) ([^ ]+).*/\2 \3/p' |
        while read -r opt meta; do
            if [[ $opt == "$2" ]]; then
                printf '%s\n' "$meta"
                break
            fi
        done
}

# Completes the value of option $2 (prev) of program $1 into COMPREPLY;
# returns 1 if $2 takes no value.
_ota_rollout_value()
{
    local meta
    meta=$(_ota_rollout_metavar "$1" "$2")
    [[ -n $meta ]] || return 1
    COMPREPLY=()
    case $2 in
        --delimiter)
            COMPREPLY=($(compgen -W ', ; tab | :' -- "$cur"))
            return 0 ;;
        --retry-interval)
            COMPREPLY=($(compgen -W '0 10 30 60 1440' -- "$cur"))
            return 0 ;;
        --retry-count)
            COMPREPLY=($(compgen -W '1 2 5' -- "$cur"))
            return 0 ;;
        --where|--wave-column|--time-zone-column)
            # The inventory's columns: the header of the first .csv word.
            local w inv="" cols
            for w in "${COMP_WORDS[@]}"; do
                [[ $w == *.csv && -f $w ]] && { inv=$w; break; }
            done
            [[ -n $inv ]] || return 0
            cols=$(head -n 1 -- "$inv" | tr -d '\r"' | tr ',;\t' '\n\n\n' |
                sed 's/ /_/g')
            if [[ $2 == --where ]]; then
                COMPREPLY=($(compgen -S = -W "$cols" -- "$cur"))
                compopt -o nospace 2>/dev/null
            else
                COMPREPLY=($(compgen -W "$cols" -- "$cur"))
            fi
            return 0 ;;
        --time-zone)
            # IANA names from the tz database the tool reads.
            local zdir=${TZDIR:-/usr/share/zoneinfo}
            COMPREPLY=($(cd "$zdir" 2>/dev/null &&
                compgen -f -- "$cur" | while read -r z; do
                    if [[ -d $z ]]; then
                        printf '%s/\n' "$z"
                    elif [[ $z == [A-Z]* ]]; then
                        printf '%s\n' "$z"
                    fi
                done))
            compopt -o nospace 2>/dev/null
            return 0 ;;
        --window)
            COMPREPLY=($(compgen -W '02:00-05:00 01:00-04:00 22:00-04:00' \
                -- "$cur"))
            return 0 ;;
        --profile)
            local names
            names=$(grep -oE '"name"[[:space:]]*:[[:space:]]*"[^"]+"' \
                ~/.aliyun/config.json 2>/dev/null |
                sed 's/.*"\([^"]*\)"$/\1/')
            COMPREPLY=($(compgen -W "$names" -- "$cur"))
            return 0 ;;
    esac
    case $meta in
        FILE)
            COMPREPLY=($(compgen -f -- "$cur")) ;;
        *'|'*)
            # A choice: "text|json", "ALL|SPECIFIC|GRAY", "1|2".
            COMPREPLY=($(compgen -W "${meta//|/ }" -- "$cur")) ;;
        *)
            # A number, a duration, an id, a spec: nothing to offer, and
            # certainly not file names.
            ;;
    esac
    return 0
}

_ota_rollout()
{
    local cur prev words cword
    _init_completion 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        cword=$COMP_CWORD
    }

    if [[ $prev == -* ]] && _ota_rollout_value "${COMP_WORDS[0]}" "$prev"; then
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_ota_rollout_opts "${COMP_WORDS[0]}")" \
            -- "$cur"))
        return
    fi
    local i cmd=""
    for ((i = 1; i < cword; i++)); do
        case ${COMP_WORDS[i]} in
            run|plan|resume|status|cancel|help) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W 'run plan resume status cancel help' \
            -- "$cur"))
        return
    fi
    # Inventories and reports are CSV files (a case, not compgen -X: its
    # @(...) pattern needs extglob, which only bash-completion turns on).
    local f
    COMPREPLY=()
    while IFS= read -r f; do
        case $f in
            *.csv|*.CSV|*.tsv|*.TSV|*.txt|*.TXT) COMPREPLY+=("$f") ;;
        esac
    done < <(compgen -f -- "$cur")
    while IFS= read -r f; do
        [[ -n $f ]] && COMPREPLY+=("$f/")
    done < <(compgen -d -- "$cur")
}
complete -F _ota_rollout ota-rollout

_ota_emulator()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD-1]}

    COMPREPLY=()
    if [[ $prev == -* ]] && _ota_rollout_value "${COMP_WORDS[0]}" "$prev"; then
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_ota_rollout_opts "${COMP_WORDS[0]}")" \
            -- "$cur"))
    fi
}
complete -F _ota_emulator ota-emulator
