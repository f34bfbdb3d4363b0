/*
 * console.h: Spark's Dataset.show() table, byte for byte.
 *
 * A console_table collects display strings (already rendered by
 * value_render() in RENDER_CONSOLE style) row by row and prints them as
 * Spark's showString(numRows, truncate) does:
 *
 *   +-----+-----+
 *   | word|count|        field names, then one line per row
 *   +-----+-----+
 *   |hello|    2|
 *   +-----+-----+
 *   only showing top 20 rows     (only when rows were left out)
 *
 * What Spark does and this copies: every cell, names included, has its
 * control characters \n \r \t \f \b \v \a written as the two characters
 * backslash-letter (SchemaUtils.escapeMetaCharacters) so a value cannot
 * break the table; then a data cell longer than `truncate` characters
 * (20 by default) is cut to its first truncate-3 characters and "..."
 * (names are never cut); a column is as wide as its widest cell, at least
 * 3; with truncation cells are right-aligned (padded on the left), without
 * it left-aligned.  Widths follow Spark's Utils.stringHalfWidth: a
 * character counts 1, a full-width (East Asian) character in Spark's
 * ranges counts 2.  Lengths are Java's: a character outside the Basic
 * Multilingual Plane (most emoji) counts 2, and a cut that falls inside
 * one leaves half of it, which Java prints as '?'.
 *
 * Not in Spark, because Spark's strings are always valid UTF-16: a byte
 * sequence that is not valid UTF-8 is shown as U+FFFD, one per maximal
 * invalid subpart (what Java's decoder would turn it into).
 *
 * The table owns its memory; reset keeps the allocations so showing batch
 * after batch does not allocate once the buffers have grown.
 */
#ifndef RUNNEL_CONSOLE_H
#define RUNNEL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "strbuf.h"

#define CONSOLE_TRUNCATE	20	/* Spark's show() default */
#define CONSOLE_MIN_WIDTH	3
#define CONSOLE_DASHES		"-------------------------------------------"

struct console_cell {
	size_t off, len;	/* display bytes in text */
	size_t width;		/* half widths, as Spark's stringHalfWidth */
};

struct console_table {
	size_t ncols;
	int truncate;		/* 0: never cut cells */
	struct strbuf text;	/* every cell's display bytes */
	struct console_cell *cell;	/* row-major; row 0 holds the names */
	size_t ncells, cap;
	size_t *width;		/* per column */
};

/* Start a table whose header row holds s's field names.  truncate is
 * Spark's show() argument: CONSOLE_TRUNCATE, or 0 for truncate=false. */
void console_table_init(struct console_table *t, const struct schema *s,
    int truncate);
void console_table_free(struct console_table *t);
/* Forget the data rows, keep the names and the allocations. */
void console_table_reset(struct console_table *t);

/* Append one cell of n display bytes to the current data row; a row is
 * complete after ncols cells. */
void console_table_add(struct console_table *t, const char *s, size_t n);
/* Data rows added so far (complete or not). */
size_t console_table_rows(const struct console_table *t);

/*
 * Append the table to out exactly as Spark's showString(num_rows,
 * truncate) returns it: borders, names, rows, and the footer
 * "only showing top N rows" when more_rows says rows were left out.
 */
void console_table_show(const struct console_table *t, bool more_rows,
    long long num_rows, struct strbuf *out);

/* Append the console sink's batch banner: dashes, "Batch: N", dashes. */
void console_batch_banner(int64_t batch, struct strbuf *out);

#endif
