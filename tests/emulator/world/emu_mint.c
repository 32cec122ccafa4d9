/* emu_mint.c - the emulator's temporary credentials: a registry of
 * minted keys and IMDSv2 session tokens behind one mutex.
 *
 * DESIGN: a growable array searched from the newest key back (the key in
 * use is nearly always one of the last minted); lookups copy the entry
 * out, so the verifier never holds a pointer into the array while another
 * thread mints (which may move it).
 */
#include "world/emu_mint.h"

#include "orch/base/codec.h"
#include "orch/base/err.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SESSIONS 64

struct mint_ent {
    struct emu_minted k;
    uint64_t calls;
    uint64_t expired;
};

struct session {
    char token[48];
    int64_t expires_ms;
};

struct emu_mint {
    pthread_mutex_t lock;
    struct mint_ent *v;
    size_t n, cap;
    uint64_t expired_refused;
    struct session sessions[MAX_SESSIONS];
    size_t next_session; /* ring: the oldest is replaced */
};

struct emu_mint *emu_mint_new(void)
{
    struct emu_mint *m = calloc(1, sizeof(*m));

    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void emu_mint_free(struct emu_mint *m)
{
    if (m == NULL)
        return;
    if (m->v)
        OPENSSL_cleanse(m->v, m->cap * sizeof(*m->v));
    OPENSSL_cleanse(m->sessions, sizeof(m->sessions));
    free(m->v);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* n random characters from [A-Za-z0-9] into out (NUL-terminated). */
static int random_chars(char *out, size_t n)
{
    static const char set[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[128];
    size_t i = 0;

    if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
        return ORCH_ESIGN;
    for (i = 0; i < n; i++)
        out[i] = set[r[i] % (sizeof(set) - 1)];
    out[n] = '\0';
    OPENSSL_cleanse(r, sizeof(r));
    return 0;
}

/* The entry of id, newest first, or NULL. Under the lock. */
static struct mint_ent *find(struct emu_mint *m, const char *id)
{
    size_t i = m->n;

    while (i-- > 0)
        if (strcmp(m->v[i].k.id, id) == 0)
            return &m->v[i];
    return NULL;
}

int emu_mint_issue(struct emu_mint *m, const char *minter, const char *kind,
                   int64_t now_ms, int64_t ttl_ms, struct emu_minted *out)
{
    struct mint_ent e;
    struct mint_ent *parent = NULL;
    int rc = 0;

    memset(&e, 0, sizeof(e));
    memcpy(e.k.id, "STS.", 4);
    rc = random_chars(e.k.id + 4, 24);
    if (!rc)
        rc = random_chars(e.k.secret, 30);
    if (!rc) {
        memcpy(e.k.token, "CAIS", 4);
        rc = random_chars(e.k.token + 4, 120);
    }
    if (rc)
        return rc;
    snprintf(e.k.kind, sizeof(e.k.kind), "%s", kind);
    e.k.minted_ms = now_ms;
    e.k.expires_ms = now_ms + ttl_ms;
    pthread_mutex_lock(&m->lock);
    parent = find(m, minter);
    snprintf(e.k.root, sizeof(e.k.root), "%s",
             parent ? parent->k.root : minter);
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        struct mint_ent *nv = calloc(ncap, sizeof(*nv));

        if (nv == NULL) {
            pthread_mutex_unlock(&m->lock);
            OPENSSL_cleanse(&e, sizeof(e));
            return ORCH_ENOMEM;
        }
        if (m->v) {
            memcpy(nv, m->v, m->n * sizeof(*nv));
            OPENSSL_cleanse(m->v, m->cap * sizeof(*m->v));
            free(m->v);
        }
        m->v = nv;
        m->cap = ncap;
    }
    m->v[m->n++] = e;
    pthread_mutex_unlock(&m->lock);
    *out = e.k;
    OPENSSL_cleanse(&e, sizeof(e));
    return 0;
}

bool emu_mint_lookup(struct emu_mint *m, const char *id,
                     struct emu_minted *out)
{
    struct mint_ent *e = NULL;

    if (m == NULL || strncmp(id, "STS.", 4) != 0)
        return false;
    pthread_mutex_lock(&m->lock);
    e = find(m, id);
    if (e)
        *out = e->k;
    pthread_mutex_unlock(&m->lock);
    return e != NULL;
}

void emu_mint_count_call(struct emu_mint *m, const char *id)
{
    struct mint_ent *e = NULL;

    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    e = find(m, id);
    if (e)
        e->calls++;
    pthread_mutex_unlock(&m->lock);
}

void emu_mint_count_expired(struct emu_mint *m, const char *id)
{
    struct mint_ent *e = NULL;

    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    e = find(m, id);
    if (e)
        e->expired++;
    m->expired_refused++;
    pthread_mutex_unlock(&m->lock);
}

int emu_mint_session_token(struct emu_mint *m, int64_t now_ms, long ttl_s,
                           char out[48])
{
    struct session *s = NULL;
    int rc = random_chars(out, 40);

    if (rc)
        return rc;
    pthread_mutex_lock(&m->lock);
    s = &m->sessions[m->next_session];
    m->next_session = (m->next_session + 1) % MAX_SESSIONS;
    memcpy(s->token, out, 41);
    s->expires_ms = now_ms + (int64_t)ttl_s * 1000;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

bool emu_mint_session_valid(struct emu_mint *m, const char *token,
                            int64_t now_ms)
{
    bool ok = false;
    size_t i = 0;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < MAX_SESSIONS && !ok; i++)
        ok = m->sessions[i].token[0] &&
             orch_str_equal_ct(m->sessions[i].token, token) &&
             now_ms < m->sessions[i].expires_ms;
    pthread_mutex_unlock(&m->lock);
    return ok;
}

/* Adds one to by_kind[kind]. */
static void count_kind(json_t *by_kind, const char *kind)
{
    json_t *v = json_object_get(by_kind, kind);

    json_object_set_new(by_kind, kind,
                        json_integer(v ? json_integer_value(v) + 1 : 1));
}

json_t *emu_mint_stats(struct emu_mint *m)
{
    json_t *o = json_object();
    json_t *by_kind = json_object();
    json_t *keys = json_object();
    size_t i = 0;

    if (o == NULL || by_kind == NULL || keys == NULL) {
        json_decref(o);
        json_decref(by_kind);
        json_decref(keys);
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->n; i++) {
        const struct mint_ent *e = &m->v[i];

        count_kind(by_kind, e->k.kind);
        json_object_set_new(
            keys, e->k.id,
            json_pack("{s:s,s:s,s:I,s:I,s:I}", "kind", e->k.kind, "root",
                      e->k.root, "calls", (json_int_t)e->calls,
                      "expired_refused", (json_int_t)e->expired,
                      "expires_ms", (json_int_t)e->k.expires_ms));
    }
    json_object_set_new(o, "minted", json_integer((json_int_t)m->n));
    json_object_set_new(o, "expired_refused",
                        json_integer((json_int_t)m->expired_refused));
    pthread_mutex_unlock(&m->lock);
    json_object_set_new(o, "by_kind", by_kind);
    json_object_set_new(o, "keys", keys);
    return o;
}

json_t *emu_mint_reveal(struct emu_mint *m)
{
    json_t *keys = json_array();
    json_t *sessions = json_array();
    size_t i = 0;
    int bad = keys == NULL || sessions == NULL;

    pthread_mutex_lock(&m->lock);
    for (i = 0; !bad && i < m->n; i++) {
        const struct emu_minted *k = &m->v[i].k;

        bad = json_array_append_new(
                  keys, json_pack("{s:s,s:s,s:s,s:s}", "id", k->id, "secret",
                                  k->secret, "token", k->token, "kind",
                                  k->kind)) != 0;
    }
    for (i = 0; !bad && i < MAX_SESSIONS; i++)
        if (m->sessions[i].token[0] != '\0')
            bad = json_array_append_new(
                      sessions, json_string(m->sessions[i].token)) != 0;
    pthread_mutex_unlock(&m->lock);
    if (bad) {
        json_decref(keys);
        json_decref(sessions);
        return NULL;
    }
    return json_pack("{s:o,s:o}", "keys", keys, "sessions", sessions);
}
