/* test_invcols.c - the inventory's named columns without the CSV reader:
 * header matching, the --where filters' verdict and counts, the values
 * each kept row and each settled device hold, and the messages
 * (invcols.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/invcols.h"
#include "orch/model/invfilter.h"
#include "orch/model/invheader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A load's named-column side, fed cell by cell as the loader does. */
struct fixture {
    struct orch_where where[2];
    size_t nwhere;
    const char *column[ORCH_INV_NKEYS];
    const char *option[ORCH_INV_NKEYS];
    struct orch_invheader header;
    struct orch_invcols cols;
    struct orch_inventory_key keys[ORCH_INV_NKEYS];
    size_t filtered;
    size_t where_kept[ORCH_WHERE_MAX];
    struct orch_diag d;
};

static void add_filter(struct fixture *fx, const char *text)
{
    struct orch_diag d = {{0}};

    assert_int_equal(orch_where_parse(text, &fx->where[fx->nwhere], &d), 0);
    fx->nwhere++;
}

/* Calls fn for each cell of row (cells separated by ','). */
static void each_cell(struct fixture *fx, const char *row,
                      void (*fn)(struct fixture *, size_t, const char *,
                                 size_t))
{
    const char *p = row;
    size_t col = 0, len = 0;

    for (col = 0;; col++, p += len + 1) {
        len = strcspn(p, ",");
        fn(fx, col, p, len);
        if (p[len] == '\0')
            break;
    }
}

/* A header cell goes to both header readers, as the loader does. */
static void header_cell(struct fixture *fx, size_t col, const char *s,
                        size_t len)
{
    orch_invheader_field(&fx->header, col, s, len);
    orch_invcols_header_cell(&fx->cols, col, s, len);
}

static void data_cell(struct fixture *fx, size_t col, const char *s, size_t len)
{
    orch_invcols_cell(&fx->cols, col, s, len);
}

static void header_row(struct fixture *fx, const char *row)
{
    each_cell(fx, row, header_cell);
}

static void data_row(struct fixture *fx, const char *row)
{
    orch_invcols_row_start(&fx->cols);
    each_cell(fx, row, data_cell);
}

/* Sets the load up from fx's filters and columns and reads the header
 * row (NULL: none). */
static void start(struct fixture *fx, const char *header)
{
    struct orch_diag d = {{0}};

    assert_int_equal(orch_invcols_init(&fx->cols, fx->where, fx->nwhere,
                                       fx->column, fx->option, &d),
                     0);
    orch_invheader_init(&fx->header);
    if (header)
        header_row(fx, header);
}

/* Feeds a data row and asks whether the filters keep it. */
static bool selected(struct fixture *fx, const char *row)
{
    data_row(fx, row);
    return orch_invcols_row_selected(&fx->cols, &fx->filtered, fx->where_kept);
}

/* Feeds a data row on line and keeps its values as a device's. */
static int keep(struct fixture *fx, const char *row, uint32_t line,
                struct orch_diag *d)
{
    data_row(fx, row);
    return orch_invcols_keep_row(&fx->cols, fx->keys, "f.csv", line, d);
}

static void finish(struct fixture *fx)
{
    size_t k = 0, i = 0;

    orch_invcols_cleanup(&fx->cols);
    for (k = 0; k < ORCH_INV_NKEYS; k++) {
        for (i = 0; i < fx->keys[k].nvalues; i++)
            free(fx->keys[k].values[i]);
        free(fx->keys[k].values);
        free(fx->keys[k].line);
        free(fx->keys[k].of);
    }
    for (i = 0; i < fx->nwhere; i++)
        orch_where_cleanup(&fx->where[i]);
    memset(fx, 0, sizeof(*fx));
}

/* Each fixture test gets a zeroed fixture, finished after it. */
static int setup(void **state)
{
    *state = calloc(1, sizeof(struct fixture));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    finish(*state);
    free(*state);
    return 0;
}

static void cell_keeps_a_prefix_and_the_length(void **state)
{
    struct orch_invcell c;
    char big[ORCH_INVCELL_KEEP + 10];

    (void)state;
    orch_invcell_set(&c, "abc", 3);
    assert_string_equal(c.s, "abc");
    assert_int_equal(c.len, 3);
    memset(big, 'x', sizeof(big));
    orch_invcell_set(&c, big, sizeof(big));
    assert_int_equal(strlen(c.s), ORCH_INVCELL_KEEP);
    assert_int_equal(c.len, sizeof(big));
    orch_invcell_clear(&c);
    assert_string_equal(c.s, "");
    assert_int_equal(c.len, 0);
}

