/* msgs.h - the program's messages on stderr, prefixed "ota-rollout: "
 * (curl's tool_msgs). Only the edges (cli.c, main.c, run.c) call these.
 *
 * Messages are one line each; the functions add the prefix, the kind
 * ("warning: ", "note: ") and the newline. Not thread-safe (the dispatcher
 * thread never prints).
 */
#ifndef ORCH_MSGS_H
#define ORCH_MSGS_H

#include <stdio.h>

#define ORCH_PROGNAME "ota-rollout"

/* "ota-rollout: MSG" */
void orch_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "ota-rollout: warning: MSG" */
void orch_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "ota-rollout: note: MSG" */
void orch_notef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Redirects the messages (tests); NULL restores stderr. Returns the
 * previous stream (NULL meaning stderr). */
FILE *orch_msgs_set_stream(FILE *fp);

#endif
