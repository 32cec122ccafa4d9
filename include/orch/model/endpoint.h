/* endpoint.h - where the API is: the region (--region, else the
 * environment's ALIBABA_CLOUD_REGION_ID, else cn-shanghai) and the
 * endpoint (--endpoint, else https://iot.<region>.aliyuncs.com), both
 * checked before any call is made.
 *
 * Reads the environment (not thread-safe against setenv); otherwise
 * pure. The strings are the caller's (struct orch_config's fields).
 */
#ifndef ORCH_ENDPOINT_H
#define ORCH_ENDPOINT_H

struct orch_diag;

/* Fills in and checks *region and *endpoint, each NULL or a malloced
 * string the caller owns (a default replaces NULL; the caller frees the
 * result). The region must be lower-case letters, digits and '-'; the
 * endpoint must start with https:// or http:// and hold no space, '?'
 * or '#'. Returns 0, ORCH_ECONFIG with diag naming the option (and
 * ALIBABA_CLOUD_REGION_ID when the bad region came from it), or
 * ORCH_ENOMEM (diag untouched). */
int orch_endpoint_resolve(char **region, char **endpoint,
                          struct orch_diag *diag);

#endif
