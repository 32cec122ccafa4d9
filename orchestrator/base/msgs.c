/* msgs.c - "ota-rollout: " prefixed messages on stderr (curl's tool_msgs).
 *
 * Colours (red errors, yellow warnings, cyan notes) only on a terminal and
 * never with NO_COLOR or TERM=dumb; with --log-format json every message
 * is a JSON line instead, so that stderr holds nothing else.
 */
#include "orch/base/msgs.h"

#include "orch/base/err.h"
#include "orch/base/jsonout.h"
#include "orch/base/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COLOR_RED "\033[1;31m"
#define COLOR_YELLOW "\033[1;33m"
#define COLOR_CYAN "\033[1;36m"
#define COLOR_RESET "\033[0m"

/* NULL means stderr: stderr is not a constant expression in C. */
static FILE *msgs_stream;
static bool msgs_json;
static int msgs_color = -1; /* -1: decide on the first message */

FILE *orch_msgs_set_stream(FILE *fp)
{
    FILE *old = msgs_stream;

    msgs_stream = fp;
    return old;
}

void orch_msgs_set_json(bool on)
{
    msgs_json = on;
}

bool orch_msgs_json(void)
{
    return msgs_json;
}

void orch_msgs_set_color(bool on)
{
    msgs_color = on ? 1 : 0;
}

bool orch_msgs_color_wanted(bool is_tty, const char *no_color,
                            const char *term)
{
    if (!is_tty)
        return false;
    if (no_color != NULL && no_color[0] != '\0')
        return false;
    return term == NULL || strcmp(term, "dumb") != 0;
}

void orch_error_diag(int rc, const struct orch_diag *diag)
{
    orch_errorf("%s", orch_diag_text(rc, diag));
}

static bool use_color(FILE *fp)
{
    if (msgs_color < 0)
        msgs_color = orch_msgs_color_wanted(isatty(fileno(fp)) == 1,
                                            getenv("NO_COLOR"),
                                            getenv("TERM"))
                         ? 1
                         : 0;
    return msgs_color == 1;
}

/* Writes one whole line so that concurrent writers (a pipe shared with the
 * emulator in tests) do not interleave within it. */
static void voutf(const char *level, const char *kind, const char *color,
                  const char *fmt, va_list ap)
{
    FILE *fp = msgs_stream ? msgs_stream : stderr;
    char text[2048];
    json_t *ev = NULL;

    vsnprintf(text, sizeof(text), fmt, ap);
    if (msgs_json) {
        ev = orch_event_new("message", orch_wall_ms());
        if (ev) {
            json_object_set_new(ev, "level", json_string(level));
            json_object_set_new(ev, "message", json_string(text));
        }
        orch_event_emit(fp, ev);
        return;
    }
    if (use_color(fp))
        fprintf(fp, "%s: %s%s%s%s\n", ORCH_PROGNAME, color, kind, text,
                COLOR_RESET);
    else
        fprintf(fp, "%s: %s%s\n", ORCH_PROGNAME, kind, text);
    fflush(fp);
}

void orch_errorf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    voutf("error", "", COLOR_RED, fmt, ap);
    va_end(ap);
}

void orch_warnf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    voutf("warning", "warning: ", COLOR_YELLOW, fmt, ap);
    va_end(ap);
}

void orch_notef(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    voutf("note", "note: ", COLOR_CYAN, fmt, ap);
    va_end(ap);
}
