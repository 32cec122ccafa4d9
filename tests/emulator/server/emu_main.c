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
    OPT_QPS_BATCH, OPT_QPS_STS, OPT_QPS_SCALE, OPT_CLOCK,
    OPT_CLOCK_OFFSET, OPT_CLOCK_RATE, OPT_SEED, OPT_LATENCY_MS, OPT_LATENCY_DIST,
    OPT_FAIL_5XX, OPT_RESET, OPT_LOSE, OPT_MALFORMED, OPT_SLOW,
    OPT_SLOW_MS, OPT_THROTTLE_BURST, OPT_SIM_SPEED, OPT_SUCCESS_RATIO,
    OPT_INSTANCE_ID, OPT_MAX_BODY, OPT_MAX_URI, OPT_FAULT_ACTIONS,
    OPT_FAIL_QUERIES, OPT_RAM_DENY, OPT_STS_TTL, OPT_OIDC_TOKEN,
    OPT_ECS_ROLE, OPT_IMDSV2_ONLY, OPT_IMDSV1_ONLY, OPT_CRED_ACCOUNT, OPT_HELP, OPT_VERSION
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
    {"sts-ttl-s", required_argument, NULL, OPT_STS_TTL},
    {"oidc-token", required_argument, NULL, OPT_OIDC_TOKEN},
    {"ecs-role", required_argument, NULL, OPT_ECS_ROLE},
    {"imdsv2-only", no_argument, NULL, OPT_IMDSV2_ONLY},
    {"imdsv1-only", no_argument, NULL, OPT_IMDSV1_ONLY},
    {"cred-account", required_argument, NULL, OPT_CRED_ACCOUNT},
    {"request-log", required_argument, NULL, OPT_REQUEST_LOG},
    {"qps-create", required_argument, NULL, OPT_QPS_CREATE},
    {"qps-query", required_argument, NULL, OPT_QPS_QUERY},
    {"qps-firmware", required_argument, NULL, OPT_QPS_FIRMWARE},
    {"qps-device-detail", required_argument, NULL, OPT_QPS_DEVICE_DETAIL},
    {"qps-cancel", required_argument, NULL, OPT_QPS_CANCEL},
    {"qps-batch", required_argument, NULL, OPT_QPS_BATCH},
    {"qps-sts", required_argument, NULL, OPT_QPS_STS},
    {"qps-scale", required_argument, NULL, OPT_QPS_SCALE},
    {"clock", required_argument, NULL, OPT_CLOCK},
    {"clock-offset", required_argument, NULL, OPT_CLOCK_OFFSET},
    {"clock-rate", required_argument, NULL, OPT_CLOCK_RATE},
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
    "Temporary credentials (on the same port; keys \"STS.…\" whose calls\n"
    "count against the quota of the account that minted them):\n"
    "  STS                   AssumeRole (signed) and AssumeRoleWithOIDC\n"
    "                        (unsigned), Version 2015-04-01, at /\n"
    "  GET /credentials      a credentials URI answer, minted fresh\n"
    "  --sts-ttl-s N         lifetime of every minted key, seconds (default\n"
    "                        3600; STS: the DurationSeconds asked); past it,\n"
    "                        calls get InvalidSecurityToken.Expired\n"
    "  --oidc-token TOKEN    AssumeRoleWithOIDC requires exactly this token\n"
    "                        (default: any non-empty one)\n"
    "  --ecs-role NAME       serve the ECS metadata service's RAM role paths\n"
    "                        (PUT /latest/api/token, GET /latest/meta-data/\n"
    "                        ram/security-credentials/[NAME])\n"
    "  --imdsv2-only         the metadata service requires the IMDSv2\n"
    "                        session token (no IMDSv1)\n"
    "  --imdsv1-only         the metadata service has no IMDSv2 (its token\n"
    "                        path is 404), as an old one\n"
    "  --cred-account ID     the account key the credentials URI, the\n"
    "                        metadata service and OIDC mint for (default:\n"
    "                        the first --access-key)\n"
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
    "  --qps-sts N           STS AssumeRole, AssumeRoleWithOIDC, each\n"
    "                        (default 100; an OIDC call per RoleArn)\n"
    "  --qps-scale F         multiplies every quota (default 1)\n"
    "Clock (test use):\n"
    "  --clock TIME          start the clock at TIME (epoch ms or\n"
    "                        2025-01-02T03:04:05Z); it then runs in real "
    "time\n"
    "  --clock-offset MS     real time plus MS (may be negative)\n"
    "  --clock-rate F        the clock runs F times as fast as real time\n"
    "                        from the start (default 1): quotas, task\n"
    "                        steps, key lifetimes and signature times all\n"
    "                        follow it (a tool under libfaketime at the\n"
    "                        same rate shares its simulated time)\n"
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
    "  GET /__emu/minted     every temporary key minted so far, with its\n"
    "                        secret and token, and the IMDSv2 session\n"
    "                        tokens (tests search outputs for them)\n"
    "  GET /__emu/clock      the emulator's clock (now_ms, advanced_ms)\n"
    "  POST /__emu/clock     advance=MS: move the clock forward (tests of\n"
    "                        scheduled jobs)\n"
    "  POST /__emu/console   job=JOBID&action=reupgrade|cancel: change a\n"
    "                        job as an operator would from the console\n"
    "                        (re-upgrade its FAILED/CANCELED tasks, or\n"
    "                        cancel its unfinished ones; UtcModified moves)\n"
    "Other:\n"
    "  -h, --help            print this help and exit\n"
    "  --version             print the version and exit\n";

