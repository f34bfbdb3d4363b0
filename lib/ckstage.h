/*
 * ckstage.h: a stateful stage's side of the checkpoint (checkpoint.h):
 * joining the run named by the header, choosing the stage's name, loading
 * state C, checking batch ids, writing state N at each batch end; and a
 * small reader for the stages' text state format.
 *
 * Calling sequence (scount, swindow):
 *
 *   ckstage_open()      after reading the header, before writing ours:
 *                       the header has @checkpoint=DIR and @run=ID, or
 *                       the stage is not checkpointed (returns 0 and
 *                       every later call is a no-op).  Joins the run,
 *                       takes a name (below), finds C.
 *   ckstage_load()      state/NAME/C with the stage's config string; no
 *                       blob when C = -1.  A missing or damaged file, or
 *                       one made with another config, is an error: a
 *                       stage never starts empty when C >= 0.
 *   ckstage_batch()     at each epoch frame, before acting on it: the
 *                       first batch must be C+1, each next one the one
 *                       after (a stream that skips or repeats batches does
 *                       not belong to this checkpoint).
 *   ckstage_save()      at the end of batch N, after emitting N's rows
 *                       and before forwarding the epoch frame.
 *   ckstage_close()
 *
 * Stage names.  state/NAME/ is the command's name, unless the query has
 * two stateful stages of the same command: each checkpointed stateful
 * stage appends its name to the header item @stages (comma-separated)
 * when it forwards the header, and takes NAME.2, NAME.3, ... when NAME is
 * listed already.  The same pipeline gives the same names on every run.
 *
 * State text.  Stages write their state as text lines (key=value, then
 * TAB-separated records whose fields are in wire form, escaped as frames
 * are, so no field holds a TAB or a newline); integers are decimal,
 * doubles C99 hex floats (exact, independent of byte order).  The
 * checkpoint file around it has the config line and the checksum.
 * struct sreader walks such a blob; its errors name the state's path
 * and line.
 */
#ifndef RUNNEL_CKSTAGE_H
#define RUNNEL_CKSTAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "die.h"
#include "frame.h"
#include "schema.h"
#include "strbuf.h"

struct ckstage {
	struct checkpoint *ck;	/* NULL: the stage is not checkpointed */
	char *name;		/* the stage's directory under state/ */
	int64_t commit;		/* C, the last commit; -1 none */
	int64_t next;		/* the batch id expected next */
	char *path;		/* scratch: the path of a state file */
};

/*
 * Read @checkpoint/@run from in (the input header).  Without @checkpoint:
 * returns 0, cs is inert.  Else join the run, take a name for command cmd
 * and add it to @stages in out (the header the stage will write; it must
 * already hold in's metadata), find C: returns 1.  -1 with err (ready for
 * die) when the checkpoint cannot be joined or read.
 */
int ckstage_open(struct ckstage *cs, const char *cmd, const struct schema *in,
    struct schema *out, char *err);

/* Is the stage checkpointed? */
static inline bool
ckstage_on(const struct ckstage *cs)
{
	return cs->ck != NULL;
}

/*
 * Load state/NAME/C made with config.  Returns 1 with *blob (malloc'd,
 * NUL-terminated, caller frees) and *len; 0 when there is nothing to load
 * (not checkpointed, or C = -1); -1 with err naming the path.
 */
int ckstage_load(struct ckstage *cs, const char *config, char **blob,
    size_t *len, char *err);

/* The path of state/NAME/C (for messages); valid until the next call. */
const char *ckstage_path(struct ckstage *cs, int64_t n);

/*
 * An epoch frame for batch n arrived: 0 when it is the expected one, -1
 * with err otherwise.  Always 0 when not checkpointed.
 */
int ckstage_batch(struct ckstage *cs, int64_t n, char *err);

/* Write state/NAME/n (a no-op returning 0 when not checkpointed). */
int ckstage_save(struct ckstage *cs, int64_t n, const char *config,
    const void *blob, size_t len, char *err);

void ckstage_close(struct ckstage *cs);

/* ---- the state text ---- */

/* Append a double as a C99 hex float ("0x1.8p+3", "-0x0p+0", "inf",
 * "nan"): exact, and strtod() reads it back. */
void state_put_f64(struct strbuf *sb, double v);
/* Append an int64 in decimal. */
void state_put_i64(struct strbuf *sb, int64_t v);
/* Append a timestamp that may be +/- infinity: "inf", "-inf" or decimal. */
void state_put_time(struct strbuf *sb, int64_t v);

/*
 * A cursor over a state blob.  Lines are cut in place (the blob must be
 * writable and NUL-terminated, as ckstage_load() gives it).  Errors say
 * "checkpoint: 'PATH': line N: ...".
 */
struct sreader {
	char *p, *end;
	const char *path;
	long line;
	struct record rec;	/* the fields of the last record */
};

void sreader_init(struct sreader *r, char *blob, size_t len,
    const char *path);
void sreader_free(struct sreader *r);
/* True when every line has been read. */
bool sreader_done(const struct sreader *r);
/* The next line must be "key=VALUE": sets *value (valid until the blob
 * is freed).  -1 with err otherwise. */
int sreader_item(struct sreader *r, const char *key, const char **value,
    char *err);
/* The same, VALUE an int64 (or "inf"/"-inf" when time is set). */
int sreader_i64(struct sreader *r, const char *key, bool time, int64_t *v,
    char *err);
/* The next line as a record of exactly nfields fields, into r->rec. */
int sreader_record(struct sreader *r, size_t nfields, char *err);
/* Parse field f as an int64, or a hex/decimal double. */
int sreader_get_i64(struct sreader *r, struct slice f, int64_t *v, char *err);
int sreader_get_f64(struct sreader *r, struct slice f, double *v, char *err);
/* Fill err with "checkpoint: 'PATH': line N: MESSAGE"; returns -1. */
__attribute__((format(printf, 3, 4)))
int sreader_error(struct sreader *r, char *err, const char *fmt, ...);

#endif
