/*
 * value.h: typed values between the text of the outside world and frames.
 *
 * On the wire (runnel(5)) INT and BIGINT are decimal, DOUBLE the shortest
 * decimal that reads back the same (NaN, Infinity, -Infinity as Spark),
 * BOOLEAN true/false, TIMESTAMP integer microseconds since the epoch, and
 * STRING the bytes themselves.  value_write_text() is the one place that
 * turns user text (csv cells, json strings, socket lines) into that form,
 * so every source checks types the same way.
 */
#ifndef RUNNEL_VALUE_H
#define RUNNEL_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "schema.h"
#include "strbuf.h"

/*
 * Parse n bytes of user text as type t and write it as one field to w.
 * Integers must fit their type; booleans are true/false (any case), 1/0;
 * timestamps as rtime.h.  Returns 0, or -1 with err ("'x' is not an INT").
 */
int value_write_text(struct frame_writer *w, enum field_type t,
    const char *s, size_t n, char *err);

/* Wire field -> number.  Return 0, or -1 if null or not a number. */
int value_get_i64(struct slice f, int64_t *v);
int value_get_f64(struct slice f, double *v);

/* Parse user text strictly (whole string). */
int parse_i64_text(const char *s, size_t n, int64_t *v);
int parse_f64_text(const char *s, size_t n, double *v);

/* Format a double as Java's Double.toString does (1.0, 2.5E10), for output. */
size_t format_double_java(double v, char *buf, size_t size);

enum render_style {
	RENDER_PLAIN,	/* csv, tsv, json: timestamps as ISO-8601 with ms */
	RENDER_CONSOLE,	/* console table: "2026-11-24 12:00:00", null as "null" */
};

/*
 * Append the display form of wire field f of type t to out: unescaped
 * bytes, timestamps formatted, doubles in Java's style.  A null field
 * appends nothing and returns 1 (console style appends "null").
 * Returns 0, 1 for null, or -1 on a malformed field.
 */
int value_render(enum field_type t, struct slice f, enum render_style style,
    struct strbuf *out);

#endif
