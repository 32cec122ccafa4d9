/* options.c - the option table and its value types.
 *
 * DESIGN: a row (options.h) names a value type, `struct orch_opt_kind`:
 * the parser of the command-line text and, for the types a journal holds,
 * the codec (encode, decode), "is it set" and the move used by the
 * resume overlay. A type works on the row's field, found by offsetof; the
 * two lists (--firmware, --src-version) and their counts are types of
 * their own. The parsers only turn text into typed values; which values
 * and combinations are allowed is orch_config_validate()'s. Messages name
 * the option as typed ("--qps: \"x\" is not a number").
 */
#include "orch/model/options.h"

#include "orch/base/err.h"
#include "orch/base/timeparse.h"
#include "orch/model/config.h"
#include "orch/model/waves.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum arg_style {
    ARG_FLAG,  /* no value */
    ARG_VALUE, /* --opt VALUE */
    ARG_SECRET /* refused: secrets never travel on the command line */
};

struct orch_opt_kind {
    enum arg_style arg;
    int (*parse)(struct orch_config *cfg, const struct orch_option *o,
                 const char *value, struct orch_diag *diag);
    /* The journal value; NULL on ENOMEM. */
    json_t *(*encode)(const struct orch_config *cfg,
                      const struct orch_option *o);
    /* Takes a journal value of the right JSON type; 0 or ORCH_ENOMEM. */
    int (*decode)(struct orch_config *cfg, const struct orch_option *o,
                  const json_t *v);
    bool (*is_set)(const struct orch_config *cfg,
                   const struct orch_config *def, const struct orch_option *o);
    /* dst takes src's value; an owned one moves (src keeps none). */
    void (*move)(struct orch_config *dst, struct orch_config *src,
                 const struct orch_option *o);
};

const char orch_option_secret_advice[] =
    "secrets are not accepted on the command line; set "
    "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and "
    "ALIBABA_CLOUD_SECURITY_TOKEN for STS) in the environment, or use "
    "--profile NAME";

#define FIELD(cfg, o, type) ((type *)(void *)((char *)(cfg) + (o)->offset))
#define CFIELD(cfg, o, type)                                               \
    ((const type *)(const void *)((const char *)(cfg) + (o)->offset))

/* ---- parsers ----------------------------------------------------------- */

static int set_str(char **dst, const char *value)
{
    char *copy = strdup(value);

    if (copy == NULL)
        return ORCH_ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

/* A whole number >= 0 that fits an int: digits only, no sign, no spaces. */
static int parse_unum(const char *opt, const char *s, int *out,
                      struct orch_diag *diag)
{
    long v = 0;
    char *end = NULL;
    const char *p = NULL;

    for (p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return orch_diag_set(diag, ORCH_EINVAL,
                                 "--%s: \"%s\" is not a whole number", opt, s);
    }
    if (p == s)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: empty value", opt);
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || v > INT_MAX)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: %s is too large", opt,
                             s);
    *out = (int)v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double *out,
                        struct orch_diag *diag)
{
    char *end = NULL;
    double v = 0;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v) || strchr(s, 'x') ||
        strchr(s, 'X'))
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: \"%s\" is not a number",
                             opt, s);
    *out = v;
    return 0;
}

/* Bare digits are seconds; anything else goes to orch_duration_parse. */
static int parse_duration(const char *opt, const char *s, long *out_ms,
                          struct orch_diag *diag)
{
    struct orch_diag d = {{0}};
    int64_t ms = 0;
    int secs = 0;

    if (s[0] && strspn(s, "0123456789") == strlen(s)) {
        if (parse_unum(opt, s, &secs, diag))
            return ORCH_EINVAL;
        ms = (int64_t)secs * 1000;
    } else if (orch_duration_parse(s, &ms, &d) != 0) {
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: %s", opt,
                             d.msg[0] ? d.msg : "not a duration such as 30s");
    }
    if (ms > LONG_MAX)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: %s is too long", opt, s);
    *out_ms = (long)ms;
    return 0;
}

static int parse_time(const char *opt, const char *s, int64_t *out,
                      struct orch_diag *diag)
{
    struct orch_diag d = {{0}};

    if (orch_time_parse(s, out, &d) != 0)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: %s", opt,
                             d.msg[0] ? d.msg
                                      : "not a time with a zone (e.g. "
                                        "2026-12-01T03:00:00Z) or 13-digit "
                                        "epoch ms");
    return 0;
}

static int p_flag(struct orch_config *cfg, const struct orch_option *o,
                  const char *value, struct orch_diag *diag)
{
    (void)value;
    (void)diag;
    *FIELD(cfg, o, bool) = true;
    return 0;
}

/* --no-progress: a flag that switches a default-on setting off. */
static int p_flag_off(struct orch_config *cfg, const struct orch_option *o,
                      const char *value, struct orch_diag *diag)
{
    (void)value;
    (void)diag;
    *FIELD(cfg, o, bool) = false;
    return 0;
}

static int p_string(struct orch_config *cfg, const struct orch_option *o,
                    const char *value, struct orch_diag *diag)
{
    (void)diag;
    return set_str(FIELD(cfg, o, char *), value);
}

/* Borrowed: argv outlives the config (config.h). */
static int p_argv_string(struct orch_config *cfg, const struct orch_option *o,
                         const char *value, struct orch_diag *diag)
{
    (void)diag;
    *FIELD(cfg, o, const char *) = value;
    return 0;
}

