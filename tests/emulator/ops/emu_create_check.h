/* emu_create_check.h - CreateOTAStaticUpgradeJob's request: read in one
 * pass (no per-name lookups in a 200-name list) and checked in a fixed
 * order, before the operation touches the world, so that a rejected
 * request changes nothing.
 *
 * Create's checks, in order, and their codes (HTTP 200, Success:false).
 * The spec page names only MissingFirmwareId; the others are the iot.*
 * codes alibaba-api.md lists for sibling operations, chosen as noted:
 *   FirmwareId missing                      MissingFirmwareId
 *   ProductKey missing                      iot.prod.NullProductKey
 *   TargetSelection missing                 iot.check.NullParameter
 *   IotInstanceId missing/wrong when the world has an instance id, or
 *     given when it has none                iot.ota.InstanceIdMisMatch
 *   ProductKey not alphanumeric             iot.prod.InvalidFormattedProductkey
 *   TargetSelection not ALL/SPECIFIC/GRAY (GROUP is not emulated),
 *     DnListFileUrl (not emulated), a number that is not a number,
 *     ScheduleTime/ScheduleFinishTime not 13 digits or out of range,
 *     RetryInterval/RetryCount/OverwriteMode outside their sets,
 *     GrayPercent malformed or out of (0,100], index gaps in a .N list,
 *     TargetDeviceName with ALL/GRAY, GrayPercent without GRAY
 *                                           iot.common.InvalidFormattedParameter
 *   RetryInterval without RetryCount, or RetryCount without RetryInterval
 *     (the spec only says the first; we refuse both halves of a pair),
 *     SPECIFIC without TargetDeviceName, GRAY without GrayPercent
 *                                           iot.check.NullParameter
 *   TimeoutInMinutes not 1..1440            iot.ota.InvalidTimeout
 *   MaximumPerMinute not 0..1000 (the spec page; the newer metadata in
 *     alibaba-api.md says 10..10000, default 10000)
 *                                           iot.ota.InvalidMaximumPerMinute
 *   more than 200 TargetDeviceName          iot.device.TooManyDeviceNamesPerRequest
 *   a name breaking the naming rule, or a duplicate name
 *                                           iot.device.InvalidFormattedDeviceNameInNameArray
 *   SrcVersion: more than 10, duplicates, bad characters, given with
 *     SPECIFIC, or not the diff package's SrcVersion
 *                                           iot.ota.InvalidSrcVersionList
 *   SrcVersion missing with ALL/GRAY        iot.ota.EmptySrcVersionList
 *   unknown product                         iot.prod.NotExistedProduct
 *   unknown firmware                        iot.ota.FirmwareNotFound
 *   firmware of another product             iot.ota.FirmwareAndProductKeyMismatch
 *   firmware status not 1 or -1             iot.ota.FirmwareNotVerified
 *   a device not in the product             iot.device.NotExistedDevice
 *   GRAY selecting no device                iot.ota.NoDeviceToUpgrade (ours)
 * ScheduleFinishTime without ScheduleTime is measured from now (1 h..30 d).
 */
#ifndef EMU_CREATE_CHECK_H
#define EMU_CREATE_CHECK_H

#include "world/emu_model.h"

#include <stddef.h>
#include <stdint.h>

#define EMU_CREATE_MAX_TARGETS 200 /* TargetDeviceName.N */
#define EMU_CREATE_MAX_SRC 10      /* SrcVersion.N */
#define EMU_CREATE_MAX_TAGS 10     /* Tag.N.Key / Tag.N.Value */

/* The request's parameters as sent; every string is borrowed from the
 * call's parameters. Big (about 20 KB): allocate it. */
struct emu_create_req {
    const char *firmware_id;
    const char *product_key;
    const char *selection;
    const char *schedule;
    const char *finish;
    const char *retry_interval;
    const char *retry_count;
    const char *timeout;
    const char *max_per_min;
    const char *gray;
    const char *overwrite;
    const char *dn_list_url;
    const char *group_id;
    size_t nnames;        /* TargetDeviceName.* seen */
    size_t nsrc;          /* SrcVersion.* seen */
    size_t ntagparams;    /* Tag.* seen */
    const char *names[EMU_CREATE_MAX_TARGETS];
    const char *src[EMU_CREATE_MAX_SRC];
    const char *tagkey[EMU_CREATE_MAX_TAGS];
    const char *tagval[EMU_CREATE_MAX_TAGS];
    uint64_t hashes[EMU_CREATE_MAX_TARGETS]; /* of keys, from the checks */
    char keys[EMU_CREATE_MAX_TARGETS][EMU_KEY_MAX]; /* "ProductKey/DeviceName" */
    int bad_index;        /* a .N with a gap, a repeat or a bad N */
    const char *bad_name; /* its parameter name */
};

/* The checked values. */
struct emu_create_checked {
    enum emu_selection sel;
    int64_t schedule;       /* epoch ms, 0: none */
    int64_t finish;         /* epoch ms, 0: none */
    int64_t retry_interval; /* -1: not given */
    int64_t retry_count;    /* -1: not given */
    int64_t timeout;        /* -1: not given */
    int64_t max_per_min;
    int64_t overwrite;
    int64_t gray_milli;     /* GrayPercent in thousandths, 0: none */
    size_t ntags;
};

/* Reads the call's parameters into q (one pass). Lists longer than their
 * cap are only counted (the count is the error). */
void emu_create_scan(const struct emu_call *c, struct emu_create_req *q);

/* The checks above that need no world state (those before "unknown
 * product"), into k; fills q->hashes and q->keys for the device names.
 * Returns 0, or 1 with r filled and *rc set (0 or ORCH_ENOMEM). Takes
 * the world only for its instance id. */
int emu_create_check(struct emu_world *w, const struct emu_call *c,
                     struct emu_result *r, int *rc, struct emu_create_req *q,
                     struct emu_create_checked *k);

#endif
