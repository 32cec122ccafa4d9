/* test_options.c - the option table: its rows are consistent, and every
 * row survives the journal (set a value, write the run record's "shape"
 * and "options" as text, read them back into a fresh config) or, when it
 * is not journaled, never appears there; the resume overlay per row; the
 * journal's encoding of a default config, pinned byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/config.h"
#include "orch/model/options.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A value for every row that is not its default. A row added to the table
 * without one here fails every test below. */
static const struct {
    const char *name;
    const char *value; /* NULL: a flag */
} samples[] = {
    {"firmware-id", "FW9"},
    {"product-key", "PK9"},
    {"firmware", "PKX=FWX"},
    {"target", "GRAY"},
    {"src-version", "1.2.3"},
    {"gray-percent", "12.5"},
    {"schedule-time", "1893456000000"},
    {"schedule-finish-time", "1893546000000"},
    {"retry-interval", "10"},
    {"retry-count", "2"},
    {"timeout-minutes", "30"},
    {"max-per-minute", "100"},
    {"overwrite-mode", "2"},
    {"no-job-tag", NULL},
    {"endpoint", "http://127.0.0.1:9"},
    {"region", "cn-beijing"},
    {"iot-instance-id", "iot-9"},
    {"profile", "prof"},
    {"ca-bundle", "/ca.pem"},
    {"insecure", NULL},
    {"skip-preflight", NULL},
    {"check-devices", NULL},
    {"preflight", NULL},
    {"delimiter", ";"},
    {"skip-invalid", NULL},
    {"report", "r.csv"},
    {"force", NULL},
    {"yes", NULL},
    {"no-progress", NULL},
    {"verbose", NULL},
    {"json", NULL},
    {"log-format", "json"},
    {"resume", NULL},
    {"qps", "7.5"},
    {"force-qps", NULL},
    {"query-qps", "3"},
    {"max-in-flight", "9"},
    {"max-attempts", "4"},
    {"chunk-size", "50"},
    {"signature-version", "2"},
    {"request-timeout", "45s"},
    {"fatal-streak", "5"},
    {"watch", NULL},
    {"interval", "3s"},
    {"devices", "d.csv"},
    {"in-progress", NULL},
    {"waves", "1%,100%"},
    {"success-threshold", "95%"},
    {"failure-threshold", "10%"},
    {"min-decided", "4"},
    {"wave-timeout", "2h"},
    {"wave-interval", "15m"},
    {"window", "02:00-05:00"},
    {"time-zone", "Europe/Berlin"},
    {"time-zone-column", "site_tz"},
    {"wave-cut", "exact"},
    {"wave-column", "wave"},
    {"wave-order", "canary,rest"},
    {"where", "site=Berlin,Hamburg"},
    {"poll-interval", "20s"},
    {"wait", NULL},
    {"help", NULL},
    {"version", NULL},
};

static bool journaled(const struct orch_option *o)
{
    return (o->flags & (ORCH_OPT_SHAPE | ORCH_OPT_RUN)) != 0;
}

/* Sets row o to its sample value. */
static void set_sample(struct orch_config *cfg, const struct orch_option *o)
{
    struct orch_diag diag = {{0}};
    size_t i = 0;

    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        if (strcmp(samples[i].name, o->name) == 0) {
            if (orch_option_set(cfg, o, samples[i].value, &diag) != 0)
                fail_msg("--%s %s: %s", o->name, samples[i].value, diag.msg);
            if (!orch_option_is_set(cfg, o))
                fail_msg("--%s: the sample is the default", o->name);
            return;
        }
    }
    fail_msg("--%s: no sample value in test_options.c", o->name);
}

/* The "shape" and "options" objects of cfg as the journal has them: text
 * (a compact JSON line), parsed back. */
static json_t *journal_text(const struct orch_config *cfg, unsigned scope,
                            char **text)
{
    json_t *obj = orch_options_journal(cfg, scope);
    json_t *back = NULL;

    assert_non_null(obj);
    *text = json_dumps(obj, JSON_COMPACT);
    assert_non_null(*text);
    back = json_loads(*text, 0, NULL);
    assert_non_null(back);
    json_decref(obj);
    return back;
}

