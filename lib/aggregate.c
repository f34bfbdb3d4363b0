/*
 * aggregate.c: count, sum, min, max and avg accumulators (aggregate.h).
 *
 * Each aggregate has a 16-byte slot after the 8-byte row count: a value
 * (int64, double or a string's store offset) and a second word that is
 * the number of non-null values seen (sum, avg, numeric min/max) or the
 * string's length and a "has a value" flag.  Sums of integers wrap around
 * on overflow, as Spark's non-ANSI sum does; avg sums in double, as Spark.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "ckstage.h"
#include "die.h"
#include "value.h"

struct slot {
	union {
		int64_t i;
		double d;
		uint64_t off;
	} v;
	union {
		int64_t n;
		struct {
			uint32_t len;
			uint32_t has;
		} s;
	} m;
};

#define GC_MIN_GARBAGE	((size_t)64 << 10)

static inline struct slot *
slot_of(void *acc, size_t i)
{
	return (struct slot *)(void *)((char *)acc + 8 + 16 * i);
}

static inline const struct slot *
cslot_of(const void *acc, size_t i)
{
	return (const struct slot *)(const void *)((const char *)acc + 8 +
	    16 * i);
}

void
aggs_init(struct aggs *a)
{
	memset(a, 0, sizeof *a);
}

void
aggs_free(struct aggs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->agg[i].name);
		free(a->agg[i].field_name);
	}
	free(a->agg);
	free(a->str);
	free(a->gc_str);
	aggs_init(a);
}

const char *
agg_op_name(enum agg_op op)
{
	switch (op) {
	case AGG_SUM: return "sum";
	case AGG_MIN: return "min";
	case AGG_MAX: return "max";
	case AGG_AVG: return "avg";
	}
	return "?";
}

static bool
is_number(enum field_type t)
{
	return t == TYPE_INT || t == TYPE_BIGINT || t == TYPE_DOUBLE;
}

int
aggs_add(struct aggs *a, enum agg_op op, const struct schema *s,
    const char *name, char *err)
{
	int f = schema_find(s, name);
	struct agg *g;
	size_t n;

	if (f < 0)
		return seterr(err, "no field '%s'", name);
	if ((op == AGG_SUM || op == AGG_AVG) && !is_number(s->fields[f].type))
		return seterr(err, "cannot %s '%s': it is a %s, not a number",
		    op == AGG_SUM ? "sum" : "average", name,
		    type_name(s->fields[f].type));
	a->agg = xrealloc(a->agg, (a->n + 1) * sizeof *a->agg);
	g = &a->agg[a->n++];
	g->op = op;
	g->field = f;
	g->in = s->fields[f].type;
	switch (op) {
	case AGG_SUM:
		g->out = g->in == TYPE_DOUBLE ? TYPE_DOUBLE : TYPE_BIGINT;
		break;
	case AGG_AVG:
		g->out = TYPE_DOUBLE;
		break;
	default:
		g->out = g->in;
		break;
	}
	n = strlen(name) + 5;
	g->name = xmalloc(n);
	snprintf(g->name, n, "%s_%s", agg_op_name(op), name);
	g->field_name = xstrdup(name);
	return 0;
}

size_t
aggs_size(const struct aggs *a)
{
	return 8 + 16 * a->n;
}

bool
aggs_has_strings(const struct aggs *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->agg[i].in == TYPE_STRING)
			return true;
	return false;
}

int
agg_parse_i64(struct slice f, int64_t *v)
{
	const char *p = f.p;
	size_t n = f.n, i = 0;
	bool neg = false;
	uint64_t x = 0;

	if (n > 0 && p[0] == '-') {
		neg = true;
		i = 1;
	}
	/* Up to 18 digits cannot overflow; longer or odd forms (spaces)
	 * take the careful path. */
	if (n == i || n - i > 18)
		return value_get_i64(f, v);
	for (; i < n; i++) {
		unsigned d = (unsigned char)p[i] - '0';

		if (d > 9)
			return value_get_i64(f, v);
		x = x * 10 + d;
	}
	*v = neg ? -(int64_t)x : (int64_t)x;
	return 0;
}

/* The next byte of raw (escaped) field p, unescaping; advances *i. */
static inline unsigned char
raw_byte(const char *p, size_t n, size_t *i)
{
	unsigned char c = (unsigned char)p[(*i)++];

	if (c != '\\' || *i >= n)
		return c;
	switch (p[(*i)++]) {
	case 't': return '\t';
	case 'n': return '\n';
	case 'r': return '\r';
	case '0': return '\0';
	default: return '\\';
	}
}

