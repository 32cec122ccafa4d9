/* params.h - an ordered list of request parameters (name=value pairs).
 *
 * The one representation of an RPC request's parameters, shared by the
 * request builders (api.c), the signers (sign.c), the wire encoder
 * (request.c) and the emulator's parser. Names and values are copied in
 * (owned by the list). Not thread-safe.
 */
#ifndef ORCH_PARAMS_H
#define ORCH_PARAMS_H

#include <stddef.h>

struct orch_buf;

struct orch_param {
    char *name;  /* owned by the list (its arena), NUL-terminated */
    char *value; /* owned by the list, NUL-terminated (any UTF-8) */
};

struct orch_params {
    struct orch_param *v;
    size_t n;
    size_t cap;
    void *arena; /* blocks holding the names and values (added at the end;
                    a list built by hand leaves it NULL) */
};

void orch_params_init(struct orch_params *p);
/* Frees every name and value (the arena) and the array; NULL-safe. */
void orch_params_cleanup(struct orch_params *p);
/* Appends a copy of name/value. Returns 0 or ORCH_ENOMEM. */
int orch_params_add(struct orch_params *p, const char *name, const char *value);
int orch_params_addf(struct orch_params *p, const char *name,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns the value of the first parameter called `name`, or NULL. */
const char *orch_params_get(const struct orch_params *p, const char *name);
/* Removes every parameter called `name`. Returns how many were removed. */
size_t orch_params_remove(struct orch_params *p, const char *name);
/* Sorts by name in byte order, ties by value (the canonical order of both
 * V2 and V3 signing). Stable. */
void orch_params_sort(struct orch_params *p);
/* Fills `view` with a shallow copy of src sorted as orch_params_sort
 * does, without the parameters called `skip` (when skip is not NULL): how
 * both signers and the wire encoder see a request's parameters in
 * canonical order without copying a string. view borrows src's names and
 * values (src must outlive it): release it with free(view->v) only, never
 * orch_params_cleanup. src may be NULL (an empty view). Returns 0 or
 * ORCH_ENOMEM (view then empty). */
int orch_params_sorted_view(const struct orch_params *src, const char *skip,
                            struct orch_params *view);
/* Appends `n1=v1&n2=v2...` to out in the list's current order, each name and
 * value percent-encoded with orch_percent_encode() (RFC 3986: A-Z a-z 0-9
 * - _ . ~ kept, everything else %XX upper-case). Returns 0 or ORCH_ENOMEM. */
int orch_params_encode(const struct orch_params *p, struct orch_buf *out);
/* Parses an x-www-form-urlencoded string or a URL query (without '?') of
 * `len` bytes, percent-decoding names and values ('+' decodes to a space as
 * in form encoding), appending to p in their order. Returns 0, ORCH_EINVAL
 * on a bad %XX escape, or ORCH_ENOMEM. */
int orch_params_parse(struct orch_params *p, const char *s, size_t len);

#endif
