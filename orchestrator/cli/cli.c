/* cli.c - the command line: argv walked against the option table
 * (options.h), --help and --version.
 *
 * DESIGN: every option is one row of the table in model/options.c (long
 * name, short letter, value type, field, metavar, help). orch_cli_parse()
 * splits argv into commands, positional arguments and options, finds each
 * option's row and hands the value to orch_option_set(), which converts
 * it by the row's type and stores it in struct orch_config; that is the
 * only way from argv into the config (curl's tool_getparam). Range and
 * combination rules are not checked here but once, in
 * orch_config_validate(). Unique prefixes of long options are NOT
 * accepted: scripts that relied on them would break whenever an option is
 * added.
 */
#include "orch/cli/cli.h"

#include "orch/base/err.h"
#include "orch/base/exitcode.h"
#include "orch/base/str.h"
#include "orch/model/config.h"
#include "orch/model/options.h"

#include <csv.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
static const char *const command_names[] = {
    [ORCH_CMD_NONE] = "",         [ORCH_CMD_RUN] = "run",
    [ORCH_CMD_PLAN] = "plan",     [ORCH_CMD_RESUME] = "resume",
    [ORCH_CMD_STATUS] = "status", [ORCH_CMD_CANCEL] = "cancel",
};

const char *orch_cli_command_name(int command)
{
    if (command < 0 ||
        (size_t)command >= sizeof(command_names) / sizeof(command_names[0]))
        return "";
    return command_names[command];
}

/* An option name that is not in the table but looks like it carries a
 * secret is refused the same way, so a typo cannot echo the value. */
static bool looks_secret(const char *name, size_t len)
{
    static const char *const words[] = {"secret", "token", "password", "passwd",
                                        "access-key"};
    char buf[64];
    size_t i = 0;

    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    for (i = 0; i < len; i++)
        buf[i] = (char)((name[i] == '_') ? '-' : name[i]);
    buf[len] = '\0';
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasestr(buf, words[i]))
            return true;
    }
    return false;
}

/* Edit distance between a and b (optimal string alignment: insertions,
 * deletions, substitutions and swaps of two neighbours each cost 1), as
 * git and curl use to guess a mistyped name. Names longer than
 * SUGGEST_MAX count as far off. */