static void too_many_filters_refused(void **state)
{
    struct orch_invcols cols;
    struct orch_diag d = {{0}};

    (void)state;
    assert_int_equal(
        orch_invcols_init(&cols, NULL, ORCH_WHERE_MAX + 1, NULL, NULL, &d),
        ORCH_ECONFIG);
    assert_string_equal(d.msg, "--where: more than 16");
    orch_invcols_cleanup(&cols);
    orch_invcols_cleanup(NULL);
}

/* Columns are named as the header spells them, without case, ' ', '_'
 * and '-'; the first matching column wins. */
static void header_names_matched_loosely(void **state)
{
    struct fixture *fx = *state;

    add_filter(fx, "site=Berlin");
    fx->column[ORCH_INV_KEY_WAVE] = "Wave No";
    start(fx, "Device Name,SITE,wave_no,Site,Wave-No");
    assert_int_equal(
        orch_invcols_check_header(&fx->cols, &fx->header, "f.csv", 1, &fx->d),
        0);
    assert_int_equal(fx->cols.where_col[0], 1);
    assert_int_equal(fx->cols.key_col[ORCH_INV_KEY_WAVE], 2);
    assert_int_equal(fx->cols.key_col[ORCH_INV_KEY_ZONE], -1);
}

static void header_without_the_column(void **state)
{
    struct fixture *fx = *state;

    add_filter(fx, "region=eu");
    start(fx, "DeviceName,Site");
    assert_int_equal(
        orch_invcols_check_header(&fx->cols, &fx->header, "f.csv", 3, &fx->d),
        ORCH_ECSV);
    assert_string_equal(fx->d.msg, "f.csv:3: --where region=eu: the header has "
                                   "no column \"region\" (the columns are "
                                   "\"DeviceName\", \"Site\")");
    finish(fx);

    fx->column[ORCH_INV_KEY_ZONE] = "tz";
    fx->option[ORCH_INV_KEY_ZONE] = "--time-zone-column";
    start(fx, NULL);
    assert_int_equal(
        orch_invcols_check_header(&fx->cols, &fx->header, "f.csv", 1, &fx->d),
        ORCH_ECSV);
    assert_string_equal(fx->d.msg, "f.csv:1: --time-zone-column tz: the header "
                                   "has no such column (the columns are none)");
    finish(fx);

    /* Without an option name the message says "column". */
    fx->column[ORCH_INV_KEY_WAVE] = "w";
    start(fx, "DeviceName,Site");
    assert_int_equal(
        orch_invcols_check_header(&fx->cols, &fx->header, "f.csv", 1, &fx->d),
        ORCH_ECSV);
    assert_non_null(strstr(fx->d.msg, "f.csv:1: column w: the header has no "
                                      "such column"));
}

/* Every filter must keep the row; each counts the rows it keeps of
 * those the filters before it kept, and a row left out counts once. */
static void filters_select_and_count(void **state)
{
    struct fixture *fx = *state;

    add_filter(fx, "Site=Berlin,Hamburg");
    add_filter(fx, "region=eu");
    start(fx, "DeviceName,site,region");
    assert_true(selected(fx, "d1,Berlin,eu"));
    assert_false(selected(fx, "d2,Berlin,us"));
    assert_false(selected(fx, "d3,berlin,eu"));
    assert_true(selected(fx, "d4,Hamburg,eu"));
    assert_int_equal(fx->where_kept[0], 3);
    assert_int_equal(fx->where_kept[1], 2);
    assert_int_equal(fx->filtered, 2);
    assert_int_equal(
        orch_invcols_check_kept(&fx->cols, fx->where_kept, 4, "f.csv", &fx->d),
        0);
}

/* A cell longer than a row keeps never matches, even when its kept
 * prefix would. */
