/* emu_log.c - ota-emulator's JSON-lines request log. */
#include "server/emu_log.h"

#include "orch/base/err.h"
#include "orch/cloud/params.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct emu_log {
    FILE *f;
    pthread_mutex_t lock;
};

int emu_log_open(struct emu_log **out, const char *path,
                 struct orch_diag *diag)
{
    struct emu_log *l = calloc(1, sizeof(*l));

    *out = NULL;
    if (l == NULL)
        return ORCH_ENOMEM;
    l->f = fopen(path, "a");
    if (l->f == NULL) {
        int e = errno;

        free(l);
        return orch_diag_set(diag, ORCH_EIO, "%s: %s", path, strerror(e));
    }
    pthread_mutex_init(&l->lock, NULL);
    *out = l;
    return 0;
}

void emu_log_close(struct emu_log *l)
{
    if (l == NULL)
        return;
    fclose(l->f);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* Secrets never reach the log: the signature (a MAC usable for replay
 * within the skew window), the STS token and an OIDC token. */
static int redacted(const char *name)
{
    return strcmp(name, "Signature") == 0
        || strcmp(name, "SecurityToken") == 0
        || strcmp(name, "OIDCToken") == 0;
}

json_t *emu_log_params_json(const struct orch_params *p)
{
    json_t *o = json_object();
    size_t i = 0;

    if (o == NULL)
        return NULL;
    for (i = 0; p && i < p->n; i++) {
        const char *v = redacted(p->v[i].name) ? "***" : p->v[i].value;
        /* Values are whatever the client sent: keep invalid UTF-8 out of
         * the JSON rather than fail the line. */
        json_t *s = json_string(v);

        if (s == NULL)
            s = json_string("<invalid UTF-8>");
        if (s == NULL || json_object_set_new(o, p->v[i].name, s) != 0) {
            /* A name that is not UTF-8 is dropped. */
            continue;
        }
    }
    return o;
}

static json_t *str_or_empty(const char *s)
{
    json_t *j = json_string(s ? s : "");

    return j ? j : json_string("<invalid UTF-8>");
}

json_t *emu_log_entry_json(const struct emu_log_entry *e)
{
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "t", json_integer(e->t));
    json_object_set_new(o, "request_id", str_or_empty(e->request_id));
    json_object_set_new(o, "method", str_or_empty(e->method));
    json_object_set_new(o, "action", str_or_empty(e->action));
    json_object_set_new(o, "key_id", str_or_empty(e->key_id));
    json_object_set_new(o, "sigver", json_integer(e->sigver));
    json_object_set_new(o, "sig_ok", json_boolean(e->sig_ok));
    json_object_set_new(o, "params", emu_log_params_json(e->params));
    json_object_set_new(o, "code", str_or_empty(e->code));
    json_object_set_new(o, "http", json_integer(e->http));
    json_object_set_new(o, "job_id", str_or_empty(e->job_id));
    json_object_set_new(o, "devices",
                        e->devices ? json_incref(e->devices) : json_array());
    json_object_set_new(o, "fault",
                        e->fault ? json_string(e->fault) : json_null());
    return o;
}

int emu_log_write(struct emu_log *l, const struct emu_log_entry *e)
{
    json_t *o = NULL;
    char *line = NULL;
    int rc = 0;

    if (l == NULL)
        return 0;
    o = emu_log_entry_json(e);
    if (o == NULL)
        return ORCH_ENOMEM;
    line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (line == NULL)
        return ORCH_ENOMEM;
    pthread_mutex_lock(&l->lock);
    if (fputs(line, l->f) == EOF || fputc('\n', l->f) == EOF
        || fflush(l->f) != 0)
        rc = ORCH_EIO;
    pthread_mutex_unlock(&l->lock);
    free(line);
    return rc;
}