/* Compare two raw fields by their unescaped bytes, as Spark compares
 * strings (unsigned bytes of UTF-8). */
static int
raw_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an && j < bn) {
		unsigned char ca = raw_byte(a, an, &i);
		unsigned char cb = raw_byte(b, bn, &j);

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return (i < an) - (j < bn);
}

/* Doubles ordered as Spark: NaN above everything, -0.0 == 0.0. */
static int
double_cmp(double x, double y)
{
	if (isnan(x))
		return isnan(y) ? 0 : 1;
	if (isnan(y))
		return -1;
	return x < y ? -1 : x > y;
}

static void
str_reserve(struct aggs *a, size_t n)
{
	size_t cap = a->str_cap ? a->str_cap : 256;

	/* Allocate even for an empty first string: a block that holds one
	 * points into the store, and NULL + 0 is UB (tests/fuzz/fuzz_frame). */
	if (a->str != NULL && a->str_len + n <= a->str_cap)
		return;
	while (cap < a->str_len + n)
		cap *= 2;
	a->str = xrealloc(a->str, cap);
	a->str_cap = cap;
}

static uint64_t
str_put(struct aggs *a, const char *p, size_t n)
{
	uint64_t off;

	str_reserve(a, n);
	off = a->str_len;
	if (n > 0)
		memcpy(a->str + off, p, n);
	a->str_len += n;
	return off;
}

static int
bad_value(const struct agg *g, struct slice f, char *err)
{
	return seterr(err, "%s: '%.*s' is not %s %s", g->field_name,
	    (int)(f.n > 60 ? 60 : f.n), f.p, g->in == TYPE_INT ? "an" : "a",
	    type_name(g->in));
}

/* The value of a min/max of a non-string, non-double type as an int64. */
static int
ordinal_value(const struct agg *g, struct slice f, int64_t *v)
{
	if (g->in == TYPE_BOOLEAN) {
		if (f.n == 4 && memcmp(f.p, "true", 4) == 0)
			*v = 1;
		else if (f.n == 5 && memcmp(f.p, "false", 5) == 0)
			*v = 0;
		else
			return -1;
		return 0;
	}
	return agg_parse_i64(f, v);
}

static void
minmax_string(struct aggs *a, struct slot *s, int sign, struct slice f)
{
	if (s->m.s.has &&
	    sign * raw_cmp(f.p, f.n, a->str + s->v.off, s->m.s.len) >= 0)
		return;
	if (s->m.s.has && f.n <= s->m.s.len) {
		memcpy(a->str + s->v.off, f.p, f.n);
		a->str_garbage += s->m.s.len - f.n;
	} else {
		if (s->m.s.has)
			a->str_garbage += s->m.s.len;
		s->v.off = str_put(a, f.p, f.n);
	}
	s->m.s.len = (uint32_t)f.n;
	s->m.s.has = 1;
}

/*
 * Counts added as SUM adds integers: wrapping, not signed overflow (UB).
 * Only a checkpoint edited by hand can hold counts near 2^63 (aggs_load
 * takes any non-negative count; found by tests/fuzz/fuzz_checkpoint).
 */
static inline int64_t
add_wrap(int64_t x, int64_t y)
{
	return (int64_t)((uint64_t)x + (uint64_t)y);
}

int
aggs_add_row(struct aggs *a, void *acc, const struct slice *fields,
    char *err)
{
	int64_t *count = acc;

	*count = add_wrap(*count, 1);
	for (size_t i = 0; i < a->n; i++) {
		const struct agg *g = &a->agg[i];
		struct slot *s = slot_of(acc, i);
		struct slice f = fields[g->field];
		int sign = g->op == AGG_MIN ? 1 : -1;
		int64_t iv;
		double dv;

		if (field_is_null(f))
			continue;
		if (g->in == TYPE_STRING) {
			if (f.n >= UINT32_MAX)
				return seterr(err, "%s: value too long",
				    g->field_name);
			minmax_string(a, s, sign, f);
			continue;
		}
		if (g->in == TYPE_DOUBLE || g->op == AGG_AVG) {
			if (g->in == TYPE_DOUBLE) {
				if (value_get_f64(f, &dv) < 0)
					return bad_value(g, f, err);
			} else {
				if (agg_parse_i64(f, &iv) < 0)
					return bad_value(g, f, err);
				dv = (double)iv;
			}
			if (g->op == AGG_SUM || g->op == AGG_AVG)
				s->v.d += dv;
			else if (s->m.n == 0 ||
			    sign * double_cmp(dv, s->v.d) < 0)
				s->v.d = dv;
			s->m.n = add_wrap(s->m.n, 1);
			continue;
		}
		if (ordinal_value(g, f, &iv) < 0)
			return bad_value(g, f, err);
		if (g->op == AGG_SUM)
			s->v.i = (int64_t)((uint64_t)s->v.i + (uint64_t)iv);
		else if (s->m.n == 0 || sign * (iv < s->v.i ? -1 :
		    iv > s->v.i) < 0)
			s->v.i = iv;
		s->m.n = add_wrap(s->m.n, 1);
	}
	return 0;
}

