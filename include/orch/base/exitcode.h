/* exitcode.h - the process exit codes (documented in README and --help). */
#ifndef ORCH_EXITCODE_H
#define ORCH_EXITCODE_H

enum orch_exit {
    ORCH_EXIT_OK = 0,        /* every chunk created */
    ORCH_EXIT_PARTIAL = 1,   /* some chunks failed or were not sent */
    ORCH_EXIT_USAGE = 2,     /* usage or configuration error */
    ORCH_EXIT_INVENTORY = 3, /* inventory invalid, nothing sent */
    ORCH_EXIT_ABORTED = 4,   /* credentials rejected, repeated fatal errors,
                                or interrupted */
    ORCH_EXIT_GATE = 5,      /* rollout aborted by a wave's health gate
                                (its pending tasks cancelled) */
    ORCH_EXIT_PAUSED = 6     /* paused: a wave gate timed out, or later
                                scheduled waves wait for the 7-day horizon;
                                continue with --resume */
};

#endif
