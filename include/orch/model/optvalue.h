/* optvalue.h - the value types of the option table (options.h): for each,
 * the parser of the command-line text and the journal codec.
 *
 * A value type works on one field of struct orch_config, named by its
 * offset; the two lists (--firmware, --src-version) work on their arrays
 * and counts. Parsers only turn text into typed values; the rules about
 * allowed values are orch_config_validate()'s. Messages name the option
 * as typed ("--qps: \"x\" is not a number"). Only options.c uses this
 * header. Every value type is a static constant; thread-safe.
 */
#ifndef ORCH_OPTVALUE_H
#define ORCH_OPTVALUE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct orch_config;
struct orch_diag;

enum orch_optv_arg {
    ORCH_OPTV_FLAG,  /* no value */
    ORCH_OPTV_VALUE, /* --opt VALUE */
    ORCH_OPTV_SECRET /* refused: secrets never travel on the command line */
};

struct orch_opt_kind {
    enum orch_optv_arg arg;
    /* Stores value (NULL for a flag) into the field at `off`; `name` is
     * the option's long name for messages. 0, ORCH_EINVAL with diag, or
     * ORCH_ENOMEM. NULL for secrets. */
    int (*parse)(struct orch_config *cfg, const char *name, size_t off,
                 const char *value, struct orch_diag *diag);
    /* The field's journal value (new reference); NULL on ENOMEM. NULL
     * for a type the journal never holds. */
    json_t *(*encode)(const struct orch_config *cfg, size_t off);
    /* Takes a journal value of the right JSON type, ignores any other;
     * 0 or ORCH_ENOMEM. */
    int (*decode)(struct orch_config *cfg, size_t off, const json_t *v);
    /* True when the field differs from def's (a default config); a string
     * or a list: when given at all. */
    bool (*is_set)(const struct orch_config *cfg, const struct orch_config *def,
                   size_t off);
    /* dst takes src's value; an owned one moves (src keeps none). */
    void (*move)(struct orch_config *dst, struct orch_config *src, size_t off);
};

/* bool true: a flag */
extern const struct orch_opt_kind orch_optv_flag;
/* bool false: a flag that turns a default-on setting off */
extern const struct orch_opt_kind orch_optv_flag_off;
/* char *, copied; journaled as a string or null */
extern const struct orch_opt_kind orch_optv_string;
/* const char *, borrowed from argv; never journaled */
extern const struct orch_opt_kind orch_optv_argv_string;
/* int, a whole number >= 0; journaled as an integer, null when negative
 * (the API values' "not sent") */
extern const struct orch_opt_kind orch_optv_unum;
/* double, a decimal number; journaled as a real */
extern const struct orch_opt_kind orch_optv_double;
/* double, a share: "95%" or "0.95"; journaled as a real */
extern const struct orch_opt_kind orch_optv_share;
/* int64_t epoch ms: ISO-8601 with a zone or 13-digit epoch ms; journaled
 * as an integer, null when negative (not set) */
extern const struct orch_opt_kind orch_optv_time;
/* long ms: "30s", "2m", or bare seconds; journaled as an integer */
extern const struct orch_opt_kind orch_optv_duration;
/* char: , ; tab | : ; journaled as a one-character string ("": detect) */
extern const struct orch_opt_kind orch_optv_delimiter;
/* enum orch_target; journaled as its API name */
extern const struct orch_opt_kind orch_optv_target;
/* int ORCH_LOG_FORMAT_*: "text" or "json" */
extern const struct orch_opt_kind orch_optv_log_format;
/* --firmware PK=FW, repeatable; journaled as {"PK":"FW",...} */
extern const struct orch_opt_kind orch_optv_fw_map;
/* --src-version, repeatable up to ORCH_MAX_SRC_VERSIONS; journaled as a
 * list of strings */
extern const struct orch_opt_kind orch_optv_src_version;
/* --where COL=V[,V...], repeatable up to ORCH_MAX_WHERE; journaled as a
 * list of strings as typed */
extern const struct orch_opt_kind orch_optv_where;
/* a name refused because it would carry a secret */
extern const struct orch_opt_kind orch_optv_secret;

#endif
