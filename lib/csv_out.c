/* csv_out.c: RFC 4180 CSV lines, quoting only where needed. */
#include <string.h>

#include "csv_out.h"
#include "die.h"
#include "value.h"

void
csv_out_field(struct strbuf *out, const char *s, size_t n)
{
	bool quote = n == 0;

	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' ||
		    s[i] == '\r';
	if (!quote) {
		sb_add(out, s, n);
		return;
	}
	sb_grow(out, 2 * n + 2);
	out->buf[out->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			out->buf[out->len++] = '"';
		out->buf[out->len++] = s[i];
	}
	out->buf[out->len++] = '"';
	out->buf[out->len] = '\0';
}

void
csv_out_header(struct strbuf *out, const struct schema *s)
{
	for (size_t i = 0; i < s->nfields; i++) {
		if (i > 0)
			sb_addc(out, ',');
		csv_out_field(out, s->fields[i].name,
		    strlen(s->fields[i].name));
	}
	sb_addc(out, '\n');
}

int
csv_out_record(struct strbuf *out, const struct schema *s,
    const struct record *rec, struct strbuf *tmp, char *err)
{
	for (size_t i = 0; i < s->nfields; i++) {
		struct slice f = rec->field[i];
		int rc;

		if (i > 0)
			sb_addc(out, ',');
		if (field_is_null(f))
			continue;
		/* Strings, integers and booleans without escapes are their
		 * own text: the common case needs no copy. */
		if (s->fields[i].type != TYPE_TIMESTAMP &&
		    s->fields[i].type != TYPE_DOUBLE && field_is_plain(f)) {
			csv_out_field(out, f.p, f.n);
			continue;
		}
		sb_reset(tmp);
		rc = value_render(s->fields[i].type, f, RENDER_PLAIN, tmp);
		if (rc < 0)
			return seterr(err, "%s: malformed %s value '%.*s'",
			    s->fields[i].name, type_name(s->fields[i].type),
			    (int)(f.n > 40 ? 40 : f.n), f.p);
		csv_out_field(out, tmp->buf ? tmp->buf : "", tmp->len);
	}
	sb_addc(out, '\n');
	return 0;
}
