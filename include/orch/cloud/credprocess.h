/* credprocess.h - the config.json `External` mode: run the profile's
 * process_command and read its standard output as a profile JSON.
 *
 * process_command is split into argv here, never by a shell (no variable
 * expansion, globbing, pipes, redirections, `;` or `&&`: such characters
 * are plain characters of an argument). The rules are the POSIX shell's
 * quoting subset that the aliyun CLI applies on Unix (config/
 * command_split.go): blanks separate arguments; 'single quotes' keep
 * everything literally; inside "double quotes" a backslash escapes only
 * " \ $ ` and newline; outside quotes a backslash escapes the next
 * character; "" or '' gives an empty argument. `prog 'a b' c` is three
 * arguments: prog, "a b", c.
 *
 * The command runs with posix_spawnp (PATH search, the environment
 * inherited), standard input /dev/null, in a process group of its own.
 * Its standard error is discarded, never echoed, even when it fails: it
 * may hold a secret, and nothing the command writes may reach our output;
 * run the command by hand to see its messages. Standard output is read up
 * to a size limit within a timeout; past either, the process group is
 * killed.
 *
 * The answer: a JSON object with access_key_id and access_key_secret,
 * sts_token (required when "mode" is "StsToken"; used whenever present),
 * "mode" optional ("AK" or "StsToken"), and an optional `expiration`: an
 * RFC 3339 time with its zone (credentials-go's External provider parses
 * "2006-01-02T15:04:05Z"), or epoch seconds (a JSON integer or a string of
 * digits). Without it the credentials do not expire (expires_ms = -1).
 */
#ifndef ORCH_CREDPROCESS_H
#define ORCH_CREDPROCESS_H

#include <stddef.h>

#include "orch/cloud/credsource.h"

struct orch_diag;

#define ORCH_CREDPROCESS_TIMEOUT_MS 10000
#define ORCH_CREDPROCESS_MAX_OUT (64 * 1024)

/* Splits cmd into a NULL-terminated, malloced argv (*argv; free it with
 * orch_credprocess_argv_free). Returns 0, or ORCH_ECONFIG naming `what`
 * (e.g. `profile "ci" (FILE): process_command`) for an empty command, an
 * unclosed quote or a trailing backslash; ORCH_ENOMEM. */
int orch_credprocess_split(const char *cmd, char ***argv, const char *what,
                           struct orch_diag *diag);
void orch_credprocess_argv_free(char **argv);

/* Runs src->argv (src->kind ORCH_CRED_PROCESS) and fills out from its
 * answer (out->cred.source = src->label; fetched_ms = now). Returns 0, or
 * ORCH_ECRED with diag naming the program (argv[0]'s base name only, never
 * its arguments nor anything it printed): it could not start, exited
 * non-zero or was killed, timed out, wrote more than the limit, or its
 * answer is not a usable profile JSON or has already expired; ORCH_ENOMEM.
 * Blocking; thread-safe for distinct out. orch_credprocess_fetch() uses
 * ORCH_CREDPROCESS_TIMEOUT_MS and ORCH_CREDPROCESS_MAX_OUT;
 * orch_credprocess_fetch_limits() takes them (tests). */
int orch_credprocess_fetch(const struct orch_credsource *src,
                           struct orch_credset *out, struct orch_diag *diag);
int orch_credprocess_fetch_limits(const struct orch_credsource *src,
                                  int timeout_ms, size_t max_out,
                                  struct orch_credset *out,
                                  struct orch_diag *diag);

#endif
