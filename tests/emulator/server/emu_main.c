/* emu_main.c - ota-emulator: a strict local emulator of the IoT Platform
 * OTA API. Parses the options, builds the world and the verifier, starts
 * the server, prints the bound port and waits for SIGINT/SIGTERM (SIGUSR1
 * dumps the stats to stderr). The only file of the emulator that sees argv
 * or prints.
 */
#include "server/emu_faults.h"
#include "server/emu_server.h"
#include "gateway/emu_verify.h"
#include "world/emu_fixture.h"
#include "world/emu_world.h"

#include "orch/base/err.h"
#include "orch/base/clock.h"
#include "orch/base/timeparse.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROG "ota-emulator"

enum {
    OPT_PORT = 256, OPT_BIND, OPT_TLS_CERT, OPT_TLS_KEY, OPT_FIXTURE,
    OPT_AUTO_CREATE, OPT_ACCESS_KEY, OPT_REQUEST_LOG, OPT_QPS_CREATE,
    OPT_QPS_QUERY, OPT_QPS_FIRMWARE, OPT_QPS_DEVICE_DETAIL, OPT_QPS_CANCEL,
    OPT_QPS_BATCH, OPT_QPS_SCALE, OPT_CLOCK,
    OPT_CLOCK_OFFSET, OPT_SEED, OPT_LATENCY_MS, OPT_LATENCY_DIST,
    OPT_FAIL_5XX, OPT_RESET, OPT_LOSE, OPT_MALFORMED, OPT_SLOW,
    OPT_SLOW_MS, OPT_THROTTLE_BURST, OPT_SIM_SPEED, OPT_SUCCESS_RATIO,
    OPT_INSTANCE_ID, OPT_MAX_BODY, OPT_MAX_URI, OPT_FAULT_ACTIONS,
    OPT_FAIL_QUERIES, OPT_RAM_DENY, OPT_HELP, OPT_VERSION
};

