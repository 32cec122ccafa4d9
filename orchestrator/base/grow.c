/* grow.c - growing a malloced array by doubling (grow.h). */
#include "orch/base/grow.h"

#include <stdint.h>
#include <stdlib.h>

void *orch_grow_to(void *p, size_t *cap, size_t need, size_t elem,
                   size_t first)
{
    size_t ncap = *cap ? *cap : (first ? first : 1);
    void *np = NULL;

    if (need == 0)
        need = 1;
    if (need <= *cap)
        return p;
    if (elem == 0)
        elem = 1;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return NULL;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return NULL;
    np = realloc(p, ncap * elem);
    if (np == NULL)
        return NULL;
    *cap = ncap;
    return np;
}
