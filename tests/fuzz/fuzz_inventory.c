/* fuzz_inventory.c - libFuzzer target for the inventory reader.
 *
 * Input: one options byte, then the CSV. Options byte bits:
 *   bit 0     skip_invalid
 *   bits 1-2  delimiter: 0 = detect, 1 = ',', 2 = ';', 3 = '\t'
 *   bit 3     a default product key (--product-key) is given
 *   bit 4     the reject callback aborts the load at the third rejected row
 * (Seeds use '@' = 0x40 for the defaults, 'A' for --skip-invalid.)
 * Whatever the result, the inventory must be consistent and freeable.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orch/base/err.h"
#include "orch/model/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_reject(void *ud, uint32_t line, const char *value,
                     const char *reason)
{
    unsigned *n = ud;

    (void)line;
    if (value == NULL || reason == NULL)
        abort();
    /* Read both strings whole, so ASan sees any overrun. */
    if (strlen(value) + strlen(reason) == (size_t)-1)
        abort();
    return ++*n >= 3 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = {0, ',', ';', '\t'};
    struct orch_inventory inv;
    struct orch_inventory_opts opts;
    struct orch_diag diag;
    unsigned rejected = 0;
    int rc = 0;

    if (size < 1)
        return 0;
    memset(&opts, 0, sizeof(opts));
    opts.skip_invalid = data[0] & 1;
    opts.delimiter = delims[(data[0] >> 1) & 3];
    opts.default_product_key = (data[0] & 8) ? "a1B2c3D4e5F" : NULL;
    if (data[0] & 16) {
        opts.on_reject = on_reject;
        opts.reject_ud = &rejected;
    }
    orch_inventory_init(&inv);
    rc = orch_inventory_load_mem(&inv, "fuzz.csv", (const char *)data + 1,
                                 size - 1, &opts, &diag);
    if (rc == 0) {
        for (size_t i = 0; i < inv.n; i++) {
            const char *name = NULL;

            if (inv.dev[i].name_off >= inv.names_len ||
                inv.dev[i].product >= inv.nproducts)
                abort();
            name = orch_inventory_name(&inv, i);
            if (orch_device_name_problem(name) != NULL)
                abort();
        }
        for (size_t i = 0; i < inv.nproducts; i++)
            if (inv.products[i] == NULL)
                abort();
    } else if (memchr(diag.msg, '\0', sizeof(diag.msg)) == NULL) {
        abort();
    }
    orch_inventory_cleanup(&inv);
    return 0;
}
