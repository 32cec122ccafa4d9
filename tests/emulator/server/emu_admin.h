/* emu_admin.h - the forms of the emulator's own endpoints: the fault
 * settings POST /__emu/faults changes (and GET shows), the advance
 * of POST /__emu/clock, and the job and action of POST /__emu/console. Parsing only: the server applies the result
 * under its lock (emu_server_set_faults, emu_server_advance_clock).
 *
 * A form is x-www-form-urlencoded "name=value" pairs joined by '&'
 * ('+' a space, %XX a byte; a malformed escape is kept as it is). Pure;
 * thread-safe.
 */
#ifndef EMU_ADMIN_H
#define EMU_ADMIN_H

#include "server/emu_faults.h"

#include <jansson.h>
#include <stddef.h>

struct orch_diag;

/* {"seed":N,"fail-5xx":P,"reset":P,"lose-response":P,"malformed":P,
 *  "slow-body":P,"fail-queries":P,"fault-actions":[..]}. New reference,
 * NULL on ENOMEM. */
json_t *emu_faults_json(const struct emu_fault_opts *f);

/* Applies the form's fail-5xx, reset, lose-response, malformed,
 * fail-queries (probabilities) and fault-actions (a list, "" or "all"
 * for every action) to *f; any other name is refused. Does not run the
 * checks across options (emu_server_check_faults). Returns 0, or
 * ORCH_EINVAL with diag (f then partly changed: work on a copy). */
int emu_faults_apply_form(struct emu_fault_opts *f, const char *form,
                          struct orch_diag *diag);

/* The advance=MS of a clock form into *ms: 1 ms to 366 days. Returns 0,
 * or ORCH_EINVAL with diag (no advance, another name, a bad number). */
int emu_clock_parse_form(const char *form, long long *ms,
                         struct orch_diag *diag);

/* The form of POST /__emu/console, "job=JOBID&action=reupgrade|cancel",
 * into job and action (each of its size, NUL-terminated). Returns 0, or
 * ORCH_EINVAL with diag (a name missing, another name). */
int emu_console_parse_form(const char *form, char *job, size_t jobsz,
                           char *action, size_t actionsz,
                           struct orch_diag *diag);

#endif
