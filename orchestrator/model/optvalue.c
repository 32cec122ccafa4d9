/* optvalue.c - the value types of the option table: parsers of the
 * command-line text and journal codecs (optvalue.h).
 *
 * DESIGN: one small function per step and C type (p_ parses, e_ encodes,
 * d_ decodes, s_ tells "is set", m_ moves); a value type is a row of
 * them. The journal encodings are those run records have always had, so
 * old journals read back the same.
 */
#include "orch/model/optvalue.h"

#include "orch/base/err.h"
#include "orch/base/str.h"
#include "orch/base/timeparse.h"
#include "orch/model/config.h"
#include "orch/model/waves.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELD(cfg, off, type) ((type *)(void *)((char *)(cfg) + (off)))
#define CFIELD(cfg, off, type)                                                 \
    ((const type *)(const void *)((const char *)(cfg) + (off)))

/* ---- parsers ----------------------------------------------------------- */

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

static int p_flag(struct orch_config *cfg, const char *name, size_t off,
                  const char *value, struct orch_diag *diag)
{
    (void)name;
    (void)value;
    (void)diag;
    *FIELD(cfg, off, bool) = true;
    return 0;
}

/* --no-progress: a flag that switches a default-on setting off. */
static int p_flag_off(struct orch_config *cfg, const char *name, size_t off,
                      const char *value, struct orch_diag *diag)
{
    (void)name;
    (void)value;
    (void)diag;
    *FIELD(cfg, off, bool) = false;
    return 0;
}

static int p_string(struct orch_config *cfg, const char *name, size_t off,
                    const char *value, struct orch_diag *diag)
{
    (void)name;
    (void)diag;
    return orch_str_set(FIELD(cfg, off, char *), value);
}

/* Borrowed: argv outlives the config (config.h). */
static int p_argv_string(struct orch_config *cfg, const char *name, size_t off,
                         const char *value, struct orch_diag *diag)
{
    (void)name;
    (void)diag;
    *FIELD(cfg, off, const char *) = value;
    return 0;
}

static int p_unum(struct orch_config *cfg, const char *name, size_t off,
                  const char *value, struct orch_diag *diag)
{
    return parse_unum(name, value, FIELD(cfg, off, int), diag);
}

static int p_double(struct orch_config *cfg, const char *name, size_t off,
                    const char *value, struct orch_diag *diag)
{
    return parse_double(name, value, FIELD(cfg, off, double), diag);
}

static int p_share(struct orch_config *cfg, const char *name, size_t off,
                   const char *value, struct orch_diag *diag)
{
    char opt[64];

    snprintf(opt, sizeof(opt), "--%s", name);
    return orch_share_parse(opt, value, FIELD(cfg, off, double), diag);
}

static int p_time(struct orch_config *cfg, const char *name, size_t off,
                  const char *value, struct orch_diag *diag)
{
    return parse_time(name, value, FIELD(cfg, off, int64_t), diag);
}

static int p_duration(struct orch_config *cfg, const char *name, size_t off,
                      const char *value, struct orch_diag *diag)
{
    return parse_duration(name, value, FIELD(cfg, off, long), diag);
}