static int p_unum(struct orch_config *cfg, const struct orch_option *o,
                  const char *value, struct orch_diag *diag)
{
    return parse_unum(o->name, value, FIELD(cfg, o, int), diag);
}

static int p_double(struct orch_config *cfg, const struct orch_option *o,
                    const char *value, struct orch_diag *diag)
{
    return parse_double(o->name, value, FIELD(cfg, o, double), diag);
}

static int p_share(struct orch_config *cfg, const struct orch_option *o,
                   const char *value, struct orch_diag *diag)
{
    char opt[64];

    snprintf(opt, sizeof(opt), "--%s", o->name);
    return orch_share_parse(opt, value, FIELD(cfg, o, double), diag);
}

static int p_time(struct orch_config *cfg, const struct orch_option *o,
                  const char *value, struct orch_diag *diag)
{
    return parse_time(o->name, value, FIELD(cfg, o, int64_t), diag);
}

static int p_duration(struct orch_config *cfg, const struct orch_option *o,
                      const char *value, struct orch_diag *diag)
{
    return parse_duration(o->name, value, FIELD(cfg, o, long), diag);
}

static int p_delimiter(struct orch_config *cfg, const struct orch_option *o,
                       const char *s, struct orch_diag *diag)
{
    char *out = FIELD(cfg, o, char);

    if (strcasecmp(s, "tab") == 0 || strcmp(s, "\\t") == 0 ||
        strcmp(s, "\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (strlen(s) == 1 && strchr(",;|:", s[0])) {
        *out = s[0];
        return 0;
    }
    return orch_diag_set(diag, ORCH_EINVAL,
                         "--delimiter: \"%s\" is not one of , ; tab | :", s);
}

static int p_target(struct orch_config *cfg, const struct orch_option *o,
                    const char *s, struct orch_diag *diag)
{
    enum orch_target *out = FIELD(cfg, o, enum orch_target);

    if (strcasecmp(s, "SPECIFIC") == 0)
        *out = ORCH_TARGET_SPECIFIC;
    else if (strcasecmp(s, "ALL") == 0)
        *out = ORCH_TARGET_ALL;
    else if (strcasecmp(s, "GRAY") == 0)
        *out = ORCH_TARGET_GRAY;
    else
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--target: \"%s\" is not one of ALL, SPECIFIC, "
                             "GRAY",
                             s);
    return 0;
}

static int p_log_format(struct orch_config *cfg, const struct orch_option *o,
                        const char *value, struct orch_diag *diag)
{
    int *out = FIELD(cfg, o, int);

    if (strcmp(value, "text") == 0)
        *out = ORCH_LOG_FORMAT_TEXT;
    else if (strcmp(value, "json") == 0)
        *out = ORCH_LOG_FORMAT_JSON;
    else
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--log-format: \"%s\" is not text or json",
                             value);
    return 0;
}

static int add_fw_map(struct orch_config *cfg, const char *pk_text,
                      size_t pk_len, const char *fw_text)
{
    struct orch_fw_map *grown = NULL;
    char *pk = NULL, *fw = NULL;

    grown = realloc(cfg->fw_map, (cfg->n_fw_map + 1) * sizeof(*grown));
    if (grown == NULL)
        return ORCH_ENOMEM;
    cfg->fw_map = grown;
    pk = strndup(pk_text, pk_len);
    fw = strdup(fw_text);
    if (pk == NULL || fw == NULL) {
        free(pk);
        free(fw);
        return ORCH_ENOMEM;
    }
    cfg->fw_map[cfg->n_fw_map].product_key = pk;
    cfg->fw_map[cfg->n_fw_map].firmware_id = fw;
    cfg->n_fw_map++;
    return 0;
}

/* --firmware PK=FW, repeatable. */
static int p_fw_map(struct orch_config *cfg, const struct orch_option *o,
                    const char *s, struct orch_diag *diag)
{
    const char *eq = strchr(s, '=');

    (void)o;
    if (eq == NULL || eq == s || eq[1] == '\0')
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--firmware: \"%s\" is not PK=FW (ProductKey = "
                             "firmware id)",
                             s);
    return add_fw_map(cfg, s, (size_t)(eq - s), eq + 1);
}

/* --src-version VER, repeatable up to ORCH_MAX_SRC_VERSIONS. */
static int p_src_version(struct orch_config *cfg, const struct orch_option *o,
                         const char *s, struct orch_diag *diag)
{
    char *copy = NULL;

    (void)o;
    if (cfg->n_src_versions >= ORCH_MAX_SRC_VERSIONS)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--src-version: more than %d versions (the API "
                             "takes at most %d)",
                             ORCH_MAX_SRC_VERSIONS, ORCH_MAX_SRC_VERSIONS);
    copy = strdup(s);
    if (copy == NULL)
        return ORCH_ENOMEM;
    cfg->src_versions[cfg->n_src_versions++] = copy;
    return 0;
}

static int p_secret(struct orch_config *cfg, const struct orch_option *o,
                    const char *value, struct orch_diag *diag)
{
    (void)cfg;
    (void)value;
    return orch_diag_set(diag, ORCH_EINVAL, "--%s: %s", o->name,
                         orch_option_secret_advice);
}

