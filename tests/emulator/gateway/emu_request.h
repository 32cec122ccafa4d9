/* emu_request.h - an API request as the gateway sees it, and the
 * gateway's verdict on it: the request's parts (borrowed from the HTTP
 * server), its decoded parameters, and the error a check answered.
 *
 * Decoding follows orch_params_parse(): '+' is a space, a bad %XX escape
 * or a decoded NUL is refused (names and values are C strings: truncating
 * silently would let signer and verifier see different values).
 * Pure; thread-safe on distinct verdicts.
 */
#ifndef EMU_REQUEST_H
#define EMU_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/base/buf.h"
#include "orch/cloud/params.h"
#include "orch/cloud/sign.h"

/* The scheme of a V3 Authorization header, its trailing space included. */
#define EMU_V3_PREFIX "ACS3-HMAC-SHA256 "

/* A request as received. Everything is borrowed. */
struct emu_http_request {
    const char *method;               /* "GET" or "POST" */
    const char *path;                 /* "/" */
    const char *query;                /* raw query without '?', or NULL */
    const struct orch_header *headers;/* as received, any case */
    size_t nheaders;
    const char *body;                 /* may be NULL when body_len is 0 */
    size_t body_len;
};

/* The verdict. Caller-owned: emu_auth_init() before, emu_auth_cleanup()
 * after. */
struct emu_auth {
    int sigver;                 /* 2, 3, or 0 when it could not be told */
    bool sig_ok;                /* the signature was recomputed and matched */
    char key_id[128];           /* as sent (may be unknown) */
    char action[128];           /* Action / x-acs-action, "" if absent */
    struct orch_params params;  /* every decoded parameter: query, then form
                                   body; Signature included. READ-ONLY: the
                                   names and values live in `arena`, not
                                   in blocks of their own, so never
                                   orch_params_add/remove/cleanup it */
    size_t nquery;              /* params.v[0..nquery) came from the query */
    char *arena;                /* every decoded name and value, one block */
    char quota_key[128];        /* accepted: the account key whose quota
                                   the call counts against (key_id, or a
                                   temporary key's root) */
    bool temporary;             /* accepted with a minted (STS) key */
    int http_status;            /* 0 when accepted, else 400/404 */
    char code[64];              /* "" when accepted, else the error Code */
    struct orch_buf message;    /* the error Message ("" when accepted) */
};

/* Empties a (no parameters, no verdict). */
void emu_auth_init(struct emu_auth *a);
/* Frees the parameters, the arena and the message; NULL-safe. */
void emu_auth_cleanup(struct emu_auth *a);

/* Only the parsing step of emu_verify_request(): decodes the query and a
 * form body into out->params and fills sigver, action and key_id as sent,
 * without checking anything (the server logs and counts requests it
 * answers with a fault before verifying them). A bad %XX escape sets the
 * InvalidParameter verdict. Returns 0 or ORCH_ENOMEM. */
int emu_verify_parse(const struct emu_http_request *req, struct emu_auth *out);

/* Header lookup, case-insensitive: the first value or NULL. */
const char *emu_header_get(const struct emu_http_request *req,
                           const char *name);

/* Sets the error verdict: HTTP status, Code and the Message made from
 * fmt (cut at 511 bytes). Returns 0 or ORCH_ENOMEM (from the message). */
int emu_auth_fail(struct emu_auth *a, int status, const char *code,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The comma-separated fields of a V3 Authorization value (what follows
 * EMU_V3_PREFIX), or NULL when authz is not V3 (or NULL). */
const char *emu_authz_v3_fields(const char *authz);

/* Copies the value of "name=" from V3 Authorization fields into out.
 * Returns 0, or -1 when absent, empty or not shorter than outlen. */
int emu_authz_field(const char *fields, const char *name, char *out,
                    size_t outlen);

#endif
