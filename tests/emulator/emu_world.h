/* emu_world.h - ota-emulator's model of the IoT Platform: products, devices,
 * firmware, upgrade jobs and their tasks, and the OTA operations on them.
 *
 * This is the boundary between the HTTP side (emu_server.c: parsing,
 * signature verification, quotas, faults, request log) and the API
 * semantics (emu_world.c / emu_ops.c / emu_sim.c). The server has already
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
struct orch_diag;
struct emu_world;

struct emu_world_opts {
    bool auto_create;        /* any product, device and verified firmware exists */
    uint64_t seed;           /* simulation randomness (success draws) */
    double sim_speed;        /* task state steps per second (default 2.0);
                                0 = tasks never leave QUEUED */
    double success_ratio;    /* share of tasks that end SUCCEEDED (default 1.0) */
    const char *instance_id; /* IotInstanceId the fixture's instance has, or NULL */
};

/* One API call, already authenticated. */
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

/* Returns a new world or NULL (ENOMEM). Free with emu_world_free(). */
struct emu_world *emu_world_new(const struct emu_world_opts *opts);
void emu_world_free(struct emu_world *w);

/* Loads a JSON fixture:
 * { "instance_id": "iot-...",                       (optional)
 *   "products": [ { "product_key": "a1...", "devices": [
 *        { "name": "dev-0001", "version": "1.0.0", "fail": true }, ... ] } ],
 *   "firmware": [ { "id": "FW...", "product_key": "a1...", "dest_version": "2.0.0",
 *        "src_version": null, "status": 1, "type": 0, "name": "fw-2.0.0" } ] }
 * status: -1 no verification needed, 0 unverified, 1 verified, 2 verifying,
 * 3 verification failed. "fail": true forces that device's task to FAILED.
 * Returns 0 or ORCH_EIO / ORCH_EINVAL with diag. */
int emu_world_load_fixture(struct emu_world *w, const char *path,
                           struct orch_diag *diag);

/* Executes one call: CreateOTAStaticUpgradeJob, QueryOTAJob,
 * ListOTAJobByFirmware, ListOTATaskByJob, ListOTAJobByDevice,
 * CancelOTATaskByJob, QueryOTAFirmware, BatchQueryDeviceDetail,
 * QueryDeviceDetail. Unknown action: 404 InvalidAction.NotFound.
 * Returns 0 (r filled; the caller cleans it with emu_result_cleanup) or
 * ORCH_ENOMEM. */
int emu_world_call(struct emu_world *w, const struct emu_call *c,
                   struct emu_result *r);
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
