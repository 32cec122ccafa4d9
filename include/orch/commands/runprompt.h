/* runprompt.h - `run`'s confirmation: the question naming what will be
 * created ("Create 100 upgrade jobs for 20,000 devices of a1B... to
 * firmware FW1? [y/N]"), asked on the terminal unless --yes.
 *
 * Each returns ORCH_EXIT_OK to go on, or the exit code to stop with
 * (exitcode.h), its errors printed through ctx->why (reason.h).
 */
#ifndef ORCH_RUNPROMPT_H
#define ORCH_RUNPROMPT_H

#include <stddef.h>

struct orch_run;

/* A confirmation that cannot be asked (no terminal, no --yes) is refused
 * before any call, the pre-flight included (2). */
int orch_runprompt_possible(struct orch_run *ctx);

/* Asks (unless --yes): 2 without a terminal, 4 when the answer is not
 * yes. */
int orch_runprompt_confirm(struct orch_run *ctx);

/* The question (without " [y/N] ") into buf: the jobs and devices still
 * to send, up to three products and firmwares named (else counted). */
void orch_runprompt_question(const struct orch_run *ctx, char *buf,
                             size_t bufsz);

#endif
