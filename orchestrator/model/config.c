/* config.c - defaults, validation and lookups of struct orch_config.
 *
 * DESIGN: cli.c only turns text into typed values (a number is a number,
 * a time is a time); every rule about which values and combinations are
 * allowed lives here, in orch_config_validate(), so that any future source
 * of settings goes through the same checks. Messages name the option as
 * the user typed it ("--retry-count: 3 is not one of 1, 2, 5"). The rules
 * are those of CreateOTAStaticUpgradeJob.md; where the API metadata in
 * alibaba-api.md differs (MaximumPerMinute 10..10000) the spec page wins.
 */
#include "orch/model/config.h"

#include "orch/base/err.h"
#include "orch/base/clock.h"
#include "orch/base/str.h"
#include "orch/model/endpoint.h"
#include "orch/model/tzdb.h"
#include "orch/model/tzwindow.h"
#include "orch/model/wavespec.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MINUTE_MS INT64_C(60000)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

void orch_config_init(struct orch_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->target = ORCH_TARGET_SPECIFIC;
    cfg->schedule_time_ms = -1;
    cfg->schedule_finish_time_ms = -1;
    cfg->retry_interval = -1;
    cfg->retry_count = -1;
    cfg->timeout_minutes = -1;
    cfg->max_per_minute = -1;
    cfg->overwrite_mode = -1;
    cfg->progress = true;
    cfg->qps = 20.0;
    cfg->max_in_flight = 64;
    cfg->max_attempts = 6;
    cfg->chunk_size = ORCH_MAX_CHUNK;
    cfg->signature_version = 3;
    cfg->request_timeout_ms = 30000;
    cfg->fatal_streak = 3;
    cfg->query_qps = 10.0;
    cfg->success_threshold = 1.0;
    cfg->min_decided = 10;
    cfg->wave_timeout_ms = 3600L * 1000;
    cfg->poll_interval_ms = 10000;
}

void orch_config_cleanup(struct orch_config *cfg)
{
    size_t i = 0;

    if (cfg == NULL)
        return;
    free(cfg->inventory_path);
    free(cfg->firmware_id);
    free(cfg->product_key);
    for (i = 0; i < cfg->n_fw_map; i++) {
        free(cfg->fw_map[i].product_key);
        free(cfg->fw_map[i].firmware_id);
    }
    free(cfg->fw_map);
    for (i = 0; i < cfg->n_src_versions; i++)
        free(cfg->src_versions[i]);
    free(cfg->gray_percent);
    free(cfg->window);
    free(cfg->time_zone);
    free(cfg->time_zone_column);
    free(cfg->endpoint);
    free(cfg->region);
    free(cfg->iot_instance_id);
    free(cfg->ca_bundle);
    free(cfg->profile);
    free(cfg->report_path);
    free(cfg->run_id);
    free(cfg->waves);
    free(cfg->wave_cut);
    free(cfg->wave_column);
    free(cfg->wave_order);
    for (i = 0; i < cfg->n_where; i++)
        free(cfg->where[i]);
    memset(cfg, 0, sizeof(*cfg));
}

bool orch_config_waved(const struct orch_config *cfg)
{
    return cfg->waves != NULL || cfg->wave_column != NULL;
}

const char *orch_config_firmware_for(const struct orch_config *cfg,
                                     const char *product_key)
{
    size_t i = 0;

    for (i = 0; i < cfg->n_fw_map && product_key; i++) {
        if (strcmp(cfg->fw_map[i].product_key, product_key) == 0)
            return cfg->fw_map[i].firmware_id;
    }
    return cfg->firmware_id;
}

const char *orch_target_name(enum orch_target t)
{
    switch (t) {
    case ORCH_TARGET_ALL:
        return "ALL";
    case ORCH_TARGET_GRAY:
        return "GRAY";
    case ORCH_TARGET_SPECIFIC:
    default:
        return "SPECIFIC";
    }
}

/* One wording for a number outside its option's range:
 * "--qps: must be at least 1 (got 0)". `unit` follows each number ("" or
 * " s"). Returns ORCH_ECONFIG when v is outside [lo, hi], else 0. */
static int check_range(const char *opt, double v, double lo, double hi,
                       const char *unit, struct orch_diag *diag)
{
    if (!(v >= lo))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: must be at least %.15g%s (got %.15g%s)", opt,
                             lo, unit, v, unit);
    if (v > hi)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: must be at most %.15g%s (got %.15g%s)", opt,
                             hi, unit, v, unit);
    return 0;
}

