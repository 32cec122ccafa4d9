/* invheader.c - an inventory's encoding, delimiter and header row
 * (invheader.h). */
#include "orch/model/invheader.h"

#include "orch/base/err.h"
#include "orch/model/invrules.h"

#include <stdio.h>
#include <string.h>

bool orch_invheader_utf16(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    return len >= 2 &&
           ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff));
}

size_t orch_invheader_bom(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    return len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf ? 3 : 0;
}

char orch_invheader_sniff_delimiter(const char *s, size_t len)
{
    size_t i = 0, commas = 0, semis = 0, tabs = 0;
    bool q = false;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"')
            q = !q;
        else if (q)
            continue;
        else if (c == '\n' || c == '\r') {
            if (commas + semis + tabs)
                break;
        } else if (c == ',')
            commas++;
        else if (c == ';')
            semis++;
        else if (c == '\t')
            tabs++;
    }
    if (semis > commas && semis >= tabs)
        return ';';
    if (tabs > commas && tabs > semis)
        return '\t';
    return ',';
}

void orch_invheader_init(struct orch_invheader *h)
{
    memset(h, 0, sizeof(*h));
    h->dn_col = -1;
    h->pk_col = -1;
}

void orch_invheader_key(char *out, size_t outsz, const char *s, size_t len)
{
    size_t o = 0, i = 0;

    for (i = 0; i < len && o + 1 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '_' || c == '-')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Adds the cell to the text a message quotes, while there is room. */
static void remember_cell(struct orch_invheader *h, const char *s, size_t len)
{
    size_t room = sizeof(h->seen) - h->seen_len;
    char shown[48];
    int w = 0;

    if (len == 0 || room <= 1)
        return;
    orch_invrules_show_value(shown, sizeof(shown), s, len, false);
    w = snprintf(h->seen + h->seen_len, room, "%s\"%s\"",
                 h->seen_len ? ", " : "", shown);
    if (w > 0)
        h->seen_len += (size_t)w < room ? (size_t)w : room - 1;
}

void orch_invheader_field(struct orch_invheader *h, size_t col, const char *s,
                          size_t len)
{
    char key[64];

    orch_invheader_key(key, sizeof(key), s, len);
    if (h->dn_col < 0 &&
        (strcmp(key, "devicename") == 0 || strcmp(key, "dn") == 0))
        h->dn_col = (long)col;
    else if (h->pk_col < 0 && strcmp(key, "productkey") == 0)
        h->pk_col = (long)col;
    remember_cell(h, s, len);
}

int orch_invheader_check(const struct orch_invheader *h, const char *file,
                         uint32_t line, const char *default_pk,
                         struct orch_diag *diag)
{
    const char *pk_problem = NULL;

    if (h->dn_col < 0)
        return orch_diag_set(diag, ORCH_ECSV,
                             "%s:%u: the header row has no DeviceName column "
                             "(found %s); the first row must name the "
                             "columns, e.g. DeviceName,ProductKey",
                             file, line, h->seen_len ? h->seen : "nothing");
    if (default_pk)
        pk_problem = orch_product_key_problem(default_pk, strlen(default_pk));
    if (pk_problem)
        return orch_diag_set(diag, ORCH_ECONFIG, "--product-key \"%s\" %s",
                             default_pk, pk_problem);
    if (h->pk_col < 0 && (default_pk == NULL || default_pk[0] == '\0'))
        return orch_diag_set(diag, ORCH_ECONFIG,
                             "%s: no ProductKey column; pass --product-key PK "
                             "or add a ProductKey column",
                             file);
    return 0;
}
