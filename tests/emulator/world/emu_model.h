/* emu_model.h - the entities of ota-emulator's world (products, devices,
 * firmware, jobs and their tasks), the world itself, and the calls that
 * find, create and name them. Shared by the world layer (emu_world.c,
 * emu_fixture.c, emu_sim.c) and the operations (ops/).
 *
 * Not part of the server's contract (that is emu_world.h and
 * emu_call.h). Every function
 * here expects the world's mutex to be held by the caller.
 *
 * Storage (emu_store.h): products, firmware and jobs are individually
 * malloced; devices and the task arrays of jobs come from the world's
 * slab. Nothing moves or disappears before emu_world_free(); pointers
 * between entities are therefore stable. Devices are found by
 * "ProductKey/DeviceName" and jobs and firmware by id through hash maps,
 * so no operation scans the whole world except the stats and dump calls.
 * The tasks of one job live in one array allocated with the job.
 */
#ifndef EMU_MODEL_H
#define EMU_MODEL_H

#include "world/emu_hash.h"
#include "world/emu_store.h"
#include "world/emu_call.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_ID_LEN 26          /* JobId, TaskId, IotId: 26 alphanumerics */
#define EMU_MAX_NAME 32        /* DeviceName: 4..32 characters */
#define EMU_MAX_PK 64          /* ProductKey: no documented format; cap it */
#define EMU_KEY_MAX (EMU_MAX_PK + 1 + EMU_MAX_NAME + 1)

enum emu_task_status {
    EMU_TASK_QUEUED = 0,
    EMU_TASK_NOTIFIED,
    EMU_TASK_IN_PROGRESS,
    EMU_TASK_SUCCEEDED,
    EMU_TASK_FAILED,
    EMU_TASK_CANCELED,
    EMU_TASK_NSTATUS
};

enum emu_job_status {
    EMU_JOB_PLANNED = 0,
    EMU_JOB_IN_PROGRESS,
    EMU_JOB_COMPLETED,
    EMU_JOB_CANCELED
};

enum emu_selection { EMU_SEL_ALL = 0, EMU_SEL_SPECIFIC, EMU_SEL_GRAY };

struct emu_product;
struct emu_job;

struct emu_device;

struct emu_task {
    struct emu_job *job;
    struct emu_device *dev;
    struct emu_task *dev_prev; /* the device's previous task (any job) */
    const char *src_version;   /* interned: the device's version at creation */
    const char *desc;          /* static text for TaskDesc, or NULL */
    int64_t modified_ms;       /* last state change */
    uint32_t index;            /* position in job->tasks (for TaskId) */
    uint8_t status;            /* enum emu_task_status, as last materialized */
    uint8_t progress;          /* 0..100 */
    uint8_t live;              /* 1: still follows the simulated timeline */
    uint8_t will_fail;         /* the timeline ends FAILED */
    uint8_t jitter;            /* extra QUEUED steps, 0..2 */
};

struct emu_device {
    struct emu_product *prod;
    const char *name;        /* points into key, after "pk/" */
    const char *version;     /* interned */
    struct emu_task *active; /* the unfinished task, or NULL */
    struct emu_task *last;   /* newest task of any state (chain head) */
    uint32_t unfinished;     /* tasks QUEUED/NOTIFIED/IN_PROGRESS */
    uint32_t attempts;       /* tasks ever created (varies the draws) */
    uint64_t hash;           /* emu_hash(key) */
    uint8_t fail;            /* fixture override: every task fails */
    uint8_t in_doubles;      /* already listed in w->doubles */
    char key[];              /* "ProductKey/DeviceName" */
};

struct emu_product {
    char *key;
    struct emu_device **devs; /* in creation order */
    size_t ndevs, capdevs;
};

struct emu_firmware {
    char *id;
    struct emu_product *prod; /* NULL: auto-created and not yet bound */
    const char *dest_version; /* interned */
    const char *src_version;  /* interned, NULL for a full package */
    int status;               /* -1, 0, 1, 2, 3 as in QueryOTAFirmware */
    int type;                 /* 0 full, 1 diff */
    char *name;
    int64_t created_ms;
    struct emu_job **jobs; /* in creation order */
    size_t njobs, capjobs;
};

struct emu_tag {
    char *key;
    char *value;
};

struct emu_job {
    char id[EMU_ID_LEN + 1];
    uint64_t seq;
    struct emu_product *prod;
    struct emu_firmware *fw;
    enum emu_selection selection;
    const char **src_versions; /* interned strings */
    size_t nsrc;
    struct emu_tag *tags;
    size_t ntags;
    char gray[16];           /* GrayPercent as given, "" if none */
    int64_t created_ms;
    int64_t start_ms;        /* ScheduleTime, or created_ms */
    int64_t schedule_ms;     /* 0: none */
    int64_t finish_ms;       /* ScheduleFinishTime, 0: none */
    int64_t done_ms;         /* upper bound of when every task has ended */
    int64_t modified_ms;
    int retry_interval;      /* -1: not given */
    int retry_count;         /* -1: not given */
    int timeout_min;         /* -1: not given */
    int max_per_minute;
    int overwrite_mode;
    int cancel_requested;    /* CancelOTATaskByJob canceled something */
    int done_dirty;          /* a task was ended early: recompute done_ms */
    size_t nlive;            /* tasks still following the timeline */
    int64_t end_ms;          /* when the last task ended (once nlive == 0) */
    struct emu_task *tasks;
    size_t ntasks;
};