#define SUGGEST_MAX 40
static size_t edit_distance(const char *a, size_t la, const char *b)
{
    size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
    size_t lb = strlen(b);
    size_t i = 0, j = 0;

    if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
        return SIZE_MAX;
    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = d[i - 1][j - 1] + cost;

            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

/* The names among `names` (n of them, NULL entries skipped) closest to
 * the typed one, written as " did you mean PREFIXa or PREFIXb?" into buf;
 * "" when none is close. Close: the typed name is the start of exactly
 * one name, or at most 2 edits away and the edits are at most half its
 * length (so that "ab" is not taken for "qps"). */
static const char *suggest_among(const char *const *names, size_t n,
                                 const char *typed, size_t len,
                                 const char *prefix, char *buf, size_t bufsz)
{
    size_t best = SIZE_MAX, hits = 0, i = 0, o = 0;
    const char *prefixed = NULL;
    int w = 0;

    buf[0] = '\0';
    if (len == 0)
        return buf;
    for (i = 0; i < n; i++) {
        if (names[i] && strncmp(names[i], typed, len) == 0 &&
            strlen(names[i]) > len)
            prefixed = prefixed ? "" : names[i];
    }
    if (prefixed && prefixed[0]) {
        snprintf(buf, bufsz, "; did you mean %s%s?", prefix, prefixed);
        return buf;
    }
    for (i = 0; i < n; i++) {
        size_t d = names[i] ? edit_distance(typed, len, names[i]) : SIZE_MAX;

        if (d < best)
            best = d;
    }
    if (best > 2 || best * 2 > len)
        return buf;
    w = snprintf(buf, bufsz, "; did you mean");
    o = w > 0 ? (size_t)w : 0;
    for (i = 0; i < n && hits < 3 && o < bufsz; i++) {
        if (names[i] == NULL || edit_distance(typed, len, names[i]) != best)
            continue;
        w = snprintf(buf + o, bufsz - o, "%s %s%s", hits ? " or" : "", prefix,
                     names[i]);
        o += w > 0 ? (size_t)w : 0;
        hits++;
    }
    if (o < bufsz)
        snprintf(buf + o, bufsz - o, "?");
    return buf;
}

/* "; did you mean --X?" for a mistyped long option, else "". Options
 * beyond the first SUGGEST_NAMES rows are not suggested. */
#define SUGGEST_NAMES 128
static const char *suggest(const char *name, size_t len, char *buf,
                           size_t bufsz)
{
    const char *names[SUGGEST_NAMES];
    size_t i = 0, n = orch_options_count();

    if (n > SUGGEST_NAMES)
        n = SUGGEST_NAMES;
    for (i = 0; i < n; i++) {
        const struct orch_option *o = orch_option_at(i);

        names[i] = orch_option_is_secret(o) || (o->flags & ORCH_OPT_NO_ARGV)
                       ? NULL
                       : o->name;
    }
    return suggest_among(names, n, name, len, "--", buf, bufsz);
}

static int positional(struct orch_config *cfg, const char *arg, int *npos,
                      struct orch_diag *diag)
{
    char hint[128];
    size_t i = 0;

    if (*npos == 0) {
        (*npos)++;
        if (strcmp(arg, "help") == 0) {
            cfg->help = true;
            return 0;
        }
        for (i = 1; i < sizeof(command_names) / sizeof(command_names[0]); i++) {
            if (strcmp(arg, command_names[i]) == 0) {
                cfg->command = (enum orch_command)i;
                return 0;
            }
        }
        return orch_diag_set(diag, ORCH_EINVAL,
                             "unknown command \"%s\"%s (expected run, plan, "
                             "resume, status or cancel; try --help)",
                             arg,
                             suggest_among(command_names + 1,
                                           sizeof(command_names) /
                                                   sizeof(command_names[0]) -
                                               1,
                                           arg, strlen(arg), "", hint,
                                           sizeof(hint)));
    }
    if (*npos == 1 && cfg->inventory_path == NULL && !cfg->help) {
        (*npos)++;
        return orch_str_set(&cfg->inventory_path, arg);
    }
    return orch_diag_set(diag, ORCH_EINVAL,
                         "unexpected argument \"%s\" (one INVENTORY.csv at "
                         "most)",
                         arg);
}

/* True when `next` should not be taken as a value: it is another long
 * option, which means the value was forgotten. */
static bool is_long_option(const char *next)
{
    return next[0] == '-' && next[1] == '-' && next[2] != '\0';
}

static int long_option(struct orch_config *cfg, int argc, char *const *argv,
                       int *ip, struct orch_diag *diag)
{
    const char *arg = argv[*ip] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct orch_option *o = orch_option_find(arg, len);
    const char *value = eq ? eq + 1 : NULL;
    char hint[160];

    if (o == NULL && looks_secret(arg, len))
        return orch_diag_set(diag, ORCH_EINVAL, "--%.*s: %s", (int)len, arg,
                             orch_option_secret_advice);
    if (o == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "unknown option --%.*s%s (try --help)", (int)len,
                             arg, suggest(arg, len, hint, sizeof(hint)));
    if (orch_option_is_secret(o))
        return orch_option_set(cfg, o, NULL, diag);
    if (!orch_option_takes_value(o)) {
        if (value)
            return orch_diag_set(diag, ORCH_EINVAL, "--%s takes no value",
                                 o->name);
        return orch_option_set(cfg, o, NULL, diag);
    }
    if (value == NULL) {
        if (*ip + 1 >= argc || is_long_option(argv[*ip + 1]))
            return orch_diag_set(diag, ORCH_EINVAL, "--%s needs a value (%s)",
                                 o->name, o->metavar);
        value = argv[++*ip];
    }
    return orch_option_set(cfg, o, value, diag);
}

static int short_option(struct orch_config *cfg, int argc, char *const *argv,
                        int *ip, struct orch_diag *diag)
{
    const char *arg = argv[*ip];
    const struct orch_option *o = orch_option_find_short(arg[1]);
    const char *value = NULL;

    if (o == NULL)
        return orch_diag_set(diag, ORCH_EINVAL,
                             "unknown option -%c (try --help)", arg[1]);
    if (!orch_option_takes_value(o)) {
        if (arg[2] != '\0')
            return orch_diag_set(diag, ORCH_EINVAL,
                                 "-%c takes no value (give options one by "
                                 "one)",
                                 arg[1]);
        return orch_option_set(cfg, o, NULL, diag);
    }
    if (arg[2] != '\0') {
        value = arg + 2;
    } else {
        if (*ip + 1 >= argc)
            return orch_diag_set(diag, ORCH_EINVAL, "-%c needs a value (%s)",
                                 arg[1], o->metavar);
        value = argv[++*ip];
    }
    return orch_option_set(cfg, o, value, diag);
}

int orch_cli_parse(struct orch_config *cfg, int argc, char *const *argv,
                   struct orch_diag *diag)
{
    int npos = 0;
    int i = 0;
    int rc = 0;
    bool only_positional = false;

    for (i = 1; i < argc && rc == 0; i++) {
        const char *arg = argv[i];

        if (only_positional || arg[0] != '-' || arg[1] == '\0')
            rc = positional(cfg, arg, &npos, diag);
        else if (strcmp(arg, "--") == 0)
            only_positional = true;
        else if (arg[1] == '-')
            rc = long_option(cfg, argc, argv, &i, diag);
        else
            rc = short_option(cfg, argc, argv, &i, diag);
    }
    if (rc == ORCH_ENOMEM)
        orch_diag_set(diag, rc, "out of memory");
    return rc;
}

/* Prints `text` wrapped at 79 columns, indented by `indent`, the first line
 * starting at column `col`. */
static void wrap(FILE *fp, const char *text, int col, int indent)
{
    const char *p = text;

    while (*p) {
        const char *w = p;
        int wl = 0;

        while (*w == ' ')
            w++;
        while (w[wl] && w[wl] != ' ')
            wl++;
        if (wl == 0)
            break;
        if (col > indent && col + 1 + wl > 79) {
            fprintf(fp, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', fp);
            col++;
        } else {
            fprintf(fp, "%*s", indent - col, "");
            col = indent;
        }
        fprintf(fp, "%.*s", wl, w);
        col += wl;
        p = w + wl;
    }
    fputc('\n', fp);
}

void orch_cli_help(FILE *fp)
{
    size_t i = 0;

    fputs("Usage:\n"
          "  ota-rollout run INVENTORY.csv --firmware-id FW [--product-key PK]"
          " [options]\n"
          "  ota-rollout plan INVENTORY.csv --firmware-id FW [--product-key "
          "PK] [options]\n"
          "  ota-rollout run --target ALL|GRAY --product-key PK --firmware-id "
          "FW\n"
          "                  --src-version VER [--gray-percent PCT] "
          "[options]\n"
          "  ota-rollout status REPORT.csv [--watch [--interval DUR]] "
          "[--json]\n"
          "                     [--devices FILE] [options]\n"
          "  ota-rollout cancel REPORT.csv [--in-progress] [--yes]\n"
          "  ota-rollout resume REPORT.csv [--yes] [options]\n"
          "\n"
          "Creates CreateOTAStaticUpgradeJob batches of up to 200 devices on "
          "Alibaba\n"
          "Cloud IoT Platform for every device of the inventory, at most 20 "
          "calls a\n"
          "second, and writes one report row per batch.\n"
          "\n"
          "Commands:\n"
          "  run     read, check and chunk the inventory, ask, then create "
          "the jobs\n"
          "  plan    everything up to the first call: prints the plan and "
          "the first\n"
          "          request's parameters; sends nothing, needs no "
          "credentials\n"
          "  status  task counts, failure reasons and job states of every "
          "job of a\n"
          "          REPORT.csv (--watch, --devices FILE, --json)\n"
          "  cancel  cancel the queued, notified and scheduled tasks of "
          "every job of a\n"
          "          REPORT.csv (--in-progress: running ones too); "
          "journaled, rerunnable\n"
          "  resume  continue the interrupted run of REPORT.csv from its "
          "journal\n"
          "          (same as run ... --resume; options given override "
          "the journal's)\n",
          fp);
    for (i = 0; i < orch_options_count(); i++) {
        const struct orch_option *o = orch_option_at(i);
        char head[64];
        int col = 0;

        if (o->help == NULL)
            continue;
        if (o->section)
            fprintf(fp, "\n%s:\n", o->section);
        if (o->letter)
            col = snprintf(head, sizeof(head), "  -%c, --%s%s%s", o->letter,
                           o->name, o->metavar ? " " : "",
                           o->metavar ? o->metavar : "");
        else
            col = snprintf(head, sizeof(head), "  --%s%s%s", o->name,
                           o->metavar ? " " : "", o->metavar ? o->metavar : "");
        fputs(head, fp);
        if (col > 28) {
            fputc('\n', fp);
            col = 0;
        }
        wrap(fp, o->help, col, 30);
    }
    fputs("\n"
          "Environment:\n"
          "  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET\n"
          "                     the AccessKey (never pass it as an "
          "argument)\n"
          "  ALIBABA_CLOUD_SECURITY_TOKEN\n"
          "                     STS token, with an STS AccessKey\n"
          "  ALIBABA_CLOUD_PROFILE\n"
          "                     aliyun CLI profile when the variables above "
          "are unset\n"
          "                     (default: the file's \"current\" profile)\n"
          "  ALIBABA_CLOUD_REGION_ID\n"
          "                     default for --region\n"
          "\n"
          "Exit codes:\n",
          fp);
    fprintf(fp,
            "  %d  every chunk created; status: the rollout is complete "
            "(every device\n"
            "     upgraded or already on the target version)\n"
            "  %d  some chunks failed or were not sent (the report says "
            "which); --wait\n"
            "     without --waves: some tasks FAILED or were CANCELED; "
            "status: the rollout\n"
            "     is not complete (devices failed, not sent, or tasks not "
            "SUCCEEDED yet)\n"
            "  %d  usage or configuration error, or a firmware refused by "
            "the pre-flight\n"
            "     (nothing sent)\n"
            "  %d  inventory invalid (nothing sent)\n"
            "  %d  run aborted (credentials rejected, repeated identical "
            "fatal errors,\n"
            "     \"no\" at the confirmation, or interrupted)\n"
            "  %d  rollout aborted by a wave's health gate (its tasks that "
            "had not\n"
            "     started were cancelled; later waves not created)\n"
            "  %d  paused: a wave's gate timed out, or later scheduled "
            "waves wait for\n"
            "     the 7-day horizon; continue with --resume\n",
            ORCH_EXIT_OK, ORCH_EXIT_PARTIAL, ORCH_EXIT_USAGE,
            ORCH_EXIT_INVENTORY, ORCH_EXIT_ABORTED, ORCH_EXIT_GATE,
            ORCH_EXIT_PAUSED);
}

void orch_cli_version(FILE *fp)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

    fprintf(fp, "ota-rollout %s\n", ORCH_VERSION);
    fprintf(fp, "libcurl %s (%s)\n", cv->version,
            cv->ssl_version ? cv->ssl_version : "no TLS");
    fprintf(fp, "%s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(fp, "libcsv %d.%d.%d\n", CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
    fprintf(fp, "jansson %s\n", jansson_version_str());
}
