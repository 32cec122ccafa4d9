/* emu_catalog.c - the lookups of firmware and devices: QueryOTAFirmware,
 * BatchQueryDeviceDetail and QueryDeviceDetail. Called with the world's
 * lock held.
 */
#include "ops/emu_catalog.h"

#include "ops/emu_args.h"
#include "ops/emu_json.h"
#include "world/emu_reply.h"

#include "orch/base/err.h"
#include "orch/cloud/params.h"

#include <string.h>

#define MAX_QUERY_NAMES 100

int emu_op_query_firmware(struct emu_world *w, const struct emu_call *c,
                          struct emu_result *r)
{
    int rc = 0;
    struct emu_firmware *fw = emu_firmware_param(w, c, r, &rc);
    json_t *info = NULL;

    if (fw == NULL)
        return rc;
    info = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s}",
                     "FirmwareId", fw->id, "FirmwareName",
                     fw->name ? fw->name : fw->id, "ProductKey",
                     fw->prod ? fw->prod->key : "", "DestVersion",
                     fw->dest_version, "Status", fw->status, "Type", fw->type,
                     "VerifyProgress", fw->status == 1 ? 100 : 0,
                     "ModuleName", "default", "SignMethod", "MD5");
    if (info == NULL)
        return ORCH_ENOMEM;
    if (fw->src_version &&
        json_object_set_new(info, "SrcVersion", json_string(fw->src_version)))
        goto nomem;
    if (emu_set_utc(info, "UtcCreate", fw->created_ms))
        goto nomem;
    /* The real API names the struct FirmwareInfo; Data carries the same
     * object for clients written against the generic IoT shape. */
    return emu_ok_with(r, c, json_pack("{s:O, s:o}", "Data", info,
                                       "FirmwareInfo", info));
nomem:
    json_decref(info);
    return ORCH_ENOMEM;
}

int emu_op_batch_query_device(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r)
{
    const char *pk = emu_param(c, "ProductKey");
    struct emu_product *prod = NULL;
    json_t *list = NULL;
    size_t n = 0;
    size_t i = 0;
    int rc = 0;

    if (pk == NULL)
        return emu_fail_no_product_key(r, c);
    if (emu_check_instance(w, c, r, &rc))
        return rc;
    for (i = 0; i < c->params->n; i++) {
        if (strncmp(c->params->v[i].name, "DeviceName.", 11) == 0)
            n++;
    }
    if (n == 0)
        return emu_fail_no_device_name(r, c, "DeviceName.N");
    if (n > MAX_QUERY_NAMES)
        return emu_fail(r, c, "iot.device.TooManyDeviceNamesPerRequest",
                        "At most %d DeviceName values are allowed.",
                        MAX_QUERY_NAMES);
    if (emu_valid_alnum(pk, EMU_MAX_PK))
        prod = emu_product_find(w, pk, w->opts.auto_create);
    if (prod == NULL)
        return emu_fail_unknown_product(r, c, pk);
    list = json_array();
    if (list == NULL)
        return ORCH_ENOMEM;
    for (i = 0; i < c->params->n; i++) {
        struct emu_device *d = NULL;
        if (strncmp(c->params->v[i].name, "DeviceName.", 11))
            continue;
        /* Devices that do not exist are silently omitted. */
        if (emu_valid_device_name(c->params->v[i].value))
            d = emu_device_find(w, prod, c->params->v[i].value, 0);
        if (d && json_array_append_new(list,
                                       emu_device_json(w, d, c->now_ms))) {
            json_decref(list);
            return ORCH_ENOMEM;
        }
    }
    return emu_ok_with(r, c, json_pack("{s:{s:o}}", "Data", "Data", list));
}

int emu_op_query_device(struct emu_world *w, const struct emu_call *c,
                        struct emu_result *r)
{
    const char *pk = emu_param(c, "ProductKey");
    const char *dn = emu_param(c, "DeviceName");
    struct emu_product *prod = NULL;
    struct emu_device *d = NULL;
    json_t *data = NULL;
    int rc = 0;

    if (emu_param(c, "IotId") && (pk == NULL || dn == NULL))
        return emu_fail(r, c, EMU_CODE_INVALID,
                        "ota-emulator looks devices up by ProductKey and "
                        "DeviceName only.");
    if (pk == NULL)
        return emu_fail_no_product_key(r, c);
    if (dn == NULL)
        return emu_fail_no_device_name(r, c, "DeviceName");
    if (emu_check_instance(w, c, r, &rc))
        return rc;
    if (emu_valid_alnum(pk, EMU_MAX_PK))
        prod = emu_product_find(w, pk, w->opts.auto_create);
    if (prod && emu_valid_device_name(dn))
        d = emu_device_find(w, prod, dn, w->opts.auto_create);
    if (d == NULL)
        return emu_fail_unknown_device(r, c, dn, pk);
    data = emu_device_json(w, d, c->now_ms);
    if (data == NULL)
        return ORCH_ENOMEM;
    return emu_ok_with(r, c, json_pack("{s:o}", "Data", data));
}