struct emu_world {
    pthread_mutex_t lock;
    struct emu_slab slab;
    struct emu_world_opts opts;
    char *instance_id;
    struct emu_map products;  /* key -> emu_product */
    struct emu_map devices;   /* "pk/name" -> emu_device */
    struct emu_map firmware;  /* id -> emu_firmware */
    struct emu_map jobs_by_id;/* id -> emu_job */
    struct emu_map versions;  /* interned version strings */
    struct emu_job **jobs;    /* every job, creation order */
    size_t njobs, capjobs;
    struct emu_device **doubles; /* devices that once had 2 unfinished */
    size_t ndoubles, capdoubles;
    uint64_t job_seq;
    uint64_t tasks_total;
};

/* ---- emu_world.c ---- */
/* Interned copy of s (NULL on ENOMEM); lives until emu_world_free(). */
const char *emu_intern(struct emu_world *w, const char *s);

/* Lookups; with create set (auto_create worlds), a missing entity is made.
 * Return NULL when absent (or ENOMEM while creating). */
struct emu_product *emu_product_find(struct emu_world *w, const char *pk,
                                     int create);
struct emu_device *emu_device_find(struct emu_world *w,
                                   struct emu_product *p, const char *name,
                                   int create);
struct emu_firmware *emu_firmware_find(struct emu_world *w, const char *id,
                                       int create);
struct emu_job *emu_job_find(struct emu_world *w, const char *id);
/* The two halves of emu_device_find, so that Create can hash every name
 * and prefetch the map slots before it looks any up: the lookups are
 * independent cache misses in a large table. emu_device_key() writes
 * "pk/name" into key and returns its hash, or 0 if too long. */
uint64_t emu_device_key(const struct emu_product *p, const char *name,
                        char key[EMU_KEY_MAX]);
/* The same from the ProductKey string (Create computes every key once,
 * in its duplicate check, before it looks the product up). */
uint64_t emu_device_key_pk(const char *pk, const char *name,
                           char key[EMU_KEY_MAX]);
struct emu_device *emu_device_find_key(struct emu_world *w,
                                       struct emu_product *p,
                                       const char *key, const char *name,
                                       uint64_t h, int create);
/* Creates device `name` of product p on `version` (a new device; the
 * caller checked it is not there). hash: emu_hash of "pk/name", or 0 to
 * compute it. Returns the device (in the slab) or NULL on ENOMEM. */
struct emu_device *emu_device_new(struct emu_world *w, struct emu_product *p,
                                  const char *name, const char *version,
                                  uint64_t hash);
/* Creates firmware `id` (not there yet) with status 1 (verified) and
 * nothing else set. Returns it or NULL on ENOMEM. */
struct emu_firmware *emu_firmware_new(struct emu_world *w, const char *id);
/* Registers a fully built job (ids, indexes). 0 or ORCH_ENOMEM. */
int emu_job_register(struct emu_world *w, struct emu_job *job);
/* Frees a job's own memory (its tasks are in the slab); NULL-safe. For a
 * job not registered: emu_world_free() frees the registered ones. */
void emu_job_free(struct emu_job *job);
/* Notes that dev now has one more unfinished task. 0 or ORCH_ENOMEM. */
int emu_device_add_unfinished(struct emu_world *w, struct emu_device *dev);

/* 26 alphanumerics + NUL derived from (a, b); deterministic. */
void emu_make_id(char out[EMU_ID_LEN + 1], uint64_t a, uint64_t b);
void emu_task_id(const struct emu_task *t, char out[EMU_ID_LEN + 1]);
void emu_iot_id(const struct emu_device *d, char out[EMU_ID_LEN + 1]);
/* "2019-11-04T06:22:19.566Z" */
void emu_utc(int64_t ms, char out[32]);
json_t *emu_utc_json(int64_t ms);

/* 4..32 of [A-Za-z0-9-_@.:] */
int emu_valid_device_name(const char *s);
/* [A-Za-z0-9]+ up to max characters */
int emu_valid_alnum(const char *s, size_t max);

/* The API's names: "QUEUED".."CANCELED", "PLANNED".."CANCELED",
 * "ALL"/"SPECIFIC"/"GRAY"; "UNKNOWN" out of range. Static strings. */
const char *emu_task_status_name(int st);
const char *emu_job_status_name(int st);
const char *emu_selection_name(enum emu_selection s);

#endif
