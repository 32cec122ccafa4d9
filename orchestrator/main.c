/* main.c - ota-rollout's entry point: parse, validate, run. */
#include "orch/cancel.h"
#include "orch/cli.h"
#include "orch/config.h"
#include "orch/err.h"
#include "orch/exitcode.h"
#include "orch/msgs.h"
#include "orch/resume.h"
#include "orch/query.h"
#include "orch/run.h"
#include "orch/status.h"

#include <curl/curl.h>
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

/* `status` and `cancel`: their own checks (query.h), then the command. */
static int status_or_cancel(struct orch_config *cfg)
{
    struct orch_diag diag = {{0}};
    int code = ORCH_EXIT_OK;

    if (orch_query_config_validate(cfg, &diag) != 0) {
        orch_errorf("%s", diag.msg);
        return ORCH_EXIT_USAGE;
    }
    warn_transport(cfg);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        orch_errorf("libcurl could not be initialised");
        return ORCH_EXIT_USAGE;
    }
    if (cfg->command == ORCH_CMD_STATUS)
        code = orch_status_main(cfg);
    else
        code = orch_cancel_main(cfg);
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
        orch_errorf("%s", diag.msg);
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
    if (cfg.command == ORCH_CMD_NONE) {
        orch_errorf("no command given (run or plan); try ota-rollout --help");
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    if (cfg.command == ORCH_CMD_STATUS || cfg.command == ORCH_CMD_CANCEL) {
        code = status_or_cancel(&cfg);
        goto out;
    }
    /* `resume REPORT`: the run's options come from its journal. */
    if (cfg.command == ORCH_CMD_RESUME &&
        orch_resume_prepare_config(&cfg, &diag) != 0) {
        orch_errorf("%s", diag.msg);
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    if (cfg.command != ORCH_CMD_RUN && cfg.command != ORCH_CMD_PLAN) {
        orch_errorf("%s: not implemented yet",
                    orch_cli_command_name((int)cfg.command));
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    rc = orch_config_validate(&cfg, &diag);
    if (rc) {
        orch_errorf("%s", diag.msg);
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    warn_transport(&cfg);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        orch_errorf("libcurl could not be initialised");
        code = ORCH_EXIT_USAGE;
        goto out;
    }
    code = orch_run_main(&cfg);
    curl_global_cleanup();

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
