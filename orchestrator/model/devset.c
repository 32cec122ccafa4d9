/* devset.c - the duplicate set of an inventory load (devset.h). */
#include "orch/model/devset.h"

#include "orch/base/err.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HSET_MIN_CAP 1024u
#define HSET_MAX_BITS 31u
#define PIPELINE ORCH_DEVSET_PIPELINE
#define DROPPED ORCH_DEVSET_DROPPED

/* ------------------------------------------------------------------ */
/* Hashing                                                              */

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Hash of (product index, name): eight bytes at a time (names are short),
 * then a final mix so that both the low bits (slot) and the high bits
 * (tag) are usable. */
static uint64_t hash_name(uint32_t product, const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull * ((uint64_t)product + 1) ^ len;
    uint64_t w = 0;

    while (len >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
        s += 8;
        len -= 8;
    }
    w = 0;
    memcpy(&w, s, len);
    h = (h ^ w) * 0x100000001b3ull;
    return mix64(h);
}

static uint64_t device_hash(const struct orch_device *d, const char *names)
{
    const char *name = names + d->name_off;

    return hash_name(d->product, name, strlen(name));
}

/* ------------------------------------------------------------------ */
/* The set                                                              */

/* Capacities are powers of two. */
static unsigned log2_cap(size_t cap)
{
    return (unsigned)__builtin_ctzll((unsigned long long)cap);
}

/* The slot bits above the index bits, which hold the hash's tag. */
static uint32_t tag_mask(size_t cap)
{
    unsigned bits = log2_cap(cap);

    return bits >= 32 ? 0 : (uint32_t)(~0u << bits);
}

/* Puts device i (known absent) into the slots of capacity cap. */
static void slots_put(uint32_t *slots, size_t cap, uint64_t h, uint32_t i)
{
    uint32_t entry = ((uint32_t)(h >> 32) & tag_mask(cap)) | (i + 1);
    size_t mask = cap - 1;
    size_t slot = (size_t)h & mask;

    while (slots[slot] != 0)
        slot = (slot + 1) & mask;
    slots[slot] = entry;
}

/* The first set's capacity: sized for the expected device count, which
 * saves the rehashes (and the zeroing of the tables in between). */
static size_t first_cap(size_t expect)
{
    size_t cap = HSET_MIN_CAP;

    while (expect * 10 > cap * 7 && log2_cap(cap) < HSET_MAX_BITS)
        cap *= 2;
    return cap;
}

/* Doubles the set and re-inserts devices [0, limit) that are kept. The
 * inserts land all over a table far bigger than the caches, so each slot
 * is prefetched PIPELINE devices ahead (names are read in order). */
static int grow_set(struct orch_devset *s, const struct orch_device *dev,
                    const char *names, size_t limit)
{
    size_t ncap = s->cap ? s->cap * 2 : first_cap(s->expect);
    uint32_t *nslots = NULL;
    uint64_t ring[PIPELINE];
    size_t i = 0, ahead = 0;

    if (log2_cap(ncap) > HSET_MAX_BITS)
        return ORCH_ETOOBIG;
    nslots = calloc(ncap, sizeof(*nslots));
    if (nslots == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < limit; i++) {
        while (ahead < limit && ahead < i + PIPELINE) {
            if (dev[ahead].product != DROPPED) {
                ring[ahead % PIPELINE] = device_hash(&dev[ahead], names);
                __builtin_prefetch(&nslots[ring[ahead % PIPELINE] & (ncap - 1)],
                                   1);
            }
            ahead++;
        }
        if (dev[i].product == DROPPED)
            continue;
        slots_put(nslots, ncap, ring[i % PIPELINE], (uint32_t)i);
    }
    free(s->slots);
    s->slots = nslots;
    s->cap = ncap;
    return 0;
}

/* Returns true if (product, name) is already in the set. */
static bool set_contains(const struct orch_devset *s,
                         const struct orch_device *dev, const char *names,
                         uint64_t h, uint32_t product, const char *name)
{
    uint32_t tagmask = tag_mask(s->cap);
    uint32_t tag = (uint32_t)(h >> 32) & tagmask;
    size_t mask = s->cap - 1;
    size_t slot = (size_t)h & mask;

    while (s->slots[slot] != 0) {
        uint32_t e = s->slots[slot];
        if ((e & tagmask) == tag) {
            const struct orch_device *d = &dev[(e & ~tagmask) - 1];
            if (d->product == product && strcmp(names + d->name_off, name) == 0)
                return true;
        }
        slot = (slot + 1) & mask;
    }
    return false;
}

/* Decides whether registered device i (hash h) is new: a duplicate is
 * marked DROPPED (removed by orch_devset_settle), a new one goes into the
 * set. */
static int confirm(struct orch_devset *s, struct orch_device *dev,
                   const char *names, uint32_t i, uint64_t h)
{
    const struct orch_device *d = &dev[i];
    int rc = 0;

    if (s->slots &&
        set_contains(s, dev, names, h, d->product, names + d->name_off)) {
        dev[i].product = DROPPED;
        s->duplicates++;
        return 0;
    }
    /* Keep the load factor under 0.7: 6-11 bytes per device. */
    if (s->slots == NULL || (s->count + 1) * 10 > s->cap * 7) {
        rc = grow_set(s, dev, names, i);
        if (rc)
            return rc;
    }
    slots_put(s->slots, s->cap, h, i);
    s->count++;
    return 0;
}

/* Checks the oldest registered device. */
static int confirm_oldest(struct orch_devset *s, struct orch_device *dev,
                          const char *names)
{
    const struct orch_devset_pending *pe = &s->pending[s->head];
    int rc = confirm(s, dev, names, pe->index, pe->hash);

    if (rc)
        return rc;
    s->head = (s->head + 1) % PIPELINE;
    s->npending--;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The interface                                                        */

void orch_devset_init(struct orch_devset *s, size_t expect)
{
    memset(s, 0, sizeof(*s));
    s->expect = expect;
}

/* The duplicate check runs PIPELINE devices late: the set is far bigger
 * than the caches, so the new device's slot is prefetched now and probed
 * when it has arrived. */
int orch_devset_add(struct orch_devset *s, struct orch_device *dev,
                    const char *names, uint32_t i, size_t len)
{
    uint64_t h = hash_name(dev[i].product, names + dev[i].name_off, len);
    struct orch_devset_pending *pe = NULL;
    int rc = 0;

    if (s->slots)
        __builtin_prefetch(&s->slots[h & (s->cap - 1)]);
    if (s->npending == PIPELINE) {
        rc = confirm_oldest(s, dev, names);
        if (rc)
            return rc;
    }
    pe = &s->pending[(s->head + s->npending) % PIPELINE];
    pe->index = i;
    pe->hash = h;
    s->npending++;
    return 0;
}

int orch_devset_settle(struct orch_devset *s, struct orch_device *dev,
                       const char *names, size_t *n)
{
    size_t r = 0, w = 0;
    int rc = 0;

    while (s->npending) {
        rc = confirm_oldest(s, dev, names);
        if (rc)
            return rc;
    }
    if (s->duplicates) {
        for (r = 0; r < *n; r++) {
            if (dev[r].product != DROPPED)
                dev[w++] = dev[r];
        }
        *n = w;
    }
    orch_devset_cleanup(s);
    return 0;
}

void orch_devset_cleanup(struct orch_devset *s)
{
    if (s == NULL)
        return;
    free(s->slots);
    s->slots = NULL;
    s->cap = 0;
    s->count = 0;
}
