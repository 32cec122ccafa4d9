/* torture.h - what the unit tests share (after libssh's torture library):
 * whole files in and out, a scratch directory, a FILE* captured into a
 * string, a command line parsed into a config, the signer's common
 * parameters, an inventory and its plan, a throwaway TLS certificate and
 * an emulator world.
 *
 * Built once as the static library `torture`, linked into every unit test
 * and every end-to-end test. Every function fails the running test (cmocka
 * fail) when its setup step fails, unless it says otherwise; none is
 * thread-safe. */
#ifndef TORTURE_H
#define TORTURE_H

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct orch_config;
struct orch_diag;
struct orch_params;
struct emu_world;
struct orch_inventory;
struct orch_inventory_opts;
struct orch_plan;

/* ---- main() ---- */

/* Defines a test file's main(): runs the CMUnitTest entries given after
 * group_setup and group_teardown (NULL for none) as cmocka's group
 * "tests", and returns the number of failed tests. */
#define TORTURE_MAIN(group_setup, group_teardown, ...)                         \
    int main(void)                                                             \
    {                                                                          \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                       \
                                                                               \
        return cmocka_run_group_tests(tests, group_setup, group_teardown);     \
    }

/* Group setup and teardown for the tests that run a dispatcher: it never
 * initialises libcurl, its program does, once. */
int torture_curl_setup(void **state);
int torture_curl_teardown(void **state);

/* ---- Files ---- */

/* The whole file at path as a NUL-terminated string, malloced (free it);
 * its length (without the NUL) in *len when len is not NULL. Fails the
 * test when the file cannot be read. */
char *torture_read_file(const char *path, size_t *len);
/* A fresh path "/tmp/<name>_XXXXXX" that does not exist (reserved with
 * mkstemp, then removed), malloced (free it). */
char *torture_tmp_name(const char *name);
/* Writes len bytes of data to path, replacing it (created 0666 & ~umask).
 * torture_write_text() writes the string text. */
void torture_write_file(const char *path, const char *data, size_t len);
void torture_write_text(const char *path, const char *text);

/* ---- A scratch directory ---- */

/* Makes a new directory "/tmp/<name>.XXXXXX" and writes its path into dir
 * (size bytes, at least strlen(name) + 13). Returns dir. */
char *torture_mkdtemp(char *dir, size_t size, const char *name);
/* Removes dir and everything in it ("rm -rf"); asserts that it worked. */
void torture_rmtree(const char *dir);

/* ---- A FILE* captured into a string ---- */

/* An open_memstream(): write to fp, then read the text. Caller-owned;
 * torture_capture_open() fills it, torture_capture_text() flushes and
 * returns the text so far (owned by c, valid until the next write or
 * close), torture_capture_close() closes the stream and returns the text
 * (c->buf, malloced: the caller frees it once). */
struct torture_capture {
    FILE *fp;
    char *buf;
    size_t len;
};
FILE *torture_capture_open(struct torture_capture *c);
const char *torture_capture_text(struct torture_capture *c);
char *torture_capture_close(struct torture_capture *c);

/* ---- A command line ---- */

/* Parses {"ota-rollout", args..., NULL} (args NULL-terminated, at most
 * TORTURE_MAX_ARGS) into cfg, which it initialises first (the caller
 * cleans it up, whatever the result); clears *diag. Returns
 * orch_cli_parse()'s rc. */
#define TORTURE_MAX_ARGS 48
int torture_parse_cli(struct orch_config *cfg, const char *const *args,
                      struct orch_diag *diag);

/* Appends the pair (pk, fw) to cfg's --firmware map (copies of both
 * strings, freed by orch_config_cleanup()). */
void torture_config_add_firmware(struct orch_config *cfg, const char *pk,
                                 const char *fw);

/* ---- Request parameters ---- */

/* True when name is one of the V2 common parameters (AccessKeyId, Action,
 * Format, SignatureMethod, SignatureNonce, SignatureVersion, Timestamp,
 * Version, SecurityToken, Signature): whatever else a signature vector
 * signs is an action parameter. */
bool torture_is_common_param(const char *name);
/* Appends the action parameters of a signature vector (the members of its
 * "v2_params_signed" object that are not common ones) to p, in the file's
 * order. */
void torture_action_params(struct orch_params *p, json_t *vector);

/* ---- JSON documents ---- */

/* The value at the '/'-separated path of object keys in doc ("tasks/
 * FAILED": doc.tasks.FAILED), borrowed from doc; NULL where the path is
 * missing. */
json_t *torture_json_path(json_t *doc, const char *path);
/* The integer at the '/'-separated path of object keys in doc ("tasks/
 * FAILED": doc.tasks.FAILED), or 0 where the path or the integer is
 * missing, as json_integer_value() gives. */
json_int_t torture_json_int(json_t *doc, const char *path);
/* doc's member key, or (obj not NULL) the member key of doc's member obj;
 * borrowed from doc. Fails the test ("missing obj.key") where it is
 * missing. */
json_t *torture_json_at(json_t *doc, const char *obj, const char *key);
/* The string, the integer of torture_json_at(doc, obj, key); fails the
 * test unless it is one. The string is borrowed from doc. */
const char *torture_json_str(json_t *doc, const char *obj, const char *key);
json_int_t torture_json_num(json_t *doc, const char *obj, const char *key);

/* ---- An inventory and its plan ---- */

/* Initialises inv and loads the inventory text csv (named "t.csv") into
 * it with opts (NULL: all off); the test fails unless that returns 0. */
void torture_load_inventory(struct orch_inventory *inv, const char *csv,
                            const struct orch_inventory_opts *opts);
/* torture_load_inventory(inv, csv, opts), then orch_plan_build(plan, inv,
 * cfg), which must return 0. The plan borrows inv and cfg. */
void torture_plan(struct orch_plan *plan, struct orch_inventory *inv,
                  const struct orch_config *cfg, const char *csv,
                  const struct orch_inventory_opts *opts);
/* Cleans up plan, inv and cfg, in that order. */
void torture_plan_cleanup(struct orch_plan *plan, struct orch_inventory *inv,
                          struct orch_config *cfg);

/* ---- A TLS certificate ---- */

/* A throwaway self-signed P-256 certificate for 127.0.0.1 (CN and IP
 * subjectAltName, a CA, valid from an hour ago for two hours) and its
 * private key, as PEM strings, malloced (free both). */
void torture_make_cert(char **cert_pem, char **key_pem);

/* ---- An emulator world ---- */

/* A new emulator world (emu_world_free() it) with this seed, simulation
 * speed, success ratio and IotInstanceId (may be NULL). Unless
 * auto_create, it holds the fixture tests/fixtures/emu-world.json. */
struct emu_world *torture_emu_world(bool auto_create, double speed,
                                    double ratio, uint64_t seed,
                                    const char *instance_id);

#endif