struct clock_state {
    int64_t base_ms;   /* the clock's value at mono_start */
    double rate;       /* clock ms per real ms (--clock-rate) */
    struct timespec mono_start;
};

static int64_t clock_now(void *ctx)
{
    struct clock_state *c = ctx;
    struct timespec ts;
    double real_ms = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    real_ms = (double)(ts.tv_sec - c->mono_start.tv_sec) * 1000
            + (double)(ts.tv_nsec - c->mono_start.tv_nsec) / 1e6;
    return c->base_ms + (int64_t)(real_ms * c->rate);
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

/* The number s of option opt, in [lo, hi], into *out. Returns 0, or 1
 * after saying on stderr why it is refused. */
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
        return 1;
    }
    *out = v;
    return 0;
}

/* Everything the command line sets. */
struct cli {
    struct emu_server_opts so;
    struct emu_world_opts wo;
    struct emu_verifier *verifier; /* keys and RAM policies go here */
    const char *fixture;
    const char *cert_path, *key_path;
    struct clock_state clk;
    int have_clock;                /* --clock given: clk.base_ms set */
    int64_t offset;                /* --clock-offset */
    struct orch_diag diag;
};

/* Prints a parser's refusal, "--opt: " before it when opt is set.
 * Returns 1 when rc says it refused, else 0. */
static int refused(int rc, const char *opt, const struct orch_diag *diag)
{
    if (rc == 0)
        return 0;
    if (opt)
        fprintf(stderr, PROG ": --%s: %s\n", opt, diag->msg);
    else
        fprintf(stderr, PROG ": %s\n", diag->msg);
    return 1;
}

/* The field of a fault probability option. */
static double *fault_prob(struct emu_fault_opts *f, int c)
{
    switch (c) {
    case OPT_FAIL_5XX:
        return &f->p_5xx;
    case OPT_RESET:
        return &f->p_reset;
    case OPT_LOSE:
        return &f->p_lose;
    case OPT_MALFORMED:
        return &f->p_malformed;
    case OPT_SLOW:
        return &f->p_slow;
    default: /* OPT_FAIL_QUERIES */
        return &f->p_fail_query;
    }
}

/* The options of the server: what it listens on and its quotas. Returns
 * 1 when the value is refused (said on stderr), 0 when taken, -1 when c
 * is not one of them. */
static int server_option(struct cli *o, int c, const char *name,
                         const char *arg)
{
    struct emu_server_opts *so = &o->so;
    double d = 0;
    int bad = 0;

    switch (c) {
    case OPT_PORT:
        bad = num(name, arg, 0, 65535, &d);
        so->port = (uint16_t)d;
        return bad;
    case OPT_BIND:
        so->bind = arg;
        return 0;
    case OPT_TLS_CERT:
        o->cert_path = arg;
        return 0;
    case OPT_TLS_KEY:
        o->key_path = arg;
        return 0;
    case OPT_REQUEST_LOG:
        so->request_log = arg;
        return 0;
    case OPT_MAX_BODY:
        bad = num(name, arg, 1, 1e9, &d);
        so->max_body = (size_t)d;
        return bad;
    case OPT_MAX_URI:
        bad = num(name, arg, 16, 1e9, &d);
        so->max_uri = (size_t)d;
        return bad;
    case OPT_QPS_CREATE:
        return num(name, arg, 0.001, 1e6, &so->qps_create);
    case OPT_QPS_QUERY:
        return num(name, arg, 0.001, 1e6, &so->qps_query);
    case OPT_QPS_FIRMWARE:
        return num(name, arg, 0.001, 1e6, &so->qps_firmware);
    case OPT_QPS_DEVICE_DETAIL:
        return num(name, arg, 0.001, 1e6, &so->qps_device_detail);
    case OPT_QPS_CANCEL:
        return num(name, arg, 0.001, 1e6, &so->qps_cancel);
    case OPT_QPS_BATCH:
        return num(name, arg, 0.001, 1e6, &so->qps_batch);
    case OPT_QPS_STS:
        return num(name, arg, 0.001, 1e6, &so->qps_sts);
    case OPT_QPS_SCALE:
        return num(name, arg, 0.001, 1e5, &so->qps_scale);
    default:
        return -1;
    }
}

