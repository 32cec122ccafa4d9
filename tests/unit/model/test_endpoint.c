/* test_endpoint.c - the API's region and endpoint: defaults from the
 * environment, and the checks of each (endpoint.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/endpoint.h"

#include <stdlib.h>
#include <string.h>

/* One resolution: the environment's region (NULL: unset), the options
 * as given (NULL: not given), and what comes out. */
struct resolution {
    const char *env, *region, *endpoint;
    int rc;
    const char *want_region, *want_endpoint; /* when rc is 0 */
    const char *want_msg;                    /* else: diag starts so */
};

static const struct resolution cases[] = {
    {NULL, NULL, NULL, 0, "cn-shanghai",
     "https://iot.cn-shanghai.aliyuncs.com", NULL},
    {"", NULL, NULL, 0, "cn-shanghai", "https://iot.cn-shanghai.aliyuncs.com",
     NULL},
    {"ap-southeast-1", NULL, NULL, 0, "ap-southeast-1",
     "https://iot.ap-southeast-1.aliyuncs.com", NULL},
    /* The option beats the environment; a given endpoint is kept. */
    {"ap-southeast-1", "cn-beijing", NULL, 0, "cn-beijing",
     "https://iot.cn-beijing.aliyuncs.com", NULL},
    {NULL, NULL, "http://127.0.0.1:8080", 0, "cn-shanghai",
     "http://127.0.0.1:8080", NULL},
    {"EU_1", NULL, NULL, ORCH_ECONFIG, NULL, NULL,
     "--region: \"EU_1\" is not a region id such as cn-shanghai (from "
     "ALIBABA_CLOUD_REGION_ID)"},
    {"cn-beijing", "CN-Shanghai", NULL, ORCH_ECONFIG, NULL, NULL,
     "--region: \"CN-Shanghai\" is not a region id such as cn-shanghai"},
    {NULL, "", NULL, ORCH_ECONFIG, NULL, NULL, "--region: empty"},
    {NULL, NULL, "ftp://x", ORCH_ECONFIG, NULL, NULL,
     "--endpoint: \"ftp://x\" does not start with https:// (or http://)"},
    {NULL, NULL, "https://h/?a", ORCH_ECONFIG, NULL, NULL,
     "--endpoint: \"https://h/?a\" has a space, '?' or '#'; give just "
     "scheme://host[:port]"},
    {NULL, NULL, "https://a b", ORCH_ECONFIG, NULL, NULL,
     "--endpoint: \"https://a b\" has a space"},
};

static char *copy_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void resolves_each_case(void **state)
{
    size_t i = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct resolution *c = &cases[i];
        char *region = copy_or_null(c->region);
        char *endpoint = copy_or_null(c->endpoint);
        struct orch_diag d = {{0}};
        int rc = 0;

        if (c->env)
            setenv("ALIBABA_CLOUD_REGION_ID", c->env, 1);
        else
            unsetenv("ALIBABA_CLOUD_REGION_ID");
        rc = orch_endpoint_resolve(&region, &endpoint, &d);
        print_message("case %zu: %s\n", i, d.msg);
        assert_int_equal(rc, c->rc);
        if (rc == 0) {
            assert_string_equal(region, c->want_region);
            assert_string_equal(endpoint, c->want_endpoint);
        } else {
            assert_memory_equal(d.msg, c->want_msg, strlen(c->want_msg));
        }
        free(region);
        free(endpoint);
    }
    unsetenv("ALIBABA_CLOUD_REGION_ID");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolves_each_case),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
