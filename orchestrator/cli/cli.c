/* cli.c - the command line: one option table drives parsing and --help.
 *
 * DESIGN: every option is one row of `options[]` (long name, argument
 * type, short letter, id, metavar, help). parse_args() finds the row and
 * hands the value to getparameter(), which converts it by type and stores
 * it in struct orch_config; that is the only way from argv into the
 * config (curl's tool_getparam). Range and combination rules are not
 * checked here but once, in orch_config_validate(). Unique prefixes of
 * long options are NOT accepted: scripts that relied on them would break
 * whenever an option is added.
 */
#include "orch/cli/cli.h"

#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/timeparse.h"
#include "orch/model/waves.h"

#include <csv.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum arg_type {
    ARG_NONE,     /* a flag */
    ARG_STRING,   /* any non-empty text */
    ARG_UNUM,     /* a whole number >= 0 */
    ARG_DOUBLE,   /* a decimal number */
    ARG_TIME,     /* ISO-8601 with a zone, or 13-digit epoch ms */
    ARG_DURATION, /* "30s", "2m", or bare seconds */
    ARG_SECRET    /* refused: secrets never travel on the command line */
};

enum opt_id {
    OPT_FIRMWARE_ID,
    OPT_PRODUCT_KEY,
    OPT_FIRMWARE,
    OPT_TARGET,
    OPT_SRC_VERSION,
    OPT_GRAY_PERCENT,
    OPT_SCHEDULE_TIME,
    OPT_SCHEDULE_FINISH_TIME,
    OPT_RETRY_INTERVAL,
    OPT_RETRY_COUNT,
    OPT_TIMEOUT_MINUTES,
    OPT_MAX_PER_MINUTE,
    OPT_OVERWRITE_MODE,
    OPT_NO_JOB_TAG,
    OPT_SKIP_PREFLIGHT,
    OPT_CHECK_DEVICES,
    OPT_PREFLIGHT,
    OPT_ENDPOINT,
    OPT_REGION,
    OPT_IOT_INSTANCE_ID,
    OPT_PROFILE,
    OPT_CA_BUNDLE,
    OPT_INSECURE,
    OPT_DELIMITER,
    OPT_SKIP_INVALID,
    OPT_REPORT,
    OPT_YES,
    OPT_NO_PROGRESS,
    OPT_VERBOSE,
    OPT_JSON,
    OPT_LOG_FORMAT,
    OPT_QPS,
    OPT_FORCE_QPS,
    OPT_QUERY_QPS,
    OPT_MAX_IN_FLIGHT,
    OPT_MAX_ATTEMPTS,
    OPT_CHUNK_SIZE,
    OPT_SIGNATURE_VERSION,
    OPT_REQUEST_TIMEOUT,
    OPT_RESUME,
    OPT_FORCE,
    OPT_WATCH,
    OPT_INTERVAL,
    OPT_DEVICES,
    OPT_IN_PROGRESS,
    OPT_WAVES,
    OPT_SUCCESS_THRESHOLD,
    OPT_FAILURE_THRESHOLD,
    OPT_MIN_DECIDED,
    OPT_WAVE_TIMEOUT,
    OPT_WAVE_INTERVAL,
    OPT_POLL_INTERVAL,
    OPT_WAIT,
    OPT_HELP,
    OPT_VERSION,
    OPT_SECRET
};

struct cli_option {
    const char *lname;
    enum arg_type type;
    char letter; /* short option, 0 for none */
    enum opt_id id;
    const char *metavar;
    const char *help;
    const char *section; /* non-NULL starts a --help section */
};