/* "2026-12-01T03:00:00Z" for messages. */
static void format_time(char out[32], int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "%" PRId64, ms);
}

static int one_of(int v, const int *set, size_t n)
{
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (set[i] == v)
            return 1;
    }
    return 0;
}

/* An identifier as the API takes it (ProductKey, FirmwareId, SrcVersion,
 * IotInstanceId): 1..max printable ASCII characters without spaces. */
static int check_token(const char *opt, const char *what, const char *s,
                       size_t max, struct orch_diag *diag)
{
    size_t n = strlen(s);
    size_t i = 0;

    if (n == 0)
        return orch_diag_set(diag, ORCH_ECONFIG, "%s: the %s is empty", opt,
                             what);
    if (n > max)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: the %s is longer than %zu characters", opt,
                             what, max);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= ' ' || c >= 0x7f)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "%s: the %s \"%s\" contains a space or a "
                                 "character that is not printable ASCII",
                                 opt, what, s);
    }
    return 0;
}

/* GrayPercent: "33.33" - a percentage with at most three decimals, more
 * than 0 and at most 100. Kept as typed because the API takes a string. */
static int check_gray_percent(const char *s, struct orch_diag *diag)
{
    const char *p = s;
    size_t ip = 0, fp = 0;
    double v = 0;

    while (isdigit((unsigned char)*p)) {
        p++;
        ip++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            fp++;
        }
        if (fp == 0)
            ip = 0; /* "5." is not a number we send */
    }
    if (ip == 0 || *p != '\0')
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--gray-percent: \"%s\" is not a percentage "
                             "such as 33.33",
                             s);
    if (fp > 3)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--gray-percent: %s has more than 3 decimals", s);
    v = strtod(s, NULL);
    if (!(v > 0.0) || v > 100.0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--gray-percent: %s is not more than 0 and at "
                             "most 100",
                             s);
    return 0;
}

static int check_schedule(const struct orch_config *cfg, int64_t now_ms,
                          struct orch_diag *diag)
{
    char t[32], lim[32];
    int64_t start = cfg->schedule_time_ms;
    int64_t fin = cfg->schedule_finish_time_ms;

    if (start >= 0) {
        format_time(t, start);
        if (start < now_ms)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--schedule-time: %s is in the past (it "
                                 "must be 5 minutes to 7 days from now)",
                                 t);
        if (start < now_ms + 5 * MINUTE_MS) {
            format_time(lim, now_ms + 5 * MINUTE_MS);
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--schedule-time: %s is less than 5 minutes "
                                 "from now (the earliest is %s)",
                                 t, lim);
        }
        if (start > now_ms + 7 * DAY_MS) {
            format_time(lim, now_ms + 7 * DAY_MS);
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--schedule-time: %s is more than 7 days "
                                 "from now (the latest is %s)",
                                 t, lim);
        }
    }
    if (fin >= 0) {
        /* The spec measures ScheduleFinishTime from ScheduleTime; what the
         * service does with a finish time alone is not documented, so we
         * do not send one. */
        if (start < 0)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--schedule-finish-time: needs "
                                 "--schedule-time (the finish is 1 hour to "
                                 "30 days after the start)");
        format_time(t, fin);
        if (fin < start + HOUR_MS)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--schedule-finish-time: %s is less than 1 "
                                 "hour after --schedule-time",
                                 t);
        if (fin > start + 30 * DAY_MS)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--schedule-finish-time: %s is more than 30 "
                                 "days after --schedule-time",
                                 t);
    }
    return 0;
}

/* --waves and the gate options (waves.h). Scheduled waves (--wave-interval)
 * are created up front, so gates (which watch tasks that have started)
 * do not apply to them; --schedule-time without an interval is wave 1's
 * ScheduleTime (gated waves). */
