/* options.c - the option table (options.h): one row per option, the
 * lookups, the table-driven setter, and the journal objects built and read
 * back row by row.
 *
 * DESIGN: a row names its value type (optvalue.h: the parser and the
 * journal codec) and its field by offsetof; everything here walks the
 * rows, so nothing about a single option is written twice. Rows are in
 * --help order; `jorder` gives each journaled key its place in the
 * journal object.
 */
#include "orch/model/options.h"

#include "orch/base/err.h"
#include "orch/model/config.h"
#include "orch/model/optvalue.h"

#include <string.h>

const char orch_option_secret_advice[] =
    "secrets are not accepted on the command line; set "
    "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and "
    "ALIBABA_CLOUD_SECURITY_TOKEN for STS) in the environment, or use "
    "--profile NAME";

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
    {"firmware-id", 0, &orch_optv_string, AT(firmware_id), "FW",
     "firmware to install (FirmwareId)", "What to upgrade", RUN | PLAN, SHAPE,
     4},
    {"product-key", 0, &orch_optv_string, AT(product_key), "PK",
     "ProductKey of the devices (optional when the inventory has a "
     "ProductKey column)",
     NULL, RUN | PLAN, SHAPE, 3},
    {"firmware", 0, &orch_optv_fw_map, AT(fw_map), "PK=FW",
     "firmware for one product of a multi-product inventory (repeatable)", NULL,
     RUN | PLAN, SHAPE, 5},
    {"target", 0, &orch_optv_target, AT(target), "ALL|SPECIFIC|GRAY",
     "SPECIFIC (default): the inventory's devices; ALL or GRAY: one call "
     "for every device of --product-key on a --src-version, no inventory",
     NULL, RUN | PLAN, SHAPE, 1},
    {"src-version", 0, &orch_optv_src_version, AT(src_versions), "VER",
     "version to upgrade from, ALL/GRAY only (repeatable, up to 10)", NULL,
     RUN | PLAN, SHAPE, 8},
    {"gray-percent", 0, &orch_optv_string, AT(gray_percent), "PCT",
     "share of devices for GRAY, e.g. 33.33 (up to 3 decimals)", NULL,
     RUN | PLAN, SHAPE, 9},

    {"schedule-time", 0, &orch_optv_time, AT(schedule_time_ms), "TIME",
     "start the upgrade at TIME, 5 min to 7 days ahead (ISO-8601 with Z or "
     "an offset, or 13-digit epoch ms)",
     "Job options (sent with every call)", RUN | PLAN, SHAPE, 10},
    {"schedule-finish-time", 0, &orch_optv_time, AT(schedule_finish_time_ms),
     "TIME", "end the upgrade at TIME, 1 hour to 30 days after --schedule-time",
     NULL, RUN | PLAN, SHAPE, 11},
    {"window", 0, &orch_optv_string, AT(window), "HH:MM-HH:MM",
     "maintenance window in the devices' local time, at least 1 hour (an "
     "end before the start is the next day): each job starts at the next "
     "window (ScheduleTime, 5 minutes ahead at least) and ends with it "
     "(ScheduleFinishTime); needs --time-zone or --time-zone-column",
     NULL, RUN | PLAN, SHAPE | WHEN_SET, 24},
    {"time-zone", 0, &orch_optv_string, AT(time_zone), "TZ",
     "--window's time zone for every device, an IANA name such as "
     "Europe/Berlin (UTC for UTC)",
     NULL, RUN | PLAN, SHAPE | WHEN_SET, 25},
    {"time-zone-column", 0, &orch_optv_string, AT(time_zone_column), "COL",
     "--window's time zone per device: the inventory column COL holds an "
     "IANA name; chunks never mix zones",
     NULL, RUN | PLAN, SHAPE | WHEN_SET, 26},
    {"retry-interval", 0, &orch_optv_unum, AT(retry_interval), "MIN",
     "device retry interval: 0, 10, 30, 60 or 1440 (needs --retry-count)", NULL,
     RUN | PLAN, SHAPE, 12},
    {"retry-count", 0, &orch_optv_unum, AT(retry_count), "N",
     "device retries: 1, 2 or 5 (needs --retry-interval)", NULL, RUN | PLAN,
     SHAPE, 13},
    {"timeout-minutes", 0, &orch_optv_unum, AT(timeout_minutes), "MIN",
     "upgrade timeout per device, 1..1440", NULL, RUN | PLAN, SHAPE, 14},
    {"max-per-minute", 0, &orch_optv_unum, AT(max_per_minute), "N",
     "firmware pushes per minute, 0..1000", NULL, RUN | PLAN, SHAPE, 15},
    {"overwrite-mode", 0, &orch_optv_unum, AT(overwrite_mode), "1|2",
     "1: keep a device's earlier pending job; 2: overwrite it", NULL,
     RUN | PLAN, SHAPE, 16},
    {"no-job-tag", 0, &orch_optv_flag, AT(no_job_tag), NULL,
     "do not tag each job ota.rollout=<run id>.<chunk>; an unknown outcome "
     "is then confirmed by the devices' tasks only, and an ALL/GRAY one "
     "ends Ambiguous",
     NULL, RUN | PLAN, KEPT, 11},

    {"endpoint", 0, &orch_optv_string, AT(endpoint), "URL",
     "API endpoint (default https://iot.<region>.aliyuncs.com)",
     "Where to send", ALL, KEPT, 1},
    {"region", 0, &orch_optv_string, AT(region), "ID",
     "region (default $ALIBABA_CLOUD_REGION_ID, else cn-shanghai)", NULL, ALL,
     KEPT, 2},
    {"iot-instance-id", 0, &orch_optv_string, AT(iot_instance_id), "ID",
     "IoT instance (Enterprise Edition and new public instances)", NULL, ALL,
     SHAPE, 17},
    {"profile", 0, &orch_optv_string, AT(profile), "NAME",
     "aliyun CLI profile in ~/.aliyun/config.json (modes AK, StsToken)", NULL,
     ALL, KEPT, 13},
    {"ca-bundle", 0, &orch_optv_string, AT(ca_bundle), "FILE",
     "CA certificates to verify the endpoint with", NULL, ALL, KEPT, 12},
    {"insecure", 0, &orch_optv_flag, AT(insecure), NULL,
     "do not verify the endpoint's TLS certificate (testing only!)", NULL, ALL,
     NOW, 0},

    {"skip-preflight", 0, &orch_optv_flag, AT(skip_preflight), NULL,
     "run: do not check the firmware before the first call (for accounts "
     "whose RAM policy denies QueryOTAFirmware)",
     "Pre-flight checks", RUN, NOW, 0},
    {"check-devices", 0, &orch_optv_flag, AT(check_devices), NULL,
     "also check the devices (BatchQueryDeviceDetail, 100 a call, 5 calls/s):"
     " leave out those that do not exist or already run the firmware's "
     "version, listed in <report>.rejects.csv",
     NULL, RUN | PLAN, NOW, 0},
    {"preflight", 0, &orch_optv_flag, AT(preflight), NULL,
     "plan: run the pre-flight checks too (needs credentials) and print "
     "their result",
     NULL, PLAN, NOW, 0},

    {"delimiter", 0, &orch_optv_delimiter, AT(delimiter), "C",
     "inventory delimiter: , ; tab | : (default: detected from the header: "
     ", ; or tab)",
     "Inventory and report", RUN | PLAN, SHAPE, 6},
    {"skip-invalid", 0, &orch_optv_flag, AT(skip_invalid), NULL,
     "skip invalid rows into <report>.rejects.csv instead of stopping", NULL,
     RUN | PLAN, SHAPE, 7},
    {"where", 0, &orch_optv_where, AT(where), "COL=V[,V..]",
     "take only the rows whose column COL holds one of the values "
     "(case-sensitive; repeatable: every --where must hold); the others "
     "are counted, not rejected",
     NULL, RUN | PLAN, SHAPE | WHEN_SET, 23},
    {"report", 0, &orch_optv_string, AT(report_path), "FILE",
     "report CSV (default <inventory>.report.csv next to the inventory)", NULL,
     RUN | PLAN, NOW, 0},
    {"force", 0, &orch_optv_flag, AT(force), NULL,
     "start anew over an existing report: its files are kept as "
     "<name>.<UTC time>",
     NULL, RUN, NOW, 0},
    {"yes", 0, &orch_optv_flag, AT(yes), NULL,
     "do not ask for confirmation (needed without a terminal)", NULL,
     RUN | CANCEL, NOW, 0},
    {"no-progress", 0, &orch_optv_flag_off, AT(progress), NULL,
     "no progress line (terminal or log)", NULL, ALL, NOW, 0},
    {"verbose", 0, &orch_optv_flag, AT(verbose), NULL,
     "plan: print the first request's whole device list (default: "
     "TargetDeviceName.1..N with the first and the last); run: also the "
     "server's own text of a refused pre-flight check, on one line",
     NULL, RUN | PLAN, NOW, 0},
    {"json", 0, &orch_optv_flag, AT(json), NULL,
     "run, plan, status, cancel: one JSON document on stdout with the "
     "summary "
     "(nothing else there); messages stay on stderr",
     NULL, ALL, NOW, 0},
    {"log-format", 0, &orch_optv_log_format, AT(log_format), "text|json",
     "json: one JSON object per event and message on stderr (chunk sent, "
     "answered, retried, created, failed, reconciled), no progress line",
     NULL, ALL, NOW, 0},
    {"resume", 0, &orch_optv_flag, AT(resume), NULL,
     "run: continue the interrupted run of this report (its journal)", NULL,
     RUN, NOW, 0},

    {"qps", 0, &orch_optv_double, AT(qps), "N",
     "calls started per second, at most in any 1 s window (default 20, the "
     "account quota)",
     "Pacing and retries", RUN | PLAN, KEPT, 4},
    {"force-qps", 0, &orch_optv_flag, AT(force_qps), NULL,
     "allow --qps above 20 and --query-qps above 10 (only if your quota is "
     "higher)",
     NULL, ALL, KEPT, 5},
    {"query-qps", 0, &orch_optv_double, AT(query_qps), "N",
     "queries per second, per action (default 10, their quota): "
     "reconciliation of unknown outcomes, status, wave gates, cancel (at "
     "most 5); not the pre-flight (QueryOTAFirmware 20/s, "
     "BatchQueryDeviceDetail 5/s, their own quotas)",
     NULL, ALL, KEPT, 6},
    {"max-in-flight", 0, &orch_optv_unum, AT(max_in_flight), "N",
     "requests in flight at once (default 64)", NULL, ALL, KEPT, 7},
    {"max-attempts", 0, &orch_optv_unum, AT(max_attempts), "N",
     "attempts per chunk for transient errors (default 6)", NULL, ALL, KEPT, 8},
    {"chunk-size", 0, &orch_optv_unum, AT(chunk_size), "N",
     "devices per call, 1..200 (default 200)", NULL, RUN | PLAN, SHAPE, 2},
    {"signature-version", 0, &orch_optv_unum, AT(signature_version), "3|2",
     "3: ACS3-HMAC-SHA256 (default); 2: HMAC-SHA1 with a form body", NULL, ALL,
     KEPT, 3},
    {"request-timeout", 0, &orch_optv_duration, AT(request_timeout_ms), "DUR",
     "timeout per request, e.g. 30s (default 30s)", NULL, ALL, KEPT, 9},
    /* Not an option: the same fatal business code on this many first
     * chunks of one firmware stops it. */
    {"fatal-streak", 0, &orch_optv_unum, AT(fatal_streak), NULL, NULL, NULL,
     RUN, KEPT | ORCH_OPT_NO_ARGV, 10},

    {"watch", 0, &orch_optv_flag, AT(watch), NULL,
     "status: refresh until every task is decided, then exit",
     "Status and cancel", STATUS, NOW, 0},
    {"interval", 0, &orch_optv_duration, AT(interval_ms), "DUR",
     "status --watch: time between refreshes (default 10s)", NULL, STATUS, NOW,
     0},
    {"devices", 0, &orch_optv_argv_string, AT(devices_path), "FILE",
     "status: write one row per device to FILE, and the FAILED devices to "
     "FILE.failed.csv (an inventory `run` accepts)",
     NULL, STATUS, NOW, 0},
    {"in-progress", 0, &orch_optv_flag, AT(cancel_in_progress), NULL,
     "cancel: cancel IN_PROGRESS tasks too (default: only queued, notified "
     "and scheduled ones)",
     NULL, CANCEL, NOW, 0},

    {"waves", 0, &orch_optv_string, AT(waves), "SPEC",
     "run in waves of cumulative size, e.g. 1%,10%,100% or 200,5000,all "
     "(exact device counts, each product's share of each wave; wave 1 is "
     "the canary); each wave starts once the one before passed its "
     "health gate",
     "Waves and gates (run)", RUN | PLAN, SHAPE | WHEN_SET, 18},
    {"wave-column", 0, &orch_optv_string, AT(wave_column), "NAME",
     "run in waves taken from the inventory's column NAME (numbers in "
     "numeric order, other values in order of first appearance); gates as "
     "with --waves; not with --waves",
     NULL, RUN | PLAN, SHAPE | WHEN_SET, 21},
    {"wave-order", 0, &orch_optv_string, AT(wave_order), "A,B,..",
     "--wave-column: the waves in this order of the column's values, e.g. "
     "canary,early,rest (a value not listed stops the run)",
     NULL, RUN | PLAN, SHAPE | WHEN_SET, 22},
    {"success-threshold", 0, &orch_optv_share, AT(success_threshold), "P",
     "share of a wave's tasks SUCCEEDED that lets the next wave start, "
     "e.g. 95% or 0.95 (default 100%)",
     NULL, RUN | PLAN, KEPT, 14},
    {"failure-threshold", 0, &orch_optv_share, AT(failure_threshold), "P",
     "share FAILED among a wave's ended tasks that aborts the rollout "
     "(default: none; a wave that can no longer reach the success "
     "threshold aborts it too)",
     NULL, RUN | PLAN, KEPT, 15},
    {"min-decided", 0, &orch_optv_unum, AT(min_decided), "N",
     "ended tasks needed before --failure-threshold applies (default 10)", NULL,
     RUN | PLAN, KEPT, 16},
    {"wave-timeout", 0, &orch_optv_duration, AT(wave_timeout_ms), "DUR",
     "no decision after DUR (90s, 15m, 2h, 1d; default 1h): pause, exit 6; "
     "continue with --resume",
     NULL, RUN | PLAN, KEPT, 17},
    {"wave-interval", 0, &orch_optv_duration, AT(wave_interval_ms), "DUR",
     "scheduled waves: create every wave now, each scheduled DUR after the "
     "one before (wave 1 at --schedule-time, or now); no gates; waves "
     "beyond the API's 7-day horizon are created later by --resume",
     NULL, RUN | PLAN, SHAPE | WHEN_SET, 19},
    /* Not an option: how the run's --waves were cut (plan.h); absent in
     * journals written when waves were rounded to whole chunks. */
    {"wave-cut", 0, &orch_optv_string, AT(wave_cut), NULL, NULL, NULL,
     RUN | PLAN, SHAPE | WHEN_SET | ORCH_OPT_NO_ARGV, 20},
    {"poll-interval", 0, &orch_optv_duration, AT(poll_interval_ms), "DUR",
     "time between two looks at a wave's tasks (default 10s)", NULL, RUN | PLAN,
     KEPT, 18},
    {"wait", 0, &orch_optv_flag, AT(wait), NULL,
     "watch the tasks until every one has ended (with --waves: the last "
     "wave's gate too); without --waves, exit 1 if some FAILED or were "
     "CANCELED",
     NULL, RUN, KEPT, 19},

    {"help", 'h', &orch_optv_flag, AT(help), NULL, "this text", "Other", ALL,
     NOW, 0},
    {"version", 0, &orch_optv_flag, AT(version), NULL,
     "versions of ota-rollout and its libraries", NULL, ALL, NOW, 0},

    /* Refused on purpose (not listed in --help): a secret on the command
     * line ends up in shell history and in `ps` output. */
    {"access-key", 0, &orch_optv_secret, 0, NULL, NULL, NULL, 0, 0, 0},
    {"access-key-id", 0, &orch_optv_secret, 0, NULL, NULL, NULL, 0, 0, 0},
    {"access-key-secret", 0, &orch_optv_secret, 0, NULL, NULL, NULL, 0, 0, 0},
    {"access-key-id-secret", 0, &orch_optv_secret, 0, NULL, NULL, NULL, 0, 0,
     0},
    {"secret", 0, &orch_optv_secret, 0, NULL, NULL, NULL, 0, 0, 0},
    {"secret-key", 0, &orch_optv_secret, 0, NULL, NULL, NULL, 0, 0, 0},
    {"security-token", 0, &orch_optv_secret, 0, NULL, NULL, NULL, 0, 0, 0},
    {"sts-token", 0, &orch_optv_secret, 0, NULL, NULL, NULL, 0, 0, 0},
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
    return o->kind->arg == ORCH_OPTV_VALUE;
}

