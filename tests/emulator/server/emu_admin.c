/* emu_admin.c - the forms of POST /__emu/faults, POST /__emu/clock and
 * POST /__emu/console. */
#include "server/emu_admin.h"

#include "orch/base/codec.h"
#include "orch/base/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *emu_faults_json(const struct emu_fault_opts *f)
{
    json_t *acts = json_array();
    unsigned i = 0;

    for (i = 0; i < f->nactions; i++)
        json_array_append_new(acts, json_string(f->actions[i]));
    return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:o}", "seed",
                     (json_int_t)f->seed, "fail-5xx", f->p_5xx, "reset",
                     f->p_reset, "lose-response", f->p_lose, "malformed",
                     f->p_malformed, "slow-body", f->p_slow, "fail-queries",
                     f->p_fail_query, "fault-actions", acts);
}

/* Decodes [p, p+n) of a form ('+' is a space, %XX a byte) into out. */
static void form_decode(const char *p, size_t n, char *out, size_t cap)
{
    size_t i = 0, o = 0;

    for (i = 0; i < n && o + 1 < cap; i++) {
        const unsigned char *u = (const unsigned char *)p + i;
        int hi = *u == '%' && i + 2 < n ? orch_hex_digit(u[1]) : -1;
        int lo = hi >= 0 ? orch_hex_digit(u[2]) : -1;

        if (lo >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = p[i] == '+' ? ' ' : p[i];
        }
    }
    out[o] = '\0';
}

/* Calls pair(ctx, name, value, diag) for each decoded "name=value" pair
 * of an x-www-form-urlencoded form (NULL: none), stopping at the first
 * nonzero return. 0, that return, or ORCH_EINVAL for a pair without '='. */
static int for_each_form_pair(const char *form,
                              int (*pair)(void *ctx, const char *name,
                                          const char *value,
                                          struct orch_diag *diag),
                              void *ctx, struct orch_diag *diag)
{
    const char *p = form ? form : "";
    int rc = 0;

    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char name[64], value[1024];

        if (len > 0) {
            if (eq == NULL)
                return orch_diag_set(diag, ORCH_EINVAL,
                                     "expected name=value pairs");
            form_decode(p, (size_t)(eq - p), name, sizeof(name));
            form_decode(eq + 1, len - (size_t)(eq - p) - 1, value,
                        sizeof(value));
            rc = pair(ctx, name, value, diag);
            if (rc)
                return rc;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

/* Applies one "name=value" pair of POST /__emu/faults to the
 * struct emu_fault_opts ctx. */
static int set_fault_field(void *ctx, const char *name, const char *value,
                           struct orch_diag *diag)
{
    struct emu_fault_opts *f = ctx;
    double *p = NULL;

    if (strcmp(name, "fault-actions") == 0)
        return emu_faults_parse_actions(f, value, diag);
    p = strcmp(name, "fail-5xx") == 0        ? &f->p_5xx
      : strcmp(name, "reset") == 0           ? &f->p_reset
      : strcmp(name, "lose-response") == 0   ? &f->p_lose
      : strcmp(name, "malformed") == 0       ? &f->p_malformed
      : strcmp(name, "fail-queries") == 0    ? &f->p_fail_query
                                             : NULL;
    if (p == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "\"%s\" cannot be set at run time (fail-5xx, "
                             "reset, lose-response, malformed, fail-queries, "
                             "fault-actions can)",
                             name);
    if (emu_faults_parse_prob(p, value, diag) != 0) {
        char why[sizeof(diag->msg)];

        snprintf(why, sizeof(why), "%s", diag->msg);
        return orch_diag_set(diag, ORCH_EINVAL, "%s: %s", name, why);
    }
    return 0;
}

/* The "advance=MS" pair of POST /__emu/clock into the long long ctx. */
static int clock_field(void *ctx, const char *name, const char *value,
                       struct orch_diag *diag)
{
    long long *ms = ctx;
    char *end = NULL;

    if (strcmp(name, "advance") != 0)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "expected advance=MS (milliseconds, > 0)");
    errno = 0;
    *ms = strtoll(value, &end, 10);
    if (errno || end == value || *end != '\0' || *ms <= 0 ||
        *ms > 366LL * 24 * 3600 * 1000)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "advance must be 1 ms to 366 days (the clock "
                             "never goes back: quotas count in order)");
    return 0;
}

int emu_faults_apply_form(struct emu_fault_opts *f, const char *form,
                          struct orch_diag *diag)
{
    return for_each_form_pair(form, set_fault_field, f, diag);
}

int emu_clock_parse_form(const char *form, long long *ms,
                         struct orch_diag *diag)
{
    int rc = 0;

    *ms = 0;
    rc = for_each_form_pair(form, clock_field, ms, diag);
    if (rc == 0 && *ms == 0)
        rc = orch_diag_set(diag, ORCH_EINVAL,
                           "expected advance=MS (milliseconds, > 0)");
    return rc;
}

struct console_form {
    char *job, *action;
    size_t jobsz, actionsz;
};

/* The "job" and "action" pairs of POST /__emu/console. */
static int console_field(void *ctx, const char *name, const char *value,
                         struct orch_diag *diag)
{
    struct console_form *f = ctx;

    if (strcmp(name, "job") == 0)
        snprintf(f->job, f->jobsz, "%s", value);
    else if (strcmp(name, "action") == 0)
        snprintf(f->action, f->actionsz, "%s", value);
    else
        return orch_diag_set(diag, ORCH_EINVAL,
                             "expected job=JOBID&action=reupgrade|cancel");
    return 0;
}

int emu_console_parse_form(const char *form, char *job, size_t jobsz,
                           char *action, size_t actionsz,
                           struct orch_diag *diag)
{
    struct console_form f = {job, action, jobsz, actionsz};
    int rc = 0;

    job[0] = action[0] = '\0';
    rc = for_each_form_pair(form, console_field, &f, diag);
    if (rc == 0 && (job[0] == '\0' || action[0] == '\0'))
        rc = orch_diag_set(diag, ORCH_EINVAL,
                           "expected job=JOBID&action=reupgrade|cancel");
    return rc;
}