/* ---- journal codecs, "is set" and moves, by C type ------------------ */

static json_t *e_bool(const struct orch_config *cfg,
                      const struct orch_option *o)
{
    return json_boolean(*CFIELD(cfg, o, bool));
}

static int d_bool(struct orch_config *cfg, const struct orch_option *o,
                  const json_t *v)
{
    if (json_is_boolean(v))
        *FIELD(cfg, o, bool) = json_is_true(v);
    return 0;
}

static bool s_bool(const struct orch_config *cfg,
                   const struct orch_config *def, const struct orch_option *o)
{
    return *CFIELD(cfg, o, bool) != *CFIELD(def, o, bool);
}

static void m_bool(struct orch_config *dst, struct orch_config *src,
                   const struct orch_option *o)
{
    *FIELD(dst, o, bool) = *FIELD(src, o, bool);
}

/* Strings: null when not given. */
static json_t *e_str(const struct orch_config *cfg,
                     const struct orch_option *o)
{
    const char *s = *CFIELD(cfg, o, char *);

    return s ? json_string(s) : json_null();
}

static int d_str(struct orch_config *cfg, const struct orch_option *o,
                 const json_t *v)
{
    const char *s = json_string_value(v);

    return s ? set_str(FIELD(cfg, o, char *), s) : 0;
}

static bool s_str(const struct orch_config *cfg,
                  const struct orch_config *def, const struct orch_option *o)
{
    (void)def;
    return *CFIELD(cfg, o, char *) != NULL;
}

static void m_str(struct orch_config *dst, struct orch_config *src,
                  const struct orch_option *o)
{
    char **d = FIELD(dst, o, char *);
    char **s = FIELD(src, o, char *);

    free(*d);
    *d = *s;
    *s = NULL;
}

static bool s_argv_str(const struct orch_config *cfg,
                       const struct orch_config *def,
                       const struct orch_option *o)
{
    (void)def;
    return *CFIELD(cfg, o, const char *) != NULL;
}

static void m_argv_str(struct orch_config *dst, struct orch_config *src,
                       const struct orch_option *o)
{
    *FIELD(dst, o, const char *) = *FIELD(src, o, const char *);
}

/* Integers of the API: -1 (any negative) is "not sent", journaled null. */
static json_t *e_int(const struct orch_config *cfg,
                     const struct orch_option *o)
{
    int v = *CFIELD(cfg, o, int);

    return v >= 0 ? json_integer(v) : json_null();
}

static int d_int(struct orch_config *cfg, const struct orch_option *o,
                 const json_t *v)
{
    if (json_is_integer(v))
        *FIELD(cfg, o, int) = (int)json_integer_value(v);
    return 0;
}

static bool s_int(const struct orch_config *cfg,
                  const struct orch_config *def, const struct orch_option *o)
{
    return *CFIELD(cfg, o, int) != *CFIELD(def, o, int);
}

static void m_int(struct orch_config *dst, struct orch_config *src,
                  const struct orch_option *o)
{
    *FIELD(dst, o, int) = *FIELD(src, o, int);
}

/* Times in epoch ms: -1 is "not set", journaled null. */
static json_t *e_i64(const struct orch_config *cfg,
                     const struct orch_option *o)
{
    int64_t v = *CFIELD(cfg, o, int64_t);

    return v >= 0 ? json_integer(v) : json_null();
}

static int d_i64(struct orch_config *cfg, const struct orch_option *o,
                 const json_t *v)
{
    if (json_is_integer(v))
        *FIELD(cfg, o, int64_t) = json_integer_value(v);
    return 0;
}

static bool s_i64(const struct orch_config *cfg,
                  const struct orch_config *def, const struct orch_option *o)
{
    return *CFIELD(cfg, o, int64_t) != *CFIELD(def, o, int64_t);
}

static void m_i64(struct orch_config *dst, struct orch_config *src,
                  const struct orch_option *o)
{
    *FIELD(dst, o, int64_t) = *FIELD(src, o, int64_t);
}

/* Durations in ms. */
static json_t *e_long(const struct orch_config *cfg,
                      const struct orch_option *o)
{
    return json_integer(*CFIELD(cfg, o, long));
}

static int d_long(struct orch_config *cfg, const struct orch_option *o,
                  const json_t *v)
{
    if (json_is_integer(v))
        *FIELD(cfg, o, long) = (long)json_integer_value(v);
    return 0;
}

static bool s_long(const struct orch_config *cfg,
                   const struct orch_config *def, const struct orch_option *o)
{
    return *CFIELD(cfg, o, long) != *CFIELD(def, o, long);
}

static void m_long(struct orch_config *dst, struct orch_config *src,
                   const struct orch_option *o)
{
    *FIELD(dst, o, long) = *FIELD(src, o, long);
}

static json_t *e_double(const struct orch_config *cfg,
                        const struct orch_option *o)
{
    return json_real(*CFIELD(cfg, o, double));
}

static int d_double(struct orch_config *cfg, const struct orch_option *o,
                    const json_t *v)
{
    if (json_is_number(v))
        *FIELD(cfg, o, double) = json_number_value(v);
    return 0;
}

static bool s_double(const struct orch_config *cfg,
                     const struct orch_config *def,
                     const struct orch_option *o)
{
    return *CFIELD(cfg, o, double) != *CFIELD(def, o, double);
}