static void table_is_consistent(void **state)
{
    size_t n = orch_options_count();
    unsigned places[2][64] = {{0}};
    size_t i = 0, j = 0;

    (void)state;
    assert_true(n > 0);
    assert_null(orch_option_at(n));
    for (i = 0; i < n; i++) {
        const struct orch_option *o = orch_option_at(i);
        unsigned scope = o->flags & (ORCH_OPT_SHAPE | ORCH_OPT_RUN);

        for (j = 0; j < i; j++) {
            assert_string_not_equal(o->name, orch_option_at(j)->name);
            if (o->letter)
                assert_int_not_equal(o->letter, orch_option_at(j)->letter);
        }
        if (orch_option_is_secret(o)) {
            assert_null(o->help);
            assert_int_equal(o->flags, 0);
            continue;
        }
        /* Listed in --help unless it is not a command-line option. */
        assert_int_equal(o->help == NULL, (o->flags & ORCH_OPT_NO_ARGV) != 0);
        if (o->help)
            assert_int_equal(o->metavar != NULL, orch_option_takes_value(o));
        assert_int_not_equal(o->cmds, 0);
        /* Exactly one of: the identity, the run's settings, this
         * invocation. */
        assert_true(scope != (ORCH_OPT_SHAPE | ORCH_OPT_RUN));
        assert_int_equal(scope == 0, (o->flags & ORCH_OPT_INVOCATION) != 0);
        if (o->flags & ORCH_OPT_WHEN_SET)
            assert_int_not_equal(scope, 0);
        if (scope == 0) {
            assert_int_equal(o->jorder, 0);
            continue;
        }
        assert_in_range(o->jorder, 1, 63);
        places[scope == ORCH_OPT_RUN][o->jorder]++;
    }
    /* Journal places: 1..k, each once, per object. */
    for (i = 0; i < 2; i++) {
        bool ended = false;

        for (j = 1; j < 64; j++) {
            if (places[i][j] == 0)
                ended = true;
            else
                assert_true(!ended && places[i][j] == 1);
        }
    }
    assert_non_null(orch_option_find("qps", 3));
    assert_null(orch_option_find("qp", 2));
    assert_null(orch_option_find("fatal-streak", 12));
    assert_string_equal(orch_option_find_short('h')->name, "help");
}

/* A config's journal record, written and read back by the round trips:
 * the objects and their texts, owned. */
struct trip {
    json_t *shape, *opts, *shape2, *opts2;
    char *t1, *t2, *t3, *t4;
};

static void trip_free(struct trip *tr)
{
    json_decref(tr->shape);
    json_decref(tr->opts);
    json_decref(tr->shape2);
    json_decref(tr->opts2);
    free(tr->t1);
    free(tr->t2);
    free(tr->t3);
    free(tr->t4);
}

/* Each row alone: a journaled value comes back, an unjournaled one never
 * reaches the journal, and no other row changes. */
static void journal_round_trip_every_row(void **state)
{
    size_t n = orch_options_count();
    size_t i = 0, j = 0;

    (void)state;
    for (i = 0; i < n; i++) {
        const struct orch_option *o = orch_option_at(i);
        struct orch_config cfg, back;
        struct trip tr = {0};

        if (orch_option_is_secret(o))
            continue;
        orch_config_init(&cfg);
        orch_config_init(&back);
        set_sample(&cfg, o);
        tr.shape = journal_text(&cfg, ORCH_OPT_SHAPE, &tr.t1);
        tr.opts = journal_text(&cfg, ORCH_OPT_RUN, &tr.t2);
        assert_int_equal(json_object_get(tr.shape, o->name) != NULL,
                         (o->flags & ORCH_OPT_SHAPE) != 0);
        assert_int_equal(json_object_get(tr.opts, o->name) != NULL,
                         (o->flags & ORCH_OPT_RUN) != 0);
        assert_int_equal(orch_options_restore(&back, tr.shape, tr.opts), 0);
        if (orch_option_is_set(&back, o) != journaled(o))
            fail_msg("--%s: %s after the journal", o->name,
                     journaled(o) ? "lost" : "restored");
        /* The same record again, byte for byte. */
        tr.shape2 = journal_text(&back, ORCH_OPT_SHAPE, &tr.t3);
        tr.opts2 = journal_text(&back, ORCH_OPT_RUN, &tr.t4);
        if (journaled(o)) {
            assert_string_equal(tr.t1, tr.t3);
            assert_string_equal(tr.t2, tr.t4);
        }
        for (j = 0; j < n; j++) {
            const struct orch_option *p = orch_option_at(j);

            if (p != o && orch_option_is_set(&back, p))
                fail_msg("--%s: restoring it set --%s", o->name, p->name);
        }
        trip_free(&tr);
        orch_config_cleanup(&cfg);
        orch_config_cleanup(&back);
    }
}

/* Every row at once (no two rows share a field or a key). */
static void journal_round_trip_all_rows(void **state)
{
    struct orch_config cfg, back;
    struct trip tr = {0};
    size_t i = 0;

    (void)state;
    orch_config_init(&cfg);
    orch_config_init(&back);
    for (i = 0; i < orch_options_count(); i++) {
        if (!orch_option_is_secret(orch_option_at(i)))
            set_sample(&cfg, orch_option_at(i));
    }
    for (i = 0; i < orch_options_count(); i++) {
        if (!orch_option_is_secret(orch_option_at(i)))
            assert_true(orch_option_is_set(&cfg, orch_option_at(i)));
    }
    tr.shape = journal_text(&cfg, ORCH_OPT_SHAPE, &tr.t1);
    tr.opts = journal_text(&cfg, ORCH_OPT_RUN, &tr.t2);
    assert_int_equal(orch_options_restore(&back, tr.shape, tr.opts), 0);
    tr.shape2 = journal_text(&back, ORCH_OPT_SHAPE, &tr.t3);
    tr.opts2 = journal_text(&back, ORCH_OPT_RUN, &tr.t4);
    assert_string_equal(tr.t1, tr.t3);
    assert_string_equal(tr.t2, tr.t4);
    for (i = 0; i < orch_options_count(); i++) {
        const struct orch_option *o = orch_option_at(i);

        if (!orch_option_is_secret(o))
            assert_int_equal(orch_option_is_set(&back, o), journaled(o));
    }
    assert_string_equal(back.fw_map[0].product_key, "PKX");
    assert_string_equal(back.src_versions[0], "1.2.3");
    assert_int_equal(back.wave_interval_ms, 15 * 60000);
    trip_free(&tr);
    orch_config_cleanup(&cfg);
    orch_config_cleanup(&back);
}

