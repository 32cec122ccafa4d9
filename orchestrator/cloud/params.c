/* params.c - an ordered list of request parameters (name=value pairs). */
#include "orch/cloud/params.h"

#include "orch/base/buf.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/base/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names and values are copied into arena blocks, a chain of them, each
 * at least ARENA_BLOCK bytes: a 200-device request has 200+ parameters,
 * and one malloc and one free for each was a visible share of a call's
 * CPU (bench/RESULTS.md). Removed parameters keep their bytes until
 * cleanup. */
#define ARENA_BLOCK 16384

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
};

void orch_params_init(struct orch_params *p)
{
    p->v = NULL;
    p->n = 0;
    p->cap = 0;
    p->arena = NULL;
}

void orch_params_cleanup(struct orch_params *p)
{
    struct arena_block *b = NULL;

    if (p == NULL)
        return;
    while ((b = p->arena) != NULL) {
        p->arena = b->next;
        free(b);
    }
    free(p->v);
    orch_params_init(p);
}

/* Returns `len` bytes from p's arena, or NULL. */
static char *arena_alloc(struct orch_params *p, size_t len)
{
    struct arena_block *b = p->arena;
    size_t cap = ARENA_BLOCK;

    if (b == NULL || b->cap - b->used < len) {
        if (len > cap)
            cap = len;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->next = p->arena;
        b->used = 0;
        b->cap = cap;
        p->arena = b;
    }
    b->used += len;
    return b->data + b->used - len;
}

/* Makes room for one more entry. */
static int grow(struct orch_params *p)
{
    struct orch_param *v = orch_grow(p->v, &p->cap, p->n + 1, sizeof(*v), 16);

    if (v == NULL)
        return ORCH_ENOMEM;
    p->v = v;
    return 0;
}

/* Appends name[0..nlen) = value[0..vlen), copied into the arena: the
 * name, its NUL, the value, its NUL. */
static int add_n(struct orch_params *p, const char *name, size_t nlen,
                 const char *value, size_t vlen)
{
    char *n = NULL;
    int rc = 0;

    rc = grow(p);
    if (rc)
        return rc;
    if (nlen > ((size_t)-1) / 2 - 2 || vlen > ((size_t)-1) / 2 - 2)
        return ORCH_ENOMEM;
    n = arena_alloc(p, nlen + vlen + 2);
    if (n == NULL)
        return ORCH_ENOMEM;
    memcpy(n, name, nlen);
    n[nlen] = '\0';
    memcpy(n + nlen + 1, value, vlen);
    n[nlen + 1 + vlen] = '\0';
    p->v[p->n].name = n;
    p->v[p->n].value = n + nlen + 1;
    p->n++;
    return 0;
}

int orch_params_add(struct orch_params *p, const char *name, const char *value)
{
    if (name == NULL || value == NULL)
        return ORCH_EINVAL;
    return add_n(p, name, strlen(name), value, strlen(value));
}

int orch_params_addf(struct orch_params *p, const char *name, const char *fmt,
                     ...)
{
    struct orch_buf b;
    va_list ap;
    int n = 0;
    int rc = 0;

    orch_buf_init(&b);
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ORCH_EINVAL;
    rc = orch_buf_reserve(&b, (size_t)n);
    if (rc)
        goto out;
    va_start(ap, fmt);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b.len = (size_t)n;
    rc = add_n(p, name, strlen(name), b.data, b.len);
out:
    orch_buf_cleanup(&b);
    return rc;
}

const char *orch_params_get(const struct orch_params *p, const char *name)
{
    size_t i = 0;

    for (i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return p->v[i].value;
    return NULL;
}

size_t orch_params_remove(struct orch_params *p, const char *name)
{
    size_t i = 0;
    size_t w = 0;

    for (i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].name, name) == 0)
            continue; /* its bytes stay in the arena until cleanup */
        p->v[w++] = p->v[i];
    }
    i = p->n - w;
    p->n = w;
    return i;
}

/* strcmp compares as unsigned char, which is byte order. */
static int param_cmp(const struct orch_param *a, const struct orch_param *b)
{
    int c = strcmp(a->name, b->name);

    return c ? c : strcmp(a->value, b->value);
}

