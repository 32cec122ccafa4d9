/* emu_args.h - reading an operation's request parameters, and the
 * refusals every operation shares.
 *
 * The "check" helpers follow one convention: they return 0 to go on, or
 * 1 when the call is refused, with r filled (the business error) and *rc
 * set to what filling it returned (0, or ORCH_ENOMEM). An operation
 * then returns *rc. Functions that take the world expect its lock held.
 */
#ifndef EMU_ARGS_H
#define EMU_ARGS_H

#include "world/emu_model.h"

#include <stddef.h>
#include <stdint.h>

/* The error codes several operations answer. */
#define EMU_CODE_INVALID "iot.common.InvalidFormattedParameter"
#define EMU_CODE_NULL "iot.check.NullParameter"
#define EMU_CODE_PAGE "iot.common.InvalidPageParams"

/* The value of parameter `name` when present and not empty, else NULL. */
const char *emu_param(const struct emu_call *c, const char *name);

/* Strict decimal (optional leading '-') that fits in int64. 0 or -1. */
int emu_parse_i64(const char *s, int64_t *out);

/* "N" of "Prefix.N" as a positive index without leading zeros; 0 if the
 * suffix is not one. */
size_t emu_list_index(const char *suffix);

/* "true"/"false" (any case) of parameter name: 1 or 0; absent is 0;
 * -1 when malformed. */
int emu_bool_param(const struct emu_call *c, const char *name);

/* Refuses the call: fills r with emu_fail(code, fmt, ...), sets *rc to
 * its result and returns 1. */
int emu_reject(struct emu_result *r, const struct emu_call *c, int *rc,
               const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Refuses the call unless IotInstanceId matches the world's instance
 * (none given when the world has none). */
int emu_check_instance(struct emu_world *w, const struct emu_call *c,
                       struct emu_result *r, int *rc);

/* PageSize/CurrentPage into *size and *page: 1..max_size and >= 1.
 * Missing values take def_size / def_page (0 = required). */
int emu_check_paging(const struct emu_call *c, struct emu_result *r,
                     int *rc, int64_t max_size, int64_t def_size,
                     int64_t def_page, int64_t *size, int64_t *page);

/* Whether the nth item (1-based) of a list is on page `page` of `size`. */
int emu_on_page(int64_t nth, int64_t page, int64_t size);

/* JobId's job (presence, instance, existence), or NULL with r filled
 * and *rc set. */
struct emu_job *emu_job_param(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r, int *rc);
/* FirmwareId's firmware the same way (auto-created in an auto_create
 * world). */
struct emu_firmware *emu_firmware_param(struct emu_world *w,
                                        const struct emu_call *c,
                                        struct emu_result *r, int *rc);

/* The refusals several operations answer, each with its code and
 * message. Return what emu_fail() returns. */
int emu_fail_no_product_key(struct emu_result *r, const struct emu_call *c);
int emu_fail_no_device_name(struct emu_result *r, const struct emu_call *c,
                            const char *what);
int emu_fail_unknown_product(struct emu_result *r, const struct emu_call *c,
                             const char *pk);
int emu_fail_unknown_firmware(struct emu_result *r, const struct emu_call *c,
                              const char *id);
int emu_fail_unknown_device(struct emu_result *r, const struct emu_call *c,
                            const char *dn, const char *pk);

#endif
