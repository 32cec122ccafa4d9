/* reason.h - why a command failed, as it told the user: every error line
 * of `run` and `plan` (and of the waves runner inside `run`) is printed
 * through here, and the last one is kept as the reason the --json
 * document gives for the exit ("exit": {"reason": ...}).
 *
 * The command owns one struct orch_reason and hands it to each step that
 * may fail; nothing is kept anywhere else (msgs.h only prints). The text
 * holds a whole message line (msgs.h truncates its lines at the same
 * length), so the reason is the line as printed. Not thread-safe: the
 * command's thread only.
 */
#ifndef ORCH_REASON_H
#define ORCH_REASON_H

struct orch_diag;

#define ORCH_REASON_LEN 2048

struct orch_reason {
    char text[ORCH_REASON_LEN]; /* the last error line told, "" if none */
};

/* Prints "ota-rollout: MSG" (msgs.h's error line) and keeps MSG in r. */
void orch_reason_errorf(struct orch_reason *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the failed step's error line (orch_error_diag: the diag's text,
 * or the error table's for rc when it is empty; diag may be NULL) and
 * keeps that text in r. */
void orch_reason_diag(struct orch_reason *r, int rc,
                      const struct orch_diag *diag);

#endif
