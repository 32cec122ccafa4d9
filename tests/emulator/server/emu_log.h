/* emu_log.h - ota-emulator's request log: one JSON object per line.
 *
 * Line fields: t (arrival, emulator epoch ms), request_id, method, action,
 * key_id, sigver (2, 3 or 0), sig_ok, params (object of the decoded
 * parameters; Signature, SecurityToken and OIDCToken redacted as "***"),
 * code (""
 * on success), http (status sent; for a lost response the status the
 * processed answer would have had), job_id ("" when none), devices (array
 * of device names put in a job, [] when none), fault (name or null).
 * A line is flushed as soon as it is written, so tests may read the file
 * while the emulator runs. Thread-safe.
 */
#ifndef EMU_LOG_H
#define EMU_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct orch_diag;
struct orch_params;
struct emu_log;

struct emu_log_entry {
    int64_t t;
    const char *request_id;
    const char *method;
    const char *action;
    const char *key_id;
    int sigver;
    bool sig_ok;
    const struct orch_params *params; /* may be NULL */
    const char *code;
    int http;
    const char *job_id;
    json_t *devices; /* borrowed; NULL = [] */
    const char *fault; /* NULL = null */
};

/* Opens (appends to) path. Returns 0 or ORCH_EIO with diag. */
int emu_log_open(struct emu_log **out, const char *path,
                 struct orch_diag *diag);
/* NULL-safe. */
void emu_log_close(struct emu_log *l);
/* Appends one line. l may be NULL (no log). Returns 0, ORCH_EIO or
 * ORCH_ENOMEM. */
int emu_log_write(struct emu_log *l, const struct emu_log_entry *e);
/* The redacted params object (new reference, or NULL on ENOMEM). */
json_t *emu_log_params_json(const struct orch_params *p);
/* The whole entry as a JSON object (new reference, or NULL on ENOMEM). */
json_t *emu_log_entry_json(const struct emu_log_entry *e);

#endif
