/* options.h - the one option table: every option of ota-rollout is one
 * row, and that row drives everything done with the option.
 *
 * A row says: the long name (also the option's key in the journal), the
 * short letter, the value type (which parses the text and carries the
 * journal encoding), where the value lives in struct orch_config, the
 * metavar, the --help text and section, the commands that read it, and
 * how far the value travels: into the run's identity (journal "shape",
 * compared on resume), into the run's other settings (journal "options",
 * restored by `resume REPORT`), or this invocation only.
 *
 * Users of the table:
 *   - cli.c: parsing (orch_option_find, orch_option_set), --help and its
 *     did-you-mean suggestions, and so the man-page check, which reads
 *     --help;
 *   - resume.c: the run record's "shape" and "options" objects
 *     (orch_options_journal), the identity comparison (which compares the
 *     "shape" objects), and `resume REPORT` (orch_options_restore, then
 *     orch_options_overlay for what the command line gives).
 * Adding an option: one row in options.c (a new kind of value: one value
 * type in optvalue.c), plus the code that uses its field; the round-trip
 * test (tests/unit/model/test_options.c) asks for a sample value for
 * every row.
 *
 * Defaults are those of orch_config_init(): a value "is set" when it
 * differs from a freshly initialised config. Range and combination rules
 * are orch_config_validate()'s, not the parsers'.
 *
 * The table is static and read-only: every returned row pointer lives as
 * long as the program. Thread-safe apart from what orch_config_* are.
 */
#ifndef ORCH_OPTIONS_H
#define ORCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct orch_config;
struct orch_diag;
/* A value type: its parser and journal codec (optvalue.h). */
struct orch_opt_kind;

/* How far a value travels (struct orch_option.flags): every row but the
 * refused secrets has exactly one of SHAPE, RUN and INVOCATION. */
/* Journaled under "shape": decides the chunks or every Create call; a
 * change on resume is reported and refused. */
#define ORCH_OPT_SHAPE 0x01u
/* Journaled under "options": restored by `resume REPORT`, free to change
 * between a run and its resume. */
#define ORCH_OPT_RUN 0x02u
/* The journal key is written only when the value differs from its
 * default, so that journals written before the option existed still
 * compare equal for runs without it. */
#define ORCH_OPT_WHEN_SET 0x04u
/* About this invocation only: never journaled (--insecure must be asked
 * for again on every run); `resume REPORT` takes the command line's
 * value (its report stays the positional argument, whatever --report
 * says). */
#define ORCH_OPT_INVOCATION 0x08u
/* A journaled setting that is not a command-line option. */
#define ORCH_OPT_NO_ARGV 0x10u

/* The commands that read an option (struct orch_option.cmds). It
 * documents the option; parsing takes every option for every command,
 * and orch_config_validate() refuses the combinations that matter. */
#define ORCH_OPT_FOR_RUN 0x01u /* run and resume */
#define ORCH_OPT_FOR_PLAN 0x02u
#define ORCH_OPT_FOR_STATUS 0x04u
#define ORCH_OPT_FOR_CANCEL 0x08u
#define ORCH_OPT_FOR_ALL 0x0fu

struct orch_option {
    const char *name; /* long name without "--"; its journal key */
    char letter;      /* short option, 0: none */
    const struct orch_opt_kind *kind;
    size_t offset;       /* of its field in struct orch_config */
    const char *metavar; /* the value's name in --help, NULL for flags */
    const char *help;    /* NULL: not listed in --help */
    const char *section; /* non-NULL: starts a --help section */
    unsigned cmds;       /* ORCH_OPT_FOR_* */
    unsigned flags;      /* ORCH_OPT_* */
    unsigned jorder;     /* 1-based place of its key in the journal
                            object (keeps run records byte-identical to
                            those written before this table); 0: none */
};

/* The text that refuses a secret on the command line. */
extern const char orch_option_secret_advice[];

/* The rows in --help order: orch_option_at(i) for i < orch_options_count().
 * Includes rows not on the command line and the refused secrets. */
size_t orch_options_count(void);
const struct orch_option *orch_option_at(size_t i);

/* The command-line row whose long name is name[0..len) (secrets
 * included, ORCH_OPT_NO_ARGV rows not), or NULL. No prefix matching. */
const struct orch_option *orch_option_find(const char *name, size_t len);
/* The row of short option -letter, or NULL. */
const struct orch_option *orch_option_find_short(char letter);

/* True for a row that takes a value ("--opt VALUE"); false for flags and
 * secrets. */
bool orch_option_takes_value(const struct orch_option *o);
/* True for a name refused because it would carry a secret. */
bool orch_option_is_secret(const struct orch_option *o);

/* Converts value (NULL for a flag) by the row's type and stores it in
 * cfg: a string is copied, a list (--firmware, --src-version) grows, any
 * other value replaces the one before. Returns 0, ORCH_EINVAL with diag
 * naming the option ("--retry-count: \"x\" is not a whole number"; a
 * secret: "--secret: <advice>", the value never echoed) or ORCH_ENOMEM
 * (diag untouched). */
int orch_option_set(struct orch_config *cfg, const struct orch_option *o,
                    const char *value, struct orch_diag *diag);

/* True when the row's value in cfg differs from its default (a string
 * or a list: given at all). Secrets: false. */
bool orch_option_is_set(const struct orch_config *cfg,
                        const struct orch_option *o);

/* The journal object of one scope (ORCH_OPT_SHAPE or ORCH_OPT_RUN): every
 * row of that scope, keyed by name, in jorder, with the encodings the
 * journal has always had (unset strings and API values null, a
 * ORCH_OPT_WHEN_SET key only when set). New reference; NULL on ENOMEM. */
json_t *orch_options_journal(const struct orch_config *cfg, unsigned scope);

/* Reads the journaled rows back from a run record's "shape" and "options"
 * objects (either may be NULL) into cfg, which the caller set up with
 * orch_config_init(). A missing key or one of another JSON type leaves
 * the default. Returns 0 or ORCH_ENOMEM; cfg stays valid to clean up. */
int orch_options_restore(struct orch_config *cfg, const json_t *shape,
                         const json_t *options);

/* `resume REPORT`: the command line (cmd, as cli.c filled it) over the
 * journal's config (dst). A journaled value wins when the command line
 * set it; an ORCH_OPT_INVOCATION value is always the command line's.
 * Owned values move from cmd to dst (cmd stays valid to clean up). */
void orch_options_overlay(struct orch_config *dst, struct orch_config *cmd);

#endif
