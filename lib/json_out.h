/*
 * json_out.h: writing records as JSON objects, one per line (JSON Lines).
 *
 * Hand-written rather than jansson: jansson refuses strings that are not
 * valid UTF-8 (json_stringn returns NULL), and values here are bytes that
 * may be anything.  The writer's promise: whatever the bytes, the output
 * is valid JSON in valid UTF-8.
 *
 * Strings: '"' and '\' are escaped, control characters U+0000..U+001F as
 * \b \f \n \r \t or \u00XX; valid UTF-8 is copied as is; each invalid
 * sequence (one maximal invalid subpart, see utf8.h) becomes \ufffd, the
 * replacement character, as Java's decoder and so Spark would show it.
 *
 * Types: INT and BIGINT are JSON numbers; DOUBLE a JSON number printed as
 * Java does (1.5, 1.0E10), and NaN, Infinity, -Infinity the JSON strings
 * "NaN", "Infinity", "-Infinity", as Spark's JSON writer (Jackson) writes
 * them; BOOLEAN true/false; TIMESTAMP the string 2026-11-24T12:00:00.000Z;
 * null is null (Spark would leave the field out; explicit null is easier
 * for jq and keeps every object's keys the same).
 */
#ifndef RUNNEL_JSON_OUT_H
#define RUNNEL_JSON_OUT_H

#include <stddef.h>

#include "frame.h"
#include "schema.h"
#include "strbuf.h"

/* Append s[0..n) as a quoted JSON string. */
void json_out_string(struct strbuf *out, const char *s, size_t n);
/*
 * Append rec (wire fields of schema s) as one JSON object, without a
 * newline.  tmp is scratch space reused between calls.  Returns 0, or -1
 * with err naming the field of a malformed value.
 */
int json_out_record(struct strbuf *out, const struct schema *s,
    const struct record *rec, struct strbuf *tmp, char *err);

#endif
