/* plancmd.h - the `plan` command, after the inventory and the plan are
 * loaded (runinventory.h): offline, the plan summary, the waves and the
 * first request's parameters on stdout; with --preflight the credentials,
 * the firmware check and (--check-devices) the device check too.
 */
#ifndef ORCH_PLANCMD_H
#define ORCH_PLANCMD_H

#include <stdbool.h>

struct orch_credentials;
struct orch_params;
struct orch_run;

/* Prints the plan. cred is caller-owned (loaded here with --preflight);
 * with --json, *first gets the first request's parameters and
 * *have_first says so (the caller cleans *first up). Returns the exit
 * code, its errors printed through ctx->why (reason.h). */
int orch_plancmd_main(struct orch_run *ctx, struct orch_credentials *cred,
                      struct orch_params *first, bool *have_first);

#endif