void
aggs_absorb(struct aggs *a, void *dst, void *src)
{
	*(int64_t *)dst = add_wrap(*(int64_t *)dst, *(int64_t *)src);
	for (size_t i = 0; i < a->n; i++) {
		const struct agg *g = &a->agg[i];
		struct slot *d = slot_of(dst, i), *s = slot_of(src, i);
		int sign = g->op == AGG_MIN ? 1 : -1;

		if (g->in == TYPE_STRING) {
			if (!s->m.s.has)
				continue;
			if (d->m.s.has && sign * raw_cmp(a->str + s->v.off,
			    s->m.s.len, a->str + d->v.off, d->m.s.len) >= 0) {
				a->str_garbage += s->m.s.len;
				continue;
			}
			if (d->m.s.has)
				a->str_garbage += d->m.s.len;
			*d = *s;
			continue;
		}
		if (s->m.n == 0)
			continue;
		if (g->op == AGG_SUM && g->in != TYPE_DOUBLE) {
			d->v.i = (int64_t)((uint64_t)d->v.i + (uint64_t)s->v.i);
		} else if (g->op == AGG_SUM || g->op == AGG_AVG) {
			d->v.d += s->v.d;
		} else if (g->in == TYPE_DOUBLE) {
			if (d->m.n == 0 ||
			    sign * double_cmp(s->v.d, d->v.d) < 0)
				d->v.d = s->v.d;
		} else {
			if (d->m.n == 0 || sign * (s->v.i < d->v.i ? -1 :
			    s->v.i > d->v.i) < 0)
				d->v.i = s->v.i;
		}
		d->m.n = add_wrap(d->m.n, s->m.n);
	}
}

void
aggs_release(struct aggs *a, void *acc)
{
	for (size_t i = 0; i < a->n; i++) {
		struct slot *s = slot_of(acc, i);

		if (a->agg[i].in == TYPE_STRING && s->m.s.has) {
			a->str_garbage += s->m.s.len;
			s->m.s.has = 0;
		}
	}
}

void
aggs_write(const struct aggs *a, const void *acc, struct frame_writer *w)
{
	fw_i64(w, aggs_count(acc));
	for (size_t i = 0; i < a->n; i++) {
		const struct agg *g = &a->agg[i];
		const struct slot *s = cslot_of(acc, i);

		if (g->in == TYPE_STRING) {
			/* Only point into the store when there is a string:
			 * it is NULL until the first one (NULL + 0 is UB;
			 * found by tests/fuzz/fuzz_frame). */
			if (s->m.s.has) {
				struct slice f = { a->str + s->v.off,
				    s->m.s.len };

				fw_field_raw(w, f);
			} else {
				fw_null(w);
			}
		} else if (s->m.n == 0) {
			fw_null(w);
		} else if (g->op == AGG_AVG) {
			fw_f64(w, s->v.d / (double)s->m.n);
		} else if (g->out == TYPE_DOUBLE) {
			fw_f64(w, s->v.d);
		} else if (g->out == TYPE_BOOLEAN) {
			fw_bool(w, s->v.i != 0);
		} else {
			fw_i64(w, s->v.i);
		}
	}
}

int
aggs_add_columns(const struct aggs *a, struct schema *s, char *err)
{
	if (schema_add(s, "count", TYPE_BIGINT, err) < 0)
		return -1;
	for (size_t i = 0; i < a->n; i++)
		if (schema_add(s, a->agg[i].name, a->agg[i].out, err) < 0)
			return -1;
	return 0;
}

bool
aggs_gc_wanted(const struct aggs *a)
{
	return a->str_garbage >= GC_MIN_GARBAGE &&
	    a->str_garbage * 2 >= a->str_len;
}

