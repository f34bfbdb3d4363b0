/*
 * csv_in.h: CSV records (RFC 4180, through libcsv) into typed data frames.
 *
 * The caller feeds the input one physical line at a time, newline
 * included, so that messages can name the line a record starts on;
 * quoted fields may hold commas, quotes ("") and newlines, and such a
 * record spans several lines.  Columns map to the schema's fields by
 * position and a record must have exactly as many; each cell is checked
 * and converted with value_write_text(), an empty unquoted cell (or any
 * empty cell of a non-STRING field) is null, a quoted "" is the empty
 * string.  Spaces around cells are data, as in RFC 4180 and Spark.
 * With header set, the first record is skipped.  A record is written only
 * once all its cells are good (record_out's checked path).
 *
 * Bad records (wrong field count, a bad cell, malformed quoting, a quote
 * open at the end) go to ro_bad() (record_out.h): under the default
 * policy that is an error reading "NAME:LINE: FIELD: 'x' is not an INT"
 * (NAME as given to csv_in_new(), e.g. "stdin"; LINE where the record
 * starts), after which the reader is unusable; when the policy skips the
 * record the reader goes on with the next one.
 */
#ifndef RUNNEL_CSV_IN_H
#define RUNNEL_CSV_IN_H

#include <stdbool.h>
#include <stddef.h>

#include "record_out.h"
#include "schema.h"

struct csv_in;

/* The schema and name must outlive the reader.  max_record bounds one
 * record in bytes (0: no bound). */
struct csv_in *csv_in_new(const struct schema *schema, bool header,
    const char *name, size_t max_record);
void csv_in_free(struct csv_in *c);

/* Feed line number LINE (n bytes, with its newline unless it is the last
 * line of the input).  Records it completes go to o.  Returns 0 or -1. */
int csv_in_line(struct csv_in *c, const char *p, size_t n, long line,
    struct record_out *o, char *err);
/* The input ended: complete the last record, if any. */
int csv_in_finish(struct csv_in *c, struct record_out *o, char *err);
/* True while a record has begun and is not complete (a position in the
 * middle of it is not a place to resume from). */
bool csv_in_pending(const struct csv_in *c);

#endif
