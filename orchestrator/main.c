/* main.c - ota-rollout's entry point: parse, validate, run. */
#include "orch/commands/cancel.h"
#include "orch/cli/cli.h"
#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/jsonout.h"
#include "orch/base/msgs.h"
#include "orch/rollout/resume.h"
#include "orch/engine/query.h"
#include "orch/commands/run.h"
#include "orch/commands/status.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Loopback endpoints (the emulator) may use plain HTTP without a warning;
 * anything else would carry signed requests and job data in the clear. */
static int is_loopback_http(const char *url)
{
    static const char *const ok[] = {"http://127.",
                                     "http://localhost:", "http://localhost/",
                                     "http://[::1]"};
    size_t i = 0;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strncmp(url, ok[i], strlen(ok[i])) == 0)
            return 1;
    }
    return strcmp(url, "http://localhost") == 0;
}

static void warn_transport(const struct orch_config *cfg)
{
    if (cfg->insecure)
        orch_warnf("--insecure: the endpoint's TLS certificate is NOT "
                   "verified; anyone on the network path can impersonate "
                   "the API and read every request. Use it only against a "
                   "test server.");
    if (strncmp(cfg->endpoint, "http://", 7) == 0 &&
        !is_loopback_http(cfg->endpoint))
        orch_warnf("--endpoint %s is plain HTTP: requests travel "
                   "unencrypted",
                   cfg->endpoint);
}

/* An error before `status` or `cancel` could start: it is printed, and
 * with --json (or --log-format json) its document still comes, with the
 * exit code and the message as its reason. */
static int status_or_cancel_failed(const struct orch_config *cfg, int code,
                                   const char *reason)
{
    if (cfg->command == ORCH_CMD_STATUS)
        return orch_status_emit_error(cfg, code, reason);
    return orch_cancel_emit_error(cfg, code, reason);
}

/* `status` and `cancel`: their own checks (query.h), then the command. */
static int status_or_cancel(struct orch_config *cfg)
{
    struct orch_diag diag = {{0}};
    int code = ORCH_EXIT_OK;
    int rc = 0;

    rc = orch_query_config_validate(cfg, &diag);
    if (rc != 0)
        return status_or_cancel_failed(cfg, ORCH_EXIT_USAGE,
                                       orch_diag_text(rc, &diag));
    /* JSON lines on stderr leave no room for a progress line. */
    if (orch_msgs_json())
        cfg->progress = false;
    warn_transport(cfg);
    if (cfg->command == ORCH_CMD_STATUS)
        code = orch_status_main(cfg);
    else
        code = orch_cancel_main(cfg);
    return code;
}

/* An error before `run` or `plan` could start: its line (the diag's text,
 * or rc's), and with --json the document still comes (schema, command and
 * exit only), that line as its reason. Returns ORCH_EXIT_USAGE. */
static int run_failed(const struct orch_config *cfg, int rc,
                      const struct orch_diag *diag)
{
    const char *reason = orch_diag_text(rc, diag);
    json_t *doc = NULL;

    orch_error_diag(rc, diag);
    if (!cfg->json)
        return ORCH_EXIT_USAGE;
    /* `resume` is a run (its document says "resumed"). */
    doc = orch_jsonout_doc(cfg->command == ORCH_CMD_PLAN ? "plan" : "run",
                           ORCH_EXIT_USAGE, reason);
    if (doc == NULL || orch_jsonout_print(stdout, doc) != 0)
        orch_errorf("writing the JSON document failed");
    json_decref(doc);
    return ORCH_EXIT_USAGE;
}

/* `run`, `plan` and `resume`: the journal's options for `resume`, the
 * config's checks, then the pipeline (run.h). */
static int run_or_plan(struct orch_config *cfg)
{
    struct orch_diag diag = {{0}};
    int rc = 0;

    /* `resume REPORT`: the run's options come from its journal. */
    if (cfg->command == ORCH_CMD_RESUME) {
        rc = orch_resume_prepare_config(cfg, &diag);
        if (rc)
            return run_failed(cfg, rc, &diag);
    }
    rc = orch_config_validate(cfg, &diag);
    if (rc)
        return run_failed(cfg, rc, &diag);
    warn_transport(cfg);
    return orch_run_main(cfg);
}

/* The parsed command, between libcurl's one global init and cleanup (the
 * only ones in the process: no module below calls them). */
static int run_command(struct orch_config *cfg)
{
    struct orch_diag diag = {{0}};
    bool query =
        cfg->command == ORCH_CMD_STATUS || cfg->command == ORCH_CMD_CANCEL;
    int code = ORCH_EXIT_OK;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        if (query)
            return status_or_cancel_failed(cfg, ORCH_EXIT_USAGE,
                                           "libcurl could not be initialised");
        orch_diag_set(&diag, ORCH_EINVAL, "libcurl could not be initialised");
        return run_failed(cfg, ORCH_EINVAL, &diag);
    }
    code = query ? status_or_cancel(cfg) : run_or_plan(cfg);
    curl_global_cleanup();
    return code;
}

int main(int argc, char **argv)
{
    struct orch_config cfg;
    struct orch_diag diag = {{0}};
    int code = ORCH_EXIT_OK;
    int rc = 0;

    orch_config_init(&cfg);
    rc = orch_cli_parse(&cfg, argc, argv, &diag);
    if (rc) {
        orch_error_diag(rc, &diag);
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    if (cfg.help) {
        orch_cli_help(stdout);
        goto out;
    }
    if (cfg.version) {
        orch_cli_version(stdout);
        goto out;
    }
    /* --log-format json turns every message into a JSON line, for every
     * command; this is the one place that says so. */
    orch_msgs_set_json(cfg.log_format == ORCH_LOG_FORMAT_JSON);
    if (cfg.command == ORCH_CMD_NONE) {
        orch_errorf("no command given (expected run, plan, resume, status "
                    "or cancel); try ota-rollout --help");
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    code = run_command(&cfg);

out:
    /* A plan printed into a closed pipe or a full disk is not a success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        orch_errorf("writing to standard output failed");
        if (code == ORCH_EXIT_OK)
            code = ORCH_EXIT_USAGE;
    }
    orch_config_cleanup(&cfg);
    return code;
}