/* The options of the world and the credentials; same returns. */
static int world_option(struct cli *o, int c, const char *name,
                        const char *arg)
{
    switch (c) {
    case OPT_FIXTURE:
        o->fixture = arg;
        return 0;
    case OPT_AUTO_CREATE:
        o->wo.auto_create = true;
        return 0;
    case OPT_SIM_SPEED:
        return num(name, arg, 0, 1e6, &o->wo.sim_speed);
    case OPT_SUCCESS_RATIO:
        return num(name, arg, 0, 1, &o->wo.success_ratio);
    case OPT_INSTANCE_ID:
        o->wo.instance_id = arg;
        return 0;
    case OPT_ACCESS_KEY:
        return refused(emu_verifier_add_key(o->verifier, arg, &o->diag),
                       "access-key", &o->diag);
    case OPT_RAM_DENY:
        return refused(emu_verifier_deny(o->verifier, arg, &o->diag),
                       "ram-deny", &o->diag);
    default:
        return -1;
    }
}

/* The options of the temporary credentials; same returns. */
static int credential_option(struct cli *o, int c, const char *name,
                             const char *arg)
{
    double d = 0;
    int bad = 0;

    switch (c) {
    case OPT_STS_TTL:
        bad = num(name, arg, 1, 43200, &d);
        o->so.sts_ttl_s = (long)d;
        return bad;
    case OPT_OIDC_TOKEN:
        o->so.oidc_token = arg;
        return 0;
    case OPT_ECS_ROLE:
        o->so.ecs_role = arg;
        return 0;
    case OPT_IMDSV2_ONLY:
        o->so.imdsv2_only = true;
        return 0;
    case OPT_IMDSV1_ONLY:
        o->so.imdsv1_only = true;
        return 0;
    case OPT_CRED_ACCOUNT:
        o->so.cred_account = arg;
        return 0;
    default:
        return -1;
    }
}

/* The clock options; same returns. */
static int clock_option(struct cli *o, int c, const char *name,
                        const char *arg)
{
    double d = 0;
    int bad = 0;

    switch (c) {
    case OPT_CLOCK:
        o->have_clock = 1;
        return refused(orch_time_parse(arg, &o->clk.base_ms, &o->diag),
                       "clock", &o->diag);
    case OPT_CLOCK_OFFSET:
        bad = num(name, arg, -1e13, 1e13, &d);
        o->offset = (int64_t)d;
        return bad;
    case OPT_CLOCK_RATE:
        return num(name, arg, 0.001, 10000, &o->clk.rate);
    default:
        return -1;
    }
}

/* The fault options; same returns. */
static int fault_option(struct cli *o, int c, const char *name,
                        const char *arg)
{
    struct emu_fault_opts *f = &o->so.faults;
    double d = 0;
    int bad = 0;

    switch (c) {
    case OPT_SEED:
        bad = num(name, arg, 0, 1.8e19, &d);
        f->seed = (uint64_t)d;
        o->wo.seed = (uint64_t)d;
        return bad;
    case OPT_LATENCY_MS:
        return refused(emu_faults_parse_latency(f, arg, &o->diag), NULL,
                       &o->diag);
    case OPT_LATENCY_DIST:
        return refused(emu_faults_parse_dist(f, arg, &o->diag), NULL,
                       &o->diag);
    case OPT_THROTTLE_BURST:
        return refused(emu_faults_parse_burst(f, arg, &o->diag), NULL,
                       &o->diag);
    case OPT_FAULT_ACTIONS:
        return refused(emu_faults_parse_actions(f, arg, &o->diag), NULL,
                       &o->diag);
    case OPT_FAIL_5XX:
    case OPT_RESET:
    case OPT_LOSE:
    case OPT_MALFORMED:
    case OPT_SLOW:
    case OPT_FAIL_QUERIES:
        return refused(emu_faults_parse_prob(fault_prob(f, c), arg,
                                             &o->diag),
                       name, &o->diag);
    case OPT_SLOW_MS:
        bad = num(name, arg, 0, 600000, &d);
        o->so.slow_ms = (unsigned)d;
        return bad;
    default:
        return -1;
    }
}

/* Parses argv into o. Returns -1 to go on, or the exit status (0 after
 * --help or --version, 2 for a usage error, said on stderr). */
