# bash completion for ota-rollout and ota-emulator        -*- shell-script -*-
# Options are read from `--help` so that the list never goes stale.

_ota_rollout_opts()
{
    "$1" --help 2>/dev/null | grep -oE -- '--[a-z0-9][a-z0-9-]+' | sort -u
}

_ota_rollout()
{
    local cur prev words cword
    _init_completion 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        cword=$COMP_CWORD
    }

    case $prev in
        --report|--ca-bundle|--devices)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --target)
            COMPREPLY=($(compgen -W 'SPECIFIC ALL GRAY' -- "$cur"))
            return ;;
        --signature-version)
            COMPREPLY=($(compgen -W '3 2' -- "$cur"))
            return ;;
        --overwrite-mode)
            COMPREPLY=($(compgen -W '1 2' -- "$cur"))
            return ;;
        --retry-interval)
            COMPREPLY=($(compgen -W '0 10 30 60 1440' -- "$cur"))
            return ;;
        --retry-count)
            COMPREPLY=($(compgen -W '1 2 5' -- "$cur"))
            return ;;
        --delimiter)
            COMPREPLY=($(compgen -W ', ; tab |' -- "$cur"))
            return ;;
        --profile)
            local names
            names=$(grep -oE '"name"[[:space:]]*:[[:space:]]*"[^"]+"' \
                ~/.aliyun/config.json 2>/dev/null | sed 's/.*"\([^"]*\)"$/\1/')
            COMPREPLY=($(compgen -W "$names" -- "$cur"))
            return ;;
        --firmware-id|--product-key|--firmware|--src-version|--gray-percent|\
        --schedule-time|--schedule-finish-time|--timeout-minutes|\
        --max-per-minute|--endpoint|--region|--iot-instance-id|--qps|\
        --max-in-flight|--max-attempts|--chunk-size|--request-timeout|\
        --interval|--query-qps)
            return ;;
    esac

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
    # Inventories and reports are CSV files.
    COMPREPLY=($(compgen -f -X '!*.@(csv|CSV|tsv|TSV|txt)' -- "$cur"))
    COMPREPLY+=($(compgen -d -- "$cur"))
}
complete -F _ota_rollout ota-rollout

_ota_emulator()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD-1]}

    case $prev in
        --fixture|--tls-cert|--tls-key|--request-log)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_ota_rollout_opts "${COMP_WORDS[0]}")" \
            -- "$cur"))
    fi
}
complete -F _ota_emulator ota-emulator
