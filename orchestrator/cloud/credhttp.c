/* credhttp.c - one blocking HTTP exchange on a private libcurl easy
 * handle, for the credential fetches.
 *
 * DESIGN: a fetch is rare (once per credential lifetime) and must not
 * depend on the dispatcher, so each exchange makes its own easy handle
 * and frees it. The answer is collected into the caller's buffer; when it
 * grows, the old block is wiped before it is freed (it may hold part of a
 * secret), which is why the write callback does not use orch_buf_append.
 */
#include "orch/cloud/credhttp.h"

#include "orch/base/err.h"

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

void orch_credhttp_wipe(struct orch_buf *b)
{
    if (b == NULL)
        return;
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    orch_buf_cleanup(b);
}

/* Appends n bytes to b, growing it by a wiped copy. 0 or -1. */
static int append_wiped(struct orch_buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 1024;
        char *nd = NULL;

        while (ncap < b->len + n + 1)
            ncap *= 2;
        nd = malloc(ncap);
        if (nd == NULL)
            return -1;
        if (b->data) {
            memcpy(nd, b->data, b->len);
            OPENSSL_cleanse(b->data, b->cap);
            free(b->data);
        }
        b->data = nd;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct orch_buf *b = ud;
    size_t n = size * nmemb;

    if (b->len + n > ORCH_CREDHTTP_MAX_BODY || append_wiped(b, p, n) != 0)
        return 0; /* libcurl then fails the transfer (CURLE_WRITE_ERROR) */
    return n;
}

int orch_credhttp_send(const struct orch_credhttp_req *rq, long *status,
                       struct orch_buf *answer, struct orch_diag *diag)
{
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    struct curl_slist *grown = NULL;
    CURL *h = NULL;
    CURLcode cc = CURLE_OK;
    size_t i = 0;
    int rc = 0;

    *status = 0;
    errbuf[0] = '\0';
    h = curl_easy_init();
    if (h == NULL)
        return ORCH_ENOMEM;
    /* "Expect: 100-continue" would cost a round trip for a small body. */
    hdrs = curl_slist_append(NULL, "Expect:");
    for (i = 0; hdrs && rq->headers && rq->headers[i]; i++) {
        grown = curl_slist_append(hdrs, rq->headers[i]);
        if (grown == NULL) {
            curl_slist_free_all(hdrs);
            hdrs = NULL;
        }
        hdrs = grown;
    }
    if (hdrs == NULL) {
        rc = ORCH_ENOMEM;
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
    if (strcmp(rq->method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    if (rq->body || strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(rq->body ? rq->body_len : 0));
    }
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = orch_diag_set(diag, ORCH_EHTTP, "%s",
                           errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}
