/* credini.h - a section of the official credential libraries' ini file
 * (~/.alibabacloud/credentials, or credentials.ini as credentials-python
 * names it) as a credential source. Keys, as credentials-go and
 * credentials-python read them:
 *
 *   type = access_key      access_key_id, access_key_secret
 *                          -> ORCH_CRED_STATIC, label "profile NAME (FILE)"
 *   type = ecs_ram_role    role_name (absent: discovered)
 *   type = ram_role_arn    access_key_id, access_key_secret, role_arn,
 *                          role_session_name, policy, external_id
 *   type = oidc_role_arn   role_arn, oidc_provider_arn,
 *                          oidc_token_file_path, role_session_name, policy
 *
 * Syntax: [section] headers, `key = value` lines, whole-line comments
 * starting with # or ;, and a comment after a value when # or ; follows a
 * blank (credentials-python cuts values at '#'); keys before any section
 * are ignored. Labels of the temporary types: `<type> ini profile "NAME"`,
 * providers "ini:<type>".
 */
#ifndef ORCH_CREDINI_H
#define ORCH_CREDINI_H

#include <stdbool.h>

#include "orch/cloud/credsource.h"

struct orch_diag;

/* Resolves section `name` of the ini file at path. *file_exists tells
 * whether path exists. A loose mode on the file (or an OIDC token file) is
 * appended to *warning. Returns 0 with *out (orch_credbuild_free it);
 * ORCH_ENOTFOUND when the file or the section does not exist; ORCH_ECRED
 * for a missing key or an unsupported type; ORCH_ECONFIG for a line that
 * is not `key = value` (diag names file and line number, never the line);
 * ORCH_ENOMEM. */
int orch_credini_resolve(struct orch_credsource **out, const char *path,
                         const char *name, bool *file_exists,
                         char **warning, struct orch_diag *diag);

#endif