/* The one table. Order is the --help order. */
static const struct cli_option options[] = {
    {"firmware-id", ARG_STRING, 0, OPT_FIRMWARE_ID, "FW",
     "firmware to install (FirmwareId)", "What to upgrade"},
    {"product-key", ARG_STRING, 0, OPT_PRODUCT_KEY, "PK",
     "ProductKey of the devices (optional when the inventory has a "
     "ProductKey column)",
     NULL},
    {"firmware", ARG_STRING, 0, OPT_FIRMWARE, "PK=FW",
     "firmware for one product of a multi-product inventory (repeatable)",
     NULL},
    {"target", ARG_STRING, 0, OPT_TARGET, "ALL|SPECIFIC|GRAY",
     "SPECIFIC (default): the inventory's devices; ALL or GRAY: one call "
     "for every device of --product-key on a --src-version, no inventory",
     NULL},
    {"src-version", ARG_STRING, 0, OPT_SRC_VERSION, "VER",
     "version to upgrade from, ALL/GRAY only (repeatable, up to 10)", NULL},
    {"gray-percent", ARG_STRING, 0, OPT_GRAY_PERCENT, "PCT",
     "share of devices for GRAY, e.g. 33.33 (up to 3 decimals)", NULL},

    {"schedule-time", ARG_TIME, 0, OPT_SCHEDULE_TIME, "TIME",
     "start the upgrade at TIME, 5 min to 7 days ahead (ISO-8601 with Z or "
     "an offset, or 13-digit epoch ms)",
     "Job options (sent with every call)"},
    {"schedule-finish-time", ARG_TIME, 0, OPT_SCHEDULE_FINISH_TIME, "TIME",
     "end the upgrade at TIME, 1 hour to 30 days after --schedule-time", NULL},
    {"retry-interval", ARG_UNUM, 0, OPT_RETRY_INTERVAL, "MIN",
     "device retry interval: 0, 10, 30, 60 or 1440 (needs --retry-count)",
     NULL},
    {"retry-count", ARG_UNUM, 0, OPT_RETRY_COUNT, "N",
     "device retries: 1, 2 or 5 (needs --retry-interval)", NULL},
    {"timeout-minutes", ARG_UNUM, 0, OPT_TIMEOUT_MINUTES, "MIN",
     "upgrade timeout per device, 1..1440", NULL},
    {"max-per-minute", ARG_UNUM, 0, OPT_MAX_PER_MINUTE, "N",
     "firmware pushes per minute, 0..1000", NULL},
    {"overwrite-mode", ARG_UNUM, 0, OPT_OVERWRITE_MODE, "1|2",
     "1: keep a device's earlier pending job; 2: overwrite it", NULL},
    {"no-job-tag", ARG_NONE, 0, OPT_NO_JOB_TAG, NULL,
     "do not tag each job ota.rollout=<run id>.<chunk>; an unknown outcome "
     "is then confirmed by the devices' tasks only, and an ALL/GRAY one "
     "ends Ambiguous",
     NULL},

    {"endpoint", ARG_STRING, 0, OPT_ENDPOINT, "URL",
     "API endpoint (default https://iot.<region>.aliyuncs.com)",
     "Where to send"},
    {"region", ARG_STRING, 0, OPT_REGION, "ID",
     "region (default $ALIBABA_CLOUD_REGION_ID, else cn-shanghai)", NULL},
    {"iot-instance-id", ARG_STRING, 0, OPT_IOT_INSTANCE_ID, "ID",
     "IoT instance (Enterprise Edition and new public instances)", NULL},
    {"profile", ARG_STRING, 0, OPT_PROFILE, "NAME",
     "aliyun CLI profile in ~/.aliyun/config.json (modes AK, StsToken)", NULL},
    {"ca-bundle", ARG_STRING, 0, OPT_CA_BUNDLE, "FILE",
     "CA certificates to verify the endpoint with", NULL},
    {"insecure", ARG_NONE, 0, OPT_INSECURE, NULL,
     "do not verify the endpoint's TLS certificate (testing only!)", NULL},

    {"skip-preflight", ARG_NONE, 0, OPT_SKIP_PREFLIGHT, NULL,
     "run: do not check the firmware before the first call (for accounts "
     "whose RAM policy denies QueryOTAFirmware)",
     "Pre-flight checks"},
    {"check-devices", ARG_NONE, 0, OPT_CHECK_DEVICES, NULL,
     "also check the devices (BatchQueryDeviceDetail, 100 a call, 5 calls/s):"
     " leave out those that do not exist or already run the firmware's "
     "version, listed in <report>.rejects.csv",
     NULL},
    {"preflight", ARG_NONE, 0, OPT_PREFLIGHT, NULL,
     "plan: run the pre-flight checks too (needs credentials) and print "
     "their result",
     NULL},

    {"delimiter", ARG_STRING, 0, OPT_DELIMITER, "C",
     "inventory delimiter: , ; tab | : (default: detected from the header: "
     ", ; or tab)",
     "Inventory and report"},
    {"skip-invalid", ARG_NONE, 0, OPT_SKIP_INVALID, NULL,
     "skip invalid rows into <report>.rejects.csv instead of stopping", NULL},
    {"report", ARG_STRING, 0, OPT_REPORT, "FILE",
     "report CSV (default <inventory>.report.csv next to the inventory)", NULL},
    {"force", ARG_NONE, 0, OPT_FORCE, NULL,
     "start anew over an existing report: its files are kept as "
     "<name>.<UTC time>",
     NULL},
    {"yes", ARG_NONE, 0, OPT_YES, NULL,
     "do not ask for confirmation (needed without a terminal)", NULL},
    {"no-progress", ARG_NONE, 0, OPT_NO_PROGRESS, NULL,
     "no progress line (terminal or log)", NULL},
    {"verbose", ARG_NONE, 0, OPT_VERBOSE, NULL,
     "plan: print the first request's whole device list (default: "
     "TargetDeviceName.1..N with the first and the last)",
     NULL},
    {"json", ARG_NONE, 0, OPT_JSON, NULL,
     "run, plan, status, cancel: one JSON document on stdout with the "
     "summary "
     "(nothing else there); messages stay on stderr",
     NULL},
    {"log-format", ARG_STRING, 0, OPT_LOG_FORMAT, "text|json",
     "json: one JSON object per event and message on stderr (chunk sent, "
     "answered, retried, created, failed, reconciled), no progress line",
     NULL},
    {"resume", ARG_NONE, 0, OPT_RESUME, NULL,
     "run: continue the interrupted run of this report (its journal)",
     NULL},

    {"qps", ARG_DOUBLE, 0, OPT_QPS, "N",
     "calls started per second, at most in any 1 s window (default 20, the "
     "account quota)",
     "Pacing and retries"},
    {"force-qps", ARG_NONE, 0, OPT_FORCE_QPS, NULL,
     "allow --qps above 20 and --query-qps above 10 (only if your quota is "
     "higher)", NULL},
    {"query-qps", ARG_DOUBLE, 0, OPT_QUERY_QPS, "N",
     "queries per second, per action (default 10, their quota): "
     "reconciliation of unknown outcomes, status, wave gates, cancel (at "
     "most 5); not the pre-flight (QueryOTAFirmware 20/s, "
     "BatchQueryDeviceDetail 5/s, their own quotas)", NULL},
    {"max-in-flight", ARG_UNUM, 0, OPT_MAX_IN_FLIGHT, "N",
     "requests in flight at once (default 64)", NULL},
    {"max-attempts", ARG_UNUM, 0, OPT_MAX_ATTEMPTS, "N",
     "attempts per chunk for transient errors (default 6)", NULL},
    {"chunk-size", ARG_UNUM, 0, OPT_CHUNK_SIZE, "N",
     "devices per call, 1..200 (default 200)", NULL},
    {"signature-version", ARG_UNUM, 0, OPT_SIGNATURE_VERSION, "3|2",
     "3: ACS3-HMAC-SHA256 (default); 2: HMAC-SHA1 with a form body", NULL},
    {"request-timeout", ARG_DURATION, 0, OPT_REQUEST_TIMEOUT, "DUR",
     "timeout per request, e.g. 30s (default 30s)", NULL},

    {"watch", ARG_NONE, 0, OPT_WATCH, NULL,
     "status: refresh until every task is decided, then exit",
     "Status and cancel"},
    {"interval", ARG_DURATION, 0, OPT_INTERVAL, "DUR",
     "status --watch: time between refreshes (default 10s)", NULL},
    {"devices", ARG_STRING, 0, OPT_DEVICES, "FILE",
     "status: write one row per device to FILE, and the FAILED devices to "
     "FILE.failed.csv (an inventory `run` accepts)",
     NULL},
    {"in-progress", ARG_NONE, 0, OPT_IN_PROGRESS, NULL,
     "cancel: cancel IN_PROGRESS tasks too (default: only queued, notified "
     "and scheduled ones)",
     NULL},

    {"waves", ARG_STRING, 0, OPT_WAVES, "SPEC",
     "run in waves of cumulative size, e.g. 1%,10%,100% or 200,5000,all "
     "(rounded up to whole chunks; wave 1 is the canary); each wave "
     "starts once the one before passed its health gate",
     "Waves and gates (run)"},
    {"success-threshold", ARG_STRING, 0, OPT_SUCCESS_THRESHOLD, "P",
     "share of a wave's tasks SUCCEEDED that lets the next wave start, "
     "e.g. 95% or 0.95 (default 100%)",
     NULL},
    {"failure-threshold", ARG_STRING, 0, OPT_FAILURE_THRESHOLD, "P",
     "share FAILED among a wave's ended tasks that aborts the rollout "
     "(default: none; a wave that can no longer reach the success "
     "threshold aborts it too)",
     NULL},
    {"min-decided", ARG_UNUM, 0, OPT_MIN_DECIDED, "N",
     "ended tasks needed before --failure-threshold applies (default 10)",
     NULL},
    {"wave-timeout", ARG_DURATION, 0, OPT_WAVE_TIMEOUT, "DUR",
     "no decision after DUR (90s, 15m, 2h, 1d; default 1h): pause, exit 6; "
     "continue with --resume",
     NULL},
    {"wave-interval", ARG_DURATION, 0, OPT_WAVE_INTERVAL, "DUR",
     "scheduled waves: create every wave now, each scheduled DUR after the "
     "one before (wave 1 at --schedule-time, or now); no gates; waves "
     "beyond the API's 7-day horizon are created later by --resume",
     NULL},
    {"poll-interval", ARG_DURATION, 0, OPT_POLL_INTERVAL, "DUR",
     "time between two looks at a wave's tasks (default 10s)", NULL},
    {"wait", ARG_NONE, 0, OPT_WAIT, NULL,
     "watch the tasks until every one has ended (with --waves: the last "
     "wave's gate too); without --waves, exit 1 if some FAILED or were "
     "CANCELED",
     NULL},

    {"help", ARG_NONE, 'h', OPT_HELP, NULL, "this text", "Other"},
    {"version", ARG_NONE, 0, OPT_VERSION, NULL,
     "versions of ota-rollout and its libraries", NULL},

    /* Refused on purpose (not listed in --help): a secret on the command
     * line ends up in shell history and in `ps` output. */
    {"access-key", ARG_SECRET, 0, OPT_SECRET, NULL, NULL, NULL},
    {"access-key-id", ARG_SECRET, 0, OPT_SECRET, NULL, NULL, NULL},
    {"access-key-secret", ARG_SECRET, 0, OPT_SECRET, NULL, NULL, NULL},
    {"access-key-id-secret", ARG_SECRET, 0, OPT_SECRET, NULL, NULL, NULL},
    {"secret", ARG_SECRET, 0, OPT_SECRET, NULL, NULL, NULL},
    {"secret-key", ARG_SECRET, 0, OPT_SECRET, NULL, NULL, NULL},
    {"security-token", ARG_SECRET, 0, OPT_SECRET, NULL, NULL, NULL},
    {"sts-token", ARG_SECRET, 0, OPT_SECRET, NULL, NULL, NULL},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const char secret_advice[] =
    "secrets are not accepted on the command line; set "
    "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and "
    "ALIBABA_CLOUD_SECURITY_TOKEN for STS) in the environment, or use "
    "--profile NAME";

static const char *const command_names[] = {
    [ORCH_CMD_NONE] = "",         [ORCH_CMD_RUN] = "run",
    [ORCH_CMD_PLAN] = "plan",     [ORCH_CMD_RESUME] = "resume",
    [ORCH_CMD_STATUS] = "status", [ORCH_CMD_CANCEL] = "cancel",
};

const char *orch_cli_command_name(int command)
{
    if (command < 0 ||
        (size_t)command >= sizeof(command_names) / sizeof(command_names[0]))
        return "";
    return command_names[command];
}

/* An option name that is not in the table but looks like it carries a
 * secret is refused the same way, so a typo cannot echo the value. */
static bool looks_secret(const char *name, size_t len)
{
    static const char *const words[] = {"secret", "token", "password", "passwd",
                                        "access-key"};
    char buf[64];
    size_t i = 0;

    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    for (i = 0; i < len; i++)
        buf[i] = (char)((name[i] == '_') ? '-' : name[i]);
    buf[len] = '\0';
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasestr(buf, words[i]))
            return true;
    }
    return false;
}

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

