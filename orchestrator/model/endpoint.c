/* endpoint.c - the API's region and endpoint, with their defaults
 * (endpoint.h). */
#include "orch/model/endpoint.h"

#include "orch/base/err.h"
#include "orch/base/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int orch_endpoint_resolve(char **region, char **endpoint,
                          struct orch_diag *diag)
{
    const char *env = getenv("ALIBABA_CLOUD_REGION_ID");
    const char *p = NULL;
    char url[256];
    int rc = 0;

    if (*region == NULL) {
        rc = orch_str_set(region, env && *env ? env : "cn-shanghai");
        if (rc)
            return rc;
    }
    if ((*region)[0] == '\0')
        return orch_diag_set(diag, ORCH_ECONFIG, "--region: empty");
    for (p = *region; *p; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
            *p != '-')
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--region: \"%s\" is not a region id such "
                                 "as cn-shanghai%s",
                                 *region,
                                 env && strcmp(env, *region) == 0
                                     ? " (from ALIBABA_CLOUD_REGION_ID)"
                                     : "");
    }
    if (*endpoint == NULL) {
        snprintf(url, sizeof(url), "https://iot.%s.aliyuncs.com", *region);
        return orch_str_set(endpoint, url);
    }
    if (strncmp(*endpoint, "https://", 8) != 0 &&
        strncmp(*endpoint, "http://", 7) != 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--endpoint: \"%s\" does not start with "
                             "https:// (or http://)",
                             *endpoint);
    for (p = *endpoint; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#')
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--endpoint: \"%s\" has a space, '?' or "
                                 "'#'; give just scheme://host[:port]",
                                 *endpoint);
    }
    return 0;
}
