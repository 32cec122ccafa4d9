/* emu_fixture.c - loads a world's products, devices and firmware from a
 * JSON fixture (the format is in emu_fixture.h). */
#include "world/emu_fixture.h"

#include "world/emu_model.h"

#include "orch/base/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The "devices" array of product p. */
static int load_devices(struct emu_world *w, struct emu_product *p,
                        json_t *devs, const char *path,
                        struct orch_diag *diag)
{
    const char *pk = p->key;
    size_t j = 0;
    json_t *jd = NULL;

    json_array_foreach(devs, j, jd) {
        const char *name = json_string_value(json_object_get(jd, "name"));
        const char *ver = json_string_value(json_object_get(jd, "version"));
        struct emu_device *d = NULL;

        if (name == NULL || !emu_valid_device_name(name))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: product %s: "
                                 "device %zu: missing or invalid name",
                                 path, pk, j);
        if (emu_device_find(w, p, name, 0))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: product %s: "
                                 "device \"%s\" listed twice", path, pk,
                                 name);
        d = emu_device_new(w, p, name, ver ? ver : "1.0.0", 0);
        if (d == NULL)
            return ORCH_ENOMEM;
        d->fail = json_is_true(json_object_get(jd, "fail"));
    }
    return 0;
}

static int load_products(struct emu_world *w, json_t *arr, const char *path,
                         struct orch_diag *diag)
{
    size_t i = 0;
    json_t *jp = NULL;
    int rc = 0;

    if (arr == NULL)
        return 0;
    if (!json_is_array(arr))
        return orch_diag_set(diag, ORCH_EINVAL, "%s: \"products\" is not an "
                             "array", path);
    json_array_foreach(arr, i, jp) {
        const char *pk = json_string_value(json_object_get(jp, "product_key"));
        json_t *devs = json_object_get(jp, "devices");
        struct emu_product *p = NULL;

        if (pk == NULL || !emu_valid_alnum(pk, EMU_MAX_PK))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: products[%zu]: "
                                 "missing or invalid product_key", path, i);
        p = emu_product_find(w, pk, 1);
        if (p == NULL)
            return ORCH_ENOMEM;
        if (devs && !json_is_array(devs))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: products[%zu]: "
                                 "\"devices\" is not an array", path, i);
        rc = load_devices(w, p, devs, path, diag);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_firmware(struct emu_world *w, json_t *arr, const char *path,
                         struct orch_diag *diag)
{
    size_t i = 0;
    json_t *jf = NULL;

    if (arr == NULL)
        return 0;
    if (!json_is_array(arr))
        return orch_diag_set(diag, ORCH_EINVAL, "%s: \"firmware\" is not an "
                             "array", path);
    json_array_foreach(arr, i, jf) {
        const char *id = json_string_value(json_object_get(jf, "id"));
        const char *pk = json_string_value(json_object_get(jf, "product_key"));
        const char *dest = json_string_value(json_object_get(jf,
                                                             "dest_version"));
        const char *src = json_string_value(json_object_get(jf,
                                                            "src_version"));
        const char *name = json_string_value(json_object_get(jf, "name"));
        json_t *st = json_object_get(jf, "status");
        json_t *ty = json_object_get(jf, "type");
        struct emu_firmware *f = NULL;

        if (id == NULL || !emu_valid_alnum(id, 64) || pk == NULL ||
            dest == NULL)
            return orch_diag_set(diag, ORCH_EINVAL, "%s: firmware[%zu]: id "
                                 "(alphanumeric), product_key and "
                                 "dest_version are required", path, i);
        if (emu_map_get(&w->firmware, id))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: firmware \"%s\" "
                                 "listed twice", path, id);
        if (st && (!json_is_integer(st) || json_integer_value(st) < -1 ||
                   json_integer_value(st) > 3))
            return orch_diag_set(diag, ORCH_EINVAL, "%s: firmware \"%s\": "
                                 "status must be -1..3", path, id);
        f = emu_firmware_new(w, id);
        if (f == NULL)
            return ORCH_ENOMEM;
        f->prod = emu_product_find(w, pk, 1);
        f->dest_version = emu_intern(w, dest);
        f->src_version = src ? emu_intern(w, src) : NULL;
        f->status = st ? (int)json_integer_value(st) : 1;
        f->type = json_is_integer(ty) ? (int)json_integer_value(ty)
                                      : (src ? 1 : 0);
        f->name = strdup(name ? name : id);
        if (f->prod == NULL || f->dest_version == NULL || f->name == NULL ||
            (src && f->src_version == NULL))
            return ORCH_ENOMEM;
    }
    return 0;
}

int emu_world_load_fixture(struct emu_world *w, const char *path,
                           struct orch_diag *diag)
{
    json_error_t jerr;
    json_t *root = NULL;
    const char *inst = NULL;
    int rc = 0;

    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        if (jerr.line <= 0 && jerr.position == 0)
            return orch_diag_set(diag, ORCH_EIO, "%s: %s", path, jerr.text);
        return orch_diag_set(diag, ORCH_EINVAL, "%s:%d: %s", path, jerr.line,
                             jerr.text);
    }
    if (!json_is_object(root)) {
        rc = orch_diag_set(diag, ORCH_EINVAL, "%s: not a JSON object", path);
        goto out;
    }
    pthread_mutex_lock(&w->lock);
    inst = json_string_value(json_object_get(root, "instance_id"));
    /* An instance id given in the options wins over the fixture's. */
    if (inst && inst[0] && w->instance_id == NULL) {
        w->instance_id = strdup(inst);
        if (w->instance_id == NULL)
            rc = ORCH_ENOMEM;
    }
    if (rc == 0)
        rc = load_products(w, json_object_get(root, "products"), path, diag);
    if (rc == 0)
        rc = load_firmware(w, json_object_get(root, "firmware"), path, diag);
    pthread_mutex_unlock(&w->lock);
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "%s: out of memory", path);
out:
    json_decref(root);
    return rc;
}
