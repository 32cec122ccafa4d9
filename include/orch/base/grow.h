/* grow.h - growing a malloced array by doubling: the one way every module
 * makes room for one more element (or n more bytes).
 *
 * Pure apart from realloc; thread-safe on distinct arrays.
 */
#ifndef ORCH_GROW_H
#define ORCH_GROW_H

#include <stddef.h>

/* orch_grow_to: makes room for `need` elements of `elem` bytes in the array `p` (NULL
 * or malloced) whose capacity is *cap elements.
 *
 * When *cap >= need, returns p unchanged. Otherwise the capacity doubles,
 * starting from *cap (or from `first` when *cap is 0), until it holds
 * `need`; the array is realloc()ed to it and *cap set. The first *cap old
 * elements are kept; the new ones are uninitialised.
 *
 * Returns the array (the caller stores it in place of p: p may have
 * moved), or NULL when memory runs out or the size would overflow; then
 * p is still valid and *cap is unchanged. `need` 0 counts as 1, so NULL
 * always means failure. `first` 0 counts as 1. */
void *orch_grow_to(void *p, size_t *cap, size_t need, size_t elem,
                   size_t first);
/* orch_grow_to() with its common case, room enough already, inline: the
 * per-row and per-parameter paths call this on every element, and only a
 * real growth (log2 times) goes out of line. */
static inline void *orch_grow(void *p, size_t *cap, size_t need, size_t elem,
                              size_t first)
{
    if (need != 0 && need <= *cap)
        return p;
    return orch_grow_to(p, cap, need, elem, first);
}

#endif