static const struct option options[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"bind", required_argument, NULL, OPT_BIND},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"fixture", required_argument, NULL, OPT_FIXTURE},
    {"auto-create", no_argument, NULL, OPT_AUTO_CREATE},
    {"access-key", required_argument, NULL, OPT_ACCESS_KEY},
    {"ram-deny", required_argument, NULL, OPT_RAM_DENY},
    {"request-log", required_argument, NULL, OPT_REQUEST_LOG},
    {"qps-create", required_argument, NULL, OPT_QPS_CREATE},
    {"qps-query", required_argument, NULL, OPT_QPS_QUERY},
    {"qps-firmware", required_argument, NULL, OPT_QPS_FIRMWARE},
    {"qps-device-detail", required_argument, NULL, OPT_QPS_DEVICE_DETAIL},
    {"qps-cancel", required_argument, NULL, OPT_QPS_CANCEL},
    {"qps-batch", required_argument, NULL, OPT_QPS_BATCH},
    {"qps-scale", required_argument, NULL, OPT_QPS_SCALE},
    {"clock", required_argument, NULL, OPT_CLOCK},
    {"clock-offset", required_argument, NULL, OPT_CLOCK_OFFSET},
    {"seed", required_argument, NULL, OPT_SEED},
    {"latency-ms", required_argument, NULL, OPT_LATENCY_MS},
    {"latency-dist", required_argument, NULL, OPT_LATENCY_DIST},
    {"fail-5xx", required_argument, NULL, OPT_FAIL_5XX},
    {"reset", required_argument, NULL, OPT_RESET},
    {"lose-response", required_argument, NULL, OPT_LOSE},
    {"malformed", required_argument, NULL, OPT_MALFORMED},
    {"slow-body", required_argument, NULL, OPT_SLOW},
    {"slow-body-ms", required_argument, NULL, OPT_SLOW_MS},
    {"throttle-burst", required_argument, NULL, OPT_THROTTLE_BURST},
    {"fault-actions", required_argument, NULL, OPT_FAULT_ACTIONS},
    {"fail-queries", required_argument, NULL, OPT_FAIL_QUERIES},
    {"sim-speed", required_argument, NULL, OPT_SIM_SPEED},
    {"success-ratio", required_argument, NULL, OPT_SUCCESS_RATIO},
    {"instance-id", required_argument, NULL, OPT_INSTANCE_ID},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-uri", required_argument, NULL, OPT_MAX_URI},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char usage[] =
    "Usage: " PROG " [options]\n"
    "A strict local emulator of Alibaba Cloud IoT Platform's OTA API.\n"
    "Prints the bound port as one line on stdout once it accepts\n"
    "connections; stops on SIGINT/SIGTERM; SIGUSR1 dumps stats to stderr.\n"
    "\n"
    "Server:\n"
    "  --port N              listen port, 0 = any free one (default 0)\n"
    "  --bind ADDR           address, IPv4 or IPv6 (default 127.0.0.1)\n"
    "  --tls-cert FILE       PEM certificate: serve HTTPS (with --tls-key)\n"
    "  --tls-key FILE        PEM private key\n"
    "  --max-body BYTES      larger bodies get 413 (default 1048576)\n"
    "  --max-uri BYTES       longer request targets get 414, as a proxy\n"
    "                        might answer (default: no limit)\n"
    "  --request-log FILE    append one JSON line per API request\n"
    "World:\n"
    "  --fixture FILE        products, devices and firmware (JSON)\n"
    "  --auto-create         any product, device and verified firmware "
    "exists\n"
    "                        (a new firmware belongs to the product of the\n"
    "                        first Create naming it)\n"
    "  --instance-id ID      IotInstanceId the instance requires\n"
    "  --sim-speed F         task state steps per second (default 2; 0 =\n"
    "                        tasks stay QUEUED)\n"
    "  --success-ratio F     share of tasks that succeed (default 1)\n"
    "Credentials:\n"
    "  --access-key ID:SECRET[:STS_TOKEN]  register a key (repeatable); "
    "with\n"
    "                        a token, requests must carry it\n"
    "                        (SecurityToken / x-acs-security-token)\n"
    "  --ram-deny ID:ACTION[,ACTION...]  the key's RAM policy does not\n"
    "                        allow these actions (ID:* none): they get\n"
    "                        Forbidden.RAM (repeatable)\n"
    "Quotas (per AccessKey and per action, any sliding second; the\n"
    "documented ones by default):\n"
    "  --qps-create N        CreateOTAStaticUpgradeJob (default 20)\n"
    "  --qps-query N         QueryOTAJob, ListOTAJobByFirmware,\n"
    "                        ListOTATaskByJob, ListOTAJobByDevice, each\n"
    "                        (default 10)\n"
    "  --qps-firmware N      QueryOTAFirmware (default 20)\n"
    "  --qps-device-detail N QueryDeviceDetail (default 50)\n"
    "  --qps-cancel N        CancelOTATaskByJob (default 5)\n"
    "  --qps-batch N         BatchQueryDeviceDetail (default 5)\n"
    "  --qps-scale F         multiplies every quota (default 1)\n"
    "Clock (test use):\n"
    "  --clock TIME          start the clock at TIME (epoch ms or\n"
    "                        2025-01-02T03:04:05Z); it then runs in real "
    "time\n"
    "  --clock-offset MS     real time plus MS (may be negative)\n"
    "Faults (seeded: same seed and request order, same faults):\n"
    "  --seed N              fault and simulation seed (default 1)\n"
    "  --latency-ms MIN-MAX  added latency per request (uniform)\n"
    "  --latency-dist D      uniform | lognormal (shape MIN-MAX) |\n"
    "                        mix:P=MS,... alone (e.g.\n"
    "                        mix:50=5,90=20,99=200,100=1000: half the\n"
    "                        requests wait <= 5 ms, 90% <= 20 ms, ...)\n"
    "  --fail-5xx P          500 InternalError / 503 ServiceUnavailable,\n"
    "                        before processing\n"
    "  --reset P             connection reset before processing\n"
    "  --lose-response P     processed (job created), then closed with no\n"
    "                        answer\n"
    "  --malformed P         200 with a truncated JSON or HTML body, not\n"
    "                        processed\n"
    "  --slow-body P         processed; the answer trickles out\n"
    "  --slow-body-ms MS     how long a slow answer takes (default 1000)\n"
    "  --throttle-burst S    START_MS:DUR_MS after start (repeatable), or\n"
    "                        random:P:SLOT_MS; every call gets\n"
    "                        Throttling.User during a burst\n"
    "  --fault-actions LIST  the faults above (latency and bursts too) hit\n"
    "                        only these actions, comma-separated (default:\n"
    "                        all), e.g. CreateOTAStaticUpgradeJob\n"
    "  --fail-queries P      503 ServiceUnavailable, before processing, to\n"
    "                        each query action (QueryOTAJob, ListOTA*,\n"
    "                        QueryOTAFirmware, QueryDeviceDetail,\n"
    "                        BatchQueryDeviceDetail) with probability P,\n"
    "                        whatever --fault-actions says\n"
    "Internal endpoints:\n"
    "  GET /__emu/stats      counts: requests, throttled, jobs, devices,\n"
    "                        most calls in any second, double assignments\n"
    "  GET /__emu/jobs       every job and its tasks\n"
    "  GET /__emu/faults     the fault settings\n"
    "  POST /__emu/faults    change them while running: a form of\n"
    "                        fail-5xx, reset, lose-response, malformed,\n"
    "                        fail-queries, fault-actions (e.g.\n"
    "                        'fail-queries=0&lose-response=0')\n"
    "  GET /__emu/clock      the emulator's clock (now_ms, advanced_ms)\n"
    "  POST /__emu/clock     advance=MS: move the clock forward (tests of\n"
    "                        scheduled jobs)\n"
    "Other:\n"
    "  -h, --help            print this help and exit\n"
    "  --version             print the version and exit\n";

