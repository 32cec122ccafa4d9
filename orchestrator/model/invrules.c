/* invrules.c - the DeviceName rule and the texts that tell an invalid
 * inventory row (invrules.h). */
#include "orch/model/invrules.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Letters, digits and - _ @ . : (the platform's DeviceName alphabet). */
static const char *const NAME_EXTRA = "-_@.:";

static const char *const SCIENTIFIC =
    "looks like a number a spreadsheet turned into scientific notation; "
    "format the column as Text and export again";

static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr(NAME_EXTRA, c) != NULL);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Skips a run of digits; true if there was at least one. */
static bool skip_digits(const char **p)
{
    const char *start = *p;

    while (is_digit(**p))
        (*p)++;
    return *p != start;
}

/* True for what a spreadsheet makes of a long number: 8.6E+14, 1E+15,
 * 8.61234E14. A sign or a decimal point is required, so that a plain name
 * such as "1E10" is not taken for one. */
static bool looks_scientific(const char *s)
{
    const char *p = s;
    bool point = false, sign = false;

    if (!is_digit(*p))
        return false;
    p++;
    if (*p == '.') {
        point = true;
        p++;
        if (!skip_digits(&p))
            return false;
    }
    if (*p != 'E' && *p != 'e')
        return false;
    p++;
    if (*p == '+' || *p == '-') {
        sign = true;
        p++;
    }
    if (!skip_digits(&p))
        return false;
    return *p == '\0' && (point || sign);
}

const char *orch_device_name_problem(const char *name)
{
    static bool table_ready;
    static bool ok[256];
    const unsigned char *p = NULL;
    size_t len = 0;
    unsigned c = 0;

    if (!table_ready) {
        /* Idempotent, so a race between threads only repeats the work. */
        for (c = 0; c < 256; c++)
            ok[c] = is_name_char((unsigned char)c);
        table_ready = true;
    }
    if (name == NULL || name[0] == '\0')
        return "is empty";
    for (p = (const unsigned char *)name; ok[*p]; p++)
        ;
    len = (size_t)(p - (const unsigned char *)name);
    if (*p != '\0') {
        if (looks_scientific(name))
            return SCIENTIFIC;
        return "contains a character other than letters, digits and "
               "- _ @ . :";
    }
    if (len < ORCH_DEVICE_NAME_MIN)
        return "is shorter than 4 characters";
    if (len > ORCH_DEVICE_NAME_MAX)
        return "is longer than 32 characters";
    if (looks_scientific(name))
        return SCIENTIFIC;
    return NULL;
}

void orch_invrules_reason(char *out, size_t outsz, const char *field,
                          const char *problem)
{
    snprintf(out, outsz, "%s %s", field, problem);
}

void orch_invrules_show_value(char *out, size_t outsz, const char *s,
                              size_t len, bool cut)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    const size_t limit = outsz > 8 ? outsz - 8 : 0; /* room for "..." */

    for (i = 0; i < len && o < limit; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    if (i < len || cut) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

void orch_inventory_problem_format(char *out, size_t outsz, const char *file,
                                   const struct orch_inventory_problem *p)
{
    snprintf(out, outsz, "%s:%" PRIu32 ": \"%s\": %s", file, p->line, p->value,
             p->reason);
}