static void long_cell_never_matches(void **state)
{
    char value[ORCH_INVCELL_KEEP + 2];
    char filter[ORCH_INVCELL_KEEP + 16];
    struct fixture *fx = *state;

    memset(value, 'b', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    snprintf(filter, sizeof(filter), "site=%.*s", ORCH_INVCELL_KEEP, value);
    add_filter(fx, filter);
    start(fx, "site");
    assert_false(selected(fx, value));
    value[ORCH_INVCELL_KEEP] = '\0';
    assert_true(selected(fx, value));
}

static void filter_that_keeps_nothing(void **state)
{
    struct fixture *fx = *state;
    size_t kept[ORCH_WHERE_MAX] = {0};

    add_filter(fx, "site=Berlin");
    add_filter(fx, "region=eu");
    start(fx, NULL);
    assert_int_equal(
        orch_invcols_check_kept(&fx->cols, kept, 7, "f.csv", &fx->d),
        ORCH_ECSV);
    assert_string_equal(fx->d.msg,
                        "f.csv: --where site=Berlin keeps no row (of "
                        "7); the values are compared "
                        "case-sensitively; nothing sent");
    kept[0] = 4;
    assert_int_equal(
        orch_invcols_check_kept(&fx->cols, kept, 7, "f.csv", &fx->d),
        ORCH_ECSV);
    assert_string_equal(fx->d.msg,
                        "f.csv: --where region=eu keeps no row (of 4 "
                        "the filters before it kept); the values are "
                        "compared case-sensitively; nothing sent");
}

/* Kept rows give each named column's distinct values (first-seen order
 * and line); one cell may serve a filter and a named column. Settling
 * maps the devices left after duplicates to their rows' values. */
static void values_kept_and_settled(void **state)
{
    struct orch_device dev[3];
    struct fixture *fx = *state;
    const struct orch_inventory_key *w = NULL, *z = NULL;

    memset(dev, 0, sizeof(dev));
    add_filter(fx, "wave=1,2");
    fx->column[ORCH_INV_KEY_WAVE] = "wave";
    fx->column[ORCH_INV_KEY_ZONE] = "tz";
    start(fx, "DeviceName,wave,tz");
    assert_int_equal(keep(fx, "d1,2,Europe/Berlin", 2, &fx->d), 0);
    assert_int_equal(keep(fx, "d2,1,Asia/Shanghai", 3, &fx->d), 0);
    assert_int_equal(keep(fx, "d3,2,Asia/Shanghai", 4, &fx->d), 0);
    assert_true(selected(fx, "d4,1,Europe/Berlin"));
    assert_int_equal(
        orch_invcols_keep_row(&fx->cols, fx->keys, "f.csv", 5, &fx->d), 0);
    w = &fx->keys[ORCH_INV_KEY_WAVE];
    z = &fx->keys[ORCH_INV_KEY_ZONE];
    assert_int_equal(w->nvalues, 2);
    assert_string_equal(w->values[0], "2");
    assert_string_equal(w->values[1], "1");
    assert_int_equal(w->line[0], 2);
    assert_int_equal(w->line[1], 3);
    assert_int_equal(z->nvalues, 2);
    assert_string_equal(z->values[1], "Asia/Shanghai");
    assert_int_equal(z->line[1], 3);

    /* The row on line 3 was a duplicate: three devices are left. */
    dev[0].line = 2;
    dev[1].line = 4;
    dev[2].line = 5;
    assert_int_equal(orch_invcols_settle(&fx->cols, fx->keys, dev, 3, &fx->d),
                     0);
    assert_int_equal(w->of[0], 0);
    assert_int_equal(w->of[1], 0);
    assert_int_equal(w->of[2], 1);
    assert_int_equal(z->of[0], 0);
    assert_int_equal(z->of[1], 1);
    assert_int_equal(z->of[2], 0);
}

static void empty_value_refused(void **state)
{
    struct fixture *fx = *state;

    fx->column[ORCH_INV_KEY_WAVE] = "wave";
    fx->option[ORCH_INV_KEY_WAVE] = "--wave-column";
    start(fx, "DeviceName,wave");
    assert_int_equal(keep(fx, "d1,", 9, &fx->d), ORCH_ECSV);
    assert_string_equal(fx->d.msg, "f.csv:9: column \"wave\" is empty; "
                                   "--wave-column needs a value in every row; "
                                   "nothing sent");
    finish(fx);

    fx->column[ORCH_INV_KEY_ZONE] = "wave";
    start(fx, "DeviceName,wave");
    assert_int_equal(keep(fx, "d1,", 9, &fx->d), ORCH_ECSV);
    assert_non_null(strstr(fx->d.msg, "; the plan needs a value"));
}

/* A new row forgets the previous row's cells. */
static void row_start_clears(void **state)
{
    struct fixture *fx = *state;

    fx->column[ORCH_INV_KEY_WAVE] = "wave";
    start(fx, "DeviceName,wave");
    assert_int_equal(keep(fx, "d1,3", 2, &fx->d), 0);
    assert_int_equal(keep(fx, "d2", 3, &fx->d), ORCH_ECSV);
}

/* A test that takes a fresh struct fixture as *state. */
#define FIXTURE_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cell_keeps_a_prefix_and_the_length),
        cmocka_unit_test(too_many_filters_refused),
        FIXTURE_TEST(header_names_matched_loosely),
        FIXTURE_TEST(header_without_the_column),
        FIXTURE_TEST(filters_select_and_count),
        FIXTURE_TEST(long_cell_never_matches),
        FIXTURE_TEST(filter_that_keeps_nothing),
        FIXTURE_TEST(values_kept_and_settled),
        FIXTURE_TEST(empty_value_refused),
        FIXTURE_TEST(row_start_clears),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
