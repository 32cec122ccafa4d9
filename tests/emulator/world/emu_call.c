/* emu_call.c - the result of an API call. */
#include "world/emu_call.h"

#include <stddef.h>

void emu_result_cleanup(struct emu_result *r)
{
    if (r == NULL)
        return;
    json_decref(r->body);
    json_decref(r->devices);
    r->body = NULL;
    r->devices = NULL;
}
