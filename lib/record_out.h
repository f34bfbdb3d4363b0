/*
 * record_out.h: where a source's decoded records go.
 *
 * A source turns its input into records and hands them to a record_out,
 * which writes them as data frames into the batch being built, appends the
 * arrival time when --include-timestamp asked for it, and counts the rows
 * of the batch.  Three ways in:
 *
 *   direct   write the fields to o->w with fw_field() and friends, then
 *            ro_end(); for fields that cannot fail (text lines);
 *   checked  ro_begin(), then for each field ro_room() and a write to
 *            ro_scratch() (e.g. value_write_text()), then ro_commit().  A
 *            record that turns out bad is simply not committed, so no part
 *            of it reaches the output (what --skip-bad will build on);
 *   raw      ro_raw_lines(): lines that are already frames.  A text line
 *            with no byte to escape (backslash, TAB, CR, NUL) is its own
 *            data frame, so runs of such lines are copied as they are,
 *            which is what keeps ssrc far cheaper than the stages after it.
 *
 * Bad records (badrec.h): a reader that finds a record bad calls ro_bad()
 * instead of committing it.  Under the default policy (o->policy NULL or
 * fail) that is the reader's error; under skip or keep the record is
 * counted (o->bad) and the reader goes on.  A bad record counts in
 * o->rows too: rows are the records TAKEN into the batch, written or
 * skipped, so that the batch's row limit and the replay of a logged batch
 * (which reads exactly its logged number of rows) take the same records
 * whatever their fate; the rows written are rows - bad.
 *
 * Origins: a reader names a bad record by its input name and line
 * ("in/a.csv", 3).  A source whose records are not lines of a stream
 * (Kafka) calls ro_origin_kafka() before handing a message to a reader,
 * and bad records then name the message ("topic 't' partition 0 offset
 * 41") instead; ro_origin_clear() after.
 *
 * Invariants: between calls o->w is at a record boundary (no field of an
 * unfinished record in it); the scratch writer never flushes (ro_room()
 * grows it first), because its fd is -1; bad <= rows.
 */
#ifndef RUNNEL_RECORD_OUT_H
#define RUNNEL_RECORD_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "badrec.h"
#include "frame.h"

struct record_out {
	struct frame_writer *w;
	bool add_timestamp;	/* append the arrival time as a last field */
	int64_t arrival;	/* wall-clock micros of the read that brought
				   the current input */
	uint64_t rows;		/* records taken into the current batch:
				   written, or bad and skipped */
	uint64_t bad;		/* of those, the bad ones */
	struct badrec *policy;	/* NULL: fail on a bad record */
	bool kafka_origin;	/* bad records come from origin (Kafka) */
	struct bad_origin origin;
	struct frame_writer scratch;
};

void ro_init(struct record_out *o, struct frame_writer *w, bool add_timestamp);
void ro_free(struct record_out *o);

/* Finish a record written directly to o->w. */
void ro_end(struct record_out *o);

/* Start a checked record: empties the scratch writer and returns it. */
struct frame_writer *ro_begin(struct record_out *o);
/* Make sure the next n bytes written to the scratch writer need no flush. */
void ro_room(struct record_out *o, size_t n);
/* Room a field of n input bytes can take once escaped (fw_field, fw_f64). */
static inline size_t
ro_field_room(size_t n)
{
	return 2 * n + 64;
}
/* Copy the scratch record into the batch as one data frame. */
void ro_commit(struct record_out *o);

/*
 * Append n bytes that are nrows complete data frames (each ending in a
 * newline).  Large runs are written straight to the writer's fd after a
 * flush of what it holds; a write error is kept in o->w->error, as the
 * writer itself does, and shows at the next fw_flush().
 */
void ro_raw_lines(struct record_out *o, const char *p, size_t n,
    uint64_t nrows);

/*
 * The record that starts on line line of input name is bad: raw[0..n) is
 * its text (NULL is fine when ro_wants_raw() is false), reason says why
 * ("age: 'x' is not an INT").  Returns -1 with err = "NAME:LINE: REASON"
 * under the fail policy; 0 when the policy skipped it (the reader drops
 * the record and goes on); -1 with err when keeping it failed (I/O).
 * Nothing of the record may have been committed.
 */
int ro_bad(struct record_out *o, const char *name, long line,
    const char *raw, size_t n, const char *reason, char *err);
/* Does the policy want bad records' raw text (a reader keeps it only
 * then, to spare the copy)? */
static inline bool
ro_wants_raw(const struct record_out *o)
{
	return badrec_wants_raw(o->policy);
}

/* Kafka's hook: bad records found until ro_origin_clear() come from this
 * message (topic must stay valid until then). */
void ro_origin_kafka(struct record_out *o, const char *topic,
    int32_t partition, int64_t offset);
void ro_origin_clear(struct record_out *o);

#endif
