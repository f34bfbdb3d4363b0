/*
 * json_in.c: JSON Lines to frames with jansson.
 *
 * jansson builds a tree per line (it allocates; that is the price of
 * JSON at the edge, see DESIGN.md 2); everything of ours is reused.
 *
 * A bad line (invalid JSON, not an object, a value not of its field's
 * type) goes to ro_bad() with the line as its raw text; when the policy
 * skips it, json_in_line() returns 0 as for a good line.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "json_in.h"
#include "rtime.h"
#include "strbuf.h"
#include "value.h"

struct json_in {
	const struct schema *schema;
	const char *name;
	struct strbuf text;	/* a value's JSON text, for STRING and errors */
};

struct json_in *
json_in_new(const struct schema *schema, const char *name)
{
	struct json_in *j = xcalloc(1, sizeof *j);

	j->schema = schema;
	j->name = name;
	sb_init(&j->text);
	return j;
}

void
json_in_free(struct json_in *j)
{
	if (j == NULL)
		return;
	sb_free(&j->text);
	free(j);
}

/* The compact JSON text of v into j->text. */
static void
json_text(struct json_in *j, const json_t *v)
{
	size_t flags = JSON_COMPACT | JSON_ENCODE_ANY, n;

	n = json_dumpb(v, NULL, 0, flags);
	sb_reset(&j->text);
	sb_grow(&j->text, n + 1);
	j->text.len = json_dumpb(v, j->text.buf, n, flags);
	j->text.buf[j->text.len] = '\0';
}

static int
not_a(struct json_in *j, enum field_type t, const json_t *v, char *err)
{
	json_text(j, v);
	return seterr(err, "'%.*s' is not %s %s",
	    (int)(j->text.len > 60 ? 60 : j->text.len), j->text.buf,
	    t == TYPE_INT ? "an" : "a", type_name(t));
}

/* Epoch seconds (a JSON number) to a TIMESTAMP, or -1. */
static int
epoch_number(const json_t *v, int64_t *micros)
{
	if (json_is_integer(v)) {
		json_int_t s = json_integer_value(v);

		if (s > INT64_MAX / MICROS_PER_SECOND ||
		    s < INT64_MIN / MICROS_PER_SECOND)
			return -1;
		*micros = s * MICROS_PER_SECOND;
		return 0;
	} else {
		double us = json_real_value(v) * 1e6;

		if (!isfinite(us) || us >= 9.2e18 || us <= -9.2e18)
			return -1;
		*micros = (int64_t)llround(us);
		return 0;
	}
}

/* Write value v of a field of type t to w (ro_room() done by the caller
 * for everything but STRING's JSON text). */
static int
write_value(struct json_in *j, struct record_out *o, struct frame_writer *w,
    enum field_type t, const json_t *v, char *err)
{
	int64_t i;

	if (json_is_string(v)) {
		size_t n = json_string_length(v);

		ro_room(o, ro_field_room(n));
		return value_write_text(w, t, json_string_value(v), n, err);
	}
	switch (t) {
	case TYPE_STRING:
		/* Numbers, booleans, objects and arrays as their JSON text. */
		json_text(j, v);
		ro_room(o, ro_field_room(j->text.len));
		fw_field(w, j->text.buf, j->text.len);
		return 0;
	case TYPE_INT:
	case TYPE_BIGINT:
		if (!json_is_integer(v))
			break;
		i = json_integer_value(v);
		if (t == TYPE_INT && (i < INT32_MIN || i > INT32_MAX))
			break;
		fw_i64(w, i);
		return 0;
	case TYPE_DOUBLE:
		if (!json_is_number(v))
			break;
		fw_f64(w, json_number_value(v));
		return 0;
	case TYPE_BOOLEAN:
		if (!json_is_boolean(v))
			break;
		fw_bool(w, json_is_true(v));
		return 0;
	case TYPE_TIMESTAMP:
		if (!json_is_number(v) || epoch_number(v, &i) < 0)
			break;
		fw_i64(w, i);
		return 0;
	}
	return not_a(j, t, v, err);
}

static bool
blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

int
json_in_line(struct json_in *j, const char *p, size_t n, long line,
    struct record_out *o, char *err)
{
	const struct schema *s = j->schema;
	struct frame_writer *w;
	json_error_t jerr;
	json_t *obj;
	char verr[ERRBUF_SIZE], why[ERRBUF_SIZE];
	int rc = 0;
	bool bad = false;

	if (blank(p, n))
		return 0;
	obj = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (obj == NULL) {
		seterr(verr, "invalid JSON at column %d: %s", jerr.column,
		    jerr.text);
		return ro_bad(o, j->name, line, p, n, verr, err);
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		return ro_bad(o, j->name, line, p, n, "expected a JSON object, "
		    "one per line", err);
	}
	w = ro_begin(o);
	for (size_t i = 0; i < s->nfields && !bad; i++) {
		json_t *v = json_object_get(obj, s->fields[i].name);

		ro_room(o, ro_field_room(0));
		if (v == NULL || json_is_null(v)) {
			fw_null(w);
		} else if (write_value(j, o, w, s->fields[i].type, v, verr) <
		    0) {
			seterr(why, "%s: %s", s->fields[i].name, verr);
			bad = true;
		}
	}
	json_decref(obj);
	if (bad)
		rc = ro_bad(o, j->name, line, p, n, why, err);
	else
		ro_commit(o);
	return rc;
}
