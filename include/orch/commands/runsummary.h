/* runsummary.h - what `run` and `plan` tell about themselves, from the
 * run's state (summary.h renders it): the plan summary, a resumed run's
 * state, the facts of the one next step, and the --json document /
 * --log-format json "summary" event at the end.
 */
#ifndef ORCH_RUNSUMMARY_H
#define ORCH_RUNSUMMARY_H

#include <stdbool.h>
#include <stdio.h>

struct orch_params;
struct orch_run;
struct orch_summary_next;

/* The plan summary (summary.h's orch_summary_print_plan) on fp. */
void orch_runsummary_print_plan(const struct orch_run *ctx, FILE *fp);

/* "resuming run ID: ..." on the human stream, when resuming. */
void orch_runsummary_print_resume(const struct orch_run *ctx);

/* The whole run's outcomes the next step depends on. */
void orch_runsummary_next(const struct orch_run *ctx,
                          struct orch_summary_next *nx);

/* `--json`: the summary document on stdout; `--log-format json`: the same
 * as a "summary" event on stderr; nothing when both are off. code is the
 * exit code, whose reason (unless derived from the counts) is
 * ctx->why's text; is_run: `run` (else `plan`, with the first request's
 * parameters `first`, NULL: none). */
void orch_runsummary_emit(struct orch_run *ctx, int code, bool is_run,
                          const struct orch_params *first);

#endif
