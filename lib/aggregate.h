/*
 * aggregate.h: the accumulators of a grouping stage (scount): count and
 * sum, min, max, avg of fields, as SQL computes them.
 *
 * An accumulator is a fixed-size block of aggs_size() bytes that the
 * caller keeps inside its hash table value (or session): an int64 row
 * count, then 16 bytes per aggregate.  A zeroed block is an empty group.
 * Nulls are ignored as in SQL (count counts rows); an aggregate that saw
 * only nulls is null.
 *
 * Strings (min/max of a STRING field) do not fit a fixed block: they live
 * in a string store owned by struct aggs, in their raw wire form, and the
 * block holds their offset and length.  Replacing a string leaves garbage
 * behind; the owner of the blocks reclaims it with the aggs_gc_* calls when
 * aggs_gc_wanted() says so.  No call allocates per row: the store grows by
 * doubling.
 *
 * Invariants: every string referenced by a live block is owned by exactly
 * that block; a block that is thrown away must be passed to aggs_release()
 * (or absorbed by aggs_absorb()) so its strings count as garbage.
 */
#ifndef RUNNEL_AGGREGATE_H
#define RUNNEL_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "schema.h"
#include "strbuf.h"

enum agg_op {
	AGG_SUM,
	AGG_MIN,
	AGG_MAX,
	AGG_AVG,
};

struct agg {
	enum agg_op op;
	int field;		/* index of the input field */
	enum field_type in;	/* its type */
	enum field_type out;	/* the output column's type */
	char *name;		/* sum_F, min_F, max_F, avg_F */
	char *field_name;
};

struct aggs {
	struct agg *agg;
	size_t n;
	char *str;		/* the string store */
	size_t str_len, str_cap, str_garbage;
	char *gc_str;		/* the new store during a collection */
	size_t gc_len, gc_cap;
};

void aggs_init(struct aggs *a);
void aggs_free(struct aggs *a);

/* "sum", "min", "max" or "avg". */
const char *agg_op_name(enum agg_op op);

/*
 * Add an aggregate of field NAME of schema s.  Returns 0, or -1 with err
 * when the field does not exist or op needs a number (sum, avg) and the
 * field is not INT, BIGINT or DOUBLE.
 */
int aggs_add(struct aggs *a, enum agg_op op, const struct schema *s,
    const char *name, char *err);

/* Bytes of one accumulator block (8-aligned). */
size_t aggs_size(const struct aggs *a);

/* The block's row count. */
static inline int64_t
aggs_count(const void *acc)
{
	int64_t c;

	memcpy(&c, acc, sizeof c);
	return c;
}

/*
 * Add one row (its raw fields, as split from the record) to block acc.
 * Returns 0, or -1 with err ("amount: 'x' is not an INT") on a value that
 * does not parse as its field's type.
 */
int aggs_add_row(struct aggs *a, void *acc, const struct slice *fields,
    char *err);

/* Merge block src into dst; src is consumed (do not release it). */
void aggs_absorb(struct aggs *a, void *dst, void *src);

/* Throw block acc away: its strings become garbage. */
void aggs_release(struct aggs *a, void *acc);

/* Write the count and then each aggregate as output fields. */
void aggs_write(const struct aggs *a, const void *acc, struct frame_writer *w);

/* Add the output columns (count, then the aggregates) to schema s.
 * Returns 0, or -1 with err on a name already taken. */
int aggs_add_columns(const struct aggs *a, struct schema *s, char *err);

/*
 * String garbage collection: when aggs_gc_wanted(), call aggs_gc_begin(),
 * then aggs_gc_move() on every live block, then aggs_gc_end().
 */
bool aggs_gc_wanted(const struct aggs *a);
void aggs_gc_begin(struct aggs *a);
void aggs_gc_move(struct aggs *a, void *acc);
void aggs_gc_end(struct aggs *a);

/*
 * Checkpointed state (ckstage.h's text form).  aggs_save() appends block
 * acc as aggs_saved_fields() TAB-separated fields: the count, then per
 * aggregate the value in wire form (or \N) for strings, else the number
 * of non-null values and the value (decimal, or a hex float for
 * doubles).  aggs_load() fills a zeroed block from those fields (its
 * strings go to the store); -1 with err (a bare reason, the caller adds
 * where) on a field that does not parse.
 */
size_t aggs_saved_fields(const struct aggs *a);
void aggs_save(const struct aggs *a, const void *acc, struct strbuf *sb);
int aggs_load(struct aggs *a, void *acc, const struct slice *f, char *err);

/* True when some aggregate keeps strings (so GC may be needed). */
bool aggs_has_strings(const struct aggs *a);

/* Bytes allocated for strings. */
size_t aggs_mem_bytes(const struct aggs *a);

/*
 * Parse a wire integer (INT, BIGINT, TIMESTAMP) without copying: the
 * common short decimal is parsed inline.  Returns 0, or -1 when null or
 * not an integer.
 */
int agg_parse_i64(struct slice f, int64_t *v);

#endif
