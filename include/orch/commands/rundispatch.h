/* rundispatch.h - `run`: one sending pass of the Create calls through the
 * dispatcher (dispatch.h), wired to the run: each call's journal records
 * and --log-format json events, each chunk's result into the run log,
 * the progress, Ctrl-C (interrupt.h: the first stops starting calls, the
 * second aborts those in flight), and the final summary of the pass.
 */
#ifndef ORCH_RUNDISPATCH_H
#define ORCH_RUNDISPATCH_H

struct orch_credentials;
struct orch_run;

/* Sends the chunks this run still has to send (in a wave: those of
 * [ctx->wave_lo, ctx->wave_hi), with ctx->wave_cfg's schedule). A resumed
 * run first waits for the earlier run's last calls to settle. Returns
 * ORCH_EXIT_OK, ORCH_EXIT_ABORTED (interrupted, or the dispatcher
 * stopped: the errors printed through ctx->why) or ORCH_EXIT_USAGE (the
 * dispatcher could not start). */
int orch_rundispatch_run(struct orch_run *ctx,
                         const struct orch_credentials *cred);

#endif
