/* fuzz_response.c - libFuzzer target for the API response decoder.
 *
 * Input: two bytes of HTTP status (big-endian, so any value 0..65535),
 * then the body. The decoder must accept anything, and leave every text
 * field NUL-terminated inside its array.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orch/cloud/api.h"
#include "orch/base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct orch_response r;
    long status = 0;
    int rc = 0;

    if (size < 2)
        return 0;
    status = (long)data[0] << 8 | (long)data[1];
    orch_response_init(&r);
    rc = orch_api_decode(&r, status, (const char *)data + 2, size - 2);
    if (rc != 0 && rc != ORCH_ENOMEM)
        abort();
    if (rc == 0) {
        check_text(r.code, sizeof(r.code));
        check_text(r.message, sizeof(r.message));
        check_text(r.request_id, sizeof(r.request_id));
        check_text(r.job_id, sizeof(r.job_id));
        check_text(r.utc_create, sizeof(r.utc_create));
        /* Success needs a 2xx status. */
        if (r.success && (status < 200 || status > 299))
            abort();
        if (r.is_json != (r.root != NULL))
            abort();
    }
    orch_response_cleanup(&r);
    return 0;
}
