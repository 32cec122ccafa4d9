/* emu_args.c - request parameters of the operations, and their shared
 * refusals. */
#include "ops/emu_args.h"

#include "world/emu_reply.h"

#include "orch/base/err.h"
#include "orch/cloud/params.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *emu_param(const struct emu_call *c, const char *name)
{
    const char *v = orch_params_get(c->params, name);

    return (v && v[0]) ? v : NULL;
}

int emu_parse_i64(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = 0;

    if (s == NULL || s[0] == '\0' || s[0] == '+' || s[0] == ' ')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

size_t emu_list_index(const char *suffix)
{
    size_t v = 0;
    const char *p = suffix;

    if (*p < '1' || *p > '9')
        return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000)
            return 0;
        v = v * 10 + (size_t)(*p - '0');
    }
    return v;
}

int emu_bool_param(const struct emu_call *c, const char *name)
{
    const char *v = emu_param(c, name);

    if (v == NULL || strcasecmp(v, "false") == 0)
        return 0;
    if (strcasecmp(v, "true") == 0)
        return 1;
    return -1;
}

int emu_reject(struct emu_result *r, const struct emu_call *c, int *rc,
               const char *code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    *rc = emu_vfail(r, c, code, fmt, ap);
    va_end(ap);
    return 1;
}

int emu_check_instance(struct emu_world *w, const struct emu_call *c,
                       struct emu_result *r, int *rc)
{
    const char *inst = emu_param(c, "IotInstanceId");

    if (w->instance_id == NULL && inst == NULL)
        return 0;
    if (w->instance_id && inst && strcmp(w->instance_id, inst) == 0)
        return 0;
    if (w->instance_id && inst == NULL)
        return emu_reject(r, c, rc, "iot.ota.InstanceIdMisMatch",
                          "IotInstanceId is required for this instance.");
    return emu_reject(r, c, rc, "iot.ota.InstanceIdMisMatch",
                      "IotInstanceId %.80s does not match the instance.",
                      inst);
}

int emu_check_paging(const struct emu_call *c, struct emu_result *r,
                     int *rc, int64_t max_size, int64_t def_size,
                     int64_t def_page, int64_t *size, int64_t *page)
{
    const char *ps = emu_param(c, "PageSize");
    const char *cp = emu_param(c, "CurrentPage");

    *size = def_size;
    *page = def_page;
    if ((ps && emu_parse_i64(ps, size)) || (cp && emu_parse_i64(cp, page)) ||
        (ps == NULL && def_size == 0) || (cp == NULL && def_page == 0) ||
        *size < 1 || *size > max_size || *page < 1)
        return emu_reject(r, c, rc, EMU_CODE_PAGE,
                          "PageSize must be 1..%lld and CurrentPage >= 1.",
                          (long long)max_size);
    return 0;
}

int emu_on_page(int64_t nth, int64_t page, int64_t size)
{
    return nth > (page - 1) * size && nth <= page * size;
}

/* The value of the id parameter `name`, which the call needs, after the
 * instance check; or NULL with r filled and *rc set. */
static const char *id_param(struct emu_world *w, const struct emu_call *c,
                            struct emu_result *r, int *rc, const char *name)
{
    const char *id = emu_param(c, name);

    if (id == NULL) {
        emu_reject(r, c, rc, EMU_CODE_NULL,
                   "%s is mandatory for this action.", name);
        return NULL;
    }
    if (emu_check_instance(w, c, r, rc))
        return NULL;
    return id;
}

struct emu_job *emu_job_param(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r, int *rc)
{
    const char *id = id_param(w, c, r, rc, "JobId");
    struct emu_job *job = NULL;

    if (id == NULL)
        return NULL;
    job = emu_job_find(w, id);
    if (job == NULL)
        *rc = emu_fail(r, c, "iot.ota.InvalidJobId",
                       "Job %.80s does not exist.", id);
    return job;
}

struct emu_firmware *emu_firmware_param(struct emu_world *w,
                                        const struct emu_call *c,
                                        struct emu_result *r, int *rc)
{
    const char *id = id_param(w, c, r, rc, "FirmwareId");
    struct emu_firmware *fw = NULL;

    if (id == NULL)
        return NULL;
    if (emu_valid_alnum(id, 64))
        fw = emu_firmware_find(w, id, w->opts.auto_create);
    if (fw == NULL)
        *rc = emu_fail_unknown_firmware(r, c, id);
    return fw;
}

int emu_fail_no_product_key(struct emu_result *r, const struct emu_call *c)
{
    return emu_fail(r, c, "iot.prod.NullProductKey",
                    "ProductKey is mandatory for this action.");
}

int emu_fail_no_device_name(struct emu_result *r, const struct emu_call *c,
                            const char *what)
{
    return emu_fail(r, c, "iot.device.NullDeviceName",
                    "%s is mandatory for this action.", what);
}

int emu_fail_unknown_product(struct emu_result *r, const struct emu_call *c,
                             const char *pk)
{
    return emu_fail(r, c, "iot.prod.NotExistedProduct",
                    "Product %.80s does not exist.", pk);
}

int emu_fail_unknown_firmware(struct emu_result *r, const struct emu_call *c,
                              const char *id)
{
    return emu_fail(r, c, "iot.ota.FirmwareNotFound",
                    "Firmware %.80s does not exist.", id);
}

int emu_fail_unknown_device(struct emu_result *r, const struct emu_call *c,
                            const char *dn, const char *pk)
{
    return emu_fail(r, c, "iot.device.NotExistedDevice",
                    "Device %.40s does not exist in product %.80s.", dn, pk);
}