static int check_waves(const struct orch_config *cfg, struct orch_diag *diag)
{
    struct orch_config def;
    struct orch_wave_spec spec;
    bool gate_opts = false;
    int rc = 0;

    orch_config_init(&def);
    gate_opts = cfg->success_threshold != def.success_threshold ||
                cfg->failure_threshold != def.failure_threshold ||
                cfg->min_decided != def.min_decided ||
                cfg->wave_timeout_ms != def.wave_timeout_ms;
    if (cfg->waves && cfg->wave_column)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--waves and --wave-column: one or the other "
                             "(waves by size, or from the inventory)");
    if (cfg->wave_order && cfg->wave_column == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--wave-order: only with --wave-column");
    if (!orch_config_waved(cfg)) {
        if (cfg->wave_interval_ms > 0)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--wave-interval: only with --waves");
        if (gate_opts)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--success-threshold, --failure-threshold, "
                                 "--min-decided and --wave-timeout: only "
                                 "with --waves");
        return 0;
    }
    if (cfg->target != ORCH_TARGET_SPECIFIC)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: only with an inventory (--target "
                             "SPECIFIC); for %s use --gray-percent",
                             cfg->waves ? "--waves" : "--wave-column",
                             orch_target_name(cfg->target));
    if (cfg->waves)
        rc = orch_waves_parse(cfg->waves, &spec, diag);
    if (rc)
        return rc;
    if (cfg->failure_threshold < 0 || cfg->failure_threshold > 1 ||
        !(cfg->success_threshold > 0) || cfg->success_threshold > 1)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--success-threshold / --failure-threshold: "
                             "not a share more than 0%% and at most 100%%");
    if (cfg->min_decided < 1)
        return check_range("--min-decided", cfg->min_decided, 1, INT_MAX, "",
                           diag);
    if (cfg->wave_timeout_ms < 1000)
        return check_range("--wave-timeout", cfg->wave_timeout_ms / 1000.0, 1,
                           1e15, " s", diag);
    /* --schedule-time without --wave-interval schedules wave 1 of gated
     * waves (waverun.h); its gate's timeout counts from then. */
    if (cfg->wave_interval_ms > 0) {
        if (cfg->wave_interval_ms < 10 * MINUTE_MS)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--wave-interval: less than 10 minutes "
                                 "(a scheduled job must start at least 5 "
                                 "minutes after it is created)");
        if (gate_opts)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--wave-interval: scheduled waves are "
                                 "created up front, without health gates; "
                                 "drop --success-threshold, "
                                 "--failure-threshold, --min-decided and "
                                 "--wave-timeout, or drop --wave-interval "
                                 "for gated waves");
        if (cfg->wait)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--wait: not with --wave-interval (the "
                                 "last wave may start days later; use "
                                 "`ota-rollout status REPORT --watch`)");
    }
    return 0;
}

/* --where: each parses, and only with an inventory. */
static int check_where(const struct orch_config *cfg, struct orch_diag *diag)
{
    struct orch_where w;
    size_t i = 0;
    int rc = 0;

    if (cfg->n_where > 0 && cfg->target != ORCH_TARGET_SPECIFIC)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--where: only with an inventory (--target "
                             "SPECIFIC)");
    for (i = 0; i < cfg->n_where && rc == 0; i++) {
        rc = orch_where_parse(cfg->where[i], &w, diag);
        orch_where_cleanup(&w);
    }
    return rc;
}

/* --window and its zone (tzwindow.h). The zone names are looked up when
 * the inventory is read (an unknown one is the inventory's error). A
 * window without a zone is refused rather than taken as UTC: the window
 * means the devices' night, and a fleet in UTC is rare enough to say so
 * (--time-zone UTC). */
static int check_window(const struct orch_config *cfg, struct orch_diag *diag)
{
    struct orch_window w;

    if (cfg->window == NULL) {
        if (cfg->time_zone || cfg->time_zone_column)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--%s: only with --window",
                                 cfg->time_zone ? "time-zone"
                                                : "time-zone-column");
        return 0;
    }
    if (orch_window_parse(cfg->window, &w, diag) != 0)
        return ORCH_ECONFIG;
    if (cfg->time_zone && cfg->time_zone_column)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--time-zone and --time-zone-column: one or "
                             "the other (every device's zone, or each "
                             "row's)");
    if (cfg->time_zone == NULL && cfg->time_zone_column == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--window: needs the devices' time zone: "
                             "--time-zone TZ (e.g. Europe/Berlin; UTC for "
                             "UTC) or --time-zone-column COLUMN");
    if (cfg->time_zone && !orch_tz_name_ok(cfg->time_zone))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--time-zone: \"%s\" is not a time zone name "
                             "such as Europe/Berlin",
                             cfg->time_zone);
    if (cfg->schedule_time_ms >= 0 || cfg->schedule_finish_time_ms >= 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--window: not with --schedule-time or "
                             "--schedule-finish-time (the window sets "
                             "both, per device)");
    if (cfg->target != ORCH_TARGET_SPECIFIC)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--window: only with an inventory (--target "
                             "SPECIFIC); for %s use --schedule-time",
                             orch_target_name(cfg->target));
    return 0;
}