static void m_double(struct orch_config *dst, struct orch_config *src,
                     const struct orch_option *o)
{
    *FIELD(dst, o, double) = *FIELD(src, o, double);
}

/* The delimiter: a one-character string, "" when detected. */
static json_t *e_char(const struct orch_config *cfg,
                      const struct orch_option *o)
{
    char s[2] = {*CFIELD(cfg, o, char), '\0'};

    return json_string(s);
}

static int d_char(struct orch_config *cfg, const struct orch_option *o,
                  const json_t *v)
{
    const char *s = json_string_value(v);

    if (s)
        *FIELD(cfg, o, char) = s[0];
    return 0;
}

static bool s_char(const struct orch_config *cfg,
                   const struct orch_config *def, const struct orch_option *o)
{
    return *CFIELD(cfg, o, char) != *CFIELD(def, o, char);
}

static void m_char(struct orch_config *dst, struct orch_config *src,
                   const struct orch_option *o)
{
    *FIELD(dst, o, char) = *FIELD(src, o, char);
}

/* --target: the API's name ("SPECIFIC", "ALL", "GRAY"). */
static json_t *e_target(const struct orch_config *cfg,
                        const struct orch_option *o)
{
    return json_string(orch_target_name(*CFIELD(cfg, o, enum orch_target)));
}

static int d_target(struct orch_config *cfg, const struct orch_option *o,
                    const json_t *v)
{
    const char *t = json_string_value(v);

    if (t)
        *FIELD(cfg, o, enum orch_target) =
            strcmp(t, "ALL") == 0    ? ORCH_TARGET_ALL
            : strcmp(t, "GRAY") == 0 ? ORCH_TARGET_GRAY
                                     : ORCH_TARGET_SPECIFIC;
    return 0;
}

static bool s_target(const struct orch_config *cfg,
                     const struct orch_config *def,
                     const struct orch_option *o)
{
    return *CFIELD(cfg, o, enum orch_target) !=
           *CFIELD(def, o, enum orch_target);
}

static void m_target(struct orch_config *dst, struct orch_config *src,
                     const struct orch_option *o)
{
    *FIELD(dst, o, enum orch_target) = *FIELD(src, o, enum orch_target);
}

/* --firmware: {"PK":"FW",...}. */
static json_t *e_fw_map(const struct orch_config *cfg,
                        const struct orch_option *o)
{
    json_t *fw = json_object();
    size_t i = 0;

    (void)o;
    for (i = 0; fw != NULL && i < cfg->n_fw_map; i++) {
        json_t *v = json_string(cfg->fw_map[i].firmware_id);

        if (v == NULL ||
            json_object_set_new(fw, cfg->fw_map[i].product_key, v) != 0) {
            json_decref(fw);
            fw = NULL;
        }
    }
    return fw;
}

static int d_fw_map(struct orch_config *cfg, const struct orch_option *o,
                    const json_t *fw)
{
    const char *key = NULL;
    json_t *v = NULL;

    (void)o;
    if (!json_is_object(fw))
        return 0;
    json_object_foreach((json_t *)fw, key, v) {
        if (json_is_string(v) &&
            add_fw_map(cfg, key, strlen(key), json_string_value(v)) != 0)
            return ORCH_ENOMEM;
    }
    return 0;
}

static bool s_fw_map(const struct orch_config *cfg,
                     const struct orch_config *def,
                     const struct orch_option *o)
{
    (void)def;
    (void)o;
    return cfg->n_fw_map > 0;
}

static void free_fw_map(struct orch_config *cfg)
{
    size_t i = 0;

    for (i = 0; i < cfg->n_fw_map; i++) {
        free(cfg->fw_map[i].product_key);
        free(cfg->fw_map[i].firmware_id);
    }
    free(cfg->fw_map);
    cfg->fw_map = NULL;
    cfg->n_fw_map = 0;
}

static void m_fw_map(struct orch_config *dst, struct orch_config *src,
                     const struct orch_option *o)
{
    (void)o;
    free_fw_map(dst);
    dst->fw_map = src->fw_map;
    dst->n_fw_map = src->n_fw_map;
    src->fw_map = NULL;
    src->n_fw_map = 0;
}

/* --src-version: ["1.0",...]. */
static json_t *e_src_version(const struct orch_config *cfg,
                             const struct orch_option *o)
{
    json_t *src = json_array();
    size_t i = 0;

    (void)o;
    for (i = 0; src != NULL && i < cfg->n_src_versions; i++) {
        if (json_array_append_new(src, json_string(cfg->src_versions[i]))) {
            json_decref(src);
            src = NULL;
        }
    }
    return src;
}

static int d_src_version(struct orch_config *cfg, const struct orch_option *o,
                         const json_t *src)
{
    json_t *v = NULL;
    size_t i = 0;

    (void)o;
    json_array_foreach(src, i, v) {
        if (!json_is_string(v) || cfg->n_src_versions >= ORCH_MAX_SRC_VERSIONS)
            continue;
        cfg->src_versions[cfg->n_src_versions] = strdup(json_string_value(v));
        if (cfg->src_versions[cfg->n_src_versions] == NULL)
            return ORCH_ENOMEM;
        cfg->n_src_versions++;
    }
    return 0;
}

