/* emu_fixture.h - the JSON fixture that fills a world with products,
 * devices and firmware before it serves:
 *
 * { "instance_id": "iot-...",                       (optional)
 *   "products": [ { "product_key": "a1...", "devices": [
 *        { "name": "dev-0001", "version": "1.0.0", "fail": true }, ... ] } ],
 *   "firmware": [ { "id": "FW...", "product_key": "a1...", "dest_version": "2.0.0",
 *        "src_version": null, "status": 1, "type": 0, "name": "fw-2.0.0" } ] }
 *
 * status: -1 no verification needed, 0 unverified, 1 verified, 2 verifying,
 * 3 verification failed (default 1). type: 0 full, 1 diff (default: 1 when
 * src_version is given). "version" defaults to "1.0.0". "fail": true forces
 * every task of that device to FAILED. An instance id given in the world's
 * options wins over the fixture's.
 */
#ifndef EMU_FIXTURE_H
#define EMU_FIXTURE_H

struct orch_diag;
struct emu_world;

/* Loads the fixture at path into w (thread-safe: takes the world's lock).
 * Returns 0, or ORCH_EIO (unreadable) / ORCH_EINVAL (malformed: diag
 * names the file and the entry) / ORCH_ENOMEM with diag. On error the
 * entities loaded before the bad one stay in the world. */
int emu_world_load_fixture(struct emu_world *w, const char *path,
                           struct orch_diag *diag);

#endif
