/* journal.h - the run's append-only journal (after Redis's AOF): what was
 * intended, attempted and decided, so a run that died can be resumed
 * without ever putting a device into two jobs.
 *
 * File format: one record per line,
 *     "J1 <len> <crc32c-hex8> <payload>\n"
 * where payload is `len` bytes of compact JSON (one object, no newline) and
 * the CRC-32C covers the payload. A torn last record (no newline, short
 * payload, bad checksum on the LAST line) is tolerated and cut off when the
 * journal is reopened for appending; damage anywhere else is refused with
 * ORCH_EJOURNAL naming the line.
 *
 * Records (field "t" is the type):
 *   {"t":"run","v":1,"time":MS,"inventory":"<path>","inventory_sha256":HEX,
 *    "shape":{...chunk-shaping options...},"nchunks":N}
 *   {"t":"intent","c":CHUNK,"time":MS}            before the first send
 *   {"t":"attempt","c":CHUNK,"n":K,"time":MS}     before every send
 *   {"t":"done","c":CHUNK,"status":"created|failed|not_sent","job_id":..,
 *    "utc_create":..,"request_id":..,"attempts":K,"code":..,"message":..,
 *    "recovered":BOOL}
 *   {"t":"end","time":MS,"exit":CODE}             the run finished
 * Later features add record types; readers ignore unknown types.
 *
 * Durability: orch_journal_append() only buffers; orch_journal_sync()
 * writes and fsyncs. The dispatcher syncs once per loop iteration, after
 * appending the intents/attempts of the requests it is about to start and
 * before starting them (group commit), so a request is never on the wire
 * without its record on disk. File mode 0600. Not thread-safe.
 */
#ifndef ORCH_JOURNAL_H
#define ORCH_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct orch_diag;

struct orch_journal {
    int fd;
    char *path;
    char *buf;          /* pending, not yet written */
    size_t len, cap;
    uint64_t records;   /* appended by this process */
};

/* Called for each valid record in order; `line` is 1-based. Return nonzero
 * to stop (that value is returned by the reader). rec is borrowed. */
typedef int (*orch_journal_record_fn)(void *ud, const json_t *rec,
                                      size_t line);

/* Decodes a journal image in memory. Sets *valid_len to the length of the
 * intact prefix (a torn last record is excluded). Returns 0, the callback's
 * nonzero value, or ORCH_EJOURNAL (damage before the last record) with
 * diag "FILE:LINE: ...". Pure; used by the fuzzer. */
int orch_journal_decode(const char *data, size_t len, const char *name,
                        orch_journal_record_fn fn, void *ud,
                        size_t *valid_len, struct orch_diag *diag);

/* Reads and decodes the file at path (ORCH_ENOTFOUND if it does not
 * exist). */
int orch_journal_read(const char *path, orch_journal_record_fn fn, void *ud,
                      size_t *valid_len, struct orch_diag *diag);

/* Opens path for appending, creating it (0600) or truncating it to
 * `valid_len` bytes when a torn record was found (pass the value from
 * orch_journal_read; (size_t)-1 = keep the file as it is). Returns 0 or
 * ORCH_EIO. */
int orch_journal_open(struct orch_journal *j, const char *path,
                      size_t valid_len, struct orch_diag *diag);
/* One record framed as a line of the journal ("J1 <len> <crc> <json>\n"),
 * malloced into *out (*outlen bytes, NUL-terminated): the framing other
 * checksummed files reuse. 0, ORCH_ENOMEM or ORCH_EINVAL (not an
 * object). Pure. */
int orch_journal_frame(const json_t *rec, char **out, size_t *outlen);
/* Buffers one record (serialised compactly). 0, ORCH_ENOMEM or EINVAL. */
int orch_journal_append(struct orch_journal *j, const json_t *rec);
/* Writes what is buffered and fsyncs. 0 or ORCH_EIO. */
int orch_journal_sync(struct orch_journal *j);
/* Syncs and closes; NULL-safe. Returns the sync result. */
int orch_journal_close(struct orch_journal *j);

/* CRC-32C (Castagnoli) of data; exposed for tests. */
uint32_t orch_crc32c(const void *data, size_t len);

/* SHA-256 of a file as 64 hex chars + NUL. 0 or ORCH_EIO. */
int orch_file_sha256(const char *path, char out[65], struct orch_diag *diag);

#endif