static int p_delimiter(struct orch_config *cfg, const char *name, size_t off,
                       const char *s, struct orch_diag *diag)
{
    char *out = FIELD(cfg, off, char);

    (void)name;
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

static int p_target(struct orch_config *cfg, const char *name, size_t off,
                    const char *s, struct orch_diag *diag)
{
    enum orch_target *out = FIELD(cfg, off, enum orch_target);

    (void)name;
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

static int p_log_format(struct orch_config *cfg, const char *name, size_t off,
                        const char *value, struct orch_diag *diag)
{
    int *out = FIELD(cfg, off, int);

    (void)name;
    if (strcmp(value, "text") == 0)
        *out = ORCH_LOG_FORMAT_TEXT;
    else if (strcmp(value, "json") == 0)
        *out = ORCH_LOG_FORMAT_JSON;
    else
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--log-format: \"%s\" is not text or json", value);
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
static int p_fw_map(struct orch_config *cfg, const char *name, size_t off,
                    const char *s, struct orch_diag *diag)
{
    const char *eq = strchr(s, '=');

    (void)name;
    (void)off;
    if (eq == NULL || eq == s || eq[1] == '\0')
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--firmware: \"%s\" is not PK=FW (ProductKey = "
                             "firmware id)",
                             s);
    return add_fw_map(cfg, s, (size_t)(eq - s), eq + 1);
}

/* --src-version VER, repeatable up to ORCH_MAX_SRC_VERSIONS. */
static int p_src_version(struct orch_config *cfg, const char *name, size_t off,
                         const char *s, struct orch_diag *diag)
{
    char *copy = NULL;

    (void)name;
    (void)off;
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

/* --where COL=V[,V...], repeatable up to ORCH_MAX_WHERE (checked whole
 * by orch_config_validate). */
static int p_where(struct orch_config *cfg, const char *name, size_t off,
                   const char *s, struct orch_diag *diag)
{
    char *copy = NULL;

    (void)name;
    (void)off;
    if (cfg->n_where >= ORCH_MAX_WHERE)
        return orch_diag_set(diag, ORCH_EINVAL, "--where: more than %d",
                             ORCH_MAX_WHERE);
    copy = strdup(s);
    if (copy == NULL)
        return ORCH_ENOMEM;
    cfg->where[cfg->n_where++] = copy;
    return 0;
}

/* ---- journal codecs, "is set" and moves, by C type ------------------ */

/* A plain value of C type T: "is set" means it differs from the default,
 * and a move is a copy. The same two functions for every such type. */
#define PLAIN_VALUE(name, T)                                                   \
    static bool s_##name(const struct orch_config *cfg,                        \
                         const struct orch_config *def, size_t off)            \
    {                                                                          \
        return *CFIELD(cfg, off, T) != *CFIELD(def, off, T);                   \
    }                                                                          \
    static void m_##name(struct orch_config *dst, struct orch_config *src,     \
                         size_t off)                                           \
    {                                                                          \
        *FIELD(dst, off, T) = *FIELD(src, off, T);                             \
    }

PLAIN_VALUE(bool, bool)
PLAIN_VALUE(int, int)
PLAIN_VALUE(i64, int64_t)
PLAIN_VALUE(long, long)
PLAIN_VALUE(double, double)
PLAIN_VALUE(char, char)
PLAIN_VALUE(target, enum orch_target)
#undef PLAIN_VALUE

static json_t *e_bool(const struct orch_config *cfg, size_t off)
{
    return json_boolean(*CFIELD(cfg, off, bool));
}

static int d_bool(struct orch_config *cfg, size_t off, const json_t *v)
{
    if (json_is_boolean(v))
        *FIELD(cfg, off, bool) = json_is_true(v);
    return 0;
}

/* Strings: null when not given. */
static json_t *e_str(const struct orch_config *cfg, size_t off)
{
    const char *s = *CFIELD(cfg, off, char *);

    return s ? json_string(s) : json_null();
}

static int d_str(struct orch_config *cfg, size_t off, const json_t *v)
{
    const char *s = json_string_value(v);

    return s ? orch_str_set(FIELD(cfg, off, char *), s) : 0;
}

static bool s_str(const struct orch_config *cfg, const struct orch_config *def,
                  size_t off)
{
    (void)def;
    return *CFIELD(cfg, off, char *) != NULL;
}

static void m_str(struct orch_config *dst, struct orch_config *src, size_t off)
{
    char **d = FIELD(dst, off, char *);
    char **s = FIELD(src, off, char *);

    free(*d);
    *d = *s;
    *s = NULL;
}

static bool s_argv_str(const struct orch_config *cfg,
                       const struct orch_config *def, size_t off)
{
    (void)def;
    return *(const char *const *)(const void *)((const char *)cfg + off) !=
           NULL;
}

static void m_argv_str(struct orch_config *dst, struct orch_config *src,
                       size_t off)
{
    *FIELD(dst, off, const char *) = *FIELD(src, off, const char *);
}

/* Integers of the API: -1 (any negative) is "not sent", journaled null. */
static json_t *e_int(const struct orch_config *cfg, size_t off)
{
    int v = *CFIELD(cfg, off, int);

    return v >= 0 ? json_integer(v) : json_null();
}

static int d_int(struct orch_config *cfg, size_t off, const json_t *v)
{
    if (json_is_integer(v))
        *FIELD(cfg, off, int) = (int)json_integer_value(v);
    return 0;
}