static int check_api_values(const struct orch_config *cfg,
                            struct orch_diag *diag)
{
    static const int intervals[] = {0, 10, 30, 60, 1440};
    static const int counts[] = {1, 2, 5};

    if (cfg->retry_interval >= 0 && !one_of(cfg->retry_interval, intervals, 5))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--retry-interval: %d is not one of 0, 10, 30, "
                             "60, 1440",
                             cfg->retry_interval);
    if (cfg->retry_count >= 0 && !one_of(cfg->retry_count, counts, 3))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--retry-count: %d is not one of 1, 2, 5",
                             cfg->retry_count);
    if (cfg->retry_interval >= 0 && cfg->retry_count < 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--retry-interval: needs --retry-count too");
    if (cfg->retry_count >= 0 && cfg->retry_interval < 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--retry-count: needs --retry-interval too");
    if (cfg->timeout_minutes >= 0 &&
        check_range("--timeout-minutes", cfg->timeout_minutes, 1, 1440, "",
                    diag))
        return ORCH_ECONFIG;
    if (cfg->max_per_minute >= 0 &&
        check_range("--max-per-minute", cfg->max_per_minute, 0, 1000, "",
                    diag))
        return ORCH_ECONFIG;
    if (cfg->overwrite_mode >= 0 && cfg->overwrite_mode != 1 &&
        cfg->overwrite_mode != 2)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--overwrite-mode: %d is not one of 1 (keep "
                             "the earlier job), 2 (overwrite it)",
                             cfg->overwrite_mode);
    return 0;
}

static int check_target(const struct orch_config *cfg, struct orch_diag *diag)
{
    const char *t = orch_target_name(cfg->target);
    size_t i = 0, j = 0;
    int rc = 0;

    for (i = 0; i < cfg->n_src_versions; i++) {
        rc = check_token("--src-version", "version", cfg->src_versions[i], 64,
                         diag);
        if (rc)
            return rc;
        for (j = 0; j < i; j++) {
            if (strcmp(cfg->src_versions[i], cfg->src_versions[j]) == 0)
                return orch_diag_set(diag, ORCH_ECONFIG,
                                     "--src-version: %s is given twice",
                                     cfg->src_versions[i]);
        }
    }
    if (cfg->target == ORCH_TARGET_SPECIFIC) {
        if (cfg->inventory_path == NULL)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "no INVENTORY.csv given (needed for "
                                 "--target SPECIFIC, the default)");
        if (cfg->n_src_versions > 0)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--src-version: only with --target ALL or "
                                 "GRAY (SPECIFIC takes the devices from the "
                                 "inventory)");
        if (cfg->gray_percent)
            return orch_diag_set(diag, ORCH_ECONFIG,
                                 "--gray-percent: only with --target GRAY");
        return 0;
    }
    if (cfg->inventory_path)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--target %s takes no inventory (got \"%s\"); "
                             "use --target SPECIFIC to upgrade the devices "
                             "it lists",
                             t, cfg->inventory_path);
    if (cfg->n_src_versions == 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--target %s needs --src-version (the versions "
                             "to upgrade from, up to %d)",
                             t, ORCH_MAX_SRC_VERSIONS);
    if (cfg->product_key == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--target %s needs --product-key", t);
    if (cfg->target == ORCH_TARGET_GRAY && cfg->gray_percent == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--target GRAY needs --gray-percent");
    if (cfg->target == ORCH_TARGET_ALL && cfg->gray_percent)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--gray-percent: only with --target GRAY");
    if (cfg->skip_invalid || cfg->delimiter)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: only with an inventory (--target "
                             "SPECIFIC)",
                             cfg->skip_invalid ? "--skip-invalid"
                                               : "--delimiter");
    return 0;
}

static int check_firmware(struct orch_config *cfg, struct orch_diag *diag)
{
    const char *fw = NULL;
    size_t i = 0, j = 0;
    int rc = 0;

    if (cfg->firmware_id == NULL && cfg->n_fw_map == 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--firmware-id (or --firmware PK=FW per "
                             "product) is required");
    if (cfg->firmware_id) {
        rc = check_token("--firmware-id", "firmware id", cfg->firmware_id, 128,
                         diag);
        if (rc)
            return rc;
    }
    if (cfg->product_key) {
        rc = check_token("--product-key", "ProductKey", cfg->product_key, 64,
                         diag);
        if (rc)
            return rc;
    }
    for (i = 0; i < cfg->n_fw_map; i++) {
        rc = check_token("--firmware", "ProductKey", cfg->fw_map[i].product_key,
                         64, diag);
        if (rc == 0)
            rc = check_token("--firmware", "firmware id",
                             cfg->fw_map[i].firmware_id, 128, diag);
        if (rc)
            return rc;
        for (j = 0; j < i; j++) {
            if (strcmp(cfg->fw_map[i].product_key,
                       cfg->fw_map[j].product_key) == 0 &&
                strcmp(cfg->fw_map[i].firmware_id,
                       cfg->fw_map[j].firmware_id) != 0)
                return orch_diag_set(diag, ORCH_ECONFIG,
                                     "--firmware: product %s is given two "
                                     "firmware ids (%s and %s)",
                                     cfg->fw_map[i].product_key,
                                     cfg->fw_map[j].firmware_id,
                                     cfg->fw_map[i].firmware_id);
        }
    }
    if (cfg->target == ORCH_TARGET_SPECIFIC)
        return 0;
    /* ALL/GRAY: one call for --product-key; make its firmware explicit so
     * that the request builder can read cfg->firmware_id. */
    fw = orch_config_firmware_for(cfg, cfg->product_key);
    if (fw == NULL)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "no firmware for product %s: pass "
                             "--firmware-id or --firmware %s=FW",
                             cfg->product_key, cfg->product_key);
    if (fw != cfg->firmware_id)
        return orch_str_set(&cfg->firmware_id, fw);
    return 0;
}

/* A calls-per-second option: from 1 to max, and not above `quota`, the
 * limit of `whose` calls, unless --force-qps says the account's quota
 * really is higher. */
static int check_rate(const struct orch_config *cfg, const char *opt,
                      double v, double max, double quota, const char *whose,
                      struct orch_diag *diag)
{
    if (check_range(opt, v, 1, max, "", diag))
        return ORCH_ECONFIG;
    if (v > quota && !cfg->force_qps)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: %g is above %s quota of %g calls per "
                             "second; pass --force-qps if your quota really "
                             "is higher",
                             opt, v, whose, quota);
    return 0;
}

/* The run's own pacing: the Create rate and chunking. */
static int check_pacing(const struct orch_config *cfg, struct orch_diag *diag)
{
    /* Far above any real quota: --force-qps with a lifted emulator quota is
     * how the engine's own overhead is benchmarked. */
    if (check_rate(cfg, "--qps", cfg->qps, 1000000, 20, "the account's",
                   diag))
        return ORCH_ECONFIG;
    if (check_range("--chunk-size", cfg->chunk_size, 1, ORCH_MAX_CHUNK, "",
                    diag))
        return ORCH_ECONFIG;
    if (cfg->fatal_streak < 1)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "fatal streak %d is less than 1",
                             cfg->fatal_streak);
    return 0;
}