static int parse_args(int argc, char **argv, struct cli *o)
{
    int c = 0;

    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        const char *name = NULL;
        int bad = 0;

        for (size_t i = 0; options[i].name; i++)
            if (options[i].val == c)
                name = options[i].name;
        if (c == OPT_HELP || c == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (c == OPT_VERSION) {
            puts(PROG " " ORCH_VERSION);
            return 0;
        }
        bad = server_option(o, c, name, optarg);
        if (bad < 0)
            bad = world_option(o, c, name, optarg);
        if (bad < 0)
            bad = clock_option(o, c, name, optarg);
        if (bad < 0)
            bad = credential_option(o, c, name, optarg);
        if (bad < 0)
            bad = fault_option(o, c, name, optarg);
        if (bad < 0) {
            fprintf(stderr, "Try '" PROG " --help'.\n");
            return 2;
        }
        if (bad)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    return -1;
}

/* The checks across options, and the TLS files read into *cert and *key
 * (the caller frees them). Returns -1 to go on, or the exit status 2. */
static int finish_args(struct cli *o, char **cert, char **key)
{
    if (emu_server_check_faults(&o->so.faults, &o->diag) != 0) {
        fprintf(stderr, PROG ": %s\n", o->diag.msg);
        return 2;
    }
    if ((o->cert_path != NULL) != (o->key_path != NULL)) {
        fprintf(stderr, PROG ": --tls-cert and --tls-key go together\n");
        return 2;
    }
    if (o->cert_path) {
        *cert = read_file(o->cert_path);
        *key = read_file(o->key_path);
        if (*cert == NULL || *key == NULL) {
            fprintf(stderr, PROG ": cannot read %s\n",
                    *cert == NULL ? o->cert_path : o->key_path);
            return 2;
        }
        o->so.tls_cert_pem = *cert;
        o->so.tls_key_pem = *key;
    }
    if (emu_verifier_key_count(o->verifier) == 0)
        fprintf(stderr, PROG ": warning: no --access-key: every request "
                            "will get InvalidAccessKeyId.NotFound\n");
    return -1;
}

/* Starts the emulator's clock: --clock (or now) plus --clock-offset,
 * then running at --clock-rate times real time. */
static void start_clock(struct cli *o)
{
    if (!o->have_clock)
        o->clk.base_ms = orch_wall_ms();
    o->clk.base_ms += o->offset;
    clock_gettime(CLOCK_MONOTONIC, &o->clk.mono_start);
    o->so.clock.now_ms = clock_now;
    o->so.clock.ctx = &o->clk;
}

/* Waits for SIGINT or SIGTERM, dumping the stats on each SIGUSR1. */
static void wait_for_stop(struct emu_server *srv, const sigset_t *set)
{
    for (;;) {
        int sig = 0;

        if (sigwait(set, &sig) != 0)
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
        return;
    }
}

int main(int argc, char **argv)
{
    struct cli o;
    struct emu_world *world = NULL;
    struct emu_server *srv = NULL;
    char *cert = NULL, *key = NULL;
    sigset_t set;
    int rc = 1;

    memset(&o, 0, sizeof(o));
    emu_server_opts_init(&o.so);
    o.wo.sim_speed = 2.0;
    o.clk.rate = 1.0;
    o.wo.success_ratio = 1.0;
    o.wo.seed = 1;
    o.so.faults.seed = 1;
    o.so.port = 0;
    o.verifier = emu_verifier_new();
    if (o.verifier == NULL)
        goto oom;
    rc = parse_args(argc, argv, &o);
    if (rc < 0)
        rc = finish_args(&o, &cert, &key);
    if (rc >= 0)
        goto out;
    start_clock(&o);
    world = emu_world_new(&o.wo);
    if (world == NULL)
        goto oom;
    if (o.fixture && emu_world_load_fixture(world, o.fixture, &o.diag) != 0) {
        fprintf(stderr, PROG ": --fixture: %s\n", o.diag.msg);
        rc = 2;
        goto out;
    }
    if (!o.fixture && !o.wo.auto_create)
        fprintf(stderr, PROG ": warning: no --fixture and no --auto-create: "
                            "the world is empty\n");
    o.so.world = world;
    o.so.verifier = o.verifier;

    /* Every thread MHD starts inherits this mask, so the signals reach
     * sigwait() below and nowhere else. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (emu_server_start(&o.so, &srv, &o.diag) != 0) {
        fprintf(stderr, PROG ": %s\n", o.diag.msg);
        rc = 1;
        goto out;
    }
    printf("%u\n", (unsigned)emu_server_port(srv));
    fflush(stdout);
    wait_for_stop(srv, &set);
    rc = 0;
    goto out;
oom:
    fprintf(stderr, PROG ": out of memory\n");
    rc = 1;
out:
    emu_server_stop(srv);
    emu_world_free(world);
    emu_verifier_free(o.verifier);
    free(cert);
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    return rc;
}