void
aggs_gc_begin(struct aggs *a)
{
	size_t live = a->str_len - a->str_garbage;

	free(a->gc_str);
	a->gc_cap = live ? live : 1;
	a->gc_str = xmalloc(a->gc_cap);
	a->gc_len = 0;
}

void
aggs_gc_move(struct aggs *a, void *acc)
{
	for (size_t i = 0; i < a->n; i++) {
		struct slot *s = slot_of(acc, i);

		if (a->agg[i].in != TYPE_STRING || !s->m.s.has)
			continue;
		/* Only if the garbage count were wrong; never shrink a string
		 * we still reference. */
		if (a->gc_len + s->m.s.len > a->gc_cap) {
			while (a->gc_len + s->m.s.len > a->gc_cap)
				a->gc_cap *= 2;
			a->gc_str = xrealloc(a->gc_str, a->gc_cap);
		}
		if (s->m.s.len > 0)
			memcpy(a->gc_str + a->gc_len, a->str + s->v.off,
			    s->m.s.len);
		s->v.off = a->gc_len;
		a->gc_len += s->m.s.len;
	}
}

void
aggs_gc_end(struct aggs *a)
{
	free(a->str);
	a->str = a->gc_str;
	a->str_cap = a->gc_cap;
	a->str_len = a->gc_len;
	a->str_garbage = 0;
	a->gc_str = NULL;
	a->gc_len = 0;
}

size_t
aggs_mem_bytes(const struct aggs *a)
{
	return a->str_cap;
}

/* ---- checkpointed state ---- */

static bool
slot_is_double(const struct agg *g)
{
	return g->in == TYPE_DOUBLE || g->op == AGG_AVG;
}

size_t
aggs_saved_fields(const struct aggs *a)
{
	size_t n = 1;

	for (size_t i = 0; i < a->n; i++)
		n += a->agg[i].in == TYPE_STRING ? 1 : 2;
	return n;
}

void
aggs_save(const struct aggs *a, const void *acc, struct strbuf *sb)
{
	state_put_i64(sb, aggs_count(acc));
	for (size_t i = 0; i < a->n; i++) {
		const struct agg *g = &a->agg[i];
		const struct slot *s = cslot_of(acc, i);

		sb_addc(sb, '\t');
		if (g->in == TYPE_STRING) {
			if (s->m.s.has)
				sb_add(sb, a->str + s->v.off, s->m.s.len);
			else
				sb_add(sb, "\\N", 2);
			continue;
		}
		state_put_i64(sb, s->m.n);
		sb_addc(sb, '\t');
		if (slot_is_double(g))
			state_put_f64(sb, s->v.d);
		else
			state_put_i64(sb, s->v.i);
	}
}

/* A saved double: a hex float (or decimal), inf, -inf or nan. */
static int
load_f64(struct slice f, double *v)
{
	char buf[64], *end;

	if (f.n == 0 || f.n >= sizeof buf)
		return -1;
	memcpy(buf, f.p, f.n);
	buf[f.n] = '\0';
	*v = strtod(buf, &end);
	return *end == '\0' ? 0 : -1;
}

int
aggs_load(struct aggs *a, void *acc, const struct slice *f, char *err)
{
	int64_t count;
	size_t j = 1;

	if (value_get_i64(f[0], &count) < 0 || count < 0)
		return seterr(err, "count: '%.*s' is not a count",
		    (int)(f[0].n > 40 ? 40 : f[0].n), f[0].p);
	memcpy(acc, &count, sizeof count);
	for (size_t i = 0; i < a->n; i++) {
		const struct agg *g = &a->agg[i];
		struct slot *s = slot_of(acc, i);

		if (g->in == TYPE_STRING) {
			struct slice v = f[j++];

			if (field_is_null(v))
				continue;
			if (v.n >= UINT32_MAX)
				return seterr(err, "%s: value too long",
				    g->name);
			s->v.off = str_put(a, v.p, v.n);
			s->m.s.len = (uint32_t)v.n;
			s->m.s.has = 1;
			continue;
		}
		if (value_get_i64(f[j], &s->m.n) < 0 || s->m.n < 0)
			return seterr(err, "%s: '%.*s' is not a count",
			    g->name, (int)(f[j].n > 40 ? 40 : f[j].n), f[j].p);
		j++;
		if (slot_is_double(g) ? load_f64(f[j], &s->v.d) :
		    value_get_i64(f[j], &s->v.i))
			return seterr(err, "%s: '%.*s' is not a number",
			    g->name, (int)(f[j].n > 40 ? 40 : f[j].n), f[j].p);
		j++;
	}
	return 0;
}