/* Times in epoch ms: -1 is "not set", journaled null. */
static json_t *e_i64(const struct orch_config *cfg, size_t off)
{
    int64_t v = *CFIELD(cfg, off, int64_t);

    return v >= 0 ? json_integer(v) : json_null();
}

static int d_i64(struct orch_config *cfg, size_t off, const json_t *v)
{
    if (json_is_integer(v))
        *FIELD(cfg, off, int64_t) = json_integer_value(v);
    return 0;
}

/* Durations in ms. */
static json_t *e_long(const struct orch_config *cfg, size_t off)
{
    return json_integer(*CFIELD(cfg, off, long));
}

static int d_long(struct orch_config *cfg, size_t off, const json_t *v)
{
    if (json_is_integer(v))
        *FIELD(cfg, off, long) = (long)json_integer_value(v);
    return 0;
}

static json_t *e_double(const struct orch_config *cfg, size_t off)
{
    return json_real(*CFIELD(cfg, off, double));
}

static int d_double(struct orch_config *cfg, size_t off, const json_t *v)
{
    if (json_is_number(v))
        *FIELD(cfg, off, double) = json_number_value(v);
    return 0;
}

/* The delimiter: a one-character string, "" when detected. */
static json_t *e_char(const struct orch_config *cfg, size_t off)
{
    char s[2] = {*CFIELD(cfg, off, char), '\0'};

    return json_string(s);
}

static int d_char(struct orch_config *cfg, size_t off, const json_t *v)
{
    const char *s = json_string_value(v);

    if (s)
        *FIELD(cfg, off, char) = s[0];
    return 0;
}

/* --target: the API's name ("SPECIFIC", "ALL", "GRAY"). */
static json_t *e_target(const struct orch_config *cfg, size_t off)
{
    return json_string(orch_target_name(*CFIELD(cfg, off, enum orch_target)));
}

static int d_target(struct orch_config *cfg, size_t off, const json_t *v)
{
    const char *t = json_string_value(v);

    if (t)
        *FIELD(cfg, off, enum orch_target) =
            strcmp(t, "ALL") == 0    ? ORCH_TARGET_ALL
            : strcmp(t, "GRAY") == 0 ? ORCH_TARGET_GRAY
                                     : ORCH_TARGET_SPECIFIC;
    return 0;
}

