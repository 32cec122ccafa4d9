/* emu_reply.h - the three answer shapes of the API, built into a
 * struct emu_result (or, for the gateway's, a JSON object the server
 * sends itself):
 *   business error   HTTP 200 {RequestId, Success:false, Code, ErrorMessage}
 *   success          HTTP 200 {RequestId, Success:true, ...}
 *   gateway error    HTTP 4xx/5xx {RequestId, HostId, Code, Message,
 *                    Recommend}
 * Pure; thread-safe.
 */
#ifndef EMU_REPLY_H
#define EMU_REPLY_H

#include "world/emu_call.h"

#include <stdarg.h>

#include <jansson.h>

/* HostId of the gateway errors the world answers itself. */
#define EMU_HOST_ID "iot.cn-shanghai.aliyuncs.com"

/* Fills r with the business error shape; fmt makes the ErrorMessage
 * (cut at 511 bytes). Returns 0 or ORCH_ENOMEM. */
int emu_fail(struct emu_result *r, const struct emu_call *c, const char *code,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same with a va_list. */
int emu_vfail(struct emu_result *r, const struct emu_call *c,
              const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Fills r with a success body: {RequestId, Success:true} plus the members
 * of extra (stolen; may be NULL). Returns 0 or ORCH_ENOMEM. */
int emu_ok(struct emu_result *r, const struct emu_call *c, json_t *extra);

/* The gateway error object (new reference, NULL on ENOMEM). request_id
 * NULL is "". */
json_t *emu_gateway_error_json(const char *request_id, const char *host_id,
                               const char *code, const char *message);

/* Fills r with a gateway error of HTTP `status` and HostId EMU_HOST_ID.
 * Returns 0 or ORCH_ENOMEM. */
int emu_gateway_fail(struct emu_result *r, const struct emu_call *c,
                     int status, const char *code, const char *message);

#endif
