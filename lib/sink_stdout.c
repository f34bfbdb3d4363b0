/*
 * sink_stdout.c: plain records on stdout, for the next Unix tool.
 *
 * Formats: csv (csv_out.h; the header line once, before the first batch
 * written), json (json_out.h; one object per line) and tsv: the header
 * line once, then fields joined by TAB and escaped as the frames are
 * (\\ \t \n \r \0, null \N: PostgreSQL's COPY text), so any value comes
 * back exactly.  Values render as in csv (ISO timestamps, Java doubles).
 *
 * Output is buffered and written at each batch end (the commit point)
 * and whenever the buffer passes FLUSH_AT, never per record.
 */
#include <stdlib.h>
#include <string.h>

#include "csv_out.h"
#include "die.h"
#include "json_out.h"
#include "sink.h"
#include "value.h"

#define FLUSH_AT	(64 * 1024)

struct stdout_sink {
	const struct schema *schema;
	int fd;
	enum sink_format format;
	bool header;		/* a header line is still to be written */
	struct strbuf out, tmp;
};

static void *
stdout_open(const struct sink_options *o, const struct schema *s,
    char *err)
{
	struct stdout_sink *k = xcalloc(1, sizeof *k);

	k->schema = s;
	k->fd = o->fd;
	k->format = o->format;
	k->header = o->header && o->format != SINK_FORMAT_JSON;
	sb_init(&k->out);
	sb_init(&k->tmp);
	return k;
}

/* Append s[0..n) escaped as a frame field (COPY text format). */
static void
tsv_escaped(struct strbuf *out, const char *s, size_t n)
{
	sb_grow(out, 2 * n);
	for (size_t i = 0; i < n; i++) {
		char e = 0;

		switch (s[i]) {
		case '\\': e = '\\'; break;
		case '\t': e = 't'; break;
		case '\n': e = 'n'; break;
		case '\r': e = 'r'; break;
		case '\0': e = '0'; break;
		}
		if (e) {
			out->buf[out->len++] = '\\';
			out->buf[out->len++] = e;
		} else {
			out->buf[out->len++] = s[i];
		}
	}
	out->buf[out->len] = '\0';
}

static int
tsv_record(struct stdout_sink *k, const struct record *rec, char *err)
{
	const struct schema *s = k->schema;

	for (size_t i = 0; i < s->nfields; i++) {
		struct slice f = rec->field[i];

		if (i > 0)
			sb_addc(&k->out, '\t');
		/* A string on the wire is already in this form. */
		if (s->fields[i].type == TYPE_STRING || field_is_null(f)) {
			sb_add(&k->out, f.p, f.n);
			continue;
		}
		sb_reset(&k->tmp);
		if (value_render(s->fields[i].type, f, RENDER_PLAIN,
		    &k->tmp) < 0)
			return seterr(err, "%s: malformed %s value '%.*s'",
			    s->fields[i].name, type_name(s->fields[i].type),
			    (int)(f.n > 40 ? 40 : f.n), f.p);
		tsv_escaped(&k->out, k->tmp.buf ? k->tmp.buf : "", k->tmp.len);
	}
	sb_addc(&k->out, '\n');
	return 0;
}

static int
stdout_begin(void *state, char *err)
{
	struct stdout_sink *k = state;

	if (!k->header)
		return 0;
	k->header = false;
	if (k->format == SINK_FORMAT_CSV) {
		csv_out_header(&k->out, k->schema);
	} else {
		for (size_t i = 0; i < k->schema->nfields; i++) {
			const char *name = k->schema->fields[i].name;

			if (i > 0)
				sb_addc(&k->out, '\t');
			tsv_escaped(&k->out, name, strlen(name));
		}
		sb_addc(&k->out, '\n');
	}
	return 0;
}

static int
stdout_row(void *state, const struct record *rec, char *err)
{
	struct stdout_sink *k = state;
	int rc;

	switch (k->format) {
	case SINK_FORMAT_JSON:
		rc = json_out_record(&k->out, k->schema, rec, &k->tmp, err);
		sb_addc(&k->out, '\n');
		break;
	case SINK_FORMAT_TSV:
		rc = tsv_record(k, rec, err);
		break;
	default:
		rc = csv_out_record(&k->out, k->schema, rec, &k->tmp, err);
		break;
	}
	if (rc < 0)
		return SINK_BAD_ROW;
	if (k->out.len >= FLUSH_AT)
		return sink_write_all(k->fd, "stdout", &k->out, err);
	return 0;
}

static int
stdout_end(void *state, const struct epoch *e, char *err)
{
	struct stdout_sink *k = state;

	return sink_write_all(k->fd, "stdout", &k->out, err);
}

static int
stdout_close(void *state, bool final, char *err)
{
	struct stdout_sink *k = state;
	int rc = sink_write_all(k->fd, "stdout", &k->out, err);

	sb_free(&k->out);
	sb_free(&k->tmp);
	free(k);
	return rc;
}

static const enum sink_format stdout_formats[] = {
	SINK_FORMAT_CSV, SINK_FORMAT_JSON, SINK_FORMAT_TSV, SINK_FORMAT_NONE,
};

const struct sink_type sink_stdout = {
	.name = "stdout",
	.alias = "-",
	.options = SINK_OPT_FORMAT | SINK_OPT_HEADER,
	.formats = stdout_formats,
	.supported = true,
	.header_default = true,
	.open = stdout_open,
	.begin = stdout_begin,
	.row = stdout_row,
	.end = stdout_end,
	.close = stdout_close,
};
