/* config.h - the one configuration of a run, filled from argv by cli.c and
 * checked once by orch_config_validate(). The engine only ever sees a
 * const struct orch_config *.
 *
 * Strings are malloced and owned by the config (orch_config_cleanup frees
 * them). Unset optional API values are -1 (integers) or NULL (strings).
 *
 * Each option's field is named by one row of the option table
 * (options.h), which parses it, lists it in --help, and journals and
 * restores it; the defaults are orch_config_init()'s, read by the table.
 */
#ifndef ORCH_CONFIG_H
#define ORCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/model/invfilter.h" /* ORCH_WHERE_MAX */

struct orch_diag;

enum orch_command {
    ORCH_CMD_NONE = 0,
    ORCH_CMD_RUN,
    ORCH_CMD_PLAN,
    ORCH_CMD_RESUME,
    ORCH_CMD_STATUS,
    ORCH_CMD_CANCEL
};

enum orch_target { ORCH_TARGET_SPECIFIC = 0, ORCH_TARGET_ALL, ORCH_TARGET_GRAY };

/* --firmware PK=FW, repeatable */
struct orch_fw_map {
    char *product_key;
    char *firmware_id;
};

#define ORCH_MAX_SRC_VERSIONS 10
#define ORCH_MAX_WHERE ORCH_WHERE_MAX /* invfilter.h */
#define ORCH_MAX_CHUNK 200

struct orch_config {
    enum orch_command command;
    char *inventory_path;       /* positional INVENTORY.csv (NULL for ALL/GRAY) */

    /* What to upgrade */
    char *firmware_id;          /* --firmware-id */
    char *product_key;          /* --product-key */
    struct orch_fw_map *fw_map; /* --firmware PK=FW */
    size_t n_fw_map;
    enum orch_target target;    /* --target */
    char *src_versions[ORCH_MAX_SRC_VERSIONS]; /* --src-version */
    size_t n_src_versions;
    char *gray_percent;         /* --gray-percent, as typed ("33.33") */

    /* API options, -1 = not sent */
    int64_t schedule_time_ms;        /* --schedule-time (epoch ms) */
    int64_t schedule_finish_time_ms; /* --schedule-finish-time */
    int retry_interval;              /* --retry-interval: 0,10,30,60,1440 */
    int retry_count;                 /* --retry-count: 1,2,5 */
    int timeout_minutes;             /* --timeout-minutes: 1..1440 */
    int max_per_minute;              /* --max-per-minute: 10..10000 */
    int overwrite_mode;              /* --overwrite-mode: 1,2 */

    /* Endpoint */
    char *endpoint;        /* --endpoint, default https://iot.<region>.aliyuncs.com */
    char *region;          /* --region / ALIBABA_CLOUD_REGION_ID / cn-shanghai */
    char *iot_instance_id; /* --iot-instance-id */
    char *ca_bundle;       /* --ca-bundle */
    bool insecure;         /* --insecure */
    char *profile;         /* --profile / ALIBABA_CLOUD_PROFILE */

    /* Pre-flight */
    bool skip_preflight;   /* --skip-preflight: run without the checks */
    bool check_devices;    /* --check-devices: BatchQueryDeviceDetail */
    bool preflight;        /* plan --preflight: run the checks too */

    /* Inventory reading */
    char delimiter;        /* --delimiter; 0 = detect from the header line */
    bool skip_invalid;     /* --skip-invalid */

    /* Output */
    char *report_path;     /* --report, default <inventory>.report.csv */
    bool yes;              /* --yes */
    bool progress;         /* progress on a terminal (off: --no-progress) */
    bool verbose;          /* --verbose: plan prints every parameter (not
                              part of a run's identity) */
    bool json;             /* --json */

    /* Pacing and retries */
    double qps;            /* --qps, default 20 */
    bool force_qps;        /* --force-qps */
    int max_in_flight;     /* --max-in-flight, default 64 */
    int max_attempts;      /* --max-attempts, default 6 */
    int chunk_size;        /* --chunk-size 1..200, default 200 */
    int signature_version; /* --signature-version 3|2, default 3 */
    long request_timeout_ms; /* --request-timeout, default 30000 */
    int fatal_streak;      /* same fatal business code on this many first
                              chunks of one firmware stops it; default 3 */

    /* Resume */
    bool resume;           /* --resume */
    bool force;            /* --force: overwrite an existing report */

    /* Added by cli.c (kept at the end so earlier fields do not move) */
    bool help;             /* -h / --help, or the `help` command */
    bool version;          /* --version */

