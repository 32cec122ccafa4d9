/* emu_catalog.h - the lookups of firmware and devices.
 *
 * Each runs one call with the world's lock held, and returns 0 with r
 * filled (the answer, or the business error) or ORCH_ENOMEM. Every one
 * checks IotInstanceId against the world's instance.
 *   QueryOTAFirmware        FirmwareId -> FirmwareInfo (and the same
 *                           object as Data)
 *   BatchQueryDeviceDetail  ProductKey, DeviceName.N (1..100) -> the
 *                           devices that exist (the others are omitted)
 *   QueryDeviceDetail       ProductKey, DeviceName -> Data (IotId alone
 *                           is refused: lookups are by name only)
 */
#ifndef EMU_CATALOG_H
#define EMU_CATALOG_H

#include "world/emu_model.h"

int emu_op_query_firmware(struct emu_world *w, const struct emu_call *c,
                          struct emu_result *r);
int emu_op_batch_query_device(struct emu_world *w, const struct emu_call *c,
                              struct emu_result *r);
int emu_op_query_device(struct emu_world *w, const struct emu_call *c,
                        struct emu_result *r);

#endif
