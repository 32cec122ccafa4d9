/* str.c - small owned-string helpers (str.h). */
#include "orch/base/str.h"

#include <stdlib.h>
#include <string.h>

#include "orch/base/err.h"

int orch_str_set(char **dst, const char *value)
{
    char *copy = strdup(value);

    if (copy == NULL)
        return ORCH_ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}