static bool s_src_version(const struct orch_config *cfg,
                          const struct orch_config *def,
                          const struct orch_option *o)
{
    (void)def;
    (void)o;
    return cfg->n_src_versions > 0;
}

static void m_src_version(struct orch_config *dst, struct orch_config *src,
                          const struct orch_option *o)
{
    size_t i = 0;

    (void)o;
    for (i = 0; i < dst->n_src_versions; i++)
        free(dst->src_versions[i]);
    memcpy(dst->src_versions, src->src_versions, sizeof(dst->src_versions));
    dst->n_src_versions = src->n_src_versions;
    memset(src->src_versions, 0, sizeof(src->src_versions));
    src->n_src_versions = 0;
}

/* ---- the value types ---------------------------------------------------- */

#define BOOL_CODEC e_bool, d_bool, s_bool, m_bool
#define STR_CODEC e_str, d_str, s_str, m_str
#define INT_CODEC e_int, d_int, s_int, m_int
#define DOUBLE_CODEC e_double, d_double, s_double, m_double

static const struct orch_opt_kind FLAG = {ARG_FLAG, p_flag, BOOL_CODEC};
static const struct orch_opt_kind FLAG_OFF = {ARG_FLAG, p_flag_off,
                                              BOOL_CODEC};
static const struct orch_opt_kind STRING = {ARG_VALUE, p_string, STR_CODEC};
static const struct orch_opt_kind ARGV_STRING = {
    ARG_VALUE, p_argv_string, NULL, NULL, s_argv_str, m_argv_str};
static const struct orch_opt_kind UNUM = {ARG_VALUE, p_unum, INT_CODEC};
static const struct orch_opt_kind DOUBLE = {ARG_VALUE, p_double,
                                            DOUBLE_CODEC};
static const struct orch_opt_kind SHARE = {ARG_VALUE, p_share, DOUBLE_CODEC};
static const struct orch_opt_kind TIME = {ARG_VALUE, p_time, e_i64, d_i64,
                                          s_i64, m_i64};
static const struct orch_opt_kind DURATION = {
    ARG_VALUE, p_duration, e_long, d_long, s_long, m_long};
static const struct orch_opt_kind DELIMITER = {
    ARG_VALUE, p_delimiter, e_char, d_char, s_char, m_char};
static const struct orch_opt_kind TARGET = {
    ARG_VALUE, p_target, e_target, d_target, s_target, m_target};
static const struct orch_opt_kind LOG_FORMAT = {ARG_VALUE, p_log_format,
                                                INT_CODEC};
static const struct orch_opt_kind FW_MAP = {
    ARG_VALUE, p_fw_map, e_fw_map, d_fw_map, s_fw_map, m_fw_map};
static const struct orch_opt_kind SRC_VERSION = {
    ARG_VALUE, p_src_version, e_src_version, d_src_version, s_src_version,
    m_src_version};
static const struct orch_opt_kind SECRET = {ARG_SECRET, p_secret, NULL, NULL,
                                            NULL, NULL};

/* ---- the table ---------------------------------------------------------- */

#define AT(field) offsetof(struct orch_config, field)
#define RUN ORCH_OPT_FOR_RUN
#define PLAN ORCH_OPT_FOR_PLAN
#define STATUS ORCH_OPT_FOR_STATUS
#define CANCEL ORCH_OPT_FOR_CANCEL
#define ALL ORCH_OPT_FOR_ALL
#define SHAPE ORCH_OPT_SHAPE
#define KEPT ORCH_OPT_RUN
#define WHEN_SET ORCH_OPT_WHEN_SET
#define NOW ORCH_OPT_INVOCATION

