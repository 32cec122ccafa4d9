/* dueheap.c - an intrusive min-heap on due_ms; the node keeps its index. */
#include "orch/engine/dueheap.h"

#include <stdlib.h>

#include "orch/base/err.h"
#include "orch/base/grow.h"

void orch_dueheap_init(struct orch_dueheap *h)
{
    h->v = NULL;
    h->len = 0;
    h->cap = 0;
}

void orch_dueheap_cleanup(struct orch_dueheap *h)
{
    free(h->v);
    orch_dueheap_init(h);
}

int orch_dueheap_reserve(struct orch_dueheap *h, size_t n)
{
    /* The first reservation is exact; a later, larger one doubles. */
    struct orch_dueheap_node **v = orch_grow(h->v, &h->cap, n, sizeof(*v), n);

    if (v == NULL)
        return ORCH_ENOMEM;
    h->v = v;
    return 0;
}

static bool less(const struct orch_dueheap_node *a,
                 const struct orch_dueheap_node *b)
{
    return a->due_ms < b->due_ms;
}

static void swap(struct orch_dueheap *h, size_t i, size_t j)
{
    struct orch_dueheap_node *t = h->v[i];

    h->v[i] = h->v[j];
    h->v[j] = t;
    h->v[i]->idx = i;
    h->v[j]->idx = j;
}

void orch_dueheap_push(struct orch_dueheap *h, struct orch_dueheap_node *n)
{
    size_t i = h->len++;

    h->v[i] = n;
    n->idx = i;
    while (i > 0 && less(h->v[i], h->v[(i - 1) / 2])) {
        swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* Moves the node at i down until neither child is due before it. */
static void sift_down(struct orch_dueheap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < h->len && less(h->v[l], h->v[m]))
            m = l;
        if (r < h->len && less(h->v[r], h->v[m]))
            m = r;
        if (m == i)
            return;
        swap(h, i, m);
        i = m;
    }
}

struct orch_dueheap_node *orch_dueheap_pop(struct orch_dueheap *h)
{
    struct orch_dueheap_node *top = NULL;

    if (h->len == 0)
        return NULL;
    top = h->v[0];
    h->len--;
    if (h->len > 0) {
        h->v[0] = h->v[h->len];
        h->v[0]->idx = 0;
        sift_down(h, 0);
    }
    return top;
}

struct orch_dueheap_node *orch_dueheap_top(const struct orch_dueheap *h)
{
    return h->len > 0 ? h->v[0] : NULL;
}

bool orch_dueheap_due(const struct orch_dueheap *h, uint64_t now_ms)
{
    return h->len > 0 && h->v[0]->due_ms <= now_ms;
}
