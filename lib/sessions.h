/*
 * sessions.h: the session windows of a grouping stage (scount with
 * @window=session), each with its accumulator (aggregate.h), and how a
 * new row's window merges into them (Spark's session_window).
 *
 * All sessions live in one store of fixed-size records: struct session
 * followed by an accumulator block.  A record is named by its index + 1,
 * so 0 means "none" and a group's value (in the caller's hash table) can
 * hold the head of its list as a plain uint32_t.  Free records are
 * chained through next and reused; the store grows by doubling, never
 * per row, and never shrinks.
 *
 * Invariants:
 *   - The sessions of one list are disjoint, none touching another
 *     (a.end < b.start), and sorted by start.  sessions_add() keeps it;
 *     a loader appending saved sessions must check it.
 *   - Indexes are stable; pointers from session_at()/session_acc() are
 *     valid until the next sessions_alloc() or sessions_add(), which may
 *     move the store.
 *   - Every live record belongs to exactly one list; its accumulator's
 *     strings are the accumulator's own (aggregate.h): a record dropped
 *     with sessions_unlink() must have been released or absorbed first.
 */
#ifndef RUNNEL_SESSIONS_H
#define RUNNEL_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "aggregate.h"

/* A session window [start, end) of one group; its accumulator follows. */
struct session {
	int64_t start, end;
	uint32_t next;		/* next session of the group (index + 1) or 0 */
	uint32_t mark;		/* the last batch (the caller's seq) that
				 * changed it */
};

struct sessions {
	unsigned char *mem;
	size_t stride;		/* struct session + accumulator */
	uint32_t n, cap;	/* records used (free ones included), room */
	uint32_t free_head;	/* first free record (index + 1), 0 none */
	uint32_t nlive;
};

/* An empty store whose sessions carry acc_size bytes of accumulator. */
void sessions_init(struct sessions *p, size_t acc_size);
void sessions_free(struct sessions *p);

static inline struct session *
session_at(const struct sessions *p, uint32_t idx)
{
	return (struct session *)(void *)(p->mem +
	    (size_t)(idx - 1) * p->stride);
}

static inline void *
session_acc(const struct sessions *p, uint32_t idx)
{
	return (char *)session_at(p, idx) + sizeof(struct session);
}

/* Number of live sessions. */
static inline size_t
sessions_count(const struct sessions *p)
{
	return p->nlive;
}

/* Bytes allocated for the store. */
static inline size_t
sessions_mem_bytes(const struct sessions *p)
{
	return (size_t)p->cap * p->stride;
}

/* A zeroed record, in no list; 0 when the store holds 2^31 records (the
 * caller reports "too many sessions"). */
uint32_t sessions_alloc(struct sessions *p);

/* Put record idx into the list *head after prev (0: first). */
void sessions_link(struct sessions *p, uint32_t *head, uint32_t prev,
    uint32_t idx);

/* Take record idx out of the list *head, where it follows prev (0: it is
 * first), and free it. */
void sessions_unlink(struct sessions *p, uint32_t *head, uint32_t prev,
    uint32_t idx);

/*
 * A row's window [start, end) in batch seq: merge it into every session of
 * the list *head it overlaps or touches (Spark merges when a session
 * starts at or before another's end), absorbing their accumulators (a),
 * else insert a new session.  Returns the session now covering the
 * window, marked seq, to which the caller adds the row; 0 when a new one
 * was needed and the store is full.  *updated counts the sessions marked
 * seq: +1 when the returned one was not yet, -1 for each merged-away one
 * that was.
 */
uint32_t sessions_add(struct sessions *p, uint32_t *head, int64_t start,
    int64_t end, struct aggs *a, uint32_t seq, int64_t *updated);

#endif
