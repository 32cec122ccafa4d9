/* credanswer.c - a credential service's answer into a fetched set, or a
 * diag that says why not without quoting a secret.
 *
 * DESIGN: jansson copies every string it parses; its free wipes every
 * block (credentials.h: orch_secret_json_wipe_on_free, installed once for
 * the process, as for the config file), so no copy of the secret or token
 * stays behind in freed heap memory. Then the shape is checked:
 * a 200 with the credential fields, else the error's Code and Message.
 */
#include "orch/cloud/credanswer.h"

#include "orch/base/err.h"
#include "orch/base/timeparse.h"
#include "orch/cloud/credentials.h"
#include "orch/cloud/credsource.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int orch_credanswer_retryable_code(const char *code)
{
    return code &&
           (strncmp(code, "Throttling", 10) == 0 ||
            strcmp(code, "ServiceUnavailable") == 0 ||
            strcmp(code, "InternalError") == 0);
}

int orch_credanswer_throttled(const char *body, size_t len)
{
    json_t *root = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
    const char *code = json_is_object(root) ? jstr(root, "Code") : NULL;
    int throttled = code != NULL && strncmp(code, "Throttling", 10) == 0;

    json_decref(root);
    return throttled;
}

/* The Message, or a placeholder when it would quote something secret
 * (a SignatureDoesNotMatch quotes the string to sign, which holds the
 * SecurityToken). */
static const char *safe_message(const char *msg, const char *const *avoid)
{
    size_t i = 0;

    if (msg == NULL || *msg == '\0')
        return "(no message)";
    if (strcasestr(msg, "string to sign"))
        return "(message withheld: it quotes the signed request)";
    for (i = 0; avoid && avoid[i]; i++)
        if (avoid[i][0] && strstr(msg, avoid[i]))
            return "(message withheld: it quotes a secret)";
    return msg;
}

/* A refusal: the status, Code and Message, ORCH_EHTTP when worth a
 * retry. */
static int refused(const char *what, long status, json_t *root,
                   const char *const *avoid, struct orch_diag *diag)
{
    const char *code = json_is_object(root) ? jstr(root, "Code") : NULL;
    const char *msg = json_is_object(root) ? jstr(root, "Message") : NULL;
    int err = status >= 500 || orch_credanswer_retryable_code(code)
                  ? ORCH_EHTTP
                  : ORCH_ECRED;

    if (root == NULL)
        return orch_diag_set(diag, err,
                             "%s: HTTP %ld, and the answer is not JSON",
                             what, status);
    return orch_diag_set(diag, err, "%s: HTTP %ld %s: %.200s", what, status,
                         code ? code : "(no Code)",
                         safe_message(msg, avoid));
}

/* Copies the credential fields of obj into out. */
static int take_fields(const char *what, json_t *obj,
                       struct orch_credset *out, struct orch_diag *diag)
{
    const char *id = jstr(obj, "AccessKeyId");
    const char *secret = jstr(obj, "AccessKeySecret");
    const char *token = jstr(obj, "SecurityToken");
    const char *exp = jstr(obj, "Expiration");
    struct orch_diag tdiag;
    int rc = 0;

    if (id == NULL || *id == '\0' || secret == NULL || *secret == '\0')
        return orch_diag_set(diag, ORCH_ECRED,
                             "%s: the answer has no AccessKeyId or "
                             "AccessKeySecret",
                             what);
    out->expires_ms = -1;
    if (exp && orch_time_parse(exp, &out->expires_ms, &tdiag) != 0)
        return orch_diag_set(diag, ORCH_ECRED,
                             "%s: Expiration \"%.40s\" is not a time", what,
                             exp);
    out->cred.access_key_id = strdup(id);
    if (out->cred.access_key_id == NULL)
        return ORCH_ENOMEM;
    rc = orch_secret_set(&out->cred.secret, secret);
    if (rc == 0 && token && *token)
        rc = orch_secret_set(&out->cred.token, token);
    return rc;
}

static int decode_root(enum orch_credanswer_shape shape, const char *what,
                       long status, json_t *root, const char *const *avoid,
                       struct orch_credset *out, struct orch_diag *diag)
{
    json_t *obj = root;
    const char *code = NULL;

    if (status != 200 || !json_is_object(root))
        return refused(what, status, root, avoid, diag);
    if (shape == ORCH_CREDANSWER_STS) {
        obj = json_object_get(root, "Credentials");
        if (!json_is_object(obj))
            return refused(what, status, root, avoid, diag);
    } else {
        code = jstr(root, "Code");
        if (code == NULL || strcmp(code, "Success") != 0)
            return refused(what, status, root, avoid, diag);
    }
    return take_fields(what, obj, out, diag);
}

int orch_credanswer_decode(enum orch_credanswer_shape shape,
                           const char *what, long status, const char *body,
                           size_t len, const char *const *avoid,
                           struct orch_credset *out, struct orch_diag *diag)
{
    json_t *root = NULL;
    int rc = 0;

    orch_secret_json_wipe_on_free();
    root = json_loadb(body ? body : "", len, 0, NULL);
    rc = decode_root(shape, what, status, root, avoid, out, diag);
    json_decref(root);
    if (rc) {
        free(out->cred.access_key_id);
        out->cred.access_key_id = NULL;
        orch_secret_wipe(&out->cred.secret);
        orch_secret_wipe(&out->cred.token);
    }
    return rc;
}
