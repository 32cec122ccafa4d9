/* devset.h - the device store of an inventory load: appends each device
 * to struct orch_inventory's name arena and 16-byte records, and drops
 * duplicate (ProductKey, DeviceName) pairs.
 *
 * DESIGN: an open-addressing (linear probing) hash set of uint32 slots.
 * The low bits of a slot hold device index + 1 (0 = empty) and the spare
 * high bits a tag taken from the hash, so that a probe only touches the
 * device record and its name when the tags match: the set is then about
 * one cache miss per row even at 10^7 devices. The split moves with the
 * capacity (index bits = log2(capacity)). That one miss is hidden too: a
 * device is appended at once, its slot prefetched, and it is checked
 * ORCH_DEVSET_PIPELINE rows later; a duplicate is then marked and
 * squeezed out of inv->dev by orch_devset_settle, and the set is freed
 * (it only serves the load). Nothing is allocated per device beyond the
 * arena's and the records' doubling growth.
 *
 * Lifetime: one struct orch_devset per load, caller-owned; it borrows
 * the inventory it fills (the same one on every call) and owns only its
 * hash set. Not thread-safe.
 */
#ifndef ORCH_DEVSET_H
#define ORCH_DEVSET_H

#include <stddef.h>
#include <stdint.h>

struct orch_inventory;

/* Devices appended but not yet checked against the set. */
#define ORCH_DEVSET_PIPELINE 8
/* inv->dev[i].product of a duplicate until orch_devset_settle removes
 * it; no product index may reach it. */
#define ORCH_DEVSET_DROPPED UINT32_MAX

struct orch_devset_pending {
    uint32_t index;
    uint64_t hash;
};

struct orch_devset {
    uint32_t *slots; /* the hash set (NULL until the first check) */
    size_t cap;      /* its capacity, a power of two */
    size_t count;    /* devices in the set */
    size_t expect;   /* estimated device count (sizes the first set), or 0 */
    struct orch_devset_pending pending[ORCH_DEVSET_PIPELINE];
    size_t head, npending;
};

/* An empty set; expect is a sizing hint only (0: unknown). */
void orch_devset_init(struct orch_devset *s, size_t expect);

/* Appends device (name, len bytes + NUL, product index, source line) to
 * inv, then checks the oldest pending device for a duplicate. Returns 0,
 * ORCH_ENOMEM or ORCH_ETOOBIG (2^32 - 1 devices, or a set past 2^31
 * slots); inv stays consistent for orch_inventory_cleanup either way. */
int orch_devset_add(struct orch_devset *s, struct orch_inventory *inv,
                    const char *name, size_t len, uint32_t product,
                    uint32_t line);

/* Checks every pending device, squeezes the duplicates out of inv->dev
 * (counted in inv->duplicates; their names stay unused in the arena) and
 * frees the set. Returns 0, ORCH_ENOMEM or ORCH_ETOOBIG. */
int orch_devset_settle(struct orch_devset *s, struct orch_inventory *inv);

/* Frees the set. NULL-safe; s may be cleaned up again. */
void orch_devset_cleanup(struct orch_devset *s);

#endif
