/* exitcode.h - the process exit codes (documented in README and --help). */
#ifndef ORCH_EXITCODE_H
#define ORCH_EXITCODE_H

enum orch_exit {
    ORCH_EXIT_OK = 0,        /* every chunk created */
    ORCH_EXIT_PARTIAL = 1,   /* some chunks failed or were not sent */
    ORCH_EXIT_USAGE = 2,     /* usage or configuration error */
    ORCH_EXIT_INVENTORY = 3, /* inventory invalid, nothing sent */
    ORCH_EXIT_ABORTED = 4    /* credentials rejected, repeated fatal errors,
                                or interrupted */
};

#endif
