/* device.h - one device of an inventory: a 16-byte record whose name
 * lives in the inventory's name arena (inventory.h); the duplicate set
 * (devset.h) reads the same records.
 */
#ifndef ORCH_DEVICE_H
#define ORCH_DEVICE_H

#include <stdint.h>

struct orch_device {
    uint64_t name_off; /* offset of the NUL-terminated name in inv->names */
    uint32_t product;  /* index into inv->products */
    uint32_t line;     /* 1-based physical line where the row starts */
};

#endif
