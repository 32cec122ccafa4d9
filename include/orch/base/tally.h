/* tally.h - how many chunks (run) or jobs (cancel) ended with each error
 * code: the "error CODE: N chunks" lines of a summary and the "errors"
 * object of --json.
 *
 * Keeps the first ORCH_TALLY_MAX distinct codes in order of first
 * appearance (a summary names the main causes; the report has every row);
 * a further new code is not kept. Codes longer than 127 bytes are cut.
 * Fixed size, no heap: zero it and add. Caller-owned, not thread-safe.
 */
#ifndef ORCH_TALLY_H
#define ORCH_TALLY_H

#include <stddef.h>

#define ORCH_TALLY_MAX 8

struct orch_tally {
    struct {
        char code[128];
        size_t n;
    } e[ORCH_TALLY_MAX];
    size_t count; /* entries in e */
};

/* Counts one more of `code`. */
void orch_tally_add(struct orch_tally *t, const char *code);

#endif
