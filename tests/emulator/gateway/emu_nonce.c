/* emu_nonce.c - the nonce replay cache of the gateway. */
#include "gateway/emu_nonce.h"

#include "world/emu_hash.h"

#include "orch/base/err.h"

#include <stdlib.h>
#include <string.h>

struct emu_nonce_entry {
    struct emu_nonce_entry *chain; /* next in the hash bucket */
    struct emu_nonce_entry *fifo;  /* next younger entry */
    int64_t seen_ms;
    size_t hash;
    char key[]; /* "key_id\001nonce" */
};

int emu_nonce_init(struct emu_nonce_cache *c, int64_t window_ms)
{
    memset(c, 0, sizeof(*c));
    c->window_ms = window_ms;
    c->nbuckets = 1024;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (c->buckets == NULL)
        return ORCH_ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    return 0;
}

void emu_nonce_cleanup(struct emu_nonce_cache *c)
{
    struct emu_nonce_entry *e = NULL;
    struct emu_nonce_entry *next = NULL;

    for (e = c->oldest; e != NULL; e = next) {
        next = e->fifo;
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof(*c));
}

static void nonce_expire(struct emu_nonce_cache *c, int64_t now_ms)
{
    while (c->oldest && c->oldest->seen_ms + c->window_ms <= now_ms) {
        struct emu_nonce_entry *e = c->oldest;
        struct emu_nonce_entry **pp = &c->buckets[e->hash % c->nbuckets];

        while (*pp != e)
            pp = &(*pp)->chain;
        *pp = e->chain;
        c->oldest = e->fifo;
        if (c->oldest == NULL)
            c->youngest = NULL;
        c->nentries--;
        free(e);
    }
}

static void nonce_grow(struct emu_nonce_cache *c)
{
    size_t n = c->nbuckets * 4;
    struct emu_nonce_entry **b = calloc(n, sizeof(*b));
    struct emu_nonce_entry *e = NULL;

    /* Without memory we simply keep the longer chains. */
    if (b == NULL)
        return;
    for (e = c->oldest; e != NULL; e = e->fifo) {
        e->chain = b[e->hash % n];
        b[e->hash % n] = e;
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

/* Links a new entry into its bucket and at the young end of the FIFO. */
static void nonce_insert(struct emu_nonce_cache *c, struct emu_nonce_entry *e)
{
    e->chain = c->buckets[e->hash % c->nbuckets];
    c->buckets[e->hash % c->nbuckets] = e;
    if (c->youngest)
        c->youngest->fifo = e;
    else
        c->oldest = e;
    c->youngest = e;
    if (++c->nentries > 2 * c->nbuckets)
        nonce_grow(c);
}

int emu_nonce_check_and_record(struct emu_nonce_cache *c, const char *key_id,
                               const char *nonce, int64_t now_ms)
{
    size_t klen = strlen(key_id);
    size_t nlen = strlen(nonce);
    struct emu_nonce_entry *e = malloc(sizeof(*e) + klen + nlen + 2);
    struct emu_nonce_entry *p = NULL;
    int rc = 0;

    if (e == NULL)
        return ORCH_ENOMEM;
    memcpy(e->key, key_id, klen);
    e->key[klen] = '\001';
    memcpy(e->key + klen + 1, nonce, nlen + 1);
    e->hash = (size_t)emu_hash(e->key, klen + 1 + nlen);
    e->seen_ms = now_ms;
    e->fifo = NULL;
    pthread_mutex_lock(&c->lock);
    nonce_expire(c, now_ms);
    for (p = c->buckets[e->hash % c->nbuckets]; p != NULL; p = p->chain)
        if (p->hash == e->hash && strcmp(p->key, e->key) == 0)
            break;
    if (p != NULL) {
        rc = 1;
        free(e);
    } else {
        nonce_insert(c, e);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}
