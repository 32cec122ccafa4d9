/* tally.c - error-code counts (tally.h). */
#include "orch/base/tally.h"

#include <stdio.h>
#include <string.h>

void orch_tally_add(struct orch_tally *t, const char *code)
{
    char cut[sizeof(t->e[0].code)];
    size_t i = 0;

    /* Compared as stored: a long code is cut the same way each time. */
    snprintf(cut, sizeof(cut), "%s", code);
    for (i = 0; i < t->count; i++) {
        if (strcmp(t->e[i].code, cut) == 0) {
            t->e[i].n++;
            return;
        }
    }
    if (t->count < ORCH_TALLY_MAX) {
        memcpy(t->e[t->count].code, cut, sizeof(cut));
        t->e[t->count].n = 1;
        t->count++;
    }
}
