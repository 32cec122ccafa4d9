/* runpreflight.h - `run` and `plan --preflight`: credentials and the
 * pre-flight wired to the command (preflight.h does the checks): what is
 * told about them, and the plan rebuilt without the devices the device
 * check left out.
 *
 * Each returns ORCH_EXIT_OK to go on, or the exit code to stop with
 * (exitcode.h), its errors printed through ctx->why (reason.h).
 */
#ifndef ORCH_RUNPREFLIGHT_H
#define ORCH_RUNPREFLIGHT_H

#include <stdio.h>

struct orch_credentials;
struct orch_run;

/* Loads the credentials (caller-owned *cred; orch_credentials_cleanup)
 * and says which. */
int orch_runpreflight_credentials(struct orch_run *ctx,
                                  struct orch_credentials *cred);

/* The firmware check (unless --skip-preflight, which only warns): 2 when
 * a firmware is refused, 4 when the check was aborted (credentials
 * rejected, query denied). */
int orch_runpreflight_firmware(struct orch_run *ctx,
                               const struct orch_credentials *cred);

/* --check-devices (SPECIFIC, new runs only): BatchQueryDeviceDetail, the
 * devices left out into the rejects file (run) or shown (plan), the plan
 * rebuilt without them. A Ctrl-C stops it (4). */
int orch_runpreflight_devices(struct orch_run *ctx,
                              const struct orch_credentials *cred);

/* Nothing left after the device check: 0 when every device already runs
 * the firmware (a note), else 3. */
int orch_runpreflight_nothing_left(struct orch_run *ctx);

/* The devices the device check left out, and what is left. */
void orch_runpreflight_print_dropped(const struct orch_run *ctx, FILE *fp);

#endif
