# shellcheck shell=bash
# bench/emu.sh - ota-emulator for the bench scripts: sourced (not run) by
# bench/run.sh and bench/shared.sh after they set EMU (the emulator
# binary), WORK (the run's scratch directory) and the ALIBABA_CLOUD_ACCESS_KEY_*
# the emulator accepts.
#
# emu_start NAME [emulator options...]
#   starts the emulator on a free loopback port (--auto-create), its port
#   file and stderr in $WORK/NAME.emu.{port,err}; sets EMU_PID and PORT.
#   Exits the script (stderr shown) when it does not start.
# emu_stop
#   stops it (SIGTERM) and waits; clears EMU_PID.
# An EXIT trap of the sourcing script should stop $EMU_PID when set.

EMU_PID=
PORT=
emu_start() {
    local name=$1 i
    shift
    "$EMU" --port 0 --auto-create \
        --access-key "$ALIBABA_CLOUD_ACCESS_KEY_ID:$ALIBABA_CLOUD_ACCESS_KEY_SECRET" \
        "$@" >"$WORK/$name.emu.port" 2>"$WORK/$name.emu.err" &
    EMU_PID=$!
    for i in $(seq 100); do # i: the tries
        PORT=$(head -n1 "$WORK/$name.emu.port" 2>/dev/null || true)
        [ -n "$PORT" ] && return 0
        sleep 0.05
    done
    echo "bench: ota-emulator did not start" >&2
    cat "$WORK/$name.emu.err" >&2
    exit 1
}
emu_stop() {
    kill -TERM "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
    EMU_PID=
}