/* The encoding of a default config, as journals have always had it (keys,
 * order, nulls; --waves and --wave-interval absent). */
static void journal_encoding_pinned(void **state)
{
    struct orch_config cfg;
    json_t *shape = NULL, *opts = NULL;
    char *t1 = NULL, *t2 = NULL;

    (void)state;
    orch_config_init(&cfg);
    shape = journal_text(&cfg, ORCH_OPT_SHAPE, &t1);
    opts = journal_text(&cfg, ORCH_OPT_RUN, &t2);
    assert_string_equal(
        t1, "{\"target\":\"SPECIFIC\",\"chunk-size\":200,\"product-key\":null,"
            "\"firmware-id\":null,\"firmware\":{},\"delimiter\":\"\","
            "\"skip-invalid\":false,\"src-version\":[],\"gray-percent\":null,"
            "\"schedule-time\":null,\"schedule-finish-time\":null,"
            "\"retry-interval\":null,\"retry-count\":null,"
            "\"timeout-minutes\":null,\"max-per-minute\":null,"
            "\"overwrite-mode\":null,\"iot-instance-id\":null}");
    assert_string_equal(
        t2, "{\"endpoint\":null,\"region\":null,\"signature-version\":3,"
            "\"qps\":20.0,\"force-qps\":false,\"query-qps\":10.0,"
            "\"max-in-flight\":64,\"max-attempts\":6,"
            "\"request-timeout\":30000,\"fatal-streak\":3,"
            "\"no-job-tag\":false,\"ca-bundle\":null,\"profile\":null,"
            "\"success-threshold\":1.0,\"failure-threshold\":0.0,"
            "\"min-decided\":10,\"wave-timeout\":3600000,"
            "\"poll-interval\":10000,\"wait\":false}");
    json_decref(shape);
    json_decref(opts);
    free(t1);
    free(t2);
    orch_config_cleanup(&cfg);
}

/* `resume REPORT --opt`: a journaled value given on the command line wins,
 * an unset one leaves the journal's; an invocation's value is always the
 * command line's; the rest stay as they were. */
static void overlay_every_row(void **state)
{
    size_t i = 0;

    (void)state;
    for (i = 0; i < orch_options_count(); i++) {
        const struct orch_option *o = orch_option_at(i);
        struct orch_config dst, cmd;

        if (orch_option_is_secret(o))
            continue;
        /* Given on the command line. */
        orch_config_init(&dst);
        orch_config_init(&cmd);
        set_sample(&cmd, o);
        orch_options_overlay(&dst, &cmd);
        if (orch_option_is_set(&dst, o) !=
            (journaled(o) || (o->flags & ORCH_OPT_INVOCATION) != 0))
            fail_msg("--%s: overlay of a given value", o->name);
        orch_config_cleanup(&dst);
        orch_config_cleanup(&cmd);
        /* Not given: the journal's value (or, for an invocation's, the
         * command line's default). */
        orch_config_init(&dst);
        orch_config_init(&cmd);
        set_sample(&dst, o);
        orch_options_overlay(&dst, &cmd);
        if (orch_option_is_set(&dst, o) !=
            ((o->flags & ORCH_OPT_INVOCATION) == 0))
            fail_msg("--%s: overlay of a value not given", o->name);
        orch_config_cleanup(&dst);
        orch_config_cleanup(&cmd);
    }
}

static void set_refuses_like_the_command_line(void **state)
{
    struct orch_config cfg;
    struct orch_diag diag = {{0}};

    (void)state;
    orch_config_init(&cfg);
    assert_int_equal(
        orch_option_set(&cfg, orch_option_find("qps", 3), "", &diag),
        ORCH_EINVAL);
    assert_string_equal(diag.msg, "--qps: empty value");
    assert_int_equal(
        orch_option_set(&cfg, orch_option_find("secret", 6), NULL, &diag),
        ORCH_EINVAL);
    assert_non_null(strstr(diag.msg, "--secret: secrets are not accepted"));
    assert_int_equal(
        orch_option_set(&cfg, orch_option_find("chunk-size", 10), "x", &diag),
        ORCH_EINVAL);
    assert_string_equal(diag.msg, "--chunk-size: \"x\" is not a whole number");
    orch_config_cleanup(&cfg);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(table_is_consistent),
    cmocka_unit_test(journal_round_trip_every_row),
    cmocka_unit_test(journal_round_trip_all_rows),
    cmocka_unit_test(journal_encoding_pinned),
    cmocka_unit_test(overlay_every_row),
    cmocka_unit_test(set_refuses_like_the_command_line))
