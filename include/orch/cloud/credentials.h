/* credentials.h - an AccessKey and how its secret is kept; how files and
 * JSON that hold secrets are read.
 *
 * Where credentials come from is the credential chain's business
 * (credchain.h). Secrets are never accepted from argv, never printed, and
 * wiped with OPENSSL_cleanse when freed.
 */
#ifndef ORCH_CREDENTIALS_H
#define ORCH_CREDENTIALS_H

#include <jansson.h>
#include <stddef.h>

struct orch_diag;
struct orch_credlive;

/* A secret string: malloced, wiped on free. */
struct orch_secret {
    char *s;
    size_t len;
};

struct orch_credentials {
    char *access_key_id;            /* malloced; not secret, may be logged */
    struct orch_secret secret;      /* AccessKeySecret */
    struct orch_secret token;       /* STS token, s == NULL when absent */
    char *source;                   /* where it came from: "environment",
                                     * "profile NAME (FILE)", or a credential
                                     * source's label (credsource.h) */
    /* Where a chain's set came from for --json ("env", "profile:AK", ...;
     * credsource.h), malloced, or NULL. */
    char *provider;
    /* A refresh-capable holder (credlive.h), or NULL: when set, request.c
     * signs with its CURRENT set, not with the fields above (the first
     * set's). Owned: orch_credentials_cleanup calls live_free on it. */
    struct orch_credlive *live;
    void (*live_free)(struct orch_credlive *live);
};

/* Fills cred (which it clears first) with copies of id, secret, token
 * (NULL or "" = none) and source. Returns 0 or ORCH_ENOMEM (cred left
 * empty). */
int orch_credentials_fill(struct orch_credentials *cred, const char *id,
                          const char *secret, const char *token,
                          const char *source);
/* Wipes and frees; NULL-safe. */
void orch_credentials_cleanup(struct orch_credentials *cred);

int orch_secret_set(struct orch_secret *sec, const char *s);
void orch_secret_wipe(struct orch_secret *sec);

/* Reads the whole regular file at path (at most 4 MiB) into *text,
 * malloced and NUL-terminated, *len bytes; its permission bits in *mode
 * when mode is not NULL. Free the text with orch_secret_text_free(). Returns
 * 0, ORCH_ENOTFOUND (no such file, diag untouched), ORCH_ECRED (cannot
 * open or read it, or not a regular file: diag names path) or
 * ORCH_ENOMEM. */
int orch_secret_file_read(const char *path, char **text, size_t *len,
                          unsigned *mode, struct orch_diag *diag);
/* Wipes len bytes of text, then frees it; NULL-safe. */
void orch_secret_text_free(char *text, size_t len);

/* Installs, once per process, a jansson free that wipes every block it
 * frees (it stays installed). Call it before jansson parses anything that
 * holds a secret, from the main thread before other threads use jansson;
 * orch_credchain_resolve(), orch_secret_json_parse() and
 * orch_credanswer_decode() call it. */
void orch_secret_json_wipe_on_free(void);
/* Parses text (len bytes) as a JSON object into *root (json_decref it),
 * with the wiping free installed. Returns 0, or ORCH_ECONFIG with diag
 * "<what>: not valid JSON (line L, column C)" or "<what> is not a JSON
 * object": never a piece of the text. */
int orch_secret_json_parse(const char *text, size_t len, const char *what,
                           json_t **root, struct orch_diag *diag);

#endif
