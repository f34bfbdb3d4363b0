/*
 * json_in.h: JSON Lines (one object per line, through jansson) into typed
 * data frames.
 *
 * Each schema field is looked up by name in the line's object; a missing
 * key or a JSON null is a null; other keys are ignored; blank lines are
 * skipped.  Values are checked against the field's type:
 *   STRING     a string as is; a number, true/false or a nested object or
 *              array as its compact JSON text (as Spark reads them);
 *   INT BIGINT an integer in range, or a string that value_write_text()
 *              accepts ("42");
 *   DOUBLE     any number, or a string ("1.5", "NaN", "Infinity");
 *   BOOLEAN    true/false, or a string ("true", "false");
 *   TIMESTAMP  an ISO-8601 string or epoch seconds (a number, integer or
 *              fractional, or a string holding one).
 * A record is written only once all its fields are good.  A bad line
 * goes to ro_bad() (record_out.h): under the default policy an error
 * reading "NAME:LINE: FIELD: 'x' is not an INT" or "NAME:LINE: invalid
 * JSON at column N: ..."; when the policy skips it, json_in_line()
 * returns 0 as for a good line.
 */
#ifndef RUNNEL_JSON_IN_H
#define RUNNEL_JSON_IN_H

#include <stddef.h>

#include "record_out.h"
#include "schema.h"

struct json_in;

/* The schema and name must outlive the reader. */
struct json_in *json_in_new(const struct schema *schema, const char *name);
void json_in_free(struct json_in *j);

/* Decode line number LINE (n bytes, newline excluded) into o.
 * Returns 0 (also for a blank line, which writes nothing, and for a bad
 * line the policy skipped) or -1. */
int json_in_line(struct json_in *j, const char *p, size_t n, long line,
    struct record_out *o, char *err);

#endif
