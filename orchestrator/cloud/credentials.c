/* credentials.c - an AccessKey (+ optional STS token) kept in wiped-on-free
 * secrets, and the two ways secrets are read: whole files into wiped
 * buffers, and JSON parsed by a jansson whose free wipes.
 *
 * DESIGN: jansson copies every string it parses into blocks of its own,
 * and frees its lexer's buffers while it parses. Everything that holds a
 * secret in jansson's heap (a config.json profile, an External command's
 * answer, an STS or metadata answer) must therefore be parsed and freed
 * while jansson's free wipes. Switching jansson's allocator around each
 * parse would race with the threads that decode API answers, so the wiping
 * free is installed once per process (pthread_once) and stays: every block
 * jansson frees is wiped, whichever thread frees it. The wiping free works
 * on blocks allocated before it was installed as well, because it asks
 * malloc_usable_size() for the block's size and calls the same free().
 */
#include "orch/cloud/credentials.h"

#include "orch/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_FILE_MAX (4 * 1024 * 1024)

int orch_secret_set(struct orch_secret *sec, const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n + 1);

    if (copy == NULL)
        return ORCH_ENOMEM;
    memcpy(copy, s, n + 1);
    orch_secret_wipe(sec);
    sec->s = copy;
    sec->len = n;
    return 0;
}

void orch_secret_wipe(struct orch_secret *sec)
{
    if (sec == NULL)
        return;
    if (sec->s) {
        OPENSSL_cleanse(sec->s, sec->len);
        free(sec->s);
    }
    sec->s = NULL;
    sec->len = 0;
}

void orch_credentials_cleanup(struct orch_credentials *cred)
{
    if (cred == NULL)
        return;
    /* First: the refresher may still be fetching. */
    if (cred->live != NULL && cred->live_free != NULL)
        cred->live_free(cred->live);
    free(cred->provider);
    free(cred->access_key_id);
    orch_secret_wipe(&cred->secret);
    orch_secret_wipe(&cred->token);
    free(cred->source);
    memset(cred, 0, sizeof(*cred));
}

int orch_credentials_fill(struct orch_credentials *cred, const char *id,
                          const char *secret, const char *token,
                          const char *source)
{
    int rc = 0;

    memset(cred, 0, sizeof(*cred));
    cred->access_key_id = strdup(id);
    cred->source = strdup(source);
    if (cred->access_key_id == NULL || cred->source == NULL)
        rc = ORCH_ENOMEM;
    if (rc == 0)
        rc = orch_secret_set(&cred->secret, secret);
    if (rc == 0 && token && *token)
        rc = orch_secret_set(&cred->token, token);
    if (rc)
        orch_credentials_cleanup(cred);
    return rc;
}

/* jansson's free: wipe, then free. */
static void wiping_free(void *p)
{
    if (p) {
        OPENSSL_cleanse(p, malloc_usable_size(p));
        free(p);
    }
}

static pthread_once_t wipe_once = PTHREAD_ONCE_INIT;

static void install_wiping_free(void)
{
    json_set_alloc_funcs(malloc, wiping_free);
}

void orch_secret_json_wipe_on_free(void)
{
    pthread_once(&wipe_once, install_wiping_free);
}

int orch_secret_json_parse(const char *text, size_t len, const char *what,
                           json_t **out, struct orch_diag *diag)
{
    json_error_t jerr;
    json_t *root = NULL;

    orch_secret_json_wipe_on_free();
    *out = NULL;
    root = json_loadb(text, len, 0, &jerr);
    if (root == NULL)
        /* Not jerr.text: it may quote the input near the error, and the
         * input holds secrets. */
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: not valid JSON (line %d, column %d)", what,
                             jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return orch_diag_set(diag, ORCH_ECONFIG, "%s is not a JSON object",
                             what);
    }
    *out = root;
    return 0;
}

void orch_secret_text_free(char *text, size_t len)
{
    if (text) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
}

int orch_secret_file_read(const char *path, char **out, size_t *out_len,
                          unsigned *mode, struct orch_diag *diag)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    ssize_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0 && errno == ENOENT)
        return ORCH_ENOTFOUND;
    if (fd < 0)
        return orch_diag_set(diag, ORCH_ECRED, "cannot open %s: %s", path,
                             strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > SECRET_FILE_MAX) {
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "%s is not a regular file of at most 4 MiB", path);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    while (len < (size_t)st.st_size) {
        n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (n < 0) {
        rc = orch_diag_set(diag, ORCH_ECRED, "cannot read %s: %s", path,
                           strerror(errno));
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    if (mode)
        *mode = (unsigned)(st.st_mode & 07777);
    buf = NULL;
out:
    orch_secret_text_free(buf, buf ? (size_t)st.st_size + 1 : 0);
    close(fd);
    return rc;
}
