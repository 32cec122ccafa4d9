/* emu_call.h - one API call as the server hands it to the world
 * (emu_world_call in ops/emu_ops.h), the world's options, and the
 * result: the types at the boundary between the HTTP side and the API
 * semantics.
 */
#ifndef EMU_CALL_H
#define EMU_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct orch_params;

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

/* Frees what r owns (body, devices) and clears those pointers;
 * NULL-safe. */
void emu_result_cleanup(struct emu_result *r);

#endif
