/* json_out.c: JSON objects that stay valid for any bytes. */
#include <math.h>
#include <string.h>

#include "die.h"
#include "json_out.h"
#include "utf8.h"
#include "value.h"

void
json_out_string(struct strbuf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	sb_addc(out, '"');
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t run = i;
		int32_t cp;
		size_t len;

		/* Copy the longest run of bytes that need nothing. */
		while (run < n && (unsigned char)s[run] >= 0x20 &&
		    (unsigned char)s[run] < 0x80 && s[run] != '"' &&
		    s[run] != '\\')
			run++;
		if (run > i) {
			sb_add(out, s + i, run - i);
			i = run;
			continue;
		}
		if (c < 0x80) {
			char esc[7] = { '\\', 0 };
			size_t en = 2;

			switch (c) {
			case '"': esc[1] = '"'; break;
			case '\\': esc[1] = '\\'; break;
			case '\b': esc[1] = 'b'; break;
			case '\f': esc[1] = 'f'; break;
			case '\n': esc[1] = 'n'; break;
			case '\r': esc[1] = 'r'; break;
			case '\t': esc[1] = 't'; break;
			default:
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				en = 6;
			}
			sb_add(out, esc, en);
			i++;
			continue;
		}
		len = utf8_decode(s + i, n - i, &cp);
		if (cp < 0)
			sb_add(out, "\\ufffd", 6);
		else
			sb_add(out, s + i, len);
		i += len;
	}
	sb_addc(out, '"');
}

static int
bad_value(const struct field *fd, struct slice f, char *err)
{
	return seterr(err, "%s: malformed %s value '%.*s'", fd->name,
	    type_name(fd->type), (int)(f.n > 40 ? 40 : f.n), f.p);
}

/* Append field f of type fd->type as a JSON value. */
static int
json_out_value(struct strbuf *out, const struct field *fd, struct slice f,
    struct strbuf *tmp, char *err)
{
	char buf[64];
	int64_t i;
	double d;

	if (field_is_null(f)) {
		sb_add(out, "null", 4);
		return 0;
	}
	switch (fd->type) {
	case TYPE_INT:
	case TYPE_BIGINT:
		if (value_get_i64(f, &i) < 0)
			return bad_value(fd, f, err);
		sb_add(out, buf, format_i64(buf, i));
		return 0;
	case TYPE_DOUBLE:
		if (value_get_f64(f, &d) < 0)
			return bad_value(fd, f, err);
		if (isnan(d) || isinf(d)) {
			/* Jackson's QUOTE_NON_NUMERIC_NUMBERS, Spark's default */
			sb_addc(out, '"');
			sb_add(out, buf, format_double_java(d, buf, sizeof buf));
			sb_addc(out, '"');
		} else {
			sb_add(out, buf, format_double_java(d, buf, sizeof buf));
		}
		return 0;
	case TYPE_BOOLEAN:
		if (f.n == 4 && memcmp(f.p, "true", 4) == 0)
			sb_add(out, "true", 4);
		else if (f.n == 5 && memcmp(f.p, "false", 5) == 0)
			sb_add(out, "false", 5);
		else
			return bad_value(fd, f, err);
		return 0;
	case TYPE_STRING:
		if (field_is_plain(f)) {
			json_out_string(out, f.p, f.n);
			return 0;
		}
		/* FALLTHROUGH */
	case TYPE_TIMESTAMP:
		sb_reset(tmp);
		if (value_render(fd->type, f, RENDER_PLAIN, tmp) < 0)
			return bad_value(fd, f, err);
		json_out_string(out, tmp->buf ? tmp->buf : "", tmp->len);
		return 0;
	}
	return bad_value(fd, f, err);
}

int
json_out_record(struct strbuf *out, const struct schema *s,
    const struct record *rec, struct strbuf *tmp, char *err)
{
	sb_addc(out, '{');
	for (size_t i = 0; i < s->nfields; i++) {
		if (i > 0)
			sb_addc(out, ',');
		json_out_string(out, s->fields[i].name,
		    strlen(s->fields[i].name));
		sb_addc(out, ':');
		if (json_out_value(out, &s->fields[i], rec->field[i], tmp,
		    err) < 0)
			return -1;
	}
	sb_addc(out, '}');
	return 0;
}