/* What every command that calls the API shares: query pacing, attempts,
 * in-flight cap, signature version, timeout. */
static int check_transport(const struct orch_config *cfg,
                           struct orch_diag *diag)
{
    if (check_rate(cfg, "--query-qps", cfg->query_qps, 1000, 10,
                   "the query operations'", diag))
        return ORCH_ECONFIG;
    if (check_range("--max-in-flight", cfg->max_in_flight, 1, 1000, "",
                    diag) ||
        check_range("--max-attempts", cfg->max_attempts, 1, 100, "", diag))
        return ORCH_ECONFIG;
    if (cfg->signature_version != 2 && cfg->signature_version != 3)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--signature-version: %d is not one of 3 "
                             "(ACS3-HMAC-SHA256), 2 (HMAC-SHA1)",
                             cfg->signature_version);
    if (check_range("--request-timeout", cfg->request_timeout_ms / 1000.0, 1,
                    600, " s", diag))
        return ORCH_ECONFIG;
    return 0;
}

/* `run --report DIR/NAME`: DIR must be a folder that exists, checked
 * before anything is read or sent (the report is the only record of the
 * jobs created; finding out after the calls would be too late). */
static int check_report_folder(const struct orch_config *cfg,
                               struct orch_diag *diag)
{
    const char *path = cfg->report_path;
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    struct stat st;
    size_t n = 0;

