/* cmddoc.c - a command's closing --json document (cmddoc.h). */
#include "orch/base/cmddoc.h"

#include "orch/base/clock.h"
#include "orch/base/exitcode.h"
#include "orch/base/jsonout.h"
#include "orch/base/msgs.h"

int orch_cmddoc_deliver(json_t *doc, const char *command, int code,
                        const char *reason, FILE *doc_fp, FILE *event_fp)
{
    if (doc == NULL) {
        /* Still one document: the shared part needs almost no memory. */
        doc = orch_jsonout_doc(command, code, reason);
    }
    if (orch_jsonout_deliver(doc, doc_fp, event_fp, orch_wall_ms()) != 0) {
        orch_errorf("writing the JSON document failed");
        if (code == ORCH_EXIT_OK)
            code = ORCH_EXIT_USAGE;
    }
    json_decref(doc);
    return code;
}

bool orch_cmddoc_wanted(bool json)
{
    return json || orch_msgs_json();
}

int orch_cmddoc_emit(json_t *doc, const char *command, int code,
                     const char *reason, bool json)
{
    FILE *doc_fp = json ? stdout : NULL;
    FILE *event_fp = orch_msgs_json() ? stderr : NULL;

    return orch_cmddoc_deliver(doc, command, code, reason, doc_fp, event_fp);
}