    /* Exactly-once */
    double query_qps;      /* --query-qps: query operations' quota, default 10 */
    bool no_job_tag;       /* --no-job-tag: do not tag jobs with the run id */
    char *run_id;          /* set by run.c (new run or from the journal):
                              jobs get Tag.1.Key=ORCH_JOB_TAG_KEY,
                              Tag.1.Value=<run_id>.<chunk> */

    /* Tests only: base of the retry backoff in ms; 0 = the default (200,
     * dispatch.c), so orch_config_init() need not set it. */
    int backoff_base_ms;

    /* status and cancel */
    bool watch;              /* status --watch */
    long interval_ms;        /* status --interval, default 10000 (0 = unset) */
    const char *devices_path; /* status --devices FILE: borrowed from argv
                                 (not freed by orch_config_cleanup) */
    bool cancel_in_progress; /* cancel --in-progress */

    /* Waves and gates (waves.h) */
    char *waves;               /* --waves SPEC as typed, NULL: no waves */
    double success_threshold;  /* --success-threshold, default 1 (100%) */
    double failure_threshold;  /* --failure-threshold, 0 = none */
    int min_decided;           /* --min-decided, default 10 */
    long wave_timeout_ms;      /* --wave-timeout, default 1 h */
    long wave_interval_ms;     /* --wave-interval, 0 = none (gated waves) */
    long poll_interval_ms;     /* --poll-interval, default 10 s */
    bool wait;                 /* --wait: watch the tasks to their end */

    /* Output for machines */
    int log_format;          /* --log-format: ORCH_LOG_FORMAT_TEXT (default)
                                or ORCH_LOG_FORMAT_JSON (one JSON object
                                per event and message on stderr) */

    /* The plan from the spreadsheet (plan.h, wavecol.h, invfilter.h) */
    char *wave_cut;          /* journal only: ORCH_WAVE_CUT_EXACT (waves
                                cut per product to exact sizes), NULL:
                                rounded to whole chunks (journals written
                                before) */
    char *wave_column;       /* --wave-column NAME: each device's wave */
    char *wave_order;        /* --wave-order A,B,C: the column's values in
                                wave order */
    char *where[ORCH_MAX_WHERE]; /* --where COLUMN=V[,V...], as typed */
    size_t n_where;

    /* Maintenance windows (model/tzwindow.h) */
    char *window;            /* --window HH:MM-HH:MM as typed, NULL: none */
    char *time_zone;         /* --time-zone: IANA name for every row */
    char *time_zone_column;  /* --time-zone-column: each row's zone */
};

#define ORCH_WAVE_CUT_EXACT "exact"

#define ORCH_LOG_FORMAT_TEXT 0
#define ORCH_LOG_FORMAT_JSON 1

/* A tag key may hold only letters, digits and '.' (1-30 characters,
 * alibaba-api.md f): "ota-rollout" would be refused with InvalidParameter. */
#define ORCH_JOB_TAG_KEY "ota.rollout"


/* Sets every default (qps 20, chunk 200, V3, ...). Strings stay NULL. */
void orch_config_init(struct orch_config *cfg);
/* Frees owned strings; NULL-safe. */
void orch_config_cleanup(struct orch_config *cfg);
/* Checks the whole config once, fills derived defaults (region, endpoint,
 * report path) and returns 0 or ORCH_ECONFIG with diag naming the option. */
int orch_config_validate(struct orch_config *cfg, struct orch_diag *diag);
/* The same with the wall clock injected (tests): schedule times are checked
 * against now_ms. orch_config_validate() passes orch_wall_ms(). */
int orch_config_validate_at(struct orch_config *cfg, int64_t now_ms,
                            struct orch_diag *diag);
/* "SPECIFIC", "ALL" or "GRAY": the API's TargetSelection value. */
const char *orch_target_name(enum orch_target t);
/* The checks every command that calls the API shares (run and plan do
 * them in orch_config_validate; status and cancel call this): query pacing,
 * attempts, in-flight cap, signature version, timeout, the region default
 * (ALIBABA_CLOUD_REGION_ID, else cn-shanghai) and endpoint default
 * (https://iot.<region>.aliyuncs.com; endpoint.h), a readable --ca-bundle. 0 or
 * ORCH_ECONFIG (diag names the option) / ORCH_ENOMEM. */
int orch_config_check_api(struct orch_config *cfg, struct orch_diag *diag);
/* True when the run goes in waves: --waves or --wave-column. */
bool orch_config_waved(const struct orch_config *cfg);
/* The firmware for a product: --firmware PK=FW, else --firmware-id.
 * Returns NULL when none applies. */
const char *orch_config_firmware_for(const struct orch_config *cfg,
                                     const char *product_key);

#endif