/* Stable insertion sort for short runs. */
static void insertion_sort(struct orch_param *v, size_t n)
{
    size_t i = 0;

    for (i = 1; i < n; i++) {
        struct orch_param x = v[i];
        size_t j = i;

        while (j > 0 && param_cmp(&v[j - 1], &x) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* Stable bottom-up merge sort of v[0..n) using tmp[0..n). */
static void merge_sort(struct orch_param *v, struct orch_param *tmp, size_t n)
{
    const size_t run = 16;
    struct orch_param *src = v;
    struct orch_param *dst = tmp;
    size_t width = 0;
    size_t i = 0;

    for (i = 0; i < n; i += run)
        insertion_sort(v + i, n - i < run ? n - i : run);
    for (width = run; width < n; width *= 2) {
        struct orch_param *t = NULL;

        for (i = 0; i < n; i += 2 * width) {
            size_t lo = i;
            size_t mid = i + width < n ? i + width : n;
            size_t hi = i + 2 * width < n ? i + 2 * width : n;
            size_t a = lo;
            size_t b = mid;
            size_t k = lo;

            while (a < mid && b < hi) {
                /* "<= 0" takes from the left run on ties: stable. */
                if (param_cmp(&src[a], &src[b]) <= 0)
                    dst[k++] = src[a++];
                else
                    dst[k++] = src[b++];
            }
            while (a < mid)
                dst[k++] = src[a++];
            while (b < hi)
                dst[k++] = src[b++];
        }
        t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
}

void orch_params_sort(struct orch_params *p)
{
    struct orch_param stackbuf[64];
    struct orch_param *tmp = NULL;

    size_t i = 0;

    if (p->n < 2)
        return;
    /* Lists are often sorted already (the signers sort what request.c
     * sorted): one linear check saves the n log n comparisons. */
    for (i = 1; i < p->n; i++)
        if (param_cmp(&p->v[i - 1], &p->v[i]) > 0)
            break;
    if (i == p->n)
        return;
    if (p->n <= 16) {
        insertion_sort(p->v, p->n);
        return;
    }
    tmp = p->n <= 64 ? stackbuf : malloc(p->n * sizeof(*tmp));
    if (tmp == NULL) {
        /* No memory for the merge: fall back to the in-place stable sort,
         * quadratic but correct (the contract has no error return). */
        insertion_sort(p->v, p->n);
        return;
    }
    merge_sort(p->v, tmp, p->n);
    if (tmp != stackbuf)
        free(tmp);
}

int orch_params_sorted_view(const struct orch_params *src, const char *skip,
                            struct orch_params *view)
{
    size_t i = 0;

    orch_params_init(view);
    if (src == NULL || src->n == 0)
        return 0;
    view->v = malloc(src->n * sizeof(*view->v));
    if (view->v == NULL)
        return ORCH_ENOMEM;
    view->cap = src->n;
    for (i = 0; i < src->n; i++) {
        if (skip && strcmp(src->v[i].name, skip) == 0)
            continue;
        view->v[view->n++] = src->v[i];
    }
    orch_params_sort(view);
    return 0;
}

/* Appends sep (unless it is '\0'), then s percent-encoded. */
static int put_encoded(struct orch_buf *out, char sep, const char *s)
{
    int rc = sep ? orch_buf_putc(out, sep) : 0;

    if (rc == 0)
        rc = orch_percent_encode(out, s, strlen(s));
    return rc;
}

int orch_params_encode(const struct orch_params *p, struct orch_buf *out)
{
    size_t i = 0;
    int rc = 0;

    for (i = 0; rc == 0 && i < p->n; i++) {
        rc = put_encoded(out, i > 0 ? '&' : '\0', p->v[i].name);
        if (rc == 0)
            rc = put_encoded(out, '=', p->v[i].value);
    }
    return rc;
}

int orch_params_parse(struct orch_params *p, const char *s, size_t len)
{
    struct orch_buf name;
    struct orch_buf value;
    size_t i = 0;
    int rc = 0;

    orch_buf_init(&name);
    orch_buf_init(&value);
    while (i < len) {
        const char *seg = s + i;
        const char *amp = memchr(seg, '&', len - i);
        size_t seglen = amp ? (size_t)(amp - seg) : len - i;
        const char *eq = memchr(seg, '=', seglen);
        size_t nlen = eq ? (size_t)(eq - seg) : seglen;

        i += seglen + 1;
        /* "a=1&&b=2" and a trailing '&' carry no parameter. */
        if (seglen == 0)
            continue;
        orch_buf_reset(&name);
        orch_buf_reset(&value);
        rc = orch_percent_decode(&name, seg, nlen, 1);
        if (rc)
            goto out;
        if (eq) {
            rc = orch_percent_decode(&value, eq + 1, seglen - nlen - 1, 1);
            if (rc)
                goto out;
        }
        /* Names and values are C strings: a decoded NUL (%00) cannot be
         * represented, and truncating silently would let a signer and a
         * verifier see different values. */
        if (memchr(orch_buf_str(&name), '\0', name.len) ||
            memchr(orch_buf_str(&value), '\0', value.len)) {
            rc = ORCH_EINVAL;
            goto out;
        }
        rc = add_n(p, orch_buf_str(&name), name.len, orch_buf_str(&value),
                   value.len);
        if (rc)
            goto out;
    }
out:
    orch_buf_cleanup(&name);
    orch_buf_cleanup(&value);
    return rc;
}
