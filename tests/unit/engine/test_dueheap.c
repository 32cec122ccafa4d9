/* test_dueheap.c - the intrusive due-time heap: order, index upkeep,
 * reserve, empty heap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "orch/engine/dueheap.h"
#include "torture.h"

struct item {
    int id;
    struct orch_dueheap_node node;
};

static struct item *item_of(struct orch_dueheap_node *n)
{
    return (struct item *)(void *)((char *)n - offsetof(struct item, node));
}

/* Every node's idx is its position, and no child is due before its
 * parent. */
static void assert_heap_ok(const struct orch_dueheap *h)
{
    for (size_t i = 0; i < h->len; i++) {
        assert_int_equal(h->v[i]->idx, i);
        if (i > 0)
            assert_true(h->v[(i - 1) / 2]->due_ms <= h->v[i]->due_ms);
    }
}

static void test_pops_in_due_order(void **state)
{
    static const uint64_t due[] = {50, 10, 40, 10, 30, 70, 0, 20, 60, 5};
    enum { N = sizeof(due) / sizeof(due[0]) };
    struct item items[N];
    struct orch_dueheap h;
    uint64_t last = 0;

    (void)state;
    orch_dueheap_init(&h);
    assert_int_equal(orch_dueheap_reserve(&h, N), 0);
    for (size_t i = 0; i < N; i++) {
        items[i].id = (int)i;
        items[i].node.due_ms = due[i];
        orch_dueheap_push(&h, &items[i].node);
        assert_heap_ok(&h);
    }
    assert_int_equal(h.len, N);
    assert_int_equal(orch_dueheap_top(&h)->due_ms, 0);
    assert_ptr_equal(item_of(orch_dueheap_top(&h)), &items[6]);
    for (size_t i = 0; i < N; i++) {
        struct orch_dueheap_node *n = orch_dueheap_pop(&h);

        assert_non_null(n);
        assert_true(n->due_ms >= last);
        last = n->due_ms;
        assert_heap_ok(&h);
    }
    assert_null(orch_dueheap_pop(&h));
    orch_dueheap_cleanup(&h);
}

static void test_due(void **state)
{
    struct item a = {1, {100, 0}}, b = {2, {200, 0}};
    struct orch_dueheap h;

    (void)state;
    orch_dueheap_init(&h);
    assert_false(orch_dueheap_due(&h, 1000));
    assert_null(orch_dueheap_top(&h));
    assert_int_equal(orch_dueheap_reserve(&h, 2), 0);
    orch_dueheap_push(&h, &b.node);
    orch_dueheap_push(&h, &a.node);
    assert_false(orch_dueheap_due(&h, 99));
    assert_true(orch_dueheap_due(&h, 100));
    assert_int_equal(item_of(orch_dueheap_pop(&h))->id, 1);
    assert_false(orch_dueheap_due(&h, 199));
    assert_int_equal(item_of(orch_dueheap_pop(&h))->id, 2);
    assert_false(orch_dueheap_due(&h, UINT64_MAX));
    orch_dueheap_cleanup(&h);
}

/* Interleaved pushes and pops, as the dispatcher does, against a sorted
 * reference. */
static void test_interleaved(void **state)
{
    enum { N = 200 };
    struct item *items = calloc(N, sizeof(*items));
    struct orch_dueheap h;
    uint64_t seed = 12345, now = 0;
    size_t pushed = 0, popped = 0;

    (void)state;
    assert_non_null(items);
    orch_dueheap_init(&h);
    for (size_t k = 1; k <= N; k++)
        assert_int_equal(orch_dueheap_reserve(&h, k), 0); /* grows */
    assert_true(h.cap >= N);
    while (popped < N) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        if (pushed < N && (seed >> 33) % 3 != 0) {
            items[pushed].id = (int)pushed;
            /* Never before what was already popped: a due time is a
             * future time. */
            items[pushed].node.due_ms = now + (seed >> 40) % 1000;
            orch_dueheap_push(&h, &items[pushed].node);
            pushed++;
        } else if (h.len > 0) {
            struct orch_dueheap_node *n = orch_dueheap_pop(&h);

            for (size_t i = 0; i < h.len; i++)
                assert_true(n->due_ms <= h.v[i]->due_ms);
            now = n->due_ms;
            popped++;
        }
        assert_heap_ok(&h);
    }
    assert_int_equal(h.len, 0);
    orch_dueheap_cleanup(&h);
    orch_dueheap_cleanup(&h); /* twice is fine */
    free(items);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_pops_in_due_order),
    cmocka_unit_test(test_due),
    cmocka_unit_test(test_interleaved))
