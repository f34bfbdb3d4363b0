/* value.c: checking, encoding and rendering typed values. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "die.h"
#include "rtime.h"
#include "value.h"

int
parse_i64_text(const char *s, size_t n, int64_t *v)
{
	char buf[32], *end;
	long long x;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	x = strtoll(buf, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*v = x;
	return 0;
}

int
parse_f64_text(const char *s, size_t n, double *v)
{
	char buf[64], *end;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strcmp(buf, "Infinity") == 0 || strcmp(buf, "+Infinity") == 0) {
		*v = INFINITY;
		return 0;
	}
	if (strcmp(buf, "-Infinity") == 0) {
		*v = -INFINITY;
		return 0;
	}
	errno = 0;
	*v = strtod(buf, &end);
	if (*end != '\0' || (errno == ERANGE && isinf(*v)))
		return -1;
	return 0;
}

int
value_write_text(struct frame_writer *w, enum field_type t, const char *s,
    size_t n, char *err)
{
	int64_t i;
	double d;

	switch (t) {
	case TYPE_STRING:
		fw_field(w, s, n);
		return 0;
	case TYPE_INT:
		if (parse_i64_text(s, n, &i) < 0 || i < INT32_MIN ||
		    i > INT32_MAX)
			break;
		fw_i64(w, i);
		return 0;
	case TYPE_BIGINT:
		if (parse_i64_text(s, n, &i) < 0)
			break;
		fw_i64(w, i);
		return 0;
	case TYPE_DOUBLE:
		if (parse_f64_text(s, n, &d) < 0)
			break;
		fw_f64(w, d);
		return 0;
	case TYPE_BOOLEAN:
		if ((n == 4 && strncasecmp(s, "true", 4) == 0) ||
		    (n == 1 && *s == '1')) {
			fw_bool(w, true);
			return 0;
		}
		if ((n == 5 && strncasecmp(s, "false", 5) == 0) ||
		    (n == 1 && *s == '0')) {
			fw_bool(w, false);
			return 0;
		}
		break;
	case TYPE_TIMESTAMP:
		if (timestamp_parse(s, n, &i, NULL) < 0)
			break;
		fw_i64(w, i);
		return 0;
	}
	return seterr(err, "'%.*s' is not %s %s", (int)(n > 60 ? 60 : n), s,
	    t == TYPE_INT ? "an" : "a", type_name(t));
}

int
value_get_i64(struct slice f, int64_t *v)
{
	if (field_is_null(f))
		return -1;
	return parse_i64_text(f.p, f.n, v);
}

int
value_get_f64(struct slice f, double *v)
{
	if (field_is_null(f))
		return -1;
	return parse_f64_text(f.p, f.n, v);
}

size_t
format_double_java(double v, char *buf, size_t size)
{
	double a = fabs(v);
	int n;

	if (isnan(v))
		return (size_t)snprintf(buf, size, "NaN");
	if (isinf(v))
		return (size_t)snprintf(buf, size, v > 0 ? "Infinity" : "-Infinity");
	if (a == 0 || (a >= 1e-3 && a < 1e7)) {
		for (int digits = 15; digits <= 17; digits++) {
			n = snprintf(buf, size, "%.*g", digits, v);
			if (strtod(buf, NULL) == v)
				break;
		}
		if (!strpbrk(buf, ".eE"))
			n += snprintf(buf + n, size - (size_t)n, ".0");
		return (size_t)n;
	} else {
		/* Java: 1.0E10, 1.234E-5 */
		char mant[40], *e;
		int exp;

		for (int digits = 14; digits <= 16; digits++) {
			snprintf(mant, sizeof mant, "%.*e", digits, v);
			if (strtod(mant, NULL) == v)
				break;
		}
		e = strchr(mant, 'e');
		exp = atoi(e + 1);
		*e = '\0';
		/* trim trailing zeros of the mantissa, keep one digit */
		n = (int)strlen(mant);
		while (n > 0 && mant[n - 1] == '0')
			mant[--n] = '\0';
		if (mant[n - 1] == '.')
			mant[n++] = '0', mant[n] = '\0';
		return (size_t)snprintf(buf, size, "%sE%d", mant, exp);
	}
}

int
value_render(enum field_type t, struct slice f, enum render_style style,
    struct strbuf *out)
{
	char buf[64];
	int64_t i;
	double d;

	if (field_is_null(f)) {
		if (style == RENDER_CONSOLE)
			sb_adds(out, "null");
		return 1;
	}
	switch (t) {
	case TYPE_TIMESTAMP:
		if (value_get_i64(f, &i) < 0)
			return -1;
		if (style == RENDER_CONSOLE)
			timestamp_format_console(i, buf);
		else
			timestamp_format_iso(i, buf);
		sb_adds(out, buf);
		return 0;
	case TYPE_DOUBLE:
		if (value_get_f64(f, &d) < 0)
			return -1;
		format_double_java(d, buf, sizeof buf);
		sb_adds(out, buf);
		return 0;
	default:
		if (field_is_plain(f)) {
			sb_add(out, f.p, f.n);
		} else {
			long n;

			sb_grow(out, f.n);
			n = field_unescape(f, out->buf + out->len);
			if (n < 0)
				return -1;
			out->len += (size_t)n;
		}
		return 0;
	}
}
