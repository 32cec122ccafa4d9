/* reason.c - a command's error lines and the one it ended with
 * (reason.h). */
#include "orch/commands/reason.h"

#include "orch/base/err.h"
#include "orch/base/msgs.h"

#include <stdarg.h>
#include <stdio.h>

void orch_reason_errorf(struct orch_reason *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->text, sizeof(r->text), fmt, ap);
    va_end(ap);
    orch_errorf("%s", r->text);
}

void orch_reason_diag(struct orch_reason *r, int rc,
                      const struct orch_diag *diag)
{
    snprintf(r->text, sizeof(r->text), "%s", orch_diag_text(rc, diag));
    orch_error_diag(rc, diag);
}
