/* str.h - small owned-string helpers shared by the option parsers and the
 * configuration.
 *
 * Not thread-safe on the same destination.
 */
#ifndef ORCH_STR_H
#define ORCH_STR_H

/* Replaces the malloced string *dst (NULL or owned by the caller) with a
 * copy of `value` (not NULL). Returns 0, or ORCH_ENOMEM with *dst left as
 * it was. The caller owns the new *dst and frees it. */
int orch_str_set(char **dst, const char *value);

#endif
