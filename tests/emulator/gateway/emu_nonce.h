/* emu_nonce.h - the gateway's memory of signature nonces: which
 * (AccessKeyId, nonce) pairs were accepted within the last window, so a
 * replayed request is refused.
 *
 * A chained hash table of "key\001nonce" plus a FIFO of the same entries
 * in arrival order, so expiring the oldest is O(1) per entry. Thread-safe:
 * one mutex guards the whole cache.
 */
#ifndef EMU_NONCE_H
#define EMU_NONCE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct emu_nonce_entry;

/* Caller-owned: emu_nonce_init() before, emu_nonce_cleanup() after. */
struct emu_nonce_cache {
    pthread_mutex_t lock; /* guards everything below */
    int64_t window_ms;
    struct emu_nonce_entry **buckets;
    size_t nbuckets;
    size_t nentries;
    struct emu_nonce_entry *oldest;
    struct emu_nonce_entry *youngest;
};

/* An empty cache remembering nonces for window_ms. 0 or ORCH_ENOMEM. */
int emu_nonce_init(struct emu_nonce_cache *c, int64_t window_ms);
/* Frees every entry. */
void emu_nonce_cleanup(struct emu_nonce_cache *c);

/* Records key_id/nonce seen at now_ms, first forgetting the entries
 * older than the window. Returns 0, 1 when the pair was already seen
 * within the window (nothing recorded), or ORCH_ENOMEM. */
int emu_nonce_check_and_record(struct emu_nonce_cache *c, const char *key_id,
                               const char *nonce, int64_t now_ms);

#endif