/* Order is the --help order; jorder is the journal's. */
static const struct orch_option options[] = {
    {"firmware-id", 0, &STRING, AT(firmware_id), "FW",
     "firmware to install (FirmwareId)", "What to upgrade", RUN | PLAN,
     SHAPE, 4},
    {"product-key", 0, &STRING, AT(product_key), "PK",
     "ProductKey of the devices (optional when the inventory has a "
     "ProductKey column)",
     NULL, RUN | PLAN, SHAPE, 3},
    {"firmware", 0, &FW_MAP, AT(fw_map), "PK=FW",
     "firmware for one product of a multi-product inventory (repeatable)",
     NULL, RUN | PLAN, SHAPE, 5},
    {"target", 0, &TARGET, AT(target), "ALL|SPECIFIC|GRAY",
     "SPECIFIC (default): the inventory's devices; ALL or GRAY: one call "
     "for every device of --product-key on a --src-version, no inventory",
     NULL, RUN | PLAN, SHAPE, 1},
    {"src-version", 0, &SRC_VERSION, AT(src_versions), "VER",
     "version to upgrade from, ALL/GRAY only (repeatable, up to 10)", NULL,
     RUN | PLAN, SHAPE, 8},
    {"gray-percent", 0, &STRING, AT(gray_percent), "PCT",
     "share of devices for GRAY, e.g. 33.33 (up to 3 decimals)", NULL,
     RUN | PLAN, SHAPE, 9},

    {"schedule-time", 0, &TIME, AT(schedule_time_ms), "TIME",
     "start the upgrade at TIME, 5 min to 7 days ahead (ISO-8601 with Z or "
     "an offset, or 13-digit epoch ms)",
     "Job options (sent with every call)", RUN | PLAN, SHAPE, 10},
    {"schedule-finish-time", 0, &TIME, AT(schedule_finish_time_ms), "TIME",
     "end the upgrade at TIME, 1 hour to 30 days after --schedule-time", NULL,
     RUN | PLAN, SHAPE, 11},
    {"retry-interval", 0, &UNUM, AT(retry_interval), "MIN",
     "device retry interval: 0, 10, 30, 60 or 1440 (needs --retry-count)",
     NULL, RUN | PLAN, SHAPE, 12},
    {"retry-count", 0, &UNUM, AT(retry_count), "N",
     "device retries: 1, 2 or 5 (needs --retry-interval)", NULL, RUN | PLAN,
     SHAPE, 13},
    {"timeout-minutes", 0, &UNUM, AT(timeout_minutes), "MIN",
     "upgrade timeout per device, 1..1440", NULL, RUN | PLAN, SHAPE, 14},
    {"max-per-minute", 0, &UNUM, AT(max_per_minute), "N",
     "firmware pushes per minute, 0..1000", NULL, RUN | PLAN, SHAPE, 15},
    {"overwrite-mode", 0, &UNUM, AT(overwrite_mode), "1|2",
     "1: keep a device's earlier pending job; 2: overwrite it", NULL,
     RUN | PLAN, SHAPE, 16},
    {"no-job-tag", 0, &FLAG, AT(no_job_tag), NULL,
     "do not tag each job ota.rollout=<run id>.<chunk>; an unknown outcome "
     "is then confirmed by the devices' tasks only, and an ALL/GRAY one "
     "ends Ambiguous",
     NULL, RUN | PLAN, KEPT, 11},

    {"endpoint", 0, &STRING, AT(endpoint), "URL",
     "API endpoint (default https://iot.<region>.aliyuncs.com)",
     "Where to send", ALL, KEPT, 1},
    {"region", 0, &STRING, AT(region), "ID",
     "region (default $ALIBABA_CLOUD_REGION_ID, else cn-shanghai)", NULL, ALL,
     KEPT, 2},
    {"iot-instance-id", 0, &STRING, AT(iot_instance_id), "ID",
     "IoT instance (Enterprise Edition and new public instances)", NULL, ALL,
     SHAPE, 17},
    {"profile", 0, &STRING, AT(profile), "NAME",
     "aliyun CLI profile in ~/.aliyun/config.json (modes AK, StsToken)", NULL,
     ALL, KEPT, 13},
    {"ca-bundle", 0, &STRING, AT(ca_bundle), "FILE",
     "CA certificates to verify the endpoint with", NULL, ALL, KEPT, 12},
    {"insecure", 0, &FLAG, AT(insecure), NULL,
     "do not verify the endpoint's TLS certificate (testing only!)", NULL,
     ALL, NOW, 0},

    {"skip-preflight", 0, &FLAG, AT(skip_preflight), NULL,
     "run: do not check the firmware before the first call (for accounts "
     "whose RAM policy denies QueryOTAFirmware)",
     "Pre-flight checks", RUN, NOW, 0},
    {"check-devices", 0, &FLAG, AT(check_devices), NULL,
     "also check the devices (BatchQueryDeviceDetail, 100 a call, 5 calls/s):"
     " leave out those that do not exist or already run the firmware's "
     "version, listed in <report>.rejects.csv",
     NULL, RUN | PLAN, NOW, 0},
    {"preflight", 0, &FLAG, AT(preflight), NULL,
     "plan: run the pre-flight checks too (needs credentials) and print "
     "their result",
     NULL, PLAN, NOW, 0},

    {"delimiter", 0, &DELIMITER, AT(delimiter), "C",
     "inventory delimiter: , ; tab | : (default: detected from the header: "
     ", ; or tab)",
     "Inventory and report", RUN | PLAN, SHAPE, 6},
    {"skip-invalid", 0, &FLAG, AT(skip_invalid), NULL,
     "skip invalid rows into <report>.rejects.csv instead of stopping", NULL,
     RUN | PLAN, SHAPE, 7},
    {"report", 0, &STRING, AT(report_path), "FILE",
     "report CSV (default <inventory>.report.csv next to the inventory)", NULL,
     RUN | PLAN, NOW, 0},
    {"force", 0, &FLAG, AT(force), NULL,
     "start anew over an existing report: its files are kept as "
     "<name>.<UTC time>",
     NULL, RUN, NOW, 0},
    {"yes", 0, &FLAG, AT(yes), NULL,
     "do not ask for confirmation (needed without a terminal)", NULL,
     RUN | CANCEL, NOW, 0},
    {"no-progress", 0, &FLAG_OFF, AT(progress), NULL,
     "no progress line (terminal or log)", NULL, ALL, NOW, 0},
    {"verbose", 0, &FLAG, AT(verbose), NULL,
     "plan: print the first request's whole device list (default: "
     "TargetDeviceName.1..N with the first and the last)",
     NULL, PLAN, NOW, 0},
    {"json", 0, &FLAG, AT(json), NULL,
     "run, plan, status, cancel: one JSON document on stdout with the "
     "summary "
     "(nothing else there); messages stay on stderr",
     NULL, ALL, NOW, 0},
    {"log-format", 0, &LOG_FORMAT, AT(log_format), "text|json",
     "json: one JSON object per event and message on stderr (chunk sent, "
     "answered, retried, created, failed, reconciled), no progress line",
     NULL, ALL, NOW, 0},
    {"resume", 0, &FLAG, AT(resume), NULL,
     "run: continue the interrupted run of this report (its journal)", NULL,
     RUN, NOW, 0},

    {"qps", 0, &DOUBLE, AT(qps), "N",
     "calls started per second, at most in any 1 s window (default 20, the "
     "account quota)",
     "Pacing and retries", RUN | PLAN, KEPT, 4},
    {"force-qps", 0, &FLAG, AT(force_qps), NULL,
     "allow --qps above 20 and --query-qps above 10 (only if your quota is "
     "higher)",
     NULL, ALL, KEPT, 5},
    {"query-qps", 0, &DOUBLE, AT(query_qps), "N",
     "queries per second, per action (default 10, their quota): "
     "reconciliation of unknown outcomes, status, wave gates, cancel (at "
     "most 5); not the pre-flight (QueryOTAFirmware 20/s, "
     "BatchQueryDeviceDetail 5/s, their own quotas)",
     NULL, ALL, KEPT, 6},
    {"max-in-flight", 0, &UNUM, AT(max_in_flight), "N",
     "requests in flight at once (default 64)", NULL, ALL, KEPT, 7},
    {"max-attempts", 0, &UNUM, AT(max_attempts), "N",
     "attempts per chunk for transient errors (default 6)", NULL, ALL, KEPT,
     8},
    {"chunk-size", 0, &UNUM, AT(chunk_size), "N",
     "devices per call, 1..200 (default 200)", NULL, RUN | PLAN, SHAPE, 2},
    {"signature-version", 0, &UNUM, AT(signature_version), "3|2",
     "3: ACS3-HMAC-SHA256 (default); 2: HMAC-SHA1 with a form body", NULL,
     ALL, KEPT, 3},
    {"request-timeout", 0, &DURATION, AT(request_timeout_ms), "DUR",
     "timeout per request, e.g. 30s (default 30s)", NULL, ALL, KEPT, 9},
    /* Not an option: the same fatal business code on this many first
     * chunks of one firmware stops it. */
    {"fatal-streak", 0, &UNUM, AT(fatal_streak), NULL, NULL, NULL, RUN,
     KEPT | ORCH_OPT_NO_ARGV, 10},

    {"watch", 0, &FLAG, AT(watch), NULL,
     "status: refresh until every task is decided, then exit",
     "Status and cancel", STATUS, NOW, 0},
    {"interval", 0, &DURATION, AT(interval_ms), "DUR",
     "status --watch: time between refreshes (default 10s)", NULL, STATUS,
     NOW, 0},
    {"devices", 0, &ARGV_STRING, AT(devices_path), "FILE",
     "status: write one row per device to FILE, and the FAILED devices to "
     "FILE.failed.csv (an inventory `run` accepts)",
     NULL, STATUS, NOW, 0},
    {"in-progress", 0, &FLAG, AT(cancel_in_progress), NULL,
     "cancel: cancel IN_PROGRESS tasks too (default: only queued, notified "
     "and scheduled ones)",
     NULL, CANCEL, NOW, 0},

    {"waves", 0, &STRING, AT(waves), "SPEC",
     "run in waves of cumulative size, e.g. 1%,10%,100% or 200,5000,all "
     "(rounded up to whole chunks; wave 1 is the canary); each wave "
     "starts once the one before passed its health gate",
     "Waves and gates (run)", RUN | PLAN, SHAPE | WHEN_SET, 18},
    {"success-threshold", 0, &SHARE, AT(success_threshold), "P",
     "share of a wave's tasks SUCCEEDED that lets the next wave start, "
     "e.g. 95% or 0.95 (default 100%)",
     NULL, RUN | PLAN, KEPT, 14},
    {"failure-threshold", 0, &SHARE, AT(failure_threshold), "P",
     "share FAILED among a wave's ended tasks that aborts the rollout "
     "(default: none; a wave that can no longer reach the success "
     "threshold aborts it too)",
     NULL, RUN | PLAN, KEPT, 15},
    {"min-decided", 0, &UNUM, AT(min_decided), "N",
     "ended tasks needed before --failure-threshold applies (default 10)",
     NULL, RUN | PLAN, KEPT, 16},
    {"wave-timeout", 0, &DURATION, AT(wave_timeout_ms), "DUR",
     "no decision after DUR (90s, 15m, 2h, 1d; default 1h): pause, exit 6; "
     "continue with --resume",
     NULL, RUN | PLAN, KEPT, 17},
    {"wave-interval", 0, &DURATION, AT(wave_interval_ms), "DUR",
     "scheduled waves: create every wave now, each scheduled DUR after the "
     "one before (wave 1 at --schedule-time, or now); no gates; waves "
     "beyond the API's 7-day horizon are created later by --resume",
     NULL, RUN | PLAN, SHAPE | WHEN_SET, 19},
    {"poll-interval", 0, &DURATION, AT(poll_interval_ms), "DUR",
     "time between two looks at a wave's tasks (default 10s)", NULL,
     RUN | PLAN, KEPT, 18},
    {"wait", 0, &FLAG, AT(wait), NULL,
     "watch the tasks until every one has ended (with --waves: the last "
     "wave's gate too); without --waves, exit 1 if some FAILED or were "
     "CANCELED",
     NULL, RUN, KEPT, 19},

    {"help", 'h', &FLAG, AT(help), NULL, "this text", "Other", ALL, NOW, 0},
    {"version", 0, &FLAG, AT(version), NULL,
     "versions of ota-rollout and its libraries", NULL, ALL, NOW, 0},

    /* Refused on purpose (not listed in --help): a secret on the command
     * line ends up in shell history and in `ps` output. */
    {"access-key", 0, &SECRET, 0, NULL, NULL, NULL, 0, 0, 0},
    {"access-key-id", 0, &SECRET, 0, NULL, NULL, NULL, 0, 0, 0},
    {"access-key-secret", 0, &SECRET, 0, NULL, NULL, NULL, 0, 0, 0},
    {"access-key-id-secret", 0, &SECRET, 0, NULL, NULL, NULL, 0, 0, 0},
    {"secret", 0, &SECRET, 0, NULL, NULL, NULL, 0, 0, 0},
    {"secret-key", 0, &SECRET, 0, NULL, NULL, NULL, 0, 0, 0},
    {"security-token", 0, &SECRET, 0, NULL, NULL, NULL, 0, 0, 0},
    {"sts-token", 0, &SECRET, 0, NULL, NULL, NULL, 0, 0, 0},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* ---- lookups ------------------------------------------------------------ */

size_t orch_options_count(void)
{
    return N_OPTIONS;
}

const struct orch_option *orch_option_at(size_t i)
{
    return i < N_OPTIONS ? &options[i] : NULL;
}

const struct orch_option *orch_option_find(const char *name, size_t len)
{
    size_t i = 0;

    for (i = 0; i < N_OPTIONS; i++) {
        if ((options[i].flags & ORCH_OPT_NO_ARGV) == 0 &&
            strlen(options[i].name) == len &&
            strncmp(options[i].name, name, len) == 0)
            return &options[i];
    }
    return NULL;
}

const struct orch_option *orch_option_find_short(char letter)
{
    size_t i = 0;

    for (i = 0; i < N_OPTIONS && letter; i++) {
        if (options[i].letter == letter)
            return &options[i];
    }
    return NULL;
}

bool orch_option_takes_value(const struct orch_option *o)
{
    return o->kind->arg == ARG_VALUE;
}

bool orch_option_is_secret(const struct orch_option *o)
{
    return o->kind->arg == ARG_SECRET;
}

int orch_option_set(struct orch_config *cfg, const struct orch_option *o,
                    const char *value, struct orch_diag *diag)
{
    if (value && value[0] == '\0' && o->kind->arg != ARG_FLAG)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: empty value", o->name);
    if (o->kind->arg == ARG_VALUE && value == NULL)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s needs a value (%s)",
                             o->name, o->metavar);
    return o->kind->parse(cfg, o, value, diag);
}

