/* emu_answer.c - HTTP answers through libmicrohttpd, request ids. */
#include "server/emu_answer.h"

#include "world/emu_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

void emu_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (ms > 0 && nanosleep(&ts, &ts) != 0)
        ;
}

void emu_make_request_id(uint64_t seed, uint64_t seq, char out[37])
{
    uint64_t x = seed ^ 0x5EED5EEDULL ^ (seq * 0x9E3779B97F4A7C15ULL);
    uint64_t a = emu_splitmix64(&x);
    uint64_t b = emu_splitmix64(&x);

    snprintf(out, 37, "%08X-%04X-4%03X-%04X-%012llX",
             (unsigned)(a >> 32), (unsigned)((a >> 16) & 0xFFFF),
             (unsigned)(a & 0xFFF), (unsigned)((b >> 48) & 0x3FFF) | 0x8000,
             (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}

enum MHD_Result emu_send_buf(struct MHD_Connection *con, int status,
                                const char *ctype, const char *data,
                                size_t len, const char *request_id)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)data, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    if (request_id)
        MHD_add_response_header(r, "x-acs-request-id", request_id);
    ret = MHD_queue_response(con, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result emu_send_json(struct MHD_Connection *con, int status,
                                 json_t *body, const char *request_id)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    enum MHD_Result ret = MHD_NO;

    if (s == NULL)
        return emu_send_buf(con, 500, "text/plain", "out of memory", 13, NULL);
    ret = emu_send_buf(con, status, EMU_JSON_CT, s, strlen(s), request_id);
    free(s);
    return ret;
}

/* A slow answer: a few bytes at a time, spread over slow_ms. */
struct trickle {
    char *data;
    size_t len;
    unsigned delay_ms;
};

#define TRICKLE_CHUNK 8

static ssize_t trickle_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct trickle *t = cls;
    size_t n = 0;

    if (pos >= t->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    emu_sleep_ms(t->delay_ms);
    n = t->len - (size_t)pos;
    if (n > TRICKLE_CHUNK)
        n = TRICKLE_CHUNK;
    if (n > max)
        n = max;
    memcpy(buf, t->data + pos, n);
    return (ssize_t)n;
}

static void trickle_free(void *cls)
{
    struct trickle *t = cls;

    free(t->data);
    free(t);
}

enum MHD_Result emu_send_slow(struct MHD_Connection *con, int status,
                              json_t *body, const char *request_id,
                              unsigned slow_ms)
{
    struct trickle *t = calloc(1, sizeof(*t));
    struct MHD_Response *r = NULL;
    enum MHD_Result ret = MHD_NO;
    size_t chunks = 0;

    if (t == NULL)
        return MHD_NO;
    t->data = json_dumps(body, JSON_COMPACT);
    if (t->data == NULL) {
        free(t);
        return MHD_NO;
    }
    t->len = strlen(t->data);
    chunks = (t->len + TRICKLE_CHUNK - 1) / TRICKLE_CHUNK;
    t->delay_ms = chunks ? (unsigned)(slow_ms / chunks) : 0;
    r = MHD_create_response_from_callback(t->len, TRICKLE_CHUNK,
                                          trickle_read, t, trickle_free);
    if (r == NULL) {
        trickle_free(t);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", EMU_JSON_CT);
    MHD_add_response_header(r, "x-acs-request-id", request_id);
    ret = MHD_queue_response(con, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

void emu_set_rst(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct linger lg = {1, 0};

    if (ci)
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}
