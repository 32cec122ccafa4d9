/* cli.h - the command line: argv into a struct orch_config, --help and
 * --version.
 *
 * The option table (model/options.h) drives parsing and the --help text
 * (curl's tool_getparam). Parsing only turns text into typed values; the rules
 * about allowed values and combinations are orch_config_validate()'s.
 * Options that look like secrets (--access-key-secret, --secret, ...) are
 * refused without echoing their value: credentials come from the
 * environment or an aliyun CLI profile.
 */
#ifndef ORCH_CLI_H
#define ORCH_CLI_H

#include <stdio.h>

struct orch_config;
struct orch_diag;

/* Parses argv[1..argc-1] into cfg, which the caller has set up with
 * orch_config_init(). Options may come before or after the positional
 * arguments (COMMAND [INVENTORY.csv]); "--" ends the options; both
 * "--opt VALUE" and "--opt=VALUE" work. Repeated options: the last one
 * wins, except --firmware and --src-version, which add to a list.
 * Returns 0 or ORCH_EINVAL with diag naming the option ("--retry-count:
 * \"x\" is not a whole number"). On error cfg may be partly filled; the
 * caller still cleans it up. Sets cfg->help / cfg->version when asked.
 * Never prints. Not thread-safe (reads the environment). */
int orch_cli_parse(struct orch_config *cfg, int argc, char *const *argv,
                   struct orch_diag *diag);

/* Writes the usage text: commands, every option, the environment variables
 * and the exit codes. */
void orch_cli_help(FILE *fp);

/* Writes the program's version and those of libcurl, OpenSSL, libcsv and
 * jansson. */
void orch_cli_version(FILE *fp);

/* "run", "plan", ... ; "" for ORCH_CMD_NONE. */
const char *orch_cli_command_name(int command);

#endif
