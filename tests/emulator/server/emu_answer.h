/* emu_answer.h - answering an HTTP request through libmicrohttpd: a
 * buffer, a JSON body, a slow (trickled) JSON body, a connection reset;
 * and the request ids the emulator stamps on its answers.
 *
 * Called from MHD's connection threads; thread-safe.
 */
#ifndef EMU_ANSWER_H
#define EMU_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#define EMU_JSON_CT "application/json;charset=utf-8"

/* Queues an answer of `status` with a copy of data[0..len) as its body,
 * Content-Type ctype and, when request_id is set, x-acs-request-id.
 * Returns MHD's verdict (MHD_NO closes the connection). */
enum MHD_Result emu_send_buf(struct MHD_Connection *con, int status,
                             const char *ctype, const char *data, size_t len,
                             const char *request_id);
/* The same with body (borrowed) as compact JSON; body NULL (ENOMEM) or
 * unprintable: 500 "out of memory". */
enum MHD_Result emu_send_json(struct MHD_Connection *con, int status,
                              json_t *body, const char *request_id);
/* The same, a few bytes at a time spread over slow_ms (the connection's
 * thread sleeps between them). */
enum MHD_Result emu_send_slow(struct MHD_Connection *con, int status,
                              json_t *body, const char *request_id,
                              unsigned slow_ms);
/* Makes the connection's close a reset (RST, not FIN): SO_LINGER 0. */
void emu_set_rst(struct MHD_Connection *con);

/* The RequestId of request number seq of a server seeded with seed: a
 * version-4-shaped UUID, upper case, the same for the same (seed, seq). */
void emu_make_request_id(uint64_t seed, uint64_t seq, char out[37]);

/* Sleeps ms milliseconds (resuming after signals). */
void emu_sleep_ms(unsigned ms);

#endif
