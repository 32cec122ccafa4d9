/* run.h - the `run` and `plan` commands: inventory, plan, confirmation,
 * credentials, dispatch, report and summary, wired together.
 *
 * This is an edge of the program: it prints (the plan to stdout for
 * `plan`, summaries, the prompt and progress to stderr, errors through
 * reason.h, whose last line is the --json document's exit reason) and
 * installs the interrupt handler (interrupt.h) while calls are in flight.
 * The steps live in the run*.c files beside run.c (runctx.h lists them).
 */
#ifndef ORCH_RUN_H
#define ORCH_RUN_H

struct orch_config;

/* Runs cfg->command (ORCH_CMD_RUN or ORCH_CMD_PLAN) with a config that
 * orch_config_validate() accepted. Returns the process exit code
 * (exitcode.h): 0 every chunk created (or the plan printed), 1 some chunks
 * failed or were not sent, 2 usage/configuration (missing credentials, no
 * --yes without a terminal, report exists without --force), 3 inventory
 * invalid (nothing sent), 4 aborted (credentials rejected, fatal errors,
 * Ctrl-C, or the user said no). Not reentrant. */
int orch_run_main(struct orch_config *cfg);

#endif