struct clock_state {
    int64_t base_ms;   /* the clock's value at mono_start */
    struct timespec mono_start;
};

static int64_t clock_now(void *ctx)
{
    struct clock_state *c = ctx;
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return c->base_ms + (int64_t)(ts.tv_sec - c->mono_start.tv_sec) * 1000
         + (ts.tv_nsec - c->mono_start.tv_nsec) / 1000000;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = 0;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0
        && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf)
            buf[n] = '\0';
    }
    fclose(f);
    return buf;
}

static int num(const char *opt, const char *s, double lo, double hi,
               double *out)
{
    char *end = NULL;
    double v = 0;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !(v >= lo) || !(v <= hi)) {
        fprintf(stderr, PROG ": --%s: expected a number in [%g, %g], got "
                            "\"%s\"\n",
                opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    struct emu_server_opts so;
    struct emu_world_opts wo;
    struct emu_world *world = NULL;
    struct emu_verifier *verifier = NULL;
    struct emu_server *srv = NULL;
    struct orch_diag diag;
    struct clock_state clk;
    const char *fixture = NULL;
    const char *cert_path = NULL, *key_path = NULL;
    char *cert = NULL, *key = NULL;
    sigset_t set;
    double d = 0;
    int c = 0;
    int rc = 1;
    int have_clock = 0;
    int64_t offset = 0;

    memset(&diag, 0, sizeof(diag));
    memset(&wo, 0, sizeof(wo));
    emu_server_opts_init(&so);
    wo.sim_speed = 2.0;
    wo.success_ratio = 1.0;
    wo.seed = 1;
    so.faults.seed = 1;
    so.port = 0;
    verifier = emu_verifier_new();
    if (verifier == NULL)
        goto oom;

    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        const char *name = NULL;
        int bad = 0;

        for (size_t i = 0; options[i].name; i++)
            if (options[i].val == c)
                name = options[i].name;
        switch (c) {
        case OPT_PORT:
            bad = num(name, optarg, 0, 65535, &d);
            so.port = (uint16_t)d;
            break;
        case OPT_BIND:
            so.bind = optarg;
            break;
        case OPT_TLS_CERT:
            cert_path = optarg;
            break;
        case OPT_TLS_KEY:
            key_path = optarg;
            break;
        case OPT_FIXTURE:
            fixture = optarg;
            break;
        case OPT_AUTO_CREATE:
            wo.auto_create = true;
            break;
        case OPT_ACCESS_KEY:
            if (emu_verifier_add_key(verifier, optarg, &diag) != 0) {
                fprintf(stderr, PROG ": --access-key: %s\n", diag.msg);
                bad = 1;
            }
            break;
        case OPT_RAM_DENY:
            if (emu_verifier_deny(verifier, optarg, &diag) != 0) {
                fprintf(stderr, PROG ": --ram-deny: %s\n", diag.msg);
                bad = 1;
            }
            break;
        case OPT_REQUEST_LOG:
            so.request_log = optarg;
            break;
        case OPT_QPS_CREATE:
            bad = num(name, optarg, 0.001, 1e6, &so.qps_create);
            break;
        case OPT_QPS_QUERY:
            bad = num(name, optarg, 0.001, 1e6, &so.qps_query);
            break;
        case OPT_QPS_FIRMWARE:
            bad = num(name, optarg, 0.001, 1e6, &so.qps_firmware);
            break;
        case OPT_QPS_DEVICE_DETAIL:
            bad = num(name, optarg, 0.001, 1e6, &so.qps_device_detail);
            break;
        case OPT_QPS_CANCEL:
            bad = num(name, optarg, 0.001, 1e6, &so.qps_cancel);
            break;
        case OPT_QPS_BATCH:
            bad = num(name, optarg, 0.001, 1e6, &so.qps_batch);
            break;
        case OPT_QPS_SCALE:
            bad = num(name, optarg, 0.001, 1e5, &so.qps_scale);
            break;
        case OPT_CLOCK: {
            int64_t ms = 0;

            if (orch_time_parse(optarg, &ms, &diag) != 0) {
                fprintf(stderr, PROG ": --clock: %s\n", diag.msg);
                bad = 1;
            }
            clk.base_ms = ms;
            have_clock = 1;
            break;
        }
        case OPT_CLOCK_OFFSET:
            bad = num(name, optarg, -1e13, 1e13, &d);
            offset = (int64_t)d;
            break;
        case OPT_SEED:
            bad = num(name, optarg, 0, 1.8e19, &d);
            so.faults.seed = (uint64_t)d;
            wo.seed = (uint64_t)d;
            break;
        case OPT_LATENCY_MS:
            if (emu_faults_parse_latency(&so.faults, optarg, &diag) != 0) {
                fprintf(stderr, PROG ": %s\n", diag.msg);
                bad = 1;
            }
            break;
        case OPT_LATENCY_DIST:
            if (emu_faults_parse_dist(&so.faults, optarg, &diag) != 0) {
                fprintf(stderr, PROG ": %s\n", diag.msg);
                bad = 1;
            }
            break;
        case OPT_THROTTLE_BURST:
            if (emu_faults_parse_burst(&so.faults, optarg, &diag) != 0) {
                fprintf(stderr, PROG ": %s\n", diag.msg);
                bad = 1;
            }
            break;
        case OPT_FAIL_5XX:
        case OPT_RESET:
        case OPT_LOSE:
        case OPT_MALFORMED:
        case OPT_SLOW: {
            double *p = c == OPT_FAIL_5XX  ? &so.faults.p_5xx
                      : c == OPT_RESET     ? &so.faults.p_reset
                      : c == OPT_LOSE      ? &so.faults.p_lose
                      : c == OPT_MALFORMED ? &so.faults.p_malformed
                                           : &so.faults.p_slow;

            if (emu_faults_parse_prob(p, optarg, &diag) != 0) {
                fprintf(stderr, PROG ": --%s: %s\n", name, diag.msg);
                bad = 1;
            }
            break;
        }
        case OPT_FAIL_QUERIES:
            if (emu_faults_parse_prob(&so.faults.p_fail_query, optarg,
                                      &diag) != 0) {
                fprintf(stderr, PROG ": --%s: %s\n", name, diag.msg);
                bad = 1;
            }
            break;
        case OPT_FAULT_ACTIONS:
            if (emu_faults_parse_actions(&so.faults, optarg, &diag) != 0) {
                fprintf(stderr, PROG ": %s\n", diag.msg);
                bad = 1;
            }
            break;
        case OPT_SLOW_MS:
            bad = num(name, optarg, 0, 600000, &d);
            so.slow_ms = (unsigned)d;
            break;
        case OPT_SIM_SPEED:
            bad = num(name, optarg, 0, 1e6, &wo.sim_speed);
            break;
        case OPT_SUCCESS_RATIO:
            bad = num(name, optarg, 0, 1, &wo.success_ratio);
            break;
        case OPT_INSTANCE_ID:
            wo.instance_id = optarg;
            break;
        case OPT_MAX_BODY:
            bad = num(name, optarg, 1, 1e9, &d);
            so.max_body = (size_t)d;
            break;
        case OPT_MAX_URI:
            bad = num(name, optarg, 16, 1e9, &d);
            so.max_uri = (size_t)d;
            break;
        case OPT_HELP:
        case 'h':
            fputs(usage, stdout);
            rc = 0;
            goto out;
        case OPT_VERSION:
            puts(PROG " " ORCH_VERSION);
            rc = 0;
            goto out;
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            rc = 2;
            goto out;
        }
        if (bad) {
            rc = 2;
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
        rc = 2;
        goto out;
    }
    if (emu_server_check_faults(&so.faults, &diag) != 0) {
        fprintf(stderr, PROG ": %s\n", diag.msg);
        rc = 2;
        goto out;
    }
    if ((cert_path != NULL) != (key_path != NULL)) {
        fprintf(stderr, PROG ": --tls-cert and --tls-key go together\n");
        rc = 2;
        goto out;
    }
    if (cert_path) {
        cert = read_file(cert_path);
        key = read_file(key_path);
        if (cert == NULL || key == NULL) {
            fprintf(stderr, PROG ": cannot read %s\n",
                    cert == NULL ? cert_path : key_path);
            rc = 2;
            goto out;
        }
        so.tls_cert_pem = cert;
        so.tls_key_pem = key;
    }
    if (emu_verifier_key_count(verifier) == 0)
        fprintf(stderr, PROG ": warning: no --access-key: every request "
                            "will get InvalidAccessKeyId.NotFound\n");

    if (!have_clock)
        clk.base_ms = orch_wall_ms();
    clk.base_ms += offset;
    clock_gettime(CLOCK_MONOTONIC, &clk.mono_start);
    so.clock.now_ms = clock_now;
    so.clock.ctx = &clk;

    world = emu_world_new(&wo);
    if (world == NULL)
        goto oom;
    if (fixture && emu_world_load_fixture(world, fixture, &diag) != 0) {
        fprintf(stderr, PROG ": --fixture: %s\n", diag.msg);
        rc = 2;
        goto out;
    }
    if (!fixture && !wo.auto_create)
        fprintf(stderr, PROG ": warning: no --fixture and no --auto-create: "
                            "the world is empty\n");
    so.world = world;
    so.verifier = verifier;

    /* Every thread MHD starts inherits this mask, so the signals reach
     * sigwait() below and nowhere else. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (emu_server_start(&so, &srv, &diag) != 0) {
        fprintf(stderr, PROG ": %s\n", diag.msg);
        rc = 1;
        goto out;
    }
    printf("%u\n", (unsigned)emu_server_port(srv));
    fflush(stdout);
    for (;;) {
        int sig = 0;

        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGUSR1) {
            json_t *st = emu_server_stats(srv);

            if (st) {
                json_dumpf(st, stderr, JSON_INDENT(2));
                fputc('\n', stderr);
                json_decref(st);
            }
            continue;
        }
        break;
    }
    rc = 0;
    goto out;
oom:
    fprintf(stderr, PROG ": out of memory\n");
    rc = 1;
out:
    emu_server_stop(srv);
    emu_world_free(world);
    emu_verifier_free(verifier);
    free(cert);
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    return rc;
}
