/* emu_reply.c - the API's answer shapes: business error, success and
 * gateway error. */
#include "world/emu_reply.h"

#include "orch/base/err.h"

#include <stdarg.h>
#include <stdio.h>

int emu_fail(struct emu_result *r, const struct emu_call *c, const char *code,
             const char *fmt, ...)
{
    va_list ap;
    int rc = 0;

    va_start(ap, fmt);
    rc = emu_vfail(r, c, code, fmt, ap);
    va_end(ap);
    return rc;
}

int emu_vfail(struct emu_result *r, const struct emu_call *c,
              const char *code, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    r->http_status = 200;
    snprintf(r->code, sizeof(r->code), "%s", code);
    r->body = json_pack("{s:s, s:b, s:s, s:s}", "RequestId",
                        c->request_id ? c->request_id : "", "Success", 0,
                        "Code", code, "ErrorMessage", msg);
    return r->body ? 0 : ORCH_ENOMEM;
}

int emu_ok(struct emu_result *r, const struct emu_call *c, json_t *extra)
{
    json_t *body = json_pack("{s:s, s:b}", "RequestId",
                             c->request_id ? c->request_id : "", "Success",
                             1);

    if (body == NULL) {
        json_decref(extra);
        return ORCH_ENOMEM;
    }
    if (extra && json_object_update(body, extra)) {
        json_decref(extra);
        json_decref(body);
        return ORCH_ENOMEM;
    }
    json_decref(extra);
    r->http_status = 200;
    r->code[0] = '\0';
    r->body = body;
    return 0;
}

json_t *emu_gateway_error_json(const char *request_id, const char *host_id,
                               const char *code, const char *message)
{
    char rec[512];

    if (request_id == NULL)
        request_id = "";
    snprintf(rec, sizeof(rec),
             "https://api.aliyun.com/troubleshoot?q=%s&product=Iot"
             "&requestId=%s",
             code, request_id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "RequestId", request_id,
                     "HostId", host_id, "Code", code, "Message", message,
                     "Recommend", rec);
}

int emu_gateway_fail(struct emu_result *r, const struct emu_call *c,
                     int status, const char *code, const char *message)
{
    r->http_status = status;
    snprintf(r->code, sizeof(r->code), "%s", code);
    r->body = emu_gateway_error_json(c->request_id, EMU_HOST_ID, code,
                                     message);
    return r->body ? 0 : ORCH_ENOMEM;
}