bool orch_option_is_secret(const struct orch_option *o)
{
    return o->kind->arg == ORCH_OPTV_SECRET;
}

int orch_option_set(struct orch_config *cfg, const struct orch_option *o,
                    const char *value, struct orch_diag *diag)
{
    if (value && value[0] == '\0' && o->kind->arg != ORCH_OPTV_FLAG)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: empty value", o->name);
    if (o->kind->arg == ORCH_OPTV_VALUE && value == NULL)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s needs a value (%s)",
                             o->name, o->metavar);
    if (o->kind->arg == ORCH_OPTV_SECRET)
        return orch_diag_set(diag, ORCH_EINVAL, "--%s: %s", o->name,
                             orch_option_secret_advice);
    return o->kind->parse(cfg, o->name, o->offset, value, diag);
}

bool orch_option_is_set(const struct orch_config *cfg,
                        const struct orch_option *o)
{
    struct orch_config def;

    if (o->kind->is_set == NULL)
        return false;
    orch_config_init(&def);
    return o->kind->is_set(cfg, &def, o->offset);
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

        if ((o->flags & ORCH_OPT_WHEN_SET) &&
            !o->kind->is_set(cfg, &def, o->offset))
            continue;
        v = o->kind->encode(cfg, o->offset);
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
            rc = o->kind->decode(cfg, o->offset, v);
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
            o->kind->is_set(cmd, &def, o->offset))
            o->kind->move(dst, cmd, o->offset);
        else if (o->flags & ORCH_OPT_INVOCATION)
            o->kind->move(dst, cmd, o->offset);
    }
}
