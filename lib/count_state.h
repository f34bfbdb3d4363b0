/*
 * count_state.h: what scount keeps between batches (its groups, their
 * accumulators or sessions, the watermark) and the text of its checkpoint
 * state, state/scount/N (ckstage.h).
 *
 * Groups live in a table (table.h) keyed by the group's raw wire fields
 * joined by TAB, in output order (window_start, window_end, then the
 * keys), so a key is written out, and saved, as it is stored.  A value
 * is a struct count_group, then, outside session windows, the int64 time
 * that closes the group (only when the mode evicts) and the accumulator
 * (aggregate.h).  With session windows the key has no window columns and
 * the value's head lists the group's sessions (sessions.h), each with its
 * accumulator.
 *
 * State text, format 1 (count_state_save() writes it, count_state_load()
 * reads it; existing checkpoints depend on every byte):
 *
 *   format=1
 *   mode=MODE          the output mode of the run that wrote it
 *   evicted=0|1        eviction has dropped groups (ever)
 *   watermark=T        T: decimal microseconds, "inf" or "-inf"
 *   wm_out=T           the watermark at complete mode's last output
 *   rows=N             then N records, TAB-separated:
 *   KEY...[\tSTART\tEND]\tACC...
 *
 * KEY is the table key (nkeys fields), START/END a session's window
 * (sessions only), ACC the accumulator as aggs_save() writes it.  Groups
 * come in first-seen order, a group's sessions by start, so a reload
 * gives the same output order.  Batch marks and the update list are not
 * saved (update mode writes every change at the end of its batch), nor
 * closing times: they are a key field, read back from it.
 */
#ifndef RUNNEL_COUNT_STATE_H
#define RUNNEL_COUNT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aggregate.h"
#include "die.h"
#include "schema.h"
#include "sessions.h"
#include "strbuf.h"
#include "table.h"

/* The start of a group's value in the table. */
struct count_group {
	uint32_t mark;		/* the last batch (seq) that changed it */
	uint32_t head;		/* sessions: the first (index + 1) or 0 */
};

struct count_state {
	/* The shape, fixed by count_state_init(). */
	size_t nkeys;		/* fields in a group key */
	bool session;		/* session windows: values head sessions */
	bool evicts;		/* groups close when the watermark passes */
	int evict_j;		/* the key field holding the closing time
				 * (evicts, not sessions), or -1 */
	size_t acc_off;		/* the accumulator's offset in a value (not
				 * sessions) */
	/* The state. */
	struct table groups;
	struct sessions sessions;
	int64_t wm;		/* the current watermark */
	int64_t wm_out;		/* watermark at complete mode's last output */
	int64_t min_end;	/* no group closes before this time */
	bool evicted;		/* eviction has dropped groups (ever, across
				 * runs of a checkpoint) */
};

/*
 * Empty state for groups of nkeys key fields and accumulators of
 * acc_size bytes (aggs_size()); evict_j as in struct count_state.  The
 * watermarks start at TIME_MIN_MICROS, min_end at INT64_MAX.
 */
void count_state_init(struct count_state *s, size_t nkeys, bool session,
    bool evicts, int evict_j, size_t acc_size);
void count_state_free(struct count_state *s);

/* Groups (or sessions) held. */
static inline size_t
count_state_rows(const struct count_state *s)
{
	return s->session ? sessions_count(&s->sessions) :
	    table_count(&s->groups);
}

/* A group's closing time (evicts, not sessions), in value v. */
static inline int64_t
count_group_end(const void *v)
{
	int64_t end;

	memcpy(&end, (const char *)v + sizeof(struct count_group), sizeof end);
	return end;
}

static inline void
count_group_set_end(void *v, int64_t end)
{
	memcpy((char *)v + sizeof(struct count_group), &end, sizeof end);
}

/*
 * The config string (checkpoint.h rule 8): what the state's meaning
 * depends on: the key fields of schema in (key[0..nkeys), without the
 * window columns ws/we) with their types, the aggregates with their input
 * types, and the kind of window (none when ws < 0).  The output mode is
 * not in it: the state is the same in every mode, and count_state_load()
 * applies the finer rule.  Malloc'd, the caller frees.
 */
char *count_state_config(const struct schema *in, const size_t *key,
    size_t nkeys, int ws, int we, const struct aggs *a);

/*
 * Fill empty state s (accumulators in a) from the state text blob (as
 * ckstage_load() gives it: writable, NUL-terminated; path names it in
 * messages), for a run in output mode mode.  Returns 0, or -1 with err
 * (ready for die) on a text that does not parse, or when mode is
 * "complete" and eviction has dropped groups.
 */
int count_state_load(struct count_state *s, struct aggs *a, const char *mode,
    char *blob, size_t len, const char *path, char *err);

/* Replace sb's contents with state s as text, written by a run in output
 * mode mode. */
void count_state_save(const struct count_state *s, const struct aggs *a,
    const char *mode, struct strbuf *sb);

#endif
