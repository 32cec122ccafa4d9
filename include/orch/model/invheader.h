/* invheader.h - what an inventory's first bytes and first row say: the
 * encoding (a UTF-8 BOM to skip, UTF-16 to refuse), the delimiter when
 * none is given, and which columns hold DeviceName and ProductKey.
 *
 * Pure functions over borrowed bytes; struct orch_invheader is
 * caller-owned and of fixed size. Not thread-safe per struct.
 */
#ifndef ORCH_INVHEADER_H
#define ORCH_INVHEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct orch_diag;

/* How much of the header row a message quotes. */
#define ORCH_INVHEADER_SHOWN 160

/* The header row as its cells pass. */
struct orch_invheader {
    long dn_col, pk_col; /* column index of DeviceName / ProductKey; -1:
                            absent */
    char seen[ORCH_INVHEADER_SHOWN]; /* the cells, quoted and printable,
                                        for a message: "a", "b" */
    size_t seen_len;
};

/* True when the input starts with a UTF-16 byte order mark. */
bool orch_invheader_utf16(const char *s, size_t len);

/* Bytes of a UTF-8 byte order mark at the start of s (0 or 3). */
size_t orch_invheader_bom(const char *s, size_t len);

/* The delimiter of the first line of s (outside quotes): ',' unless that
 * line holds more ';' or more tabs. */
char orch_invheader_sniff_delimiter(const char *s, size_t len);

/* Both columns absent, nothing seen. */
void orch_invheader_init(struct orch_invheader *h);

/* Takes the header row's cell at column col (trimmed, len bytes): the
 * first cell named DeviceName (or dn) and the first named ProductKey
 * become those columns; names match without case and without ' ', '_'
 * and '-' ("Device Name", "device_name"). */
void orch_invheader_field(struct orch_invheader *h, size_t col, const char *s,
                          size_t len);

/* A column name as header cells are matched: lower-cased, without ' ',
 * '_' and '-' ("Device Name" -> "devicename"), cut to outsz - 1 bytes. */
void orch_invheader_key(char *out, size_t outsz, const char *s, size_t len);

/* Checks the whole header row of file (starting on line) against the
 * load's --product-key default_pk (NULL: none): ORCH_ECSV when there is
 * no DeviceName column; ORCH_ECONFIG when default_pk breaks the
 * ProductKey rule, or when there is neither a ProductKey column nor a
 * default. Returns 0 or that code with diag telling it. */
int orch_invheader_check(const struct orch_invheader *h, const char *file,
                         uint32_t line, const char *default_pk,
                         struct orch_diag *diag);

#endif
