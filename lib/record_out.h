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
 * Invariants: between calls o->w is at a record boundary (no field of an
 * unfinished record in it); the scratch writer never flushes (ro_room()
 * grows it first), because its fd is -1.
 */
#ifndef RUNNEL_RECORD_OUT_H
#define RUNNEL_RECORD_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct record_out {
	struct frame_writer *w;
	bool add_timestamp;	/* append the arrival time as a last field */
	int64_t arrival;	/* wall-clock micros of the read that brought
				   the current input */
	uint64_t rows;		/* records written in the current batch */
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

#endif
