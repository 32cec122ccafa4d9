/* devset.h - the duplicate set of an inventory load: finds the devices
 * whose (ProductKey, DeviceName) pair an earlier device already has.
 *
 * DESIGN: an open-addressing (linear probing) hash set of uint32 slots
 * over the caller's device records (device.h) and name arena. The low
 * bits of a slot hold device index + 1 (0 = empty) and the spare high
 * bits a tag taken from the hash, so that a probe only touches the device
 * record and its name when the tags match: the set is then about one
 * cache miss per row even at 10^7 devices. The split moves with the
 * capacity (index bits = log2(capacity)). That one miss is hidden too: a
 * device is registered as soon as it is appended, its slot prefetched,
 * and it is checked ORCH_DEVSET_PIPELINE devices later; a duplicate is
 * then marked ORCH_DEVSET_DROPPED and squeezed out of the records by
 * orch_devset_settle, and the set is freed (it only serves the load).
 *
 * Lifetime: one struct orch_devset per load, caller-owned; it owns only
 * its slots. The records and the arena stay the caller's: every call is
 * given their current address (they may move as the caller grows them)
 * and reads them, and marks duplicates in the records. Not thread-safe.
 */
#ifndef ORCH_DEVSET_H
#define ORCH_DEVSET_H

#include <stddef.h>
#include <stdint.h>

#include "orch/model/device.h"

/* Devices registered but not yet checked against the set. */
#define ORCH_DEVSET_PIPELINE 8
/* dev[i].product of a duplicate until orch_devset_settle removes it; no
 * product index may reach it. */
#define ORCH_DEVSET_DROPPED UINT32_MAX

struct orch_devset_pending {
    uint32_t index;
    uint64_t hash;
};

struct orch_devset {
    uint32_t *slots;   /* the hash set (NULL until the first check) */
    size_t cap;        /* its capacity, a power of two */
    size_t count;      /* devices in the set */
    size_t expect;     /* estimated device count (sizes the first set), or
                          0 */
    size_t duplicates; /* devices found to be duplicates */
    struct orch_devset_pending pending[ORCH_DEVSET_PIPELINE];
    size_t head, npending;
};

/* An empty set; expect is a sizing hint only (0: unknown). */
void orch_devset_init(struct orch_devset *s, size_t expect);

/* Registers record i of dev, just appended (name: len bytes at
 * names + dev[i].name_off), then checks the oldest registered device: a
 * duplicate gets product ORCH_DEVSET_DROPPED and is counted. Records
 * 0..i must stay in place until orch_devset_settle. Returns 0,
 * ORCH_ENOMEM or ORCH_ETOOBIG (a set past 2^31 slots). */
int orch_devset_add(struct orch_devset *s, struct orch_device *dev,
                    const char *names, uint32_t i, size_t len);

/* Checks every registered device, squeezes the duplicates out of
 * dev[0..*n) (*n becomes the count kept; the names of duplicates stay
 * unused in the arena) and frees the set. Returns 0, ORCH_ENOMEM or
 * ORCH_ETOOBIG (then dev may still hold marked duplicates). */
int orch_devset_settle(struct orch_devset *s, struct orch_device *dev,
                       const char *names, size_t *n);

/* Frees the set. NULL-safe; s may be cleaned up again. */
void orch_devset_cleanup(struct orch_devset *s);

#endif