static int parse_delimiter(const char *s, char *out, struct orch_diag *diag)
{
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

static int parse_target(const char *s, enum orch_target *out,
                        struct orch_diag *diag)
{
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

static int add_fw_map(struct orch_config *cfg, const char *s,
                      struct orch_diag *diag)
{
    const char *eq = strchr(s, '=');
    struct orch_fw_map *grown = NULL;
    char *pk = NULL, *fw = NULL;

    if (eq == NULL || eq == s || eq[1] == '\0')
        return orch_diag_set(diag, ORCH_EINVAL,
                             "--firmware: \"%s\" is not PK=FW (ProductKey = "
                             "firmware id)",
                             s);
    grown = realloc(cfg->fw_map, (cfg->n_fw_map + 1) * sizeof(*grown));
    if (grown == NULL)
        return ORCH_ENOMEM;
    cfg->fw_map = grown;
    pk = strndup(s, (size_t)(eq - s));
    fw = strdup(eq + 1);
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

static int add_src_version(struct orch_config *cfg, const char *s,
                           struct orch_diag *diag)
{
    char *copy = NULL;

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

/* Stores one option's value (NULL for flags) into cfg. */
static int getparameter(struct orch_config *cfg, const struct cli_option *o,
                        const char *value, struct orch_diag *diag)
{
    const char *n = o->lname;

    if (value && value[0] == '\0' && o->type != ARG_NONE)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: empty value", n);
    switch (o->id) {
    case OPT_FIRMWARE_ID:
        return set_str(&cfg->firmware_id, value);
    case OPT_PRODUCT_KEY:
        return set_str(&cfg->product_key, value);
    case OPT_FIRMWARE:
        return add_fw_map(cfg, value, diag);
    case OPT_TARGET:
        return parse_target(value, &cfg->target, diag);
    case OPT_SRC_VERSION:
        return add_src_version(cfg, value, diag);
    case OPT_GRAY_PERCENT:
        return set_str(&cfg->gray_percent, value);
    case OPT_SCHEDULE_TIME:
        return parse_time(n, value, &cfg->schedule_time_ms, diag);
    case OPT_SCHEDULE_FINISH_TIME:
        return parse_time(n, value, &cfg->schedule_finish_time_ms, diag);
    case OPT_RETRY_INTERVAL:
        return parse_unum(n, value, &cfg->retry_interval, diag);
    case OPT_RETRY_COUNT:
        return parse_unum(n, value, &cfg->retry_count, diag);
    case OPT_TIMEOUT_MINUTES:
        return parse_unum(n, value, &cfg->timeout_minutes, diag);
    case OPT_MAX_PER_MINUTE:
        return parse_unum(n, value, &cfg->max_per_minute, diag);
    case OPT_OVERWRITE_MODE:
        return parse_unum(n, value, &cfg->overwrite_mode, diag);
    case OPT_NO_JOB_TAG:
        cfg->no_job_tag = true;
        return 0;
    case OPT_ENDPOINT:
        return set_str(&cfg->endpoint, value);
    case OPT_REGION:
        return set_str(&cfg->region, value);
    case OPT_IOT_INSTANCE_ID:
        return set_str(&cfg->iot_instance_id, value);
    case OPT_PROFILE:
        return set_str(&cfg->profile, value);
    case OPT_CA_BUNDLE:
        return set_str(&cfg->ca_bundle, value);
    case OPT_INSECURE:
        cfg->insecure = true;
        return 0;
    case OPT_SKIP_PREFLIGHT:
        cfg->skip_preflight = true;
        return 0;
    case OPT_CHECK_DEVICES:
        cfg->check_devices = true;
        return 0;
    case OPT_PREFLIGHT:
        cfg->preflight = true;
        return 0;
    case OPT_DELIMITER:
        return parse_delimiter(value, &cfg->delimiter, diag);
    case OPT_SKIP_INVALID:
        cfg->skip_invalid = true;
        return 0;
    case OPT_REPORT:
        return set_str(&cfg->report_path, value);
    case OPT_YES:
        cfg->yes = true;
        return 0;
    case OPT_NO_PROGRESS:
        cfg->progress = false;
        return 0;
    case OPT_VERBOSE:
        cfg->verbose = true;
        return 0;
    case OPT_JSON:
        cfg->json = true;
        return 0;
    case OPT_LOG_FORMAT:
        if (strcmp(value, "text") == 0)
            cfg->log_format = ORCH_LOG_FORMAT_TEXT;
        else if (strcmp(value, "json") == 0)
            cfg->log_format = ORCH_LOG_FORMAT_JSON;
        else
            return orch_diag_set(diag, ORCH_EINVAL,
                                 "--log-format: \"%s\" is not text or json",
                                 value);
        return 0;
    case OPT_QPS:
        return parse_double(n, value, &cfg->qps, diag);
    case OPT_FORCE_QPS:
        cfg->force_qps = true;
        return 0;
    case OPT_QUERY_QPS:
        return parse_double(n, value, &cfg->query_qps, diag);
    case OPT_MAX_IN_FLIGHT:
        return parse_unum(n, value, &cfg->max_in_flight, diag);
    case OPT_MAX_ATTEMPTS:
        return parse_unum(n, value, &cfg->max_attempts, diag);
    case OPT_CHUNK_SIZE:
        return parse_unum(n, value, &cfg->chunk_size, diag);
    case OPT_SIGNATURE_VERSION:
        return parse_unum(n, value, &cfg->signature_version, diag);
    case OPT_REQUEST_TIMEOUT:
        return parse_duration(n, value, &cfg->request_timeout_ms, diag);
    case OPT_RESUME:
        cfg->resume = true;
        return 0;
    case OPT_FORCE:
        cfg->force = true;
        return 0;
    case OPT_WATCH:
        cfg->watch = true;
        return 0;
    case OPT_INTERVAL:
        return parse_duration(n, value, &cfg->interval_ms, diag);
    case OPT_DEVICES:
        /* Borrowed: argv outlives the config (config.h). */
        cfg->devices_path = value;
        return 0;
    case OPT_IN_PROGRESS:
        cfg->cancel_in_progress = true;
        return 0;
    case OPT_WAVES:
        return set_str(&cfg->waves, value);
    case OPT_SUCCESS_THRESHOLD:
        return orch_share_parse("--success-threshold", value,
                                &cfg->success_threshold, diag);
    case OPT_FAILURE_THRESHOLD:
        return orch_share_parse("--failure-threshold", value,
                                &cfg->failure_threshold, diag);
    case OPT_MIN_DECIDED:
        return parse_unum(n, value, &cfg->min_decided, diag);
    case OPT_WAVE_TIMEOUT:
        return parse_duration(n, value, &cfg->wave_timeout_ms, diag);
    case OPT_WAVE_INTERVAL:
        return parse_duration(n, value, &cfg->wave_interval_ms, diag);
    case OPT_POLL_INTERVAL:
        return parse_duration(n, value, &cfg->poll_interval_ms, diag);
    case OPT_WAIT:
        cfg->wait = true;
        return 0;
    case OPT_HELP:
        cfg->help = true;
        return 0;
    case OPT_VERSION:
        cfg->version = true;
        return 0;
    case OPT_SECRET:
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: %s", n, secret_advice);
    }
    return orch_diag_set(diag, ORCH_EINVAL, "--%s: not handled", n);
}

static const struct cli_option *find_long(const char *name, size_t len)
{
    size_t i = 0;

    for (i = 0; i < N_OPTIONS; i++) {
        if (strlen(options[i].lname) == len &&
            strncmp(options[i].lname, name, len) == 0)
            return &options[i];
    }
    return NULL;
}

static const struct cli_option *find_short(char letter)
{
    size_t i = 0;

    for (i = 0; i < N_OPTIONS; i++) {
        if (options[i].letter && options[i].letter == letter)
            return &options[i];
    }
    return NULL;
}

/* Edit distance between a and b (optimal string alignment: insertions,
 * deletions, substitutions and swaps of two neighbours each cost 1), as
 * git and curl use to guess a mistyped name. Names longer than
 * SUGGEST_MAX count as far off. */
#define SUGGEST_MAX 40
static size_t edit_distance(const char *a, size_t la, const char *b)
{
    size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
    size_t lb = strlen(b);
    size_t i = 0, j = 0;

    if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
        return SIZE_MAX;
    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = d[i - 1][j - 1] + cost;

            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

/* The names among `names` (n of them, NULL entries skipped) closest to
 * the typed one, written as " did you mean PREFIXa or PREFIXb?" into buf;
 * "" when none is close. Close: the typed name is the start of exactly
 * one name, or at most 2 edits away and the edits are at most half its
 * length (so that "ab" is not taken for "qps"). */
static const char *suggest_among(const char *const *names, size_t n,
                                 const char *typed, size_t len,
                                 const char *prefix, char *buf, size_t bufsz)
{
    size_t best = SIZE_MAX, hits = 0, i = 0, o = 0;
    const char *prefixed = NULL;
    int w = 0;

    buf[0] = '\0';
    if (len == 0)
        return buf;
    for (i = 0; i < n; i++) {
        if (names[i] && strncmp(names[i], typed, len) == 0 &&
            strlen(names[i]) > len)
            prefixed = prefixed ? "" : names[i];
    }
    if (prefixed && prefixed[0]) {
        snprintf(buf, bufsz, "; did you mean %s%s?", prefix, prefixed);
        return buf;
    }
    for (i = 0; i < n; i++) {
        size_t d = names[i] ? edit_distance(typed, len, names[i]) : SIZE_MAX;

        if (d < best)
            best = d;
    }
    if (best > 2 || best * 2 > len)
        return buf;
    w = snprintf(buf, bufsz, "; did you mean");
    o = w > 0 ? (size_t)w : 0;
    for (i = 0; i < n && hits < 3 && o < bufsz; i++) {
        if (names[i] == NULL || edit_distance(typed, len, names[i]) != best)
            continue;
        w = snprintf(buf + o, bufsz - o, "%s %s%s", hits ? " or" : "", prefix,
                     names[i]);
        o += w > 0 ? (size_t)w : 0;
        hits++;
    }
    if (o < bufsz)
        snprintf(buf + o, bufsz - o, "?");
    return buf;
}

/* "; did you mean --X?" for a mistyped long option, else "". */
static const char *suggest(const char *name, size_t len, char *buf,
                           size_t bufsz)
{
    const char *names[N_OPTIONS];
    size_t i = 0;

    for (i = 0; i < N_OPTIONS; i++)
        names[i] = options[i].type == ARG_SECRET ? NULL : options[i].lname;
    return suggest_among(names, N_OPTIONS, name, len, "--", buf, bufsz);
}

static int positional(struct orch_config *cfg, const char *arg, int *npos,
                      struct orch_diag *diag)
{
    char hint[128];
    size_t i = 0;

    if (*npos == 0) {
        (*npos)++;
        if (strcmp(arg, "help") == 0) {
            cfg->help = true;
            return 0;
        }
        for (i = 1; i < sizeof(command_names) / sizeof(command_names[0]); i++) {
            if (strcmp(arg, command_names[i]) == 0) {
                cfg->command = (enum orch_command)i;
                return 0;
            }
        }
        return orch_diag_set(diag, ORCH_EINVAL,
                             "unknown command \"%s\"%s (expected run, plan, "
                             "resume, status or cancel; try --help)",
                             arg,
                             suggest_among(command_names + 1,
                                           sizeof(command_names) /
                                                   sizeof(command_names[0]) -
                                               1,
                                           arg, strlen(arg), "", hint,
                                           sizeof(hint)));
    }
    if (*npos == 1 && cfg->inventory_path == NULL && !cfg->help) {
        (*npos)++;
        return set_str(&cfg->inventory_path, arg);
    }
    return orch_diag_set(diag, ORCH_EINVAL,
                         "unexpected argument \"%s\" (one INVENTORY.csv at "
                         "most)",
                         arg);
}

/* True when `next` should not be taken as a value: it is another long
 * option, which means the value was forgotten. */
static bool is_long_option(const char *next)
{
    return next[0] == '-' && next[1] == '-' && next[2] != '\0';
}

static int long_option(struct orch_config *cfg, int argc, char *const *argv,
                       int *ip, struct orch_diag *diag)
{
    const char *arg = argv[*ip] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct cli_option *o = find_long(arg, len);
    const char *value = eq ? eq + 1 : NULL;
    char hint[160];

    if (o == NULL && looks_secret(arg, len))
        return orch_diag_set(diag, ORCH_EINVAL, "--%.*s: %s", (int)len, arg,
                             secret_advice);
    if (o == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "unknown option --%.*s%s (try --help)", (int)len,
                             arg, suggest(arg, len, hint, sizeof(hint)));
    if (o->type == ARG_SECRET)
        return getparameter(cfg, o, NULL, diag);
    if (o->type == ARG_NONE) {
        if (value)
            return orch_diag_set(diag, ORCH_EINVAL, "--%s takes no value",
                                 o->lname);
        return getparameter(cfg, o, NULL, diag);
    }
    if (value == NULL) {
        if (*ip + 1 >= argc || is_long_option(argv[*ip + 1]))
            return orch_diag_set(diag, ORCH_EINVAL, "--%s needs a value (%s)",
                                 o->lname, o->metavar);
        value = argv[++*ip];
    }
    return getparameter(cfg, o, value, diag);
}

static int short_option(struct orch_config *cfg, int argc, char *const *argv,
                        int *ip, struct orch_diag *diag)
{
    const char *arg = argv[*ip];
    const struct cli_option *o = find_short(arg[1]);
    const char *value = NULL;

    if (o == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "unknown option -%c (try --help)", arg[1]);
    if (o->type == ARG_NONE) {
        if (arg[2] != '\0')
            return orch_diag_set(diag, ORCH_EINVAL,
                                 "-%c takes no value (give options one by "
                                 "one)",
                                 arg[1]);
        return getparameter(cfg, o, NULL, diag);
    }
    if (arg[2] != '\0') {
        value = arg + 2;
    } else {
        if (*ip + 1 >= argc)
            return orch_diag_set(diag, ORCH_EINVAL, "-%c needs a value (%s)",
                                 arg[1], o->metavar);
        value = argv[++*ip];
    }
    return getparameter(cfg, o, value, diag);
}

int orch_cli_parse(struct orch_config *cfg, int argc, char *const *argv,
                   struct orch_diag *diag)
{
    int npos = 0;
    int i = 0;
    int rc = 0;
    bool only_positional = false;

    for (i = 1; i < argc && rc == 0; i++) {
        const char *arg = argv[i];

        if (only_positional || arg[0] != '-' || arg[1] == '\0')
            rc = positional(cfg, arg, &npos, diag);
        else if (strcmp(arg, "--") == 0)
            only_positional = true;
        else if (arg[1] == '-')
            rc = long_option(cfg, argc, argv, &i, diag);
        else
            rc = short_option(cfg, argc, argv, &i, diag);
    }
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    return rc;
}

/* Prints `text` wrapped at 79 columns, indented by `indent`, the first line
 * starting at column `col`. */
static void wrap(FILE *fp, const char *text, int col, int indent)
{
    const char *p = text;

    while (*p) {
        const char *w = p;
        int wl = 0;

        while (*w == ' ')
            w++;
        while (w[wl] && w[wl] != ' ')
            wl++;
        if (wl == 0)
            break;
        if (col > indent && col + 1 + wl > 79) {
            fprintf(fp, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', fp);
            col++;
        } else {
            fprintf(fp, "%*s", indent - col, "");
            col = indent;
        }
        fprintf(fp, "%.*s", wl, w);
        col += wl;
        p = w + wl;
    }
    fputc('\n', fp);
}

void orch_cli_help(FILE *fp)
{
    size_t i = 0;

    fputs("Usage:\n"
          "  ota-rollout run INVENTORY.csv --firmware-id FW [--product-key PK]"
          " [options]\n"
          "  ota-rollout plan INVENTORY.csv --firmware-id FW [--product-key "
          "PK] [options]\n"
          "  ota-rollout run --target ALL|GRAY --product-key PK --firmware-id "
          "FW\n"
          "                  --src-version VER [--gray-percent PCT] "
          "[options]\n"
          "  ota-rollout status REPORT.csv [--watch [--interval DUR]] "
          "[--json]\n"
          "                     [--devices FILE] [options]\n"
          "  ota-rollout cancel REPORT.csv [--in-progress] [--yes]\n"
          "  ota-rollout resume REPORT.csv [--yes] [options]\n"
          "\n"
          "Creates CreateOTAStaticUpgradeJob batches of up to 200 devices on "
          "Alibaba\n"
          "Cloud IoT Platform for every device of the inventory, at most 20 "
          "calls a\n"
          "second, and writes one report row per batch.\n"
          "\n"
          "Commands:\n"
          "  run     read, check and chunk the inventory, ask, then create "
          "the jobs\n"
          "  plan    everything up to the first call: prints the plan and "
          "the first\n"
          "          request's parameters; sends nothing, needs no "
          "credentials\n"
          "  status  task counts, failure reasons and job states of every "
          "job of a\n"
          "          REPORT.csv (--watch, --devices FILE, --json)\n"
          "  cancel  cancel the queued, notified and scheduled tasks of "
          "every job of a\n"
          "          REPORT.csv (--in-progress: running ones too); "
          "journaled, rerunnable\n"
          "  resume  continue the interrupted run of REPORT.csv from its "
          "journal\n"
          "          (same as run ... --resume; options given override "
          "the journal's)\n",
          fp);
    for (i = 0; i < N_OPTIONS; i++) {
        const struct cli_option *o = &options[i];
        char head[64];
        int col = 0;

        if (o->type == ARG_SECRET)
            continue;
        if (o->section)
            fprintf(fp, "\n%s:\n", o->section);
        if (o->letter)
            col = snprintf(head, sizeof(head), "  -%c, --%s%s%s", o->letter,
                           o->lname, o->metavar ? " " : "",
                           o->metavar ? o->metavar : "");
        else
            col = snprintf(head, sizeof(head), "  --%s%s%s", o->lname,
                           o->metavar ? " " : "", o->metavar ? o->metavar : "");
        fputs(head, fp);
        if (col > 28) {
            fputc('\n', fp);
            col = 0;
        }
        wrap(fp, o->help, col, 30);
    }
    fputs("\n"
          "Environment:\n"
          "  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET\n"
          "                     the AccessKey (never pass it as an "
          "argument)\n"
          "  ALIBABA_CLOUD_SECURITY_TOKEN\n"
          "                     STS token, with an STS AccessKey\n"
          "  ALIBABA_CLOUD_PROFILE\n"
          "                     aliyun CLI profile when the variables above "
          "are unset\n"
          "                     (default: the file's \"current\" profile)\n"
          "  ALIBABA_CLOUD_REGION_ID\n"
          "                     default for --region\n"
          "\n"
          "Exit codes:\n",
          fp);
    fprintf(fp,
            "  %d  every chunk created; status: the rollout is complete "
            "(every device\n"
            "     upgraded or already on the target version)\n"
            "  %d  some chunks failed or were not sent (the report says "
            "which); --wait\n"
            "     without --waves: some tasks FAILED or were CANCELED; "
            "status: the rollout\n"
            "     is not complete (devices failed, not sent, or tasks not "
            "SUCCEEDED yet)\n"
            "  %d  usage or configuration error, or a firmware refused by "
            "the pre-flight\n"
            "     (nothing sent)\n"
            "  %d  inventory invalid (nothing sent)\n"
            "  %d  run aborted (credentials rejected, repeated identical "
            "fatal errors,\n"
            "     \"no\" at the confirmation, or interrupted)\n"
            "  %d  rollout aborted by a wave's health gate (its tasks that "
            "had not\n"
            "     started were cancelled; later waves not created)\n"
            "  %d  paused: a wave's gate timed out, or later scheduled "
            "waves wait for\n"
            "     the 7-day horizon; continue with --resume\n",
            ORCH_EXIT_OK, ORCH_EXIT_PARTIAL, ORCH_EXIT_USAGE,
            ORCH_EXIT_INVENTORY, ORCH_EXIT_ABORTED, ORCH_EXIT_GATE,
            ORCH_EXIT_PAUSED);
}

void orch_cli_version(FILE *fp)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

    fprintf(fp, "ota-rollout %s\n", ORCH_VERSION);
    fprintf(fp, "libcurl %s (%s)\n", cv->version,
            cv->ssl_version ? cv->ssl_version : "no TLS");
    fprintf(fp, "%s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(fp, "libcsv %d.%d.%d\n", CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
    fprintf(fp, "jansson %s\n", jansson_version_str());
}
