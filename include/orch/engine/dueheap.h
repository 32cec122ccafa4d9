/* dueheap.h - an intrusive min-heap of nodes keyed by a due time (ms).
 *
 * Internal to the dispatcher (dispatch.c and its files use it for the
 * resends and the reconciliation queries waiting for their time), in the
 * manner of libuv's timer heap: the caller embeds a struct orch_dueheap_node
 * in its own per-request struct and gets that struct back from a popped
 * node with its offset. The heap owns only its array of pointers; the
 * nodes are the caller's and must outlive their time in the heap.
 *
 * Pushing never allocates: orch_dueheap_reserve() makes room beforehand
 * (the dispatcher reserves one slot per transfer it owns), so the retry
 * path cannot fail. Order among equal due times is unspecified. Not
 * thread-safe.
 */
#ifndef ORCH_DUEHEAP_H
#define ORCH_DUEHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_dueheap_node {
    uint64_t due_ms; /* the key: set it before pushing, never while in */
    size_t idx;      /* the node's position, kept by the heap */
};

struct orch_dueheap {
    struct orch_dueheap_node **v; /* owned; room for `cap` nodes */
    size_t len;
    size_t cap;
};

/* An empty heap with no room; orch_dueheap_cleanup() frees the array (not
 * the nodes). Cleanup accepts an initialised heap in any state. */
void orch_dueheap_init(struct orch_dueheap *h);
void orch_dueheap_cleanup(struct orch_dueheap *h);

/* Makes room for at least n nodes. 0, or ORCH_ENOMEM (the heap is
 * unchanged). */
int orch_dueheap_reserve(struct orch_dueheap *h, size_t n);

/* Adds node n (not already in a heap). Never allocates: the caller has
 * reserved room (len < cap). */
void orch_dueheap_push(struct orch_dueheap *h, struct orch_dueheap_node *n);

/* Removes and returns the node due first; NULL when the heap is empty. */
struct orch_dueheap_node *orch_dueheap_pop(struct orch_dueheap *h);

/* The node due first, left in the heap; NULL when the heap is empty. */
struct orch_dueheap_node *orch_dueheap_top(const struct orch_dueheap *h);

/* True when a node is due at now_ms (its due_ms <= now_ms). */
bool orch_dueheap_due(const struct orch_dueheap *h, uint64_t now_ms);

#endif
