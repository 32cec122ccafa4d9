/* emu_world.h - ota-emulator's model of the IoT Platform: products, devices,
 * firmware, upgrade jobs and their tasks.
 *
 * This is the boundary between the HTTP side (server/: parsing, quotas,
 * faults, request log; gateway/: signature verification) and the API
 * semantics: the world's state and rules (world/: emu_world.c, emu_sim.c,
 * emu_fixture.c) and the operations on it (ops/, entered through
 * emu_world_call() in ops/emu_ops.h). The server has already
 * authenticated the caller when it calls emu_world_call().
 *
 * Thread-safety: every emu_world_* function locks the world's mutex; the
 * server calls them from many connection threads.
 * Time: every call takes now_ms (the emulator's clock), so tests drive time.
 */
#ifndef EMU_WORLD_H
#define EMU_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct orch_params;
struct emu_world;

struct emu_world_opts {
    bool auto_create;        /* any product, device and verified firmware exists */
    uint64_t seed;           /* simulation randomness (success draws) */
    double sim_speed;        /* task state steps per second (default 2.0);
                                0 = tasks never leave QUEUED */
    double success_ratio;    /* share of tasks that end SUCCEEDED (default 1.0) */
    const char *instance_id; /* IotInstanceId the fixture's instance has, or NULL */
};

/* One API call, already authenticated (see emu_world_call). Everything
 * is borrowed for the duration of the call. */
struct emu_call {
    const char *action;                /* e.g. "CreateOTAStaticUpgradeJob" */
    const struct orch_params *params;  /* every decoded parameter (common ones
                                          included; the world ignores those) */
    const char *access_key_id;
    const char *request_id;            /* to echo as RequestId */
    int64_t now_ms;                    /* emulator wall clock */
    bool skip_devices;                 /* Create: leave r->devices NULL
                                          (200 JSON strings nobody reads
                                          when there is no request log) */
};

struct emu_result {
    int http_status;   /* 200, or 400/404 for gateway-shaped errors
                          (e.g. InvalidAction.NotFound, missing parameter) */
    json_t *body;      /* the whole response object, RequestId included;
                          owned by the caller (json_decref) */
    char code[128];    /* "" on success, else the error Code (for the log) */
    char job_id[64];   /* Create: the new JobId, else "" */
    json_t *devices;   /* Create: array of the device names put in the job
                          (owned by the caller; NULL for other actions and
                          with skip_devices) */
};

/* Returns a new, empty world or NULL (ENOMEM). opts NULL: the defaults
 * above; an out-of-range sim_speed or success_ratio takes its default.
 * The instance id is copied. Free with emu_world_free(). */
struct emu_world *emu_world_new(const struct emu_world_opts *opts);
/* Frees the world and every entity in it; NULL-safe. */
void emu_world_free(struct emu_world *w);

/* Frees what r owns (body, devices); NULL-safe. */
void emu_result_cleanup(struct emu_result *r);

/* Counts for the stats endpoint: {"jobs":N,"devices_assigned":N,
 * "tasks":{"QUEUED":..,...},"double_assigned":[ "PK/dev", ...]}
 * where double_assigned lists every device that is in two unfinished
 * (QUEUED/NOTIFIED/IN_PROGRESS, non-FAILED) tasks at once. New reference. */
json_t *emu_world_stats(struct emu_world *w, int64_t now_ms);

/* Every job as JSON (for tests): [{"JobId":..,"ProductKey":..,"FirmwareId":..,
 * "UtcCreate":..,"ScheduleTime":ms|null,"Devices":[..],"Tasks":{dev:status}}].
 * New reference. */
json_t *emu_world_dump_jobs(struct emu_world *w, int64_t now_ms);

#endif
