/* err.c - error names, messages and the caller's diagnostic buffer. */
#include "orch/base/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *orch_strerror(int err)
{
    switch (err) {
    case ORCH_OK:
        return "success";
#define XX(name, msg)                                                      \
    case ORCH_##name:                                                      \
        return msg;
        ORCH_ERR_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

const char *orch_errname(int err)
{
    switch (err) {
    case ORCH_OK:
        return "OK";
#define XX(name, msg)                                                      \
    case ORCH_##name:                                                      \
        return #name;
        ORCH_ERR_MAP(XX)
#undef XX
    default:
        return "EUNKNOWN";
    }
}

int orch_diag_set(struct orch_diag *diag, int err, const char *fmt, ...)
{
    va_list ap;

    if (diag == NULL)
        return err;
    va_start(ap, fmt);
    vsnprintf(diag->msg, sizeof(diag->msg), fmt, ap);
    va_end(ap);
    return err;
}

const char *orch_diag_text(int err, const struct orch_diag *diag)
{
    if (diag != NULL && diag->msg[0] != '\0')
        return diag->msg;
    return orch_strerror(err);
}
