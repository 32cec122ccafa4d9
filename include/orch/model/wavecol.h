/* wavecol.h - waves from an inventory column (--wave-column): the order
 * of the column's values.
 *
 * Without --wave-order, values that are numbers ("1", "2.5", "10") come
 * first, in numeric order, then the other values in order of first
 * appearance. With --wave-order A,B,C the waves follow that list; a value
 * of the list that no row has makes no wave. Each distinct value present
 * is one wave. Pure.
 */
#ifndef ORCH_WAVECOL_H
#define ORCH_WAVECOL_H

#include <stddef.h>
#include <stdint.h>

struct orch_diag;
struct orch_inventory_key;

/* wave[v] gets the 0-based wave of value v of key (key->nvalues
 * entries), dense over the values present. order is --wave-order (NULL:
 * none); file names the inventory in messages. Returns 0, ORCH_ECSV with
 * diag "FILE:LINE: ..." when a value is not in order (the line of its
 * first row), ORCH_ECONFIG with diag for more than ORCH_WAVES_MAX values,
 * or ORCH_ENOMEM. */
int orch_wavecol_rank(const struct orch_inventory_key *key, const char *order,
                      const char *file, uint32_t *wave,
                      struct orch_diag *diag);

#endif
