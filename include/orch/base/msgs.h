/* msgs.h - the program's messages on stderr, prefixed "ota-rollout: "
 * (curl's tool_msgs). Only the edges (cli.c, main.c, run.c) call these.
 *
 * Messages are one line each; the functions add the prefix, the kind
 * ("warning: ", "note: ") and the newline. Not thread-safe (the dispatcher
 * thread never prints).
 */
#ifndef ORCH_MSGS_H
#define ORCH_MSGS_H

#include <stdbool.h>
#include <stdio.h>

#define ORCH_PROGNAME "ota-rollout"

/* "ota-rollout: MSG" */
void orch_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The error line of a failed step at a command's edge: "ota-rollout:
 * DIAG" with the diag's text, or the error table's text for rc when the
 * diag is empty. diag may be NULL. */
struct orch_diag;
void orch_error_diag(int rc, const struct orch_diag *diag);
/* "ota-rollout: warning: MSG" */
void orch_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "ota-rollout: note: MSG" */
void orch_notef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Redirects the messages (tests); NULL restores stderr. Returns the
 * previous stream (NULL meaning stderr). */
FILE *orch_msgs_set_stream(FILE *fp);

/* ---- output for machines and terminals ---- */

/* --log-format json: each message becomes one JSON line
 * {"time":..,"ts":..,"event":"message","level":"error|warning|note",
 * "message":MSG} (jsonout.h's event shape). */
void orch_msgs_set_json(bool on);
bool orch_msgs_json(void);
/* Colours: the kind ("warning: ", "note: ") and errors are coloured only
 * when orch_msgs_color_wanted() says so for the message stream. Called by
 * main (or run) once; off by default. */
void orch_msgs_set_color(bool on);
/* The colour rule, pure: a terminal, NO_COLOR unset or empty
 * (https://no-color.org), and TERM not "dumb". */
bool orch_msgs_color_wanted(bool is_tty, const char *no_color,
                            const char *term);

#endif
