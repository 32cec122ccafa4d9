/* runwaveacct.h - the end of a waved `run`: the account of every wave
 * and the total (waveaccount.h), from the whole run's rows (the chunks
 * of waves not created with their planrows.h rows) and every wave record
 * of the journal (ctx->wave_log, the earlier runs' included).
 */
#ifndef ORCH_RUNWAVEACCT_H
#define ORCH_RUNWAVEACCT_H

#include <stdio.h>

#include <jansson.h>

struct orch_run;

/* Each wave's line and the total over every wave, after a blank line.
 * Prints nothing when the run is not waved. */
void orch_runwaveacct_print(const struct orch_run *ctx, FILE *fp);

/* The same as `run --json`'s "waves" array (new reference), json null
 * when the run is not waved; NULL on ENOMEM. */
json_t *orch_runwaveacct_json(const struct orch_run *ctx);

#endif
