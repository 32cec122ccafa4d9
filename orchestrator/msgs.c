/* msgs.c - "ota-rollout: " prefixed messages on stderr (curl's tool_msgs). */
#include "orch/msgs.h"

#include <stdarg.h>
#include <stdio.h>

/* NULL means stderr: stderr is not a constant expression in C. */
static FILE *msgs_stream;

FILE *orch_msgs_set_stream(FILE *fp)
{
    FILE *old = msgs_stream;

    msgs_stream = fp;
    return old;
}

/* Writes one whole line so that concurrent writers (a pipe shared with the
 * emulator in tests) do not interleave within it. */
static void voutf(const char *kind, const char *fmt, va_list ap)
{
    FILE *fp = msgs_stream ? msgs_stream : stderr;
    char line[2048];
    int n = 0;

    n = snprintf(line, sizeof(line), "%s: %s", ORCH_PROGNAME, kind);
    if (n < 0)
        return;
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    fprintf(fp, "%s\n", line);
    fflush(fp);
}

void orch_errorf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    voutf("", fmt, ap);
    va_end(ap);
}

void orch_warnf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    voutf("warning: ", fmt, ap);
    va_end(ap);
}

void orch_notef(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    voutf("note: ", fmt, ap);
    va_end(ap);
}
