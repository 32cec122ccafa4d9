/* torture.c - the unit tests' shared helpers (see torture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "torture.h"

#include "orch/base/err.h"
#include "orch/cli/cli.h"
#include "orch/cloud/params.h"
#include "orch/model/config.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int torture_curl_setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int torture_curl_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

char *torture_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL;
    long size = 0;

    if (fp == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_true(size >= 0);
    rewind(fp);
    data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    data[size] = '\0';
    if (len)
        *len = (size_t)size;
    return data;
}

char *torture_tmp_name(const char *name)
{
    char tmpl[256];
    int fd = -1;

    snprintf(tmpl, sizeof(tmpl), "/tmp/%s_XXXXXX", name);
    fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    close(fd);
    unlink(tmpl);
    return strdup(tmpl);
}

void torture_write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");

    if (fp == NULL)
        fail_msg("cannot write %s", path);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

void torture_write_text(const char *path, const char *text)
{
    torture_write_file(path, text, strlen(text));
}

char *torture_mkdtemp(char *dir, size_t size, const char *name)
{
    int n = snprintf(dir, size, "/tmp/%s.XXXXXX", name);

    assert_true(n > 0 && (size_t)n < size);
    if (mkdtemp(dir) == NULL)
        fail_msg("mkdtemp %s failed", dir);
    return dir;
}

void torture_rmtree(const char *dir)
{
    char cmd[512];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);

    assert_true(n > 0 && (size_t)n < sizeof(cmd));
    assert_null(strchr(dir, '\''));
    assert_int_equal(system(cmd), 0);
}

FILE *torture_capture_open(struct torture_capture *c)
{
    memset(c, 0, sizeof(*c));
    c->fp = open_memstream(&c->buf, &c->len);
    assert_non_null(c->fp);
    return c->fp;
}

const char *torture_capture_text(struct torture_capture *c)
{
    assert_int_equal(fflush(c->fp), 0);
    return c->buf;
}

char *torture_capture_close(struct torture_capture *c)
{
    fclose(c->fp);
    c->fp = NULL;
    return c->buf;
}

int torture_parse_cli(struct orch_config *cfg, const char *const *args,
                      struct orch_diag *diag)
{
    char *argv[TORTURE_MAX_ARGS + 2];
    int argc = 0;

    argv[argc++] = (char *)"ota-rollout";
    while (args[argc - 1] && argc <= TORTURE_MAX_ARGS) {
        argv[argc] = (char *)args[argc - 1];
        argc++;
    }
    argv[argc] = NULL;
    orch_config_init(cfg);
    memset(diag, 0, sizeof(*diag));
    return orch_cli_parse(cfg, argc, argv, diag);
}

void torture_config_add_firmware(struct orch_config *cfg, const char *pk,
                                 const char *fw)
{
    cfg->fw_map =
        realloc(cfg->fw_map, (cfg->n_fw_map + 1) * sizeof(*cfg->fw_map));
    assert_non_null(cfg->fw_map);
    cfg->fw_map[cfg->n_fw_map].product_key = strdup(pk);
    cfg->fw_map[cfg->n_fw_map].firmware_id = strdup(fw);
    cfg->n_fw_map++;
}

bool torture_is_common_param(const char *name)
{
    static const char *const common[] = {
        "AccessKeyId",    "Action",           "Format",    "SignatureMethod",
        "SignatureNonce", "SignatureVersion", "Timestamp", "Version",
        "SecurityToken",  "Signature",
    };
    size_t i = 0;

    for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        if (strcmp(name, common[i]) == 0)
            return true;
    return false;
}

void torture_action_params(struct orch_params *p, json_t *vector)
{
    json_t *signed_params = json_object_get(vector, "v2_params_signed");
    const char *k = NULL;
    json_t *v = NULL;

    if (!json_is_object(signed_params))
        fail_msg("signature vector lacks \"v2_params_signed\"");
    json_object_foreach(signed_params, k, v)
    {
        if (!torture_is_common_param(k))
            assert_int_equal(orch_params_add(p, k, json_string_value(v)), 0);
    }
}

json_t *torture_json_path(json_t *doc, const char *path)
{
    char key[128];
    const char *p = path;

    while (*p) {
        size_t n = strcspn(p, "/");

        assert_true(n < sizeof(key));
        memcpy(key, p, n);
        key[n] = '\0';
        doc = json_object_get(doc, key);
        p += n;
        if (*p == '/')
            p++;
    }
    return doc;
}

json_int_t torture_json_int(json_t *doc, const char *path)
{
    return json_integer_value(torture_json_path(doc, path));
}

json_t *torture_json_at(json_t *doc, const char *obj, const char *key)
{
    json_t *o = obj ? json_object_get(doc, obj) : doc;
    json_t *v = json_object_get(o, key);

    if (v == NULL)
        fail_msg("missing %s.%s", obj ? obj : "", key);
    return v;
}

const char *torture_json_str(json_t *doc, const char *obj, const char *key)
{
    json_t *v = torture_json_at(doc, obj, key);

    if (!json_is_string(v))
        fail_msg("%s.%s is not a string", obj ? obj : "", key);
    return json_string_value(v);
}

json_int_t torture_json_num(json_t *doc, const char *obj, const char *key)
{
    json_t *v = torture_json_at(doc, obj, key);

    if (!json_is_integer(v))
        fail_msg("%s.%s is not an integer", obj ? obj : "", key);
    return json_integer_value(v);
}

/* The PEM text that write() puts into a memory BIO, malloced. */
static char *pem_string(BIO *b)
{
    BUF_MEM *m = NULL;
    char *s = NULL;

    BIO_get_mem_ptr(b, &m);
    s = strndup(m->data, m->length);
    assert_non_null(s);
    BIO_free(b);
    return s;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

    assert_non_null(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
}

void torture_make_cert(char **cert_pem, char **key_pem)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *nm = NULL;
    X509V3_CTX ctx;
    BIO *b = NULL;

    assert_non_null(pk);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                               (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    add_ext(x, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    assert_true(X509_sign(x, pk, EVP_sha256()) > 0);

    b = BIO_new(BIO_s_mem());
    assert_true(PEM_write_bio_X509(b, x) == 1);
    *cert_pem = pem_string(b);
    b = BIO_new(BIO_s_mem());
    assert_true(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) ==
                1);
    *key_pem = pem_string(b);
    X509_free(x);
    EVP_PKEY_free(pk);
}