bool orch_option_is_set(const struct orch_config *cfg,
                        const struct orch_option *o)
{
    struct orch_config def;

    if (o->kind->is_set == NULL)
        return false;
    orch_config_init(&def);
    return o->kind->is_set(cfg, &def, o);
}

/* ---- the journal -------------------------------------------------------- */

/* The row of `scope` at journal place `place`, or NULL. */
static const struct orch_option *journal_row(unsigned scope, unsigned place)
{
    size_t i = 0;

    for (i = 0; i < N_OPTIONS; i++) {
        if ((options[i].flags & scope) && options[i].jorder == place)
            return &options[i];
    }
    return NULL;
}

json_t *orch_options_journal(const struct orch_config *cfg, unsigned scope)
{
    json_t *obj = json_object();
    const struct orch_option *o = NULL;
    struct orch_config def;
    unsigned place = 0;

    orch_config_init(&def);
    for (place = 1; obj && (o = journal_row(scope, place)) != NULL; place++) {
        json_t *v = NULL;

        if ((o->flags & ORCH_OPT_WHEN_SET) && !o->kind->is_set(cfg, &def, o))
            continue;
        v = o->kind->encode(cfg, o);
        if (v == NULL || json_object_set_new(obj, o->name, v) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

int orch_options_restore(struct orch_config *cfg, const json_t *shape,
                         const json_t *opts)
{
    size_t i = 0;
    int rc = 0;

    for (i = 0; i < N_OPTIONS && rc == 0; i++) {
        const struct orch_option *o = &options[i];
        const json_t *from = (o->flags & ORCH_OPT_SHAPE) ? shape
                             : (o->flags & ORCH_OPT_RUN) ? opts
                                                         : NULL;
        json_t *v = json_object_get(from, o->name);

        if (v != NULL)
            rc = o->kind->decode(cfg, o, v);
    }
    return rc;
}

void orch_options_overlay(struct orch_config *dst, struct orch_config *cmd)
{
    struct orch_config def;
    size_t i = 0;

    orch_config_init(&def);
    for (i = 0; i < N_OPTIONS; i++) {
        const struct orch_option *o = &options[i];

        if ((o->flags & (ORCH_OPT_SHAPE | ORCH_OPT_RUN)) &&
            o->kind->is_set(cmd, &def, o))
            o->kind->move(dst, cmd, o);
        else if (o->flags & ORCH_OPT_INVOCATION)
            o->kind->move(dst, cmd, o);
    }
}
