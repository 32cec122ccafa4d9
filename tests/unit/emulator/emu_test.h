/* emu_test.h - what the emulator's unit tests (test_emu_ops, test_emu_sim)
 * share: the injected clock's start and units, and the verified firmware
 * and its product of the fixture world (fixtures/emu-world.json). */
#ifndef EMU_TEST_H
#define EMU_TEST_H

#define NOW 1700000000000LL
#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define FW "FwVerified00000000000001"
#define PK "a1Prod00001"

#endif
