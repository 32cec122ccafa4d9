/* runwaves.h - `run --waves` / `--wait`: the run as the host of the waves
 * runner (waverun.h): the plan split into waves, and the callbacks that
 * create a wave's chunks through the run's dispatch, tell their job ids
 * and journal the runner's records.
 *
 * Each returns ORCH_EXIT_OK to go on, or the exit code to stop with
 * (exitcode.h), its errors printed through ctx->why (reason.h).
 */
#ifndef ORCH_RUNWAVES_H
#define ORCH_RUNWAVES_H

struct orch_credentials;
struct orch_run;

/* Splits the (final) plan into waves when --waves is given (SPECIFIC):
 * sets ctx->waved and ctx->wp, with the schedule as it will be. */
int orch_runwaves_setup(struct orch_run *ctx);

/* Writes the waves file, sends what is left when not waved (--wait),
 * then runs the waves runner; cred is borrowed for the whole call.
 * Returns the exit code. */
int orch_runwaves_run(struct orch_run *ctx,
                      const struct orch_credentials *cred);

#endif
