/* invfilter.c - --where filters (invfilter.h). */
#include "orch/model/invfilter.h"

#include "orch/base/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* A copy of s[0..len) without the spaces around it, or NULL. */
static char *trimmed_copy(const char *s, size_t len)
{
    char *out = NULL;

    while (len > 0 && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    out = malloc(len + 1);
    if (out) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

static int add_value(struct orch_where *w, const char *s, size_t len)
{
    char **v = realloc(w->values, (w->nvalues + 1) * sizeof(*v));

    if (v == NULL)
        return ORCH_ENOMEM;
    w->values = v;
    v[w->nvalues] = trimmed_copy(s, len);
    if (v[w->nvalues] == NULL)
        return ORCH_ENOMEM;
    w->nvalues++;
    return 0;
}

int orch_where_parse(const char *text, struct orch_where *w,
                     struct orch_diag *diag)
{
    const char *eq = strchr(text, '=');
    const char *p = NULL;
    size_t i = 0;
    int rc = 0;

    memset(w, 0, sizeof(*w));
    w->text = text;
    if (eq == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--where: \"%s\" is not COLUMN=VALUE[,VALUE...] "
                             "(e.g. --where site=Berlin,Hamburg)",
                             text);
    w->column = trimmed_copy(text, (size_t)(eq - text));
    if (w->column == NULL)
        return orch_diag_set(diag, ORCH_ENOMEM, "out of memory");
    if (w->column[0] == '\0')
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--where: \"%s\" names no column before '='",
                             text);
    for (p = eq + 1;; p++) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        rc = add_value(w, p, len);
        if (rc)
            return orch_diag_set(diag, rc, "out of memory");
        if (e == NULL)
            break;
        p = e;
    }
    for (i = 0; i < w->nvalues; i++) {
        if (w->values[i][0] == '\0')
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--where: \"%s\" has an empty value (the "
                                 "values are separated by ',')",
                                 text);
    }
    return 0;
}

bool orch_where_match(const struct orch_where *w, const char *s, size_t len)
{
    size_t i = 0;

    for (i = 0; i < w->nvalues; i++) {
        if (strlen(w->values[i]) == len && memcmp(w->values[i], s, len) == 0)
            return true;
    }
    return false;
}

void orch_where_cleanup(struct orch_where *w)
{
    size_t i = 0;

    if (w == NULL)
        return;
    for (i = 0; i < w->nvalues; i++)
        free(w->values[i]);
    free(w->values);
    free(w->column);
    memset(w, 0, sizeof(*w));
}
