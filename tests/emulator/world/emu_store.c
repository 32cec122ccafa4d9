/* emu_store.c - hash maps, the slab and pointer vectors of the world.
 *
 * DESIGN: big allocations (a map's table, a slab chunk) come from mmap
 * so that they cost no copy and their pages are only touched as entries
 * arrive; small ones from calloc. Both are zeroed.
 */
#include "world/emu_store.h"

#include "world/emu_hash.h"

#include "orch/base/err.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *emu_map_get(const struct emu_map *m, const char *key)
{
    return emu_map_get_h(m, key, emu_hash(key, strlen(key)));
}

void *emu_map_get_h(const struct emu_map *m, const char *key, uint64_t h)
{
    size_t i = 0;

    if (m->cap == 0)
        return NULL;
    for (i = h & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1)) {
        if (m->v[i].hash == h && strcmp(m->v[i].key, key) == 0)
            return m->v[i].val;
    }
    return NULL;
}

static void map_insert_raw(struct emu_map_ent *v, size_t cap, uint64_t h,
                           const char *key, void *val)
{
    size_t i = h & (cap - 1);

    while (v[i].key)
        i = (i + 1) & (cap - 1);
    v[i].hash = h;
    v[i].key = key;
    v[i].val = val;
}

/* Big tables (the device map of a benchmark world: 50 MB) come from mmap
 * with transparent huge pages requested, because a lookup there is one
 * cache and TLB miss and the huge pages halve its cost. Zeroed either way. */
#define MAP_MMAP_BYTES ((size_t)4 << 20)

/* huge: ask for transparent huge pages. The device map wants them (a
 * lookup is one random access in 50 MB: measured 0.114 -> 0.105 ms per
 * 200-device Create); the slab does not (it is written in order, and 170
 * MB of huge pages made the kernel compact memory on faults: 0.10 -> 0.16
 * ms on a machine that had run for a while). */
static void *big_alloc(size_t bytes, int huge)
{
    void *p = NULL;

    if (bytes < MAP_MMAP_BYTES)
        return calloc(1, bytes);
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (huge)
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint; failure is fine */
#endif
    return p;
}

static void *table_alloc(size_t bytes)
{
    return big_alloc(bytes, 1);
}

static void table_free(void *p, size_t bytes)
{
    if (p == NULL)
        return;
    if (bytes < MAP_MMAP_BYTES)
        free(p);
    else
        munmap(p, bytes);
}

/* Rehashes into a table of cap slots (a power of two). */
static int map_rehash(struct emu_map *m, size_t cap)
{
    struct emu_map_ent *v = table_alloc(cap * sizeof(*v));
    size_t i = 0;

    if (v == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < m->cap; i++) {
        if (m->v[i].key)
            map_insert_raw(v, cap, m->v[i].hash, m->v[i].key, m->v[i].val);
    }
    table_free(m->v, m->cap * sizeof(*v));
    m->v = v;
    m->cap = cap;
    return 0;
}

/* Load factor at most 1/2: linear probing stays short, and a miss (the
 * auto-create case) ends after a couple of slots. */
int emu_map_reserve(struct emu_map *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 64;

    while (cap < 2 * n)
        cap *= 2;
    if (cap == m->cap)
        return 0;
    return map_rehash(m, cap);
}

int emu_map_put_h(struct emu_map *m, const char *key, uint64_t h, void *val)
{
    int rc = emu_map_reserve(m, m->n + 1);

    if (rc)
        return rc;
    map_insert_raw(m->v, m->cap, h, key, val);
    m->n++;
    return 0;
}

int emu_map_put(struct emu_map *m, const char *key, void *val)
{
    return emu_map_put_h(m, key, emu_hash(key, strlen(key)), val);
}

void emu_map_prefetch(const struct emu_map *m, uint64_t h)
{
    if (m->cap)
        __builtin_prefetch(&m->v[h & (m->cap - 1)]);
}

void emu_map_cleanup(struct emu_map *m)
{
    table_free(m->v, m->cap * sizeof(*m->v));
    memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ slab */

#define SLAB_FIRST ((size_t)64 << 10)
#define SLAB_MAX ((size_t)32 << 20)
#define SLAB_ALIGN 16

void *emu_slab_alloc(struct emu_slab *sl, size_t bytes)
{
    size_t hdr = (sizeof(struct emu_slab_chunk) + SLAB_ALIGN - 1)
               & ~(size_t)(SLAB_ALIGN - 1);
    size_t need = (bytes + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1);
    struct emu_slab_chunk *c = NULL;
    size_t size = 0;
    void *p = NULL;

    if (need < bytes || need > ((size_t)-1) / 2)
        return NULL;
    if (need > sl->left) {
        if (sl->next_size == 0)
            sl->next_size = SLAB_FIRST;
        size = sl->next_size;
        /* A big request (a task array of an ALL job over a large product)
         * gets a chunk of its own; the current chunk stays current. */
        if (need > size / 4)
            size = hdr + need;
        c = big_alloc(size, 0);
        if (c == NULL)
            return NULL;
        c->bytes = size;
        c->next = sl->chunks;
        sl->chunks = c;
        if (size == sl->next_size) {
            sl->cur = (char *)c + hdr;
            sl->left = size - hdr;
            if (sl->next_size < SLAB_MAX)
                sl->next_size *= 2;
        } else {
            return (char *)c + hdr;
        }
    }
    p = sl->cur;
    sl->cur += need;
    sl->left -= need;
    return p;
}

void emu_slab_cleanup(struct emu_slab *sl)
{
    struct emu_slab_chunk *c = sl->chunks;

    while (c) {
        struct emu_slab_chunk *next = c->next;

        table_free(c, c->bytes);
        c = next;
    }
    memset(sl, 0, sizeof(*sl));
}

int emu_vec_push(void ***v, size_t *n, size_t *cap, void *p)
{
    void **nv = NULL;
    size_t ncap = 0;

    if (*n == *cap) {
        ncap = *cap ? *cap * 2 : 8;
        nv = realloc(*v, ncap * sizeof(*nv));
        if (nv == NULL)
            return ORCH_ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = p;
    return 0;
}