    if (slash == NULL)
        return 0; /* the working directory */
    n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof(dir))
        return orch_diag_set(diag, ORCH_ECONFIG, "--report: name too long");
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (stat(dir, &st) != 0)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--report: the folder %s does not exist; "
                             "create it or name another report file",
                             dir);
    if (!S_ISDIR(st.st_mode))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--report: %s is not a folder", dir);
    return 0;
}

/* Default report: next to the inventory, "<name>.report.csv" with a .csv
 * suffix (any case) replaced; for ALL/GRAY, in the working directory. */
static int default_report(struct orch_config *cfg)
{
    const char *in = cfg->inventory_path;
    size_t n = 0;
    char *out = NULL;

    if (cfg->report_path)
        return 0;
    if (in == NULL) {
        char name[160];

        snprintf(name, sizeof(name), "ota-rollout-%s-%s.report.csv",
                 cfg->product_key ? cfg->product_key : "job",
                 cfg->target == ORCH_TARGET_GRAY ? "gray" : "all");
        return orch_str_set(&cfg->report_path, name);
    }
    n = strlen(in);
    if (n > 4 && strcasecmp(in + n - 4, ".csv") == 0)
        n -= 4;
    out = malloc(n + sizeof(".report.csv"));
    if (out == NULL)
        return ORCH_ENOMEM;
    memcpy(out, in, n);
    memcpy(out + n, ".report.csv", sizeof(".report.csv"));
    cfg->report_path = out;
    return 0;
}

int orch_config_validate_at(struct orch_config *cfg, int64_t now_ms,
                            struct orch_diag *diag)
{
    int rc = 0;

    if (cfg->command != ORCH_CMD_RUN && cfg->command != ORCH_CMD_PLAN)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "no command given (expected run, plan, resume, "
                             "status or cancel)");
    if (cfg->resume && cfg->command != ORCH_CMD_RUN)
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "--resume: only with run (or use `ota-rollout "
                             "resume REPORT`)");
    rc = check_target(cfg, diag);
    if (rc == 0)
        rc = check_firmware(cfg, diag);
    if (rc == 0 && cfg->gray_percent)
        rc = check_gray_percent(cfg->gray_percent, diag);
    if (rc == 0)
        rc = check_api_values(cfg, diag);
    /* A resumed waved run checks each wave's ScheduleTime when it creates
     * the wave (the first one may long have passed). */
    if (rc == 0 && !(cfg->resume && orch_config_waved(cfg)))
        rc = check_schedule(cfg, now_ms, diag);
    if (rc == 0)
        rc = check_waves(cfg, diag);
    if (rc == 0)
        rc = check_where(cfg, diag);
    if (rc == 0)
        rc = check_window(cfg, diag);
    if (rc == 0)
        rc = check_range("--poll-interval", cfg->poll_interval_ms / 1000.0, 1,
                         3600, " s", diag);
    if (rc == 0 && cfg->wait && cfg->command != ORCH_CMD_RUN)
        rc = orch_diag_set(diag, ORCH_ECONFIG, "--wait: only with run");
    if (rc == 0 && cfg->iot_instance_id)
        rc = check_token("--iot-instance-id", "instance id",
                         cfg->iot_instance_id, 128, diag);
    if (rc == 0)
        rc = check_pacing(cfg, diag);
    if (rc == 0)
        rc = orch_config_check_api(cfg, diag);
    if (rc == 0 && cfg->report_path && cfg->report_path[0] == '\0')
        rc = orch_diag_set(diag, ORCH_ECONFIG, "--report: empty file name");
    if (rc == 0 && cfg->report_path && cfg->command == ORCH_CMD_RUN)
        rc = check_report_folder(cfg, diag);
    if (rc == 0)
        rc = default_report(cfg);
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    return rc;
}

int orch_config_check_api(struct orch_config *cfg, struct orch_diag *diag)
{
    int rc = check_transport(cfg, diag);

    if (rc == 0)
        rc = orch_endpoint_resolve(&cfg->region, &cfg->endpoint, diag);
    if (rc == 0 && cfg->ca_bundle && access(cfg->ca_bundle, R_OK) != 0)
        rc = orch_diag_set(diag, ORCH_ECONFIG, "--ca-bundle: cannot read %s",
                           cfg->ca_bundle);
    return rc;
}

int orch_config_validate(struct orch_config *cfg, struct orch_diag *diag)
{
    return orch_config_validate_at(cfg, orch_wall_ms(), diag);
}