/* --firmware: {"PK":"FW",...}. */
static json_t *e_fw_map(const struct orch_config *cfg, size_t off)
{
    json_t *fw = json_object();
    size_t i = 0;

    (void)off;
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

static int d_fw_map(struct orch_config *cfg, size_t off, const json_t *fw)
{
    const char *key = NULL;
    json_t *v = NULL;

    (void)off;
    if (!json_is_object(fw))
        return 0;
    json_object_foreach((json_t *)fw, key, v)
    {
        if (json_is_string(v) &&
            add_fw_map(cfg, key, strlen(key), json_string_value(v)) != 0)
            return ORCH_ENOMEM;
    }
    return 0;
}

static bool s_fw_map(const struct orch_config *cfg,
                     const struct orch_config *def, size_t off)
{
    (void)def;
    (void)off;
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
                     size_t off)
{
    (void)off;
    free_fw_map(dst);
    dst->fw_map = src->fw_map;
    dst->n_fw_map = src->n_fw_map;
    src->fw_map = NULL;
    src->n_fw_map = 0;
}

/* --src-version: ["1.0",...]. */
static json_t *e_src_version(const struct orch_config *cfg, size_t off)
{
    json_t *src = json_array();
    size_t i = 0;

    (void)off;
    for (i = 0; src != NULL && i < cfg->n_src_versions; i++) {
        if (json_array_append_new(src, json_string(cfg->src_versions[i]))) {
            json_decref(src);
            src = NULL;
        }
    }
    return src;
}

static int d_src_version(struct orch_config *cfg, size_t off, const json_t *src)
{
    json_t *v = NULL;
    size_t i = 0;

    (void)off;
    json_array_foreach(src, i, v)
    {
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
                          const struct orch_config *def, size_t off)
{
    (void)def;
    (void)off;
    return cfg->n_src_versions > 0;
}

static void m_src_version(struct orch_config *dst, struct orch_config *src,
                          size_t off)
{
    size_t i = 0;

    (void)off;
    for (i = 0; i < dst->n_src_versions; i++)
        free(dst->src_versions[i]);
    memcpy(dst->src_versions, src->src_versions, sizeof(dst->src_versions));
    dst->n_src_versions = src->n_src_versions;
    memset(src->src_versions, 0, sizeof(src->src_versions));
    src->n_src_versions = 0;
}

/* --where: ["site=Berlin",...], in the order given. */
static json_t *e_where(const struct orch_config *cfg, size_t off)
{
    json_t *a = json_array();
    size_t i = 0;

    (void)off;
    for (i = 0; a != NULL && i < cfg->n_where; i++) {
        if (json_array_append_new(a, json_string(cfg->where[i]))) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

static int d_where(struct orch_config *cfg, size_t off, const json_t *a)
{
    json_t *v = NULL;
    size_t i = 0;

    (void)off;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || cfg->n_where >= ORCH_MAX_WHERE)
            continue;
        cfg->where[cfg->n_where] = strdup(json_string_value(v));
        if (cfg->where[cfg->n_where] == NULL)
            return ORCH_ENOMEM;
        cfg->n_where++;
    }
    return 0;
}

static bool s_where(const struct orch_config *cfg,
                    const struct orch_config *def, size_t off)
{
    (void)def;
    (void)off;
    return cfg->n_where > 0;
}

static void m_where(struct orch_config *dst, struct orch_config *src,
                    size_t off)
{
    size_t i = 0;

    (void)off;
    for (i = 0; i < dst->n_where; i++)
        free(dst->where[i]);
    memcpy(dst->where, src->where, sizeof(dst->where));
    dst->n_where = src->n_where;
    memset(src->where, 0, sizeof(src->where));
    src->n_where = 0;
}

/* ---- the value types ---------------------------------------------------- */

#define BOOL_CODEC e_bool, d_bool, s_bool, m_bool
#define STR_CODEC e_str, d_str, s_str, m_str
#define INT_CODEC e_int, d_int, s_int, m_int
#define DOUBLE_CODEC e_double, d_double, s_double, m_double

const struct orch_opt_kind orch_optv_flag = {ORCH_OPTV_FLAG, p_flag,
                                             BOOL_CODEC};
const struct orch_opt_kind orch_optv_flag_off = {ORCH_OPTV_FLAG, p_flag_off,
                                                 BOOL_CODEC};
const struct orch_opt_kind orch_optv_string = {ORCH_OPTV_VALUE, p_string,
                                               STR_CODEC};
const struct orch_opt_kind orch_optv_argv_string = {
    ORCH_OPTV_VALUE, p_argv_string, NULL, NULL, s_argv_str, m_argv_str};
const struct orch_opt_kind orch_optv_unum = {ORCH_OPTV_VALUE, p_unum,
                                             INT_CODEC};
const struct orch_opt_kind orch_optv_double = {ORCH_OPTV_VALUE, p_double,
                                               DOUBLE_CODEC};
const struct orch_opt_kind orch_optv_share = {ORCH_OPTV_VALUE, p_share,
                                              DOUBLE_CODEC};
const struct orch_opt_kind orch_optv_time = {ORCH_OPTV_VALUE, p_time, e_i64,
                                             d_i64,           s_i64,  m_i64};
const struct orch_opt_kind orch_optv_duration = {
    ORCH_OPTV_VALUE, p_duration, e_long, d_long, s_long, m_long};
const struct orch_opt_kind orch_optv_delimiter = {
    ORCH_OPTV_VALUE, p_delimiter, e_char, d_char, s_char, m_char};
const struct orch_opt_kind orch_optv_target = {
    ORCH_OPTV_VALUE, p_target, e_target, d_target, s_target, m_target};
const struct orch_opt_kind orch_optv_log_format = {ORCH_OPTV_VALUE,
                                                   p_log_format, INT_CODEC};
const struct orch_opt_kind orch_optv_fw_map = {
    ORCH_OPTV_VALUE, p_fw_map, e_fw_map, d_fw_map, s_fw_map, m_fw_map};
const struct orch_opt_kind orch_optv_src_version = {
    ORCH_OPTV_VALUE, p_src_version, e_src_version,
    d_src_version,   s_src_version, m_src_version};
const struct orch_opt_kind orch_optv_where = {
    ORCH_OPTV_VALUE, p_where, e_where, d_where, s_where, m_where};
const struct orch_opt_kind orch_optv_secret = {
    ORCH_OPTV_SECRET, NULL, NULL, NULL, NULL, NULL};
